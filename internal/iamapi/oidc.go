package iamapi

import (
	"context"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/oidc"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// IAM operations on OpenID Connect identity providers. Shapes follow
// botocore's iam service-2.json (CreateOpenIDConnectProviderResponse,
// GetOpenIDConnectProviderResponse, ...). The resource of every operation is
// the provider's ARN, "arn:aws:iam::ACCOUNT:oidc-provider/HOST[/PATH]".

type createOIDCProviderResult struct {
	OpenIDConnectProviderArn string                     `xml:"OpenIDConnectProviderArn"`
	Tags                     awsapi.Members[awsapi.Tag] `xml:"Tags,omitempty"`
}

type getOIDCProviderResult struct {
	// Url is the issuer without its scheme, as IAM returns it.
	Url            string                     `xml:"Url"`
	ClientIDList   awsapi.Members[string]     `xml:"ClientIDList"`
	ThumbprintList awsapi.Members[string]     `xml:"ThumbprintList"`
	CreateDate     awsapi.Time                `xml:"CreateDate"`
	Tags           awsapi.Members[awsapi.Tag] `xml:"Tags,omitempty"`
}

type oidcProviderListEntry struct {
	Arn string `xml:"Arn"`
}

type listOIDCProvidersResult struct {
	OpenIDConnectProviderList awsapi.Members[oidcProviderListEntry] `xml:"OpenIDConnectProviderList"`
}

// oidcResourceForURL is the ARN a CreateOpenIDConnectProvider request is
// authorized on: the provider's ARN, or for a URL that will be refused, the
// ARN its text would give.
func oidcResourceForURL(svc *iam.Service, rawURL string) string {
	if iss, err := oidc.NormalizeIssuer(rawURL); err == nil {
		return svc.OIDCProviderARN(iss)
	}
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		rest = rawURL
	}
	return "arn:aws:iam::" + svc.Account() + ":oidc-provider/" + rpc.SafeText(rest)
}

func handleCreateOpenIDConnectProvider(svc *iam.Service) rpc.Handler {
	read := func(p *awsapi.Params) (iam.CreateOIDCProviderInput, error) {
		url, err := p.Required("Url")
		return iam.CreateOIDCProviderInput{
			URL:         url,
			ClientIDs:   p.Strings("ClientIDList"),
			Thumbprints: p.Strings("ThumbprintList"),
			Tags:        tagsParam(p),
		}, err
	}
	resource := func(in *iam.CreateOIDCProviderInput) (string, []iam.Tag) {
		return oidcResourceForURL(svc, in.URL), in.Tags
	}
	return handleCreate("iam:CreateOpenIDConnectProvider", read, resource, svc.CreateOpenIDConnectProvider, func(_ *awsapi.Params, prov *iam.OIDCProvider) *createOIDCProviderResult {
		return &createOIDCProviderResult{OpenIDConnectProviderArn: prov.ARN, Tags: tagsXML(prov.Tags)}
	})
}

// providerARNParam reads OpenIDConnectProviderArn and authorizes action on
// it. The ARN is authorized as given, whether or not the provider exists,
// so a caller learns that it does not only if authorized.
func providerARNParam(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error) {
	arn, err := r.Params.Required("OpenIDConnectProviderArn")
	if err != nil {
		return "", err
	}
	if len(arn) < 20 || len(arn) > 2048 {
		return "", rpc.ValidationError("1 validation error detected: Value at 'openIDConnectProviderArn' failed to satisfy constraint: Member must have length between 20 and 2048")
	}
	if err := r.Authorize(ctx, action, arn, keys); err != nil {
		return "", err
	}
	return arn, nil
}

func handleGetOpenIDConnectProvider(svc *iam.Service) rpc.Handler {
	return handleGet(providerARNParam, "iam:GetOpenIDConnectProvider", svc.GetOpenIDConnectProvider, func(prov *iam.OIDCProvider) *getOIDCProviderResult {
		return &getOIDCProviderResult{
			Url:            oidc.ConditionPrefix(prov.URL),
			ClientIDList:   awsapi.Members[string](prov.ClientIDs),
			ThumbprintList: awsapi.Members[string](prov.Thumbprints),
			CreateDate:     awsapi.Time(prov.CreateDate),
			Tags:           tagsXML(prov.Tags),
		}
	})
}

func handleListOpenIDConnectProviders(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		if err := r.Authorize(ctx, "iam:ListOpenIDConnectProviders", "*", nil); err != nil {
			return nil, err
		}
		provs, err := svc.ListOpenIDConnectProviders(ctx)
		if err != nil {
			return nil, err
		}
		return &listOIDCProvidersResult{OpenIDConnectProviderList: membersOf(provs, func(p *iam.OIDCProvider) oidcProviderListEntry {
			return oidcProviderListEntry{Arn: p.ARN}
		})}, nil
	}
}

// handleClientIDOp is AddClientIDToOpenIDConnectProvider and
// RemoveClientIDFromOpenIDConnectProvider: ClientID, then the provider
// (providerARNParam), given to op.
func handleClientIDOp(action string, op func(ctx context.Context, providerARN, clientID string) error) rpc.Handler {
	return handleMembersOp(providerARNParam, action, func(ctx context.Context, arn string, v []string) error {
		return op(ctx, arn, v[0])
	}, "ClientID")
}

func handleAddClientIDToOpenIDConnectProvider(svc *iam.Service) rpc.Handler {
	return handleClientIDOp("iam:AddClientIDToOpenIDConnectProvider", svc.AddClientIDToOpenIDConnectProvider)
}

func handleRemoveClientIDFromOpenIDConnectProvider(svc *iam.Service) rpc.Handler {
	return handleClientIDOp("iam:RemoveClientIDFromOpenIDConnectProvider", svc.RemoveClientIDFromOpenIDConnectProvider)
}

// UpdateOpenIDConnectProviderThumbprint stores the list; the broker checks
// the issuer's certificate against the system's roots, not thumbprints.
func handleUpdateOpenIDConnectProviderThumbprint(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		tps := p.Strings("ThumbprintList")
		// An empty list is sent as "ThumbprintList=" and is allowed; an
		// absent one is not (the member is required).
		if tps == nil && !p.Has("ThumbprintList") {
			return nil, rpc.ValidationError("1 validation error detected: Value null at 'thumbprintList' failed to satisfy constraint: Member must not be null")
		}
		arn, err := providerARNParam(ctx, r, "iam:UpdateOpenIDConnectProviderThumbprint", nil)
		if err != nil {
			return nil, err
		}
		return nil, svc.UpdateOpenIDConnectProviderThumbprint(ctx, arn, tps)
	}
}
