package iam

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/oidc"
)

// OpenID Connect identity providers: the issuers whose tokens STS
// AssumeRoleWithWebIdentity accepts. A provider is named by its issuer URL
// without the scheme ("arn:aws:iam::ACCOUNT:oidc-provider/gitlab.com"); its
// record is keyed by that name in bucketOIDC.

const (
	bucketOIDC = "iam.oidc" // oidc.ConditionPrefix(issuer) → oidcRec

	maxOIDCProviders      = 100 // per account, as IAM's quota
	maxClientIDs          = 100 // per provider, as IAM's quota
	maxClientIDLen        = 255 // clientIDType
	maxThumbprints        = 5   // per provider, as IAM's quota
	thumbprintLen         = 40  // thumbprintType: hex SHA-1
	oidcProviderARNPrefix = "oidc-provider/"
)

// OIDCProvider is an OpenID Connect identity provider.
type OIDCProvider struct {
	ARN string
	// URL is the issuer, normalized ([oidc.NormalizeIssuer]).
	URL string
	// ClientIDs are the audiences a token of this provider may name.
	ClientIDs []string
	// Thumbprints are kept for AWS compatibility; the broker verifies the
	// issuer's TLS certificate against the system's roots instead.
	Thumbprints []string
	// JWKS, when set, is the provider's key set (a JWKS document): tokens
	// are verified with it and the issuer is never contacted.
	JWKS        []byte
	JWKSUpdated time.Time
	CreateDate  time.Time
	Tags        []Tag
}

type oidcRec struct {
	URL         string    `json:"url"`
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	JWKS        []byte    `json:"jwks,omitempty"`
	JWKSUpdated time.Time `json:"jwksUpdated,omitzero"`
	Created     time.Time `json:"created"`
	Tags        []Tag     `json:"tags,omitempty"`
}

// CreateOIDCProviderInput is the input of CreateOpenIDConnectProvider.
type CreateOIDCProviderInput struct {
	URL         string
	ClientIDs   []string
	Thumbprints []string
	Tags        []Tag
}

// OIDCProviderARN returns the ARN of the provider of a normalized issuer.
func (s *Service) OIDCProviderARN(issuer string) string {
	return s.arn(oidcProviderARNPrefix, "", oidc.ConditionPrefix(issuer))
}

func (s *Service) oidcOut(r *oidcRec) *OIDCProvider {
	return &OIDCProvider{
		ARN: s.OIDCProviderARN(r.URL), URL: r.URL,
		ClientIDs:   append([]string(nil), r.ClientIDs...),
		Thumbprints: append([]string(nil), r.Thumbprints...),
		JWKS:        bytes.Clone(r.JWKS), JWKSUpdated: r.JWKSUpdated,
		CreateDate: r.Created, Tags: append([]Tag(nil), r.Tags...),
	}
}

func noSuchOIDC(providerARN string) *Error {
	return newErr(ErrNoSuchEntity, "OpenIDConnect Provider not found for arn %s", fault.Printable(providerARN, 128))
}

// oidcKey returns the record key of a provider ARN of this account.
func (s *Service) oidcKey(providerARN string) (string, error) {
	if err := checkARN(providerARN, "openIDConnectProviderArn"); err != nil {
		return "", err
	}
	rest, ok := strings.CutPrefix(providerARN, "arn:aws:iam::"+s.account+":"+oidcProviderARNPrefix)
	if !ok || rest == "" {
		return "", noSuchOIDC(providerARN)
	}
	return rest, nil
}

func (t *txn) oidcProvider(key, providerARN string) (*oidcRec, error) {
	return load[oidcRec](t, bucketOIDC, key, nil, noSuchOIDC, providerARN)
}

func checkClientID(id string) error {
	if err := checkLen(id, "clientID", 1, maxClientIDLen); err != nil {
		return err
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return validationf(id, "clientID", "Member must not contain control characters")
		}
	}
	return nil
}

// checkClientIDs validates a client id list and drops repeats.
func checkClientIDs(ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if err := checkClientID(id); err != nil {
			return nil, err
		}
		if !contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > maxClientIDs {
		return nil, newErr(ErrLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	return out, nil
}

// checkThumbprints validates a thumbprint list (40 hex digits each, at most
// five) and lower-cases it.
func checkThumbprints(tps []string) ([]string, error) {
	if len(tps) > maxThumbprints {
		return nil, validationf(fmt.Sprintf("%d thumbprints", len(tps)), "thumbprintList", fmt.Sprintf("Member must have length less than or equal to %d", maxThumbprints))
	}
	var out []string
	for i, tp := range tps {
		f := fmt.Sprintf("thumbprintList.%d.member", i+1)
		if len(tp) != thumbprintLen {
			return nil, validationf(tp, f, fmt.Sprintf("Member must have length %d", thumbprintLen))
		}
		for j := 0; j < len(tp); j++ {
			if c := tp[j]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return nil, newErr(ErrInvalidInput, "Thumbprint %s is not 40 hexadecimal digits.", fault.Printable(tp, 128))
			}
		}
		tp = strings.ToLower(tp)
		if !contains(out, tp) {
			out = append(out, tp)
		}
	}
	return out, nil
}

// CreateOpenIDConnectProvider registers an issuer. The URL must be https
// (or http on a loopback host) without query or fragment; it is stored
// normalized. It fails with EntityAlreadyExists if the issuer is
// registered, and with LimitExceeded past 100 providers.
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, in CreateOIDCProviderInput) (*OIDCProvider, error) {
	if in.URL == "" {
		return nil, validationNull("url")
	}
	iss, err := oidc.NormalizeIssuer(in.URL)
	if err != nil {
		return nil, newErr(ErrInvalidInput, "Invalid OpenID Connect provider URL %s: %s.", fault.Printable(in.URL, 128), err)
	}
	ids, err := checkClientIDs(in.ClientIDs)
	if err != nil {
		return nil, err
	}
	tps, err := checkThumbprints(in.Thumbprints)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	rec := &oidcRec{URL: iss, ClientIDs: ids, Thumbprints: tps, Created: s.timestamp(), Tags: in.Tags}
	key := oidc.ConditionPrefix(iss)
	err = s.update(ctx, func(t *txn) error {
		if err := absent[oidcRec](t, bucketOIDC, key, newErr(ErrEntityAlreadyExists, "Provider with url %s already exists.", iss)); err != nil {
			return err
		}
		n, err := t.Count(bucketOIDC, "")
		if err != nil {
			return err
		}
		if n >= maxOIDCProviders {
			return newErr(ErrLimitExceeded, "Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", maxOIDCProviders)
		}
		return t.put(bucketOIDC, key, rec)
	})
	if err != nil {
		return nil, err
	}
	return s.oidcOut(rec), nil
}

// GetOpenIDConnectProvider returns the provider with that ARN.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, providerARN string) (*OIDCProvider, error) {
	key, err := s.oidcKey(providerARN)
	if err != nil {
		return nil, err
	}
	return s.readOIDC(ctx, func(t *txn) (*oidcRec, error) { return t.oidcProvider(key, providerARN) })
}

// readOIDC returns the provider that load loads, in one read transaction.
func (s *Service) readOIDC(ctx context.Context, load func(*txn) (*oidcRec, error)) (*OIDCProvider, error) {
	return readFrom(ctx, s, load, func(_ *txn, rec *oidcRec) (*OIDCProvider, error) { return s.oidcOut(rec), nil })
}

func noSuchIssuer(iss string) *Error {
	return newErr(ErrNoSuchEntity, "No OpenIDConnect provider found in your account for %s", fault.Printable(iss, 128))
}

// OpenIDConnectProviderForIssuer returns the provider whose issuer is iss,
// the iss claim of a token (compared after normalization, so a trailing
// slash or the host's case do not matter; the scheme and path do). It
// fails with NoSuchEntity if no provider has that issuer.
func (s *Service) OpenIDConnectProviderForIssuer(ctx context.Context, iss string) (*OIDCProvider, error) {
	norm, err := oidc.NormalizeIssuer(iss)
	if err != nil {
		return nil, noSuchIssuer(iss)
	}
	// http://host and https://host share a name; only the registered
	// scheme is the provider.
	return s.readOIDC(ctx, func(t *txn) (*oidcRec, error) {
		return load(t, bucketOIDC, oidc.ConditionPrefix(norm), func(r *oidcRec) bool { return r.URL == norm }, noSuchIssuer, iss)
	})
}

// ListOpenIDConnectProviders returns every provider, ordered by ARN.
func (s *Service) ListOpenIDConnectProviders(ctx context.Context) ([]OIDCProvider, error) {
	out, err := read(ctx, s, func(t *txn) ([]OIDCProvider, error) {
		var out []OIDCProvider
		err := scanAll(t, bucketOIDC, "", func(_ string, rec *oidcRec) error {
			out = append(out, *s.oidcOut(rec))
			return nil
		})
		return out, err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out, err
}

// DeleteOpenIDConnectProvider deletes a provider. Roles that trust it are
// left as they are; their trust policies then match no token.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, providerARN string) error {
	key, err := s.oidcKey(providerARN)
	if err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		if _, err := t.oidcProvider(key, providerARN); err != nil {
			return err
		}
		return t.del(bucketOIDC, key)
	})
}

// modifyOIDC changes one provider in a transaction.
func (s *Service) modifyOIDC(ctx context.Context, providerARN string, fn func(*oidcRec) error) error {
	key, err := s.oidcKey(providerARN)
	if err != nil {
		return err
	}
	return modify(ctx, s, func(t *txn) (*oidcRec, error) { return t.oidcProvider(key, providerARN) }, fn,
		func(rec *oidcRec, t *txn) error { return t.put(bucketOIDC, key, rec) })
}

// checkClientIDMember checks the ClientID of AddClientIDTo… and
// RemoveClientIDFrom…: a required member (checkClientID).
func checkClientIDMember(clientID string) error {
	if clientID == "" {
		return validationNull("clientID")
	}
	return checkClientID(clientID)
}

// AddClientIDToOpenIDConnectProvider adds an audience; adding one the
// provider has is not an error.
func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, providerARN, clientID string) error {
	if err := checkClientIDMember(clientID); err != nil {
		return err
	}
	return s.modifyOIDC(ctx, providerARN, func(rec *oidcRec) error {
		if contains(rec.ClientIDs, clientID) {
			return nil
		}
		if len(rec.ClientIDs) >= maxClientIDs {
			return newErr(ErrLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
		}
		rec.ClientIDs = append(rec.ClientIDs, clientID)
		return nil
	})
}

// RemoveClientIDFromOpenIDConnectProvider removes an audience; removing
// one the provider does not have is not an error, as in IAM.
func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, providerARN, clientID string) error {
	if err := checkClientIDMember(clientID); err != nil {
		return err
	}
	return s.modifyOIDC(ctx, providerARN, func(rec *oidcRec) error {
		rec.ClientIDs = remove(rec.ClientIDs, clientID)
		return nil
	})
}

// UpdateOpenIDConnectProviderThumbprint replaces the thumbprint list.
func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, providerARN string, thumbprints []string) error {
	tps, err := checkThumbprints(thumbprints)
	if err != nil {
		return err
	}
	return s.modifyOIDC(ctx, providerARN, func(rec *oidcRec) error {
		rec.Thumbprints = tps
		return nil
	})
}

// SetOpenIDConnectProviderJWKS stores a JWKS document with the provider, for
// brokers that cannot reach the issuer: tokens are then verified with these
// keys only. The document must hold at least one RS256 or ES256 public key
// and no private key material ([oidc.ParseKeySet]). A nil or empty jwks
// removes the stored set, and keys come from the issuer again.
func (s *Service) SetOpenIDConnectProviderJWKS(ctx context.Context, providerARN string, jwks []byte) error {
	if len(jwks) > 0 {
		if _, err := oidc.ParseKeySet(jwks); err != nil {
			return newErr(ErrInvalidInput, "The JWKS document is not usable: %s.", err)
		}
	}
	now := s.timestamp()
	return s.modifyOIDC(ctx, providerARN, func(rec *oidcRec) error {
		if len(jwks) == 0 {
			rec.JWKS, rec.JWKSUpdated = nil, time.Time{}
			return nil
		}
		rec.JWKS, rec.JWKSUpdated = bytes.Clone(jwks), now
		return nil
	})
}

// TagOpenIDConnectProvider adds tags, replacing the value of keys it has.
func (s *Service) TagOpenIDConnectProvider(ctx context.Context, providerARN string, tags []Tag) error {
	return s.retagOIDC(ctx, providerARN, tagging(tags))
}

// UntagOpenIDConnectProvider removes the tags with those keys.
func (s *Service) UntagOpenIDConnectProvider(ctx context.Context, providerARN string, keys []string) error {
	return s.retagOIDC(ctx, providerARN, untagging(keys))
}

func (s *Service) retagOIDC(ctx context.Context, providerARN string, c tagChange) error {
	if err := c.check(); err != nil {
		return err
	}
	return s.modifyOIDC(ctx, providerARN, func(rec *oidcRec) error { return c.apply(&rec.Tags) })
}
