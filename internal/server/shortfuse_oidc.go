package server

import (
	"context"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/oidc"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// shortfuse.SetOpenIDConnectProviderJWKS stores an OpenID Connect
// provider's key set with the provider, for brokers that have no route to
// the issuer (`shortfuse oidc-provider set-jwks`). Tokens of the provider
// are then verified with these keys only. IAM has no such operation; it is
// authorized as iam:UpdateOpenIDConnectProviderThumbprint on the provider,
// the IAM action that in AWS decides which keys a provider trusts.
//
// Request:  {"OpenIDConnectProviderArn": "arn:…", "JWKS": "{\"keys\":[…]}"}
// ("JWKS": "" removes the stored set; keys come from the issuer again)
// Response: {"OpenIDConnectProviderArn": "arn:…", "KeyIds": ["…"]}

// setOIDCJWKSInput is decoded strictly (jsonOp): a member whose name
// differs only by case ("Jwks") is refused, never read as JWKS.
type setOIDCJWKSInput struct {
	OpenIDConnectProviderArn *string `json:"OpenIDConnectProviderArn"`
	JWKS                     *string `json:"JWKS"`
}

type setOIDCJWKSOutput struct {
	OpenIDConnectProviderArn string   `json:"OpenIDConnectProviderArn"`
	KeyIds                   []string `json:"KeyIds"`
}

func handleSetOpenIDConnectProviderJWKS(s *Server) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *setOIDCJWKSInput) (any, error) {
		if in.OpenIDConnectProviderArn == nil || len(*in.OpenIDConnectProviderArn) < 20 || len(*in.OpenIDConnectProviderArn) > 2048 {
			return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "OpenIDConnectProviderArn must be the ARN of an OpenID Connect provider"}
		}
		if in.JWKS == nil {
			return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: `JWKS must be given: a JWKS document as a string, or "" to remove the stored one`}
		}
		arn := *in.OpenIDConnectProviderArn
		if err := r.Authorize(ctx, "iam:UpdateOpenIDConnectProviderThumbprint", arn, nil); err != nil {
			return nil, err
		}
		jwks := []byte(*in.JWKS)
		if err := s.iam.SetOpenIDConnectProviderJWKS(ctx, arn, jwks); err != nil {
			return nil, err
		}
		out := &setOIDCJWKSOutput{OpenIDConnectProviderArn: arn, KeyIds: []string{}}
		if len(jwks) > 0 {
			ks, err := oidc.ParseKeySet(jwks)
			if err != nil {
				return nil, err // stored above only after the same check passed
			}
			out.KeyIds = ks.KeyIDs()
		}
		r.Log().Info("OpenID Connect provider key set changed", "provider", arn, "by", r.Caller.ARN, "keys", len(out.KeyIds))
		return out, nil
	})
}
