package smapi

import (
	"context"

	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

type putResourcePolicyInput struct {
	secretIDInput
	ResourcePolicy    *string `json:"ResourcePolicy"`
	BlockPublicPolicy *bool   `json:"BlockPublicPolicy"`
}

func handlePutResourcePolicy(svc *secrets.Service) rpc.Handler {
	check := func(in *putResourcePolicyInput) (map[string][]string, error) {
		if _, err := requiredParam(in.ResourcePolicy, "resourcePolicy"); err != nil {
			return nil, err
		}
		return map[string][]string{"secretsmanager:BlockPublicPolicy": boolKey(in.blockPublic())}, nil
	}
	return handleSecretOp(svc, "secretsmanager:PutResourcePolicy", check, func(ctx context.Context, _ *rpc.Request, in *putResourcePolicyInput, sec *secrets.Secret) (any, error) {
		return arnNameOut(svc.PutPolicy(ctx, sec.ARN, *in.ResourcePolicy, in.blockPublic()))
	})
}

func (in *putResourcePolicyInput) blockPublic() bool {
	return in.BlockPublicPolicy != nil && *in.BlockPublicPolicy
}

type getResourcePolicyOutput struct {
	ARN            string `json:"ARN"`
	Name           string `json:"Name"`
	ResourcePolicy string `json:"ResourcePolicy,omitempty"`
}

func handleGetResourcePolicy(svc *secrets.Service) rpc.Handler {
	return handleSecretID(svc, "secretsmanager:GetResourcePolicy", func(_ context.Context, _ *rpc.Request, sec *secrets.Secret) (any, error) {
		return &getResourcePolicyOutput{ARN: sec.ARN, Name: sec.Name, ResourcePolicy: sec.Policy}, nil
	})
}

func handleDeleteResourcePolicy(svc *secrets.Service) rpc.Handler {
	return handleSecretID(svc, "secretsmanager:DeleteResourcePolicy", func(ctx context.Context, _ *rpc.Request, sec *secrets.Secret) (any, error) {
		return arnNameOut(svc.DeletePolicy(ctx, sec.ARN))
	})
}

type validateResourcePolicyInput struct {
	SecretId       *string `json:"SecretId"`
	ResourcePolicy *string `json:"ResourcePolicy"`
}

type validationErrorOut struct {
	CheckName    string `json:"CheckName"`
	ErrorMessage string `json:"ErrorMessage"`
}

type validateResourcePolicyOutput struct {
	PolicyValidationPassed bool                 `json:"PolicyValidationPassed"`
	ValidationErrors       []validationErrorOut `json:"ValidationErrors"`
}

// ValidateResourcePolicy needs, as AWS documents,
// secretsmanager:ValidateResourcePolicy and secretsmanager:PutResourcePolicy:
// on the secret when SecretId is given, else on "*". A document that does
// not parse is MalformedPolicyDocumentException; one that parses but allows
// public access fails the check named secrets.CheckPublicAccess.
func handleValidateResourcePolicy(svc *secrets.Service) rpc.Handler {
	return handleInput(func(ctx context.Context, r *rpc.Request, in *validateResourcePolicyInput) (any, error) {
		doc, err := requiredParam(in.ResourcePolicy, "resourcePolicy")
		if err != nil {
			return nil, err
		}
		for _, action := range []string{"secretsmanager:ValidateResourcePolicy", "secretsmanager:PutResourcePolicy"} {
			if in.SecretId == nil {
				if err := r.Authorize(ctx, action, "*", nil); err != nil {
					return nil, err
				}
				continue
			}
			if _, err := authorizeSecretParam(ctx, r, svc, action, in.SecretId, nil); err != nil {
				return nil, err
			}
		}
		problems, err := svc.ValidatePolicy(doc)
		if err != nil {
			return nil, err
		}
		out := &validateResourcePolicyOutput{PolicyValidationPassed: len(problems) == 0, ValidationErrors: []validationErrorOut{}}
		for _, p := range problems {
			out.ValidationErrors = append(out.ValidationErrors, validationErrorOut{CheckName: p.CheckName, ErrorMessage: p.Message})
		}
		return out, nil
	})
}
