package smapi

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// defaultKMSKey is the one KMS key id the broker accepts: the AWS managed
// key, which stands for "the broker's own keys".
const defaultKMSKey = "alias/aws/secretsmanager"

// refuseKMSKey refuses a customer KMS key: the broker seals every value with
// its own keys, and accepting the parameter would let its author believe
// the secret is protected by a key of theirs.
func refuseKMSKey(k *string) error {
	if k != nil && *k != "" && *k != defaultKMSKey {
		return awsapi.Errorf(awsapi.CodeInvalidParameter, "KmsKeyId is not supported: this broker encrypts every secret with its own keys (omit KmsKeyId or use %s).", defaultKMSKey)
	}
	return nil
}

func refuseType(t *string) error {
	if t != nil && *t != "" {
		return awsapi.Errorf(awsapi.CodeInvalidParameter, "Type is not supported: this broker holds no managed external secrets.")
	}
	return nil
}

type replicaRegionIn struct {
	Region   *string `json:"Region"`
	KmsKeyId *string `json:"KmsKeyId"`
}

// --- CreateSecret ------------------------------------------------------------------

type createSecretInput struct {
	Name                        *string           `json:"Name"`
	ClientRequestToken          *string           `json:"ClientRequestToken"`
	Description                 *string           `json:"Description"`
	KmsKeyId                    *string           `json:"KmsKeyId"`
	SecretBinary                *secretBinaryIn   `json:"SecretBinary"`
	SecretString                *secretStringIn   `json:"SecretString"`
	Tags                        []tagIn           `json:"Tags"`
	AddReplicaRegions           []replicaRegionIn `json:"AddReplicaRegions"`
	ForceOverwriteReplicaSecret *bool             `json:"ForceOverwriteReplicaSecret"`
	Type                        *string           `json:"Type"`
}

// arnNameVersionOutput is the output of CreateSecret, UpdateSecret,
// RotateSecret and CancelRotateSecret.
type arnNameVersionOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionId string `json:"VersionId,omitempty"`
}

// CreateSecret needs secretsmanager:CreateSecret on the new secret's ARN
// (made before the secret, so that the caller is authorized on the ARN the
// secret gets), and secretsmanager:TagResource as well when it has tags.
func handleCreateSecret(svc *secrets.Service) rpc.Handler {
	return handleInput(func(ctx context.Context, r *rpc.Request, in *createSecretInput) (any, error) {
		name, err := requiredParam(in.Name, "name")
		if err != nil {
			return nil, err
		}
		if err := refuseKMSKey(in.KmsKeyId); err != nil {
			return nil, err
		}
		if err := refuseType(in.Type); err != nil {
			return nil, err
		}
		if len(in.AddReplicaRegions) > 0 || (in.ForceOverwriteReplicaSecret != nil && *in.ForceOverwriteReplicaSecret) {
			return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "AddReplicaRegions: %s", msgNoReplication)
		}
		value, token, err := newValueParams(in.SecretString, in.SecretBinary, in.ClientRequestToken)
		if err != nil {
			return nil, err
		}
		arn, err := svc.NewARN(name)
		if err != nil {
			return nil, err
		}
		tags := smTagsParam(in.Tags)
		keys := smTagConditionKeys(tags)
		keys["secretsmanager:Name"] = []string{name}
		if in.Description != nil {
			keys["secretsmanager:Description"] = []string{*in.Description}
		}
		if err := r.Authorize(ctx, "secretsmanager:CreateSecret", arn, keys); err != nil {
			return nil, secretDenied(r, "secretsmanager:CreateSecret", name, err)
		}
		if len(tags) > 0 {
			if err := r.Authorize(ctx, "secretsmanager:TagResource", arn, keys); err != nil {
				return nil, secretDenied(r, "secretsmanager:TagResource", name, err)
			}
		}
		master, err := authorizeMaster(ctx, r, svc, tags, value)
		if err != nil {
			return nil, err
		}
		return arnNameVersionOut(svc.Create(ctx, secrets.CreateInput{
			ARN: arn, Name: name, Description: strOr(in.Description),
			Value: value, VersionID: token, Tags: tags, Master: master,
		}))
	})
}

// --- DescribeSecret ----------------------------------------------------------------

// secretHead and secretTail are the members DescribeSecret and
// ListSecrets both answer for a secret, before and after its versions
// (which the two name differently).
type secretHead struct {
	ARN              string     `json:"ARN"`
	Name             string     `json:"Name"`
	Description      string     `json:"Description,omitempty"`
	LastChangedDate  *epochTime `json:"LastChangedDate,omitempty"`
	LastAccessedDate *epochTime `json:"LastAccessedDate,omitempty"`
	DeletedDate      *epochTime `json:"DeletedDate,omitempty"`
	Tags             []tagOut   `json:"Tags,omitzero"`
}

type secretTail struct {
	CreatedDate *epochTime `json:"CreatedDate,omitempty"`
	rotationFields
}

func secretOut(sec *secrets.Secret) (secretHead, secretTail) {
	return secretHead{
			ARN: sec.ARN, Name: sec.Name, Description: sec.Description,
			LastChangedDate: epoch(sec.LastChanged), LastAccessedDate: epoch(sec.LastAccessed),
			DeletedDate: epoch(sec.DeletedDate), Tags: smTagsOut(sec),
		}, secretTail{
			CreatedDate: epoch(sec.Created), rotationFields: rotationOut(sec),
		}
}

type describeSecretOutput struct {
	secretHead
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
	secretTail
}

func describeOut(sec *secrets.Secret) *describeSecretOutput {
	head, tail := secretOut(sec)
	return &describeSecretOutput{secretHead: head, VersionIdsToStages: sec.VersionsToStages(), secretTail: tail}
}

func handleDescribeSecret(svc *secrets.Service) rpc.Handler {
	return handleSecretID(svc, "secretsmanager:DescribeSecret", func(_ context.Context, _ *rpc.Request, sec *secrets.Secret) (any, error) {
		return describeOut(sec), nil
	})
}

// --- ListSecrets -------------------------------------------------------------------

type listSecretsInput struct {
	IncludePlannedDeletion *bool      `json:"IncludePlannedDeletion"`
	MaxResults             *int32     `json:"MaxResults"`
	NextToken              *string    `json:"NextToken"`
	Filters                []filterIn `json:"Filters"`
	SortOrder              *string    `json:"SortOrder"`
	SortBy                 *string    `json:"SortBy"`
}

type secretListEntry struct {
	secretHead
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
	secretTail
}

type listSecretsOutput struct {
	SecretList []secretListEntry `json:"SecretList"`
	NextToken  *string           `json:"NextToken,omitempty"`
}

// ListSecrets needs secretsmanager:ListSecrets on "*" (the action has no
// resource type); as in AWS, it lists every secret's metadata to a caller
// that has it.
func handleListSecrets(svc *secrets.Service) rpc.Handler {
	return handleInput(func(ctx context.Context, r *rpc.Request, in *listSecretsInput) (any, error) {
		if err := r.Authorize(ctx, "secretsmanager:ListSecrets", "*", nil); err != nil {
			return nil, err
		}
		list, err := svc.List(ctx, secrets.ListInput{
			Filters:                filtersParam(in.Filters),
			IncludePlannedDeletion: in.IncludePlannedDeletion != nil && *in.IncludePlannedDeletion,
			SortBy:                 strOr(in.SortBy),
			SortOrder:              strOr(in.SortOrder),
		})
		if err != nil {
			return nil, err
		}
		page, next, err := smPage(list, in.NextToken, in.MaxResults, 100, 100, func(sec *secrets.Secret) secretListEntry {
			head, tail := secretOut(sec)
			return secretListEntry{secretHead: head, SecretVersionsToStages: sec.VersionsToStages(), secretTail: tail}
		})
		if err != nil {
			return nil, err
		}
		return &listSecretsOutput{SecretList: page, NextToken: next}, nil
	})
}

// --- UpdateSecret ------------------------------------------------------------------

type updateSecretInput struct {
	secretIDInput
	ClientRequestToken *string         `json:"ClientRequestToken"`
	Description        *string         `json:"Description"`
	KmsKeyId           *string         `json:"KmsKeyId"`
	SecretBinary       *secretBinaryIn `json:"SecretBinary"`
	SecretString       *secretStringIn `json:"SecretString"`
	Type               *string         `json:"Type"`
}

func handleUpdateSecret(svc *secrets.Service) rpc.Handler {
	return handleSecretInput(func(ctx context.Context, r *rpc.Request, in *updateSecretInput, id string) (any, error) {
		if err := refuseKMSKey(in.KmsKeyId); err != nil {
			return nil, err
		}
		if err := refuseType(in.Type); err != nil {
			return nil, err
		}
		value, token, err := newValueParams(in.SecretString, in.SecretBinary, in.ClientRequestToken)
		if err != nil {
			return nil, err
		}
		var keys map[string][]string
		if in.Description != nil {
			keys = map[string][]string{"secretsmanager:Description": {*in.Description}}
		}
		sec, master, err := authorizeValueWrite(ctx, r, svc, "secretsmanager:UpdateSecret", id, keys, value)
		if err != nil {
			return nil, err
		}
		return arnNameVersionOut(svc.Update(ctx, secrets.UpdateInput{SecretID: sec.ARN, Description: in.Description, Value: value, VersionID: token, Master: master}))
	})
}

// --- DeleteSecret / RestoreSecret ----------------------------------------------------

type deleteSecretInput struct {
	secretIDInput
	RecoveryWindowInDays       *int64 `json:"RecoveryWindowInDays"`
	ForceDeleteWithoutRecovery *bool  `json:"ForceDeleteWithoutRecovery"`
}

type deleteSecretOutput struct {
	ARN          string     `json:"ARN"`
	Name         string     `json:"Name"`
	DeletionDate *epochTime `json:"DeletionDate,omitempty"`
}

// DeleteSecret: as AWS documents, a forced deletion of a secret that does
// not exist succeeds (for a caller allowed to delete it).
func handleDeleteSecret(svc *secrets.Service) rpc.Handler {
	return handleSecretInput(func(ctx context.Context, r *rpc.Request, in *deleteSecretInput, id string) (any, error) {
		force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
		if force && in.RecoveryWindowInDays != nil {
			return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
		}
		days := int64(secrets.DefaultRecoveryWindowDays)
		if in.RecoveryWindowInDays != nil {
			days = *in.RecoveryWindowInDays
			if days < secrets.MinRecoveryWindowDays || days > secrets.MaxRecoveryWindowDays {
				return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "The RecoveryWindowInDays value must be between %d and %d days (inclusive).", secrets.MinRecoveryWindowDays, secrets.MaxRecoveryWindowDays)
			}
		}
		keys := map[string][]string{"secretsmanager:ForceDeleteWithoutRecovery": boolKey(force)}
		if !force {
			keys["secretsmanager:RecoveryWindowInDays"] = []string{strconv.FormatInt(days, 10)}
		}
		sec, err := authorizeSecret(ctx, r, svc, "secretsmanager:DeleteSecret", id, keys)
		if errors.Is(err, secrets.ErrNotFound) && force {
			arn := id
			if !strings.HasPrefix(id, "arn:") {
				arn = svc.ARNPrefix() + id
			}
			return &deleteSecretOutput{ARN: arn, Name: svc.NameOf(id), DeletionDate: epoch(r.Time)}, nil
		}
		if err != nil {
			return nil, err
		}
		del, err := svc.Delete(ctx, sec.ARN, int(days), force)
		if errors.Is(err, secrets.ErrNotFound) && force {
			// Deleted between the lookup and now: the same answer.
			return &deleteSecretOutput{ARN: sec.ARN, Name: sec.Name, DeletionDate: epoch(r.Time)}, nil
		}
		if err != nil {
			return nil, err
		}
		return &deleteSecretOutput{ARN: del.ARN, Name: del.Name, DeletionDate: epoch(del.DeletionDate)}, nil
	})
}

type arnNameOutput struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

func handleRestoreSecret(svc *secrets.Service) rpc.Handler {
	return handleSecretID(svc, "secretsmanager:RestoreSecret", func(ctx context.Context, _ *rpc.Request, sec *secrets.Secret) (any, error) {
		return arnNameOut(svc.Restore(ctx, sec.ARN))
	})
}

// --- TagResource / UntagResource -------------------------------------------------------

type tagResourceInput struct {
	secretIDInput
	Tags []tagIn `json:"Tags"`
}

func handleTagResource(svc *secrets.Service) rpc.Handler {
	check := func(in *tagResourceInput) (map[string][]string, error) {
		if in.Tags == nil {
			return nil, errNullParam("tags")
		}
		return smTagConditionKeys(smTagsParam(in.Tags)), nil
	}
	return handleSecretOp(svc, "secretsmanager:TagResource", check, func(ctx context.Context, r *rpc.Request, in *tagResourceInput, sec *secrets.Secret) (any, error) {
		tags := smTagsParam(in.Tags)
		master, err := svc.CurrentMaster(ctx, sec.ARN, tags)
		if err != nil {
			return nil, err
		}
		if err := authorizeMasterARN(ctx, r, svc, master); err != nil {
			return nil, err
		}
		return nil, svc.TagWith(ctx, sec.ARN, tags, master)
	})
}

type untagResourceInput struct {
	secretIDInput
	TagKeys []string `json:"TagKeys"`
}

func handleUntagResource(svc *secrets.Service) rpc.Handler {
	check := func(in *untagResourceInput) (map[string][]string, error) {
		if in.TagKeys == nil {
			return nil, errNullParam("tagKeys")
		}
		return map[string][]string{"aws:TagKeys": slices.Clone(in.TagKeys)}, nil
	}
	return handleSecretOp(svc, "secretsmanager:UntagResource", check, func(ctx context.Context, _ *rpc.Request, in *untagResourceInput, sec *secrets.Secret) (any, error) {
		return nil, svc.Untag(ctx, sec.ARN, in.TagKeys)
	})
}
