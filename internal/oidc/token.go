package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/shortfuse/shortfuse/internal/fault"
)

// Limits of a token.
const (
	// MaxTokenLen is the longest token accepted, as STS's clientTokenType.
	MaxTokenLen = 20000
	// MinTokenLen is the shortest, as clientTokenType.
	MinTokenLen = 4
	// MaxSubjectLen is the longest sub accepted (STS webIdentitySubjectType).
	MaxSubjectLen = 255
	// DefaultSkew is the clock skew allowed on exp, nbf and iat.
	DefaultSkew = time.Minute
)

// Token is a parsed, unverified token. Nothing in it is authenticated until
// [Verify] succeeds; Issuer is there only to find the provider whose keys
// verify it.
type Token struct {
	Issuer    string // the iss claim, as written
	KeyID     string // the kid header, "" if absent
	Algorithm string // the alg header: "RS256" or "ES256"
	jws       *jose.JSONWebSignature
}

// Parse reads a token in JWS compact serialization (header.payload.signature).
// Leading and trailing white space (a token file's final newline) is
// ignored. It refuses tokens outside MinTokenLen..MaxTokenLen, any other
// serialization, an alg other than RS256 or ES256 (so "none" and HS256), a
// "crit" header, and a payload that is not a strict JSON object with a
// string iss. Errors are [*Error] with ReasonMalformed or ReasonAlgorithm.
func Parse(raw string) (*Token, error) {
	raw = strings.Trim(raw, " \t\r\n")
	if len(raw) < MinTokenLen || len(raw) > MaxTokenLen {
		return nil, fail(ReasonMalformed, "the token must be %d to %d characters long", MinTokenLen, MaxTokenLen)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[1] == "" {
		return nil, fail(ReasonMalformed, "the token is not a JWT in compact serialization")
	}
	hb, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return nil, fail(ReasonMalformed, "the token header is not base64url")
	}
	header, err := decodeObject(hb)
	if err != nil {
		return nil, fail(ReasonMalformed, "the token header: %v", err)
	}
	alg, ok := header["alg"].(string)
	if !ok {
		return nil, fail(ReasonMalformed, "the token header has no alg")
	}
	if alg != string(jose.RS256) && alg != string(jose.ES256) {
		return nil, fail(ReasonAlgorithm, "the token is signed with alg %q; only RS256 and ES256 are accepted", fault.Printable(alg, 128))
	}
	if parts[2] == "" {
		return nil, fail(ReasonMalformed, "the token has no signature")
	}
	if _, has := header["crit"]; has {
		return nil, fail(ReasonMalformed, "the token header has a crit member, which is not supported")
	}
	if _, has := header["b64"]; has {
		return nil, fail(ReasonMalformed, "the token header has a b64 member, which is not supported")
	}
	kid := ""
	if v, has := header["kid"]; has {
		s, ok := v.(string)
		if !ok || len(s) > 256 {
			return nil, fail(ReasonMalformed, "the token header has an invalid kid")
		}
		kid = s
	}
	jws, err := jose.ParseSignedCompact(raw, algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fail(ReasonMalformed, "the token is not a valid JWS")
	}
	claims, err := decodeObject(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, fail(ReasonMalformed, "the token payload: %v", err)
	}
	iss, ok := claims["iss"].(string)
	if !ok || iss == "" {
		return nil, fail(ReasonMalformed, "the token has no iss claim")
	}
	return &Token{Issuer: iss, KeyID: kid, Algorithm: alg, jws: jws}, nil
}

// KeySource supplies the verification keys of one issuer.
type KeySource interface {
	// KeySet returns the issuer's keys at now. refresh asks for a newer copy
	// than the one last returned, because a token names a key that copy
	// lacks; a source may decline (a static set, or a fetch too soon after
	// the last). Errors are [*Error] with ReasonKeys.
	KeySet(ctx context.Context, now time.Time, refresh bool) (*KeySet, error)
}

// StaticKeys is a KeySource of one fixed key set (a JWKS document stored
// with the provider).
func StaticKeys(ks *KeySet) KeySource { return staticKeys{ks} }

type staticKeys struct{ ks *KeySet }

func (s staticKeys) KeySet(context.Context, time.Time, bool) (*KeySet, error) { return s.ks, nil }

// Config is what a token is verified against: one provider.
type Config struct {
	// Issuer is the provider's normalized issuer URL ([NormalizeIssuer]).
	Issuer string
	// ClientIDs are the audiences the provider accepts; a token must name
	// one of them in aud.
	ClientIDs []string
	// Keys supplies the issuer's keys.
	Keys KeySource
	// Skew is the clock skew allowed on exp, nbf and iat; 0 means
	// DefaultSkew.
	Skew time.Duration
}

// Claims are the verified claims of a token.
type Claims struct {
	Issuer    string   // iss, as written in the token
	Subject   string   // sub
	Audience  []string // every aud value
	ClientID  string   // the aud value that is one of the provider's client ids
	Expiry    time.Time
	NotBefore time.Time // zero if the token has no nbf
	IssuedAt  time.Time
	AMR       []string // amr, if present
	KeyID     string   // the kid of the key that verified the token

	prefix string
	all    map[string]any
}

// Verify authenticates tok against cfg at now and checks its claims. The
// order matters: the issuer is checked first (it chose the keys), then the
// signature, and only then anything the token says about time or audience,
// so that a forged token is reported as invalid and never as expired.
//
// A token whose kid is not in the key set makes Verify ask the source for a
// fresh set once (an issuer rotating its keys); if the kid is still unknown
// it fails with ReasonUnknownKey. Errors are [*Error].
func Verify(ctx context.Context, tok *Token, cfg Config, now time.Time) (*Claims, error) {
	skew := cfg.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	iss, err := NormalizeIssuer(tok.Issuer)
	if err != nil || iss != cfg.Issuer {
		return nil, fail(ReasonIssuer, "the token's issuer %q is not the provider's issuer", fault.Printable(tok.Issuer, 128))
	}
	payload, err := verifySignature(ctx, tok, cfg.Keys, now)
	if err != nil {
		return nil, err
	}
	// Authenticated from here on: decode the claims from the verified
	// payload.
	all, err := decodeObject(payload)
	if err != nil {
		return nil, fail(ReasonMalformed, "the token payload: %v", err)
	}
	c := &Claims{all: all, prefix: ConditionPrefix(cfg.Issuer), KeyID: tok.KeyID}
	c.Issuer, _ = all["iss"].(string)
	if c.Issuer != tok.Issuer {
		return nil, fail(ReasonIssuer, "the token's issuer changed between parse and verify")
	}
	if err := c.checkTimes(now, skew); err != nil {
		return nil, err
	}
	if err := c.checkAudience(cfg.ClientIDs); err != nil {
		return nil, err
	}
	if err := c.checkSubject(); err != nil {
		return nil, err
	}
	if _, has := all["amr"]; has {
		if c.AMR, err = stringList(all, "amr", false); err != nil {
			return nil, err
		}
	}
	// Condition keys compare without regard to case: two claims that differ
	// only by case would make one key with two meanings.
	seen := make(map[string]string, len(all))
	for name := range all {
		l := strings.ToLower(name)
		if other, dup := seen[l]; dup {
			return nil, fail(ReasonClaims, "the token's claims %q and %q differ only by case", fault.Printable(other, 128), fault.Printable(name, 128))
		}
		seen[l] = name
	}
	return c, nil
}

// verifySignature finds the issuer's keys that may have signed tok (asking
// for a fresh key set once when none does: an issuer rotating its keys)
// and returns the payload that one of them verifies.
func verifySignature(ctx context.Context, tok *Token, keys KeySource, now time.Time) ([]byte, error) {
	alg := jose.SignatureAlgorithm(tok.Algorithm)
	ks, err := keys.KeySet(ctx, now, false)
	if err != nil {
		return nil, err
	}
	cands := ks.candidates(tok.KeyID, alg)
	if len(cands) == 0 {
		if ks, err = keys.KeySet(ctx, now, true); err != nil {
			return nil, err
		}
		cands = ks.candidates(tok.KeyID, alg)
	}
	if len(cands) == 0 {
		if tok.KeyID != "" {
			return nil, fail(ReasonUnknownKey, "the issuer has no %s key with kid %q", tok.Algorithm, fault.Printable(tok.KeyID, 128))
		}
		return nil, fail(ReasonUnknownKey, "the issuer has no %s key", tok.Algorithm)
	}
	for _, k := range cands {
		if p, err := tok.jws.Verify(k); err == nil {
			return p, nil
		}
	}
	return nil, fail(ReasonSignature, "the token's signature does not verify")
}

// checkTimes reads exp, nbf and iat and checks them against now, give or
// take skew.
func (c *Claims) checkTimes(now time.Time, skew time.Duration) error {
	var err error
	if c.Expiry, err = numericDate(c.all, "exp", true); err != nil {
		return err
	}
	if c.NotBefore, err = numericDate(c.all, "nbf", false); err != nil {
		return err
	}
	if c.IssuedAt, err = numericDate(c.all, "iat", true); err != nil {
		return err
	}
	if !now.Before(c.Expiry.Add(skew)) {
		return fail(ReasonExpired, "Token expired: current date/time %s must be before the expiration date/time %s", now.UTC().Format(time.RFC3339), c.Expiry.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Add(skew).Before(c.NotBefore) {
		return fail(ReasonNotYetValid, "the token is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.Add(skew).Before(c.IssuedAt) {
		return fail(ReasonIssuedInFuture, "the token is issued in the future (%s)", c.IssuedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkAudience reads aud and sets ClientID to its first value that is one
// of the provider's client ids; a token for none of them is refused.
func (c *Claims) checkAudience(clientIDs []string) error {
	var err error
	if c.Audience, err = stringList(c.all, "aud", true); err != nil {
		return err
	}
	for _, a := range c.Audience {
		if slices.Contains(clientIDs, a) {
			c.ClientID = a
			return nil
		}
	}
	return fail(ReasonAudience, "Incorrect token audience")
}

// checkSubject reads sub: present, at most MaxSubjectLen characters, no
// control characters.
func (c *Claims) checkSubject() error {
	sub, ok := c.all["sub"].(string)
	if !ok || sub == "" {
		return fail(ReasonClaims, "the token has no sub claim")
	}
	if utf8.RuneCountInString(sub) > MaxSubjectLen {
		return fail(ReasonClaims, "the token's sub claim is longer than %d characters", MaxSubjectLen)
	}
	for _, r := range sub {
		if r < 0x20 || r == 0x7f {
			return fail(ReasonClaims, "the token's sub claim contains control characters")
		}
	}
	c.Subject = sub
	return nil
}

// numericDate reads a NumericDate claim (RFC 7519: seconds since the epoch,
// possibly fractional).
func numericDate(all map[string]any, name string, required bool) (time.Time, error) {
	v, has := all[name]
	if !has {
		if required {
			return time.Time{}, fail(ReasonMalformed, "the token has no %s claim", name)
		}
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fail(ReasonMalformed, "the token's %s claim is not a number", name)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, fail(ReasonMalformed, "the token's %s claim is not a valid time", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// stringList reads a claim that is a string or an array of strings.
func stringList(all map[string]any, name string, required bool) ([]string, error) {
	switch v := all[name].(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fail(ReasonMalformed, "the token's %s claim is not a list of strings", name)
			}
			out = append(out, s)
		}
		if len(out) == 0 && required {
			break
		}
		return out, nil
	case nil:
		if !required {
			return nil, nil
		}
	}
	if required {
		return nil, fail(ReasonMalformed, "the token has no usable %s claim", name)
	}
	return nil, fail(ReasonMalformed, "the token's %s claim is not a list of strings", name)
}

// Limits of the condition keys made from claims.
const (
	maxKeyValues   = 100  // values of one list claim
	maxValueLen    = 1024 // characters of one value
	maxClaimKeyLen = 128  // characters of a claim name
)

// ConditionKeys returns the trust-policy condition keys of the token:
// "<prefix>:<claim>" for every top-level claim that is a string, a number, a
// boolean or a list of strings, where prefix is [ConditionPrefix] of the
// provider's issuer ("token.actions.githubusercontent.com:sub",
// "gitlab.com:project_path"). "<prefix>:aud" is the matched client id (as
// AWS sets it), not every audience. Claims whose names are not
// [A-Za-z0-9._-], values longer than 1024 characters and lists longer than
// 100 values are left out, so a policy that names them matches nothing.
func (c *Claims) ConditionKeys() map[string][]string {
	out := make(map[string][]string, len(c.all))
	for name, v := range c.all {
		if !validClaimName(name) {
			continue
		}
		var vals []string
		switch t := v.(type) {
		case string:
			vals = []string{t}
		case bool:
			vals = []string{strconv.FormatBool(t)}
		case json.Number:
			vals = []string{t.String()}
		case []any:
			if len(t) > maxKeyValues {
				continue
			}
			vals = make([]string, 0, len(t))
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					vals = nil
					break
				}
				vals = append(vals, s)
			}
			if vals == nil {
				continue
			}
		default:
			continue
		}
		long := false
		for _, s := range vals {
			if len(s) > maxValueLen {
				long = true
			}
		}
		if long {
			continue
		}
		out[c.prefix+":"+name] = vals
	}
	out[c.prefix+":aud"] = []string{c.ClientID}
	out[c.prefix+":sub"] = []string{c.Subject}
	return out
}

// Claim returns a top-level string claim.
func (c *Claims) Claim(name string) (string, bool) {
	s, ok := c.all[name].(string)
	return s, ok
}

func validClaimName(s string) bool {
	if s == "" || len(s) > maxClaimKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
