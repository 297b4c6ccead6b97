package smapi

import (
	"context"
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// --- GetSecretValue ----------------------------------------------------------------

type getSecretValueInput struct {
	SecretId     *string `json:"SecretId"`
	VersionId    *string `json:"VersionId"`
	VersionStage *string `json:"VersionStage"`
}

// secretValueOutput is botocore GetSecretValueResponse and SecretValueEntry.
// It is the one shape that carries a value out of the broker: the value is
// revealed here and nowhere else (secretValueOut).
type secretValueOutput struct {
	ARN           string     `json:"ARN"`
	Name          string     `json:"Name"`
	VersionId     string     `json:"VersionId"`
	SecretBinary  []byte     `json:"SecretBinary,omitempty"`
	SecretString  *string    `json:"SecretString,omitempty"`
	VersionStages []string   `json:"VersionStages,omitempty"`
	CreatedDate   *epochTime `json:"CreatedDate,omitempty"`
}

func secretValueOut(v *secrets.SecretValue) secretValueOutput {
	out := secretValueOutput{ARN: v.ARN, Name: v.Name, VersionId: v.VersionID, VersionStages: v.Stages, CreatedDate: epoch(v.Created)}
	if v.Value.IsBinary() {
		out.SecretBinary = v.Value.Reveal()
	} else {
		s := string(v.Value.Reveal())
		out.SecretString = &s
	}
	return out
}

func versionConditionKeys(versionID, stage string) map[string][]string {
	keys := map[string][]string{}
	if versionID != "" {
		keys["secretsmanager:VersionId"] = []string{versionID}
	}
	if stage != "" {
		keys["secretsmanager:VersionStage"] = []string{stage}
	}
	return keys
}

// valueReader reads the value of a secret the caller was authorized to
// read, as Lookup found it (Deps.readSecretValue).
type valueReader func(ctx context.Context, r *rpc.Request, l *secrets.Looked, versionID, stage string) (*secrets.SecretValue, error)

// readAuthorized reads the secret a SecretId names and one version's value
// in one store read, authorizes the caller on the secret as authorizeSecret
// does, and only then has read open the value.
func readAuthorized(ctx context.Context, r *rpc.Request, svc *secrets.Service, read valueReader, idParam *string, versionID, stage string) (*secrets.SecretValue, error) {
	id, err := secretIDParam(idParam)
	if err != nil {
		return nil, err
	}
	l, err := svc.Lookup(ctx, id, versionID, stage)
	var sec *secrets.Secret
	if err == nil {
		sec = l.Secret
	}
	if _, err := authorizeLooked(ctx, r, svc, "secretsmanager:GetSecretValue", id, versionConditionKeys(versionID, stage), sec, err); err != nil {
		return nil, err
	}
	return read(ctx, r, l, versionID, stage)
}

func handleGetSecretValue(svc *secrets.Service, read valueReader) rpc.Handler {
	return handleInput(func(ctx context.Context, r *rpc.Request, in *getSecretValueInput) (any, error) {
		v, err := readAuthorized(ctx, r, svc, read, in.SecretId, strOr(in.VersionId), strOr(in.VersionStage))
		if err != nil {
			return nil, err
		}
		out := secretValueOut(v)
		return &out, nil
	})
}

// --- BatchGetSecretValue -----------------------------------------------------------

type batchGetSecretValueInput struct {
	SecretIdList []string   `json:"SecretIdList"`
	Filters      []filterIn `json:"Filters"`
	MaxResults   *int32     `json:"MaxResults"`
	NextToken    *string    `json:"NextToken"`
}

type apiErrorOut struct {
	SecretId  string `json:"SecretId"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

type batchGetSecretValueOutput struct {
	SecretValues []secretValueOutput `json:"SecretValues"`
	NextToken    *string             `json:"NextToken,omitempty"`
	Errors       []apiErrorOut       `json:"Errors"`
}

// BatchGetSecretValue needs secretsmanager:BatchGetSecretValue on "*",
// secretsmanager:ListSecrets too when it selects by filters, and
// secretsmanager:GetSecretValue on each secret: a secret the caller may not
// read, or that cannot be read, is reported in Errors with its error code,
// and the others are returned.
func handleBatchGetSecretValue(svc *secrets.Service, read valueReader) rpc.Handler {
	return handleInput(func(ctx context.Context, r *rpc.Request, in *batchGetSecretValueInput) (any, error) {
		if (in.SecretIdList == nil) == (in.Filters == nil) {
			return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "You must specify either SecretIdList or Filters, but not both.")
		}
		if in.SecretIdList != nil && (in.MaxResults != nil || in.NextToken != nil) {
			return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "MaxResults and NextToken can be used only with Filters.")
		}
		if err := r.Authorize(ctx, "secretsmanager:BatchGetSecretValue", "*", nil); err != nil {
			return nil, err
		}
		out := &batchGetSecretValueOutput{SecretValues: []secretValueOutput{}, Errors: []apiErrorOut{}}
		ids := in.SecretIdList
		if in.Filters != nil {
			if err := r.Authorize(ctx, "secretsmanager:ListSecrets", "*", nil); err != nil {
				return nil, err
			}
			list, err := svc.List(ctx, secrets.ListInput{Filters: filtersParam(in.Filters)})
			if err != nil {
				return nil, err
			}
			ids, out.NextToken, err = smPage(list, in.NextToken, in.MaxResults, 20, 20, func(sec *secrets.Secret) string {
				return sec.ARN
			})
			if err != nil {
				return nil, err
			}
		} else if len(ids) < 1 || len(ids) > 20 {
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value at 'secretIdList' failed to satisfy constraint: Member must have length between 1 and 20")
		}
		for _, id := range ids {
			v, err := batchGetOne(ctx, r, svc, read, id)
			if err != nil {
				we, ok := batchError(err)
				if !ok {
					return nil, err
				}
				out.Errors = append(out.Errors, apiErrorOut{SecretId: id, ErrorCode: we.JSONCode(), Message: we.Message})
				continue
			}
			out.SecretValues = append(out.SecretValues, secretValueOut(v))
		}
		return out, nil
	})
}

func batchGetOne(ctx context.Context, r *rpc.Request, svc *secrets.Service, read valueReader, id string) (*secrets.SecretValue, error) {
	return readAuthorized(ctx, r, svc, read, &id, "", "")
}

// batchError is the wire form of an error about one secret of a batch; it
// reports false for an internal error, which fails the whole request.
func batchError(err error) (*awsapi.Error, bool) {
	var we *awsapi.Error
	if errors.As(err, &we) {
		return we, true
	}
	return Codes.ToWire(err)
}

// --- PutSecretValue ----------------------------------------------------------------

type putSecretValueInput struct {
	secretIDInput
	ClientRequestToken *string         `json:"ClientRequestToken"`
	SecretBinary       *secretBinaryIn `json:"SecretBinary"`
	SecretString       *secretStringIn `json:"SecretString"`
	VersionStages      []string        `json:"VersionStages"`
	RotationToken      *string         `json:"RotationToken"`
}

type putSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionId     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages,omitempty"`
}

func handlePutSecretValue(svc *secrets.Service) rpc.Handler {
	return handleSecretInput(func(ctx context.Context, r *rpc.Request, in *putSecretValueInput, id string) (any, error) {
		if in.RotationToken != nil {
			return nil, awsapi.Errorf(awsapi.CodeInvalidParameter, "RotationToken: %s", msgNoRotation)
		}
		value, token, err := newValueParams(in.SecretString, in.SecretBinary, in.ClientRequestToken)
		if err != nil {
			return nil, err
		}
		sec, master, err := authorizeValueWrite(ctx, r, svc, "secretsmanager:PutSecretValue", id, nil, value)
		if err != nil {
			return nil, err
		}
		res, err := svc.PutValue(ctx, secrets.PutInput{SecretID: sec.ARN, VersionID: token, Value: value, Stages: in.VersionStages, Master: master})
		if err != nil {
			return nil, err
		}
		return &putSecretValueOutput{ARN: res.ARN, Name: res.Name, VersionId: res.VersionID, VersionStages: res.Stages}, nil
	})
}

// --- ListSecretVersionIds ----------------------------------------------------------

type listSecretVersionIdsInput struct {
	secretIDInput
	MaxResults        *int32  `json:"MaxResults"`
	NextToken         *string `json:"NextToken"`
	IncludeDeprecated *bool   `json:"IncludeDeprecated"`
}

// versionEntry is botocore SecretVersionsListEntry. KmsKeyIds is what AWS
// lists for a version under the default key, the only key the broker has.
type versionEntry struct {
	VersionId        string     `json:"VersionId"`
	VersionStages    []string   `json:"VersionStages,omitempty"`
	LastAccessedDate *epochTime `json:"LastAccessedDate,omitempty"`
	CreatedDate      *epochTime `json:"CreatedDate,omitempty"`
	KmsKeyIds        []string   `json:"KmsKeyIds"`
}

// defaultKMSKeyIDs is the KmsKeyIds of every version: AWS's name for the
// AWS managed key aws/secretsmanager.
var defaultKMSKeyIDs = []string{"DefaultEncryptionKey"}

type listSecretVersionIdsOutput struct {
	Versions  []versionEntry `json:"Versions"`
	NextToken *string        `json:"NextToken,omitempty"`
	ARN       string         `json:"ARN"`
	Name      string         `json:"Name"`
}

func handleListSecretVersionIds(svc *secrets.Service) rpc.Handler {
	return handleSecretOp(svc, "secretsmanager:ListSecretVersionIds", noKeys[*listSecretVersionIdsInput], func(ctx context.Context, r *rpc.Request, in *listSecretVersionIdsInput, sec *secrets.Secret) (any, error) {
		deprecated := in.IncludeDeprecated != nil && *in.IncludeDeprecated
		var versions []secrets.Version
		for _, v := range sec.Versions {
			if len(v.Stages) > 0 || deprecated {
				versions = append(versions, v)
			}
		}
		page, next, err := smPage(versions, in.NextToken, in.MaxResults, 100, 100, func(v secrets.Version) versionEntry {
			return versionEntry{VersionId: v.ID, VersionStages: v.Stages, LastAccessedDate: epoch(v.LastAccessed), CreatedDate: epoch(v.Created), KmsKeyIds: defaultKMSKeyIDs}
		})
		if err != nil {
			return nil, err
		}
		return &listSecretVersionIdsOutput{Versions: page, NextToken: next, ARN: sec.ARN, Name: sec.Name}, nil
	})
}

// --- UpdateSecretVersionStage ------------------------------------------------------

type updateSecretVersionStageInput struct {
	secretIDInput
	VersionStage        *string `json:"VersionStage"`
	RemoveFromVersionId *string `json:"RemoveFromVersionId"`
	MoveToVersionId     *string `json:"MoveToVersionId"`
}

func handleUpdateSecretVersionStage(svc *secrets.Service) rpc.Handler {
	check := func(in *updateSecretVersionStageInput) (map[string][]string, error) {
		stage, err := requiredParam(in.VersionStage, "versionStage")
		if err != nil {
			return nil, err
		}
		return map[string][]string{"secretsmanager:VersionStage": {stage}}, nil
	}
	return handleSecretOp(svc, "secretsmanager:UpdateSecretVersionStage", check, func(ctx context.Context, _ *rpc.Request, in *updateSecretVersionStageInput, sec *secrets.Secret) (any, error) {
		return arnNameOut(svc.UpdateStage(ctx, sec.ARN, *in.VersionStage, strOr(in.RemoveFromVersionId), strOr(in.MoveToVersionId)))
	})
}

// --- GetRandomPassword -------------------------------------------------------------

type getRandomPasswordInput struct {
	PasswordLength          *int64  `json:"PasswordLength"`
	ExcludeCharacters       *string `json:"ExcludeCharacters"`
	ExcludeNumbers          *bool   `json:"ExcludeNumbers"`
	ExcludePunctuation      *bool   `json:"ExcludePunctuation"`
	ExcludeUppercase        *bool   `json:"ExcludeUppercase"`
	ExcludeLowercase        *bool   `json:"ExcludeLowercase"`
	IncludeSpace            *bool   `json:"IncludeSpace"`
	RequireEachIncludedType *bool   `json:"RequireEachIncludedType"`
}

type getRandomPasswordOutput struct {
	RandomPassword string `json:"RandomPassword"`
}

// GetRandomPassword needs secretsmanager:GetRandomPassword on "*".
func handleGetRandomPassword(svc *secrets.Service) rpc.Handler {
	return handleInput(func(ctx context.Context, r *rpc.Request, in *getRandomPasswordInput) (any, error) {
		if err := r.Authorize(ctx, "secretsmanager:GetRandomPassword", "*", nil); err != nil {
			return nil, err
		}
		b := func(p *bool) bool { return p != nil && *p }
		pin := secrets.PasswordInput{
			ExcludeCharacters:       strOr(in.ExcludeCharacters),
			ExcludeNumbers:          b(in.ExcludeNumbers),
			ExcludePunctuation:      b(in.ExcludePunctuation),
			ExcludeUppercase:        b(in.ExcludeUppercase),
			ExcludeLowercase:        b(in.ExcludeLowercase),
			IncludeSpace:            b(in.IncludeSpace),
			RequireEachIncludedType: in.RequireEachIncludedType,
		}
		if in.PasswordLength != nil {
			n := *in.PasswordLength
			if n < 1 || n > secrets.MaxPasswordLength {
				return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%d' at 'passwordLength' failed to satisfy constraint: Member must have value between 1 and %d", n, secrets.MaxPasswordLength)
			}
			pin.Length = int(n)
		}
		pw, err := svc.RandomPassword(pin)
		if err != nil {
			return nil, err
		}
		return &getRandomPasswordOutput{RandomPassword: string(pw.Reveal())}, nil
	})
}
