package smapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/rotation"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// Rotation without a Lambda function (package rotation): RotateSecret and
// CancelRotateSecret on secrets in AWS's RDS shape whose engine the broker
// can rotate. Neither answer carries a value or a password.

type rotationRulesIn struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays"`
	Duration               *string `json:"Duration"`
	ScheduleExpression     *string `json:"ScheduleExpression"`
}

type rotateSecretInput struct {
	secretIDInput
	ClientRequestToken             *string          `json:"ClientRequestToken"`
	RotationLambdaARN              *string          `json:"RotationLambdaARN"`
	RotationRules                  *rotationRulesIn `json:"RotationRules"`
	RotateImmediately              *bool            `json:"RotateImmediately"`
	ExternalSecretRotationMetadata []any            `json:"ExternalSecretRotationMetadata"`
	ExternalSecretRotationRoleArn  *string          `json:"ExternalSecretRotationRoleArn"`
}

// RotateSecret needs secretsmanager:RotateSecret on the secret. Rotating
// alternating users spends the master's power (the broker sets the
// password of the user the value names with the master's credential), so
// it also needs secretsmanager:GetSecretValue on the master, as making a
// dynamic secret does.
func handleRotateSecret(svc *secrets.Service, rot *rotation.Service) rpc.Handler {
	return handleSecretInput(func(ctx context.Context, r *rpc.Request, in *rotateSecretInput, id string) (any, error) {
		if in.RotationLambdaARN != nil && *in.RotationLambdaARN != "" {
			return nil, awsapi.Errorf(awsapi.CodeInvalidRequest, "%s", rotation.MsgLambda)
		}
		if len(in.ExternalSecretRotationMetadata) > 0 || in.ExternalSecretRotationRoleArn != nil {
			return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "ExternalSecretRotationMetadata and ExternalSecretRotationRoleArn are not supported: this broker holds no managed external secrets.")
		}
		token := strOr(in.ClientRequestToken)
		if token != "" {
			if err := secrets.CheckVersionID("clientRequestToken", token); err != nil {
				return nil, err
			}
		}
		var rules *rotation.Rules
		if in.RotationRules != nil {
			rules = &rotation.Rules{ScheduleExpression: strOr(in.RotationRules.ScheduleExpression), Duration: strOr(in.RotationRules.Duration)}
			if d := in.RotationRules.AutomaticallyAfterDays; d != nil {
				if *d == 0 {
					return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value between %d and %d", rotation.MinDays, rotation.MaxDays)
				}
				rules.AutomaticallyAfterDays = *d
			}
			if _, err := rotation.ParseRules(*rules); err != nil {
				return nil, err
			}
		}
		sec, err := authorizeSecret(ctx, r, svc, "secretsmanager:RotateSecret", id, nil)
		if err != nil {
			return nil, err
		}
		if rot == nil {
			return nil, awsapi.Errorf(awsapi.CodeInvalidRequest, "RotateSecret: %s", msgNoRotation)
		}
		master, err := rot.MasterOf(ctx, sec.ARN)
		if err != nil {
			return nil, err
		}
		if err := authorizeMasterARN(ctx, r, svc, master); err != nil {
			return nil, err
		}
		res, err := rot.Start(ctx, rotation.Request{
			SecretID: sec.ARN, Token: token, Rules: rules,
			Immediately: in.RotateImmediately == nil || *in.RotateImmediately,
		})
		if err != nil {
			return nil, err
		}
		return &arnNameVersionOutput{ARN: res.ARN, Name: res.Name, VersionId: res.VersionID}, nil
	})
}

// CancelRotateSecret needs secretsmanager:CancelRotateSecret. It turns
// rotation off and leaves the staging labels as they are; VersionId is
// the pending version of an unfinished rotation, if any.
func handleCancelRotateSecret(svc *secrets.Service, rot *rotation.Service) rpc.Handler {
	return handleSecretID(svc, "secretsmanager:CancelRotateSecret", func(ctx context.Context, _ *rpc.Request, sec *secrets.Secret) (any, error) {
		if rot == nil {
			return nil, awsapi.Errorf(awsapi.CodeInvalidRequest, "CancelRotateSecret: %s", msgNoRotation)
		}
		after, pending, err := rot.Cancel(ctx, sec.ARN)
		if err != nil {
			return nil, err
		}
		return &arnNameVersionOutput{ARN: after.ARN, Name: after.Name, VersionId: pending}, nil
	})
}

// rotationRulesOut is RotationRulesType in DescribeSecret and ListSecrets.
type rotationRulesOut struct {
	AutomaticallyAfterDays int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               string `json:"Duration,omitempty"`
	ScheduleExpression     string `json:"ScheduleExpression,omitempty"`
}

// rotationFields are the rotation members of DescribeSecret and
// ListSecrets: absent for a secret never configured; RotationEnabled false
// (with its rules) once cancelled; LastRotatedDate and NextRotationDate
// only while rotation is on, as AWS documents.
type rotationFields struct {
	RotationEnabled  *bool             `json:"RotationEnabled,omitempty"`
	RotationRules    *rotationRulesOut `json:"RotationRules,omitempty"`
	LastRotatedDate  *epochTime        `json:"LastRotatedDate,omitempty"`
	NextRotationDate *epochTime        `json:"NextRotationDate,omitempty"`
}

func rotationOut(sec *secrets.Secret) rotationFields {
	rot := sec.Rotation
	if rot == nil || rot.AfterDays == 0 && rot.Schedule == "" {
		return rotationFields{}
	}
	enabled := rot.Enabled
	out := rotationFields{RotationEnabled: &enabled}
	rules := rotation.Rules{AutomaticallyAfterDays: rot.AfterDays, ScheduleExpression: rot.Schedule, Duration: rot.Duration}
	out.RotationRules = &rotationRulesOut{AutomaticallyAfterDays: rot.AfterDays, Duration: rot.Duration, ScheduleExpression: rot.Schedule}
	if strings.HasPrefix(rot.Schedule, "rate(") {
		// rate(N days) is shown with its AutomaticallyAfterDays, as AWS does.
		if s, err := rotation.ParseRules(rules); err == nil {
			out.RotationRules.AutomaticallyAfterDays = s.FormatDays()
		}
	}
	if enabled {
		out.LastRotatedDate, out.NextRotationDate = epoch(rot.LastRotated), epoch(rot.Next)
	}
	return out
}

// RotationAuditor returns the function that writes the audit records of
// rotations: event source shortfuse, event names RotationStarted,
// RotationSucceeded and RotationFailed, with the secret, the version, the
// strategy, the database user and what started it. They never hold a
// password.
func RotationAuditor(a rpc.Auditor, account, region string) func(context.Context, rotation.Event) error {
	return func(ctx context.Context, e rotation.Event) error {
		if a == nil {
			return nil
		}
		params := map[string]any{"secretId": e.SecretARN, "versionId": e.VersionID, "trigger": e.Trigger}
		if e.Strategy != "" {
			params["strategy"] = e.Strategy
		}
		if e.Username != "" {
			params["username"] = e.Username
		}
		rec := serviceEvent(account, region, e.Time, e.Name, fmt.Sprintf("rotation-%s-%d", e.VersionID, e.Time.UnixNano()), params)
		if e.Error != "" {
			rec.ErrorCode, rec.ErrorMessage = "RotationFailed", e.Error
		}
		return a.Append(ctx, rec)
	}
}
