package iam

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

const ghURL = "https://token.actions.githubusercontent.com"

var tp1 = strings.Repeat("a", 40)

func testJWKS(t *testing.T, private bool) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	var key any = &k.PublicKey
	if private {
		key = k
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	must(t, err)
	return b
}

func TestCreateOpenIDConnectProvider(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: "https://gitlab.com"})
	must(t, err)
	tests := []struct {
		name    string
		in      CreateOIDCProviderInput
		kind    error
		msg     string
		wantARN string
		wantURL string
	}{
		{"ok/github", CreateOIDCProviderInput{URL: ghURL, ClientIDs: []string{"sts.amazonaws.com", "sts.amazonaws.com"}, Thumbprints: []string{strings.ToUpper(tp1)}, Tags: []Tag{{"team", "ci"}}}, nil, "",
			"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", ghURL},
		{"ok/jenkins-path-trailing-slash", CreateOIDCProviderInput{URL: "https://Jenkins.example.com/oidc/"}, nil, "",
			"arn:aws:iam::123456789012:oidc-provider/jenkins.example.com/oidc", "https://jenkins.example.com/oidc"},
		{"ok/loopback-http", CreateOIDCProviderInput{URL: "http://127.0.0.1:8080/oidc"}, nil, "",
			"arn:aws:iam::123456789012:oidc-provider/127.0.0.1:8080/oidc", "http://127.0.0.1:8080/oidc"},
		{"fail/exists-normalized", CreateOIDCProviderInput{URL: "https://GitLab.com/"}, ErrEntityAlreadyExists, "Provider with url https://gitlab.com already exists.", "", ""},
		{"fail/no-url", CreateOIDCProviderInput{}, ErrValidation, "url", "", ""},
		{"fail/http", CreateOIDCProviderInput{URL: "http://gitlab.example.com"}, ErrInvalidInput, "https", "", ""},
		{"fail/query", CreateOIDCProviderInput{URL: "https://gitlab.example.com/?x=1"}, ErrInvalidInput, "query", "", ""},
		{"fail/client-id-empty", CreateOIDCProviderInput{URL: "https://a.example", ClientIDs: []string{""}}, ErrValidation, "clientID", "", ""},
		{"fail/client-id-long", CreateOIDCProviderInput{URL: "https://a.example", ClientIDs: []string{strings.Repeat("c", 256)}}, ErrValidation, "clientID", "", ""},
		{"fail/client-id-control", CreateOIDCProviderInput{URL: "https://a.example", ClientIDs: []string{"a\nb"}}, ErrValidation, "clientID", "", ""},
		{"fail/thumbprint-short", CreateOIDCProviderInput{URL: "https://a.example", Thumbprints: []string{"abc"}}, ErrValidation, "thumbprintList.1.member", "", ""},
		{"fail/thumbprint-not-hex", CreateOIDCProviderInput{URL: "https://a.example", Thumbprints: []string{strings.Repeat("z", 40)}}, ErrInvalidInput, "hexadecimal", "", ""},
		{"fail/six-thumbprints", CreateOIDCProviderInput{URL: "https://a.example", Thumbprints: slices.Repeat([]string{tp1}, 6)}, ErrValidation, "thumbprintList", "", ""},
		{"fail/reserved-tag", CreateOIDCProviderInput{URL: "https://a.example", Tags: []Tag{{"aws:x", "y"}}}, ErrInvalidInput, "aws:", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.svc.CreateOpenIDConnectProvider(bg, tc.in)
			wantErr(t, err, tc.kind, tc.msg)
			if err != nil {
				return
			}
			if p.ARN != tc.wantARN || p.URL != tc.wantURL {
				t.Errorf("Create = %s %s, want %s %s", p.ARN, p.URL, tc.wantARN, tc.wantURL)
			}
			got, err := f.svc.GetOpenIDConnectProvider(bg, p.ARN)
			must(t, err)
			if got.URL != p.URL || !slices.Equal(got.ClientIDs, p.ClientIDs) || !got.CreateDate.Equal(f.clock.Now()) {
				t.Errorf("Get = %+v, want %+v", got, p)
			}
			if tc.name == "ok/github" && (!slices.Equal(got.ClientIDs, []string{"sts.amazonaws.com"}) || !slices.Equal(got.Thumbprints, []string{tp1}) || len(got.Tags) != 1) {
				t.Errorf("Get = %+v: client ids deduplicated, thumbprints lower-cased, tags kept", got)
			}
		})
	}
}

func TestOpenIDConnectProviderLifecycle(t *testing.T) {
	f := newFixture(t)
	p, err := f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: ghURL, ClientIDs: []string{"a"}})
	must(t, err)
	arn := p.ARN

	must(t, f.svc.AddClientIDToOpenIDConnectProvider(bg, arn, "b"))
	must(t, f.svc.AddClientIDToOpenIDConnectProvider(bg, arn, "b")) // idempotent
	must(t, f.svc.RemoveClientIDFromOpenIDConnectProvider(bg, arn, "a"))
	must(t, f.svc.RemoveClientIDFromOpenIDConnectProvider(bg, arn, "absent")) // idempotent
	must(t, f.svc.UpdateOpenIDConnectProviderThumbprint(bg, arn, []string{tp1}))
	must(t, f.svc.TagOpenIDConnectProvider(bg, arn, []Tag{{"k", "v"}, {"x", "y"}}))
	must(t, f.svc.UntagOpenIDConnectProvider(bg, arn, []string{"X"}))
	got, err := f.svc.GetOpenIDConnectProvider(bg, arn)
	must(t, err)
	if !slices.Equal(got.ClientIDs, []string{"b"}) || !slices.Equal(got.Thumbprints, []string{tp1}) || len(got.Tags) != 1 || got.Tags[0].Key != "k" {
		t.Errorf("after changes: %+v", got)
	}

	jwks := testJWKS(t, false)
	must(t, f.svc.SetOpenIDConnectProviderJWKS(bg, arn, jwks))
	got, _ = f.svc.GetOpenIDConnectProvider(bg, arn)
	if string(got.JWKS) != string(jwks) || got.JWKSUpdated.IsZero() {
		t.Errorf("JWKS not stored: %+v", got)
	}
	wantErr(t, f.svc.SetOpenIDConnectProviderJWKS(bg, arn, testJWKS(t, true)), ErrInvalidInput, "private")
	wantErr(t, f.svc.SetOpenIDConnectProviderJWKS(bg, arn, []byte(`{"keys":[]}`)), ErrInvalidInput, "no RS256 or ES256")
	must(t, f.svc.SetOpenIDConnectProviderJWKS(bg, arn, nil))
	got, _ = f.svc.GetOpenIDConnectProvider(bg, arn)
	if got.JWKS != nil || !got.JWKSUpdated.IsZero() {
		t.Errorf("JWKS not cleared: %+v", got)
	}

	byIss, err := f.svc.OpenIDConnectProviderForIssuer(bg, ghURL+"/")
	must(t, err)
	if byIss.ARN != arn {
		t.Errorf("ForIssuer ARN = %s", byIss.ARN)
	}
	list, err := f.svc.ListOpenIDConnectProviders(bg)
	must(t, err)
	if len(list) != 1 || list[0].ARN != arn {
		t.Errorf("List = %+v", list)
	}
	must(t, f.svc.DeleteOpenIDConnectProvider(bg, arn))
	_, err = f.svc.GetOpenIDConnectProvider(bg, arn)
	wantErr(t, err, ErrNoSuchEntity, "OpenIDConnect Provider not found for arn "+arn)
	wantErr(t, f.svc.DeleteOpenIDConnectProvider(bg, arn), ErrNoSuchEntity, "")
}

func TestOpenIDConnectProviderErrors(t *testing.T) {
	f := newFixture(t)
	p, err := f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: "https://gitlab.com"})
	must(t, err)
	other := "arn:aws:iam::210987654321:oidc-provider/gitlab.com"
	tests := []struct {
		name string
		err  error
		kind error
	}{
		{"fail/get-other-account", func() error { _, err := f.svc.GetOpenIDConnectProvider(bg, other); return err }(), ErrNoSuchEntity},
		{"fail/get-role-arn", func() error {
			_, err := f.svc.GetOpenIDConnectProvider(bg, "arn:aws:iam::123456789012:role/gitlab.com")
			return err
		}(), ErrNoSuchEntity},
		{"fail/get-short-arn", func() error { _, err := f.svc.GetOpenIDConnectProvider(bg, "arn:aws"); return err }(), ErrValidation},
		{"fail/get-empty-arn", func() error { _, err := f.svc.GetOpenIDConnectProvider(bg, ""); return err }(), ErrValidation},
		{"fail/add-empty-client", f.svc.AddClientIDToOpenIDConnectProvider(bg, p.ARN, ""), ErrValidation},
		{"fail/add-to-missing", f.svc.AddClientIDToOpenIDConnectProvider(bg, p.ARN+"x", "a"), ErrNoSuchEntity},
		{"fail/remove-long-client", f.svc.RemoveClientIDFromOpenIDConnectProvider(bg, p.ARN, strings.Repeat("c", 256)), ErrValidation},
		{"fail/thumbprint-bad", f.svc.UpdateOpenIDConnectProviderThumbprint(bg, p.ARN, []string{"x"}), ErrValidation},
		{"fail/tag-none", f.svc.TagOpenIDConnectProvider(bg, p.ARN, nil), ErrValidation},
		{"fail/untag-none", f.svc.UntagOpenIDConnectProvider(bg, p.ARN, nil), ErrValidation},
		{"fail/jwks-missing-provider", f.svc.SetOpenIDConnectProviderJWKS(bg, other, testJWKS(t, false)), ErrNoSuchEntity},
		{"fail/for-issuer-unknown", func() error { _, err := f.svc.OpenIDConnectProviderForIssuer(bg, "https://github.com"); return err }(), ErrNoSuchEntity},
		{"fail/for-issuer-other-scheme", func() error { _, err := f.svc.OpenIDConnectProviderForIssuer(bg, "http://gitlab.com"); return err }(), ErrNoSuchEntity},
		{"fail/for-issuer-garbage", func() error { _, err := f.svc.OpenIDConnectProviderForIssuer(bg, "\x00"); return err }(), ErrNoSuchEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.kind, "") })
	}
}

func TestOpenIDConnectProviderQuotas(t *testing.T) {
	f := newFixture(t)
	for i := range maxOIDCProviders {
		_, err := f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: fmt.Sprintf("https://issuer%d.example", i)})
		must(t, err)
	}
	_, err := f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: "https://one-more.example"})
	wantErr(t, err, ErrLimitExceeded, "OpenIdConnectProvidersPerAccount")

	ids := make([]string, maxClientIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("client-%d", i)
	}
	_, err = f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: "https://issuer0.example/x", ClientIDs: ids})
	wantErr(t, err, ErrLimitExceeded, "ClientIdsPerOpenIdConnectProvider")

	arn := f.svc.OIDCProviderARN("https://issuer0.example")
	for _, id := range ids[:maxClientIDs] {
		must(t, f.svc.AddClientIDToOpenIDConnectProvider(bg, arn, id))
	}
	wantErr(t, f.svc.AddClientIDToOpenIDConnectProvider(bg, arn, ids[maxClientIDs]), ErrLimitExceeded, "")
}
