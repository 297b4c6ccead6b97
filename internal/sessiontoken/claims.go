package sessiontoken

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Session types, as the STS operation that created the session.
const (
	TypeGetSessionToken           = "GetSessionToken"
	TypeAssumeRole                = "AssumeRole"
	TypeAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
)

// Claims is what a session token asserts. [Keyring.Mint] fills SessionID,
// AccessKeyID and KeyID; the caller fills the rest. Times have second
// precision and are in UTC.
type Claims struct {
	SessionID   string // 40 lower-case hex digits (20 random bytes)
	AccessKeyID string // "ASIA" + 16 base32 characters, derived from SessionID
	KeyID       uint32 // the server key that sealed the token and derives the secret

	Account      string
	Type         string // TypeGetSessionToken, TypeAssumeRole or TypeAssumeRoleWithWebIdentity
	PrincipalARN string // user ARN, or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	UserID       string // AIDA… for user sessions, AROA…:SESSION for role sessions
	SourceARN    string // the principal that asked for the session

	RoleARN, RoleID, RoleSessionName string

	IssuedAt, Expires time.Time

	MFA         bool
	MFAAuthTime time.Time

	SessionPolicies   []string // inline policy documents (JSON text)
	PolicyARNs        []string
	Tags              map[string]string
	TransitiveTagKeys []string
	SourceIdentity    string
	MaxUses           int // 0 means unlimited

	// Chain lists the access key ids of the sessions this one descends
	// from, the root (a session minted without session credentials) first
	// and its parent last; empty for a root. The broker admits a request
	// only while every session of the chain is live.
	Chain []string
}

// MaxChainDepth bounds how many ancestors a session may have.
const MaxChainDepth = 16

// Lineage returns the access key ids of the session's chain and its own,
// root first: the chain a session it mints will carry.
func (c *Claims) Lineage() []string {
	return append(append(make([]string, 0, len(c.Chain)+1), c.Chain...), c.AccessKeyID)
}

// Expired reports whether the session has expired at now: true when now is
// at or after Expires, to the second. Call it only on claims returned by
// [Keyring.Open].
func (c *Claims) Expired(now time.Time) bool {
	return now.Unix() >= c.Expires.Unix()
}

// validate checks what Mint needs to produce a sound token. The messages name
// fields only, never values.
func (c *Claims) validate() error {
	switch c.Type {
	case TypeGetSessionToken, TypeAssumeRole, TypeAssumeRoleWithWebIdentity:
	default:
		return errors.New("session: mint: unknown session type")
	}
	if c.IssuedAt.Unix() <= 0 {
		return errors.New("session: mint: IssuedAt is not set")
	}
	if c.Expires.Unix() <= c.IssuedAt.Unix() {
		return errors.New("session: mint: Expires is not after IssuedAt")
	}
	if c.MaxUses < 0 {
		return errors.New("session: mint: MaxUses is negative")
	}
	if len(c.Chain) > MaxChainDepth {
		return errors.New("session: mint: Chain is too long")
	}
	for _, a := range c.Chain {
		if !ValidAccessKeyID(a) {
			return errors.New("session: mint: Chain holds a malformed access key id")
		}
	}
	return nil
}

// wireClaims is the sealed encoding of Claims: compact JSON with short names
// and Unix-second times. SessionID is sealed; AccessKeyID is derived from it
// and KeyID travels in the token header, so neither is repeated here.
type wireClaims struct {
	SessionID         string            `json:"sid"`
	Account           string            `json:"acct,omitempty"`
	Type              string            `json:"typ"`
	PrincipalARN      string            `json:"arn,omitempty"`
	UserID            string            `json:"uid,omitempty"`
	SourceARN         string            `json:"src,omitempty"`
	RoleARN           string            `json:"rarn,omitempty"`
	RoleID            string            `json:"rid,omitempty"`
	RoleSessionName   string            `json:"rsn,omitempty"`
	IssuedAt          int64             `json:"iat"`
	Expires           int64             `json:"exp"`
	MFA               bool              `json:"mfa,omitempty"`
	MFAAuthTime       int64             `json:"mfat,omitempty"`
	SessionPolicies   []string          `json:"pol,omitempty"`
	PolicyARNs        []string          `json:"parn,omitempty"`
	Tags              map[string]string `json:"tag,omitempty"`
	TransitiveTagKeys []string          `json:"ttk,omitempty"`
	SourceIdentity    string            `json:"sidn,omitempty"`
	MaxUses           int               `json:"max,omitempty"`
	Chain             []string          `json:"chn,omitempty"`
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// wireOf is the wire form of c.
func wireOf(c *Claims) wireClaims {
	return wireClaims{
		SessionID:         c.SessionID,
		Account:           c.Account,
		Type:              c.Type,
		PrincipalARN:      c.PrincipalARN,
		UserID:            c.UserID,
		SourceARN:         c.SourceARN,
		RoleARN:           c.RoleARN,
		RoleID:            c.RoleID,
		RoleSessionName:   c.RoleSessionName,
		IssuedAt:          c.IssuedAt.Unix(),
		Expires:           c.Expires.Unix(),
		MFA:               c.MFA,
		MFAAuthTime:       unixOrZero(c.MFAAuthTime),
		SessionPolicies:   c.SessionPolicies,
		PolicyARNs:        c.PolicyARNs,
		Tags:              c.Tags,
		TransitiveTagKeys: c.TransitiveTagKeys,
		SourceIdentity:    c.SourceIdentity,
		MaxUses:           c.MaxUses,
		Chain:             c.Chain,
	}
}

// claims are the Claims w encodes.
func (w *wireClaims) claims() *Claims {
	return &Claims{
		SessionID:         w.SessionID,
		Account:           w.Account,
		Type:              w.Type,
		PrincipalARN:      w.PrincipalARN,
		UserID:            w.UserID,
		SourceARN:         w.SourceARN,
		RoleARN:           w.RoleARN,
		RoleID:            w.RoleID,
		RoleSessionName:   w.RoleSessionName,
		IssuedAt:          timeOrZero(w.IssuedAt),
		Expires:           timeOrZero(w.Expires),
		MFA:               w.MFA,
		MFAAuthTime:       timeOrZero(w.MFAAuthTime),
		SessionPolicies:   w.SessionPolicies,
		PolicyARNs:        w.PolicyARNs,
		Tags:              w.Tags,
		TransitiveTagKeys: w.TransitiveTagKeys,
		SourceIdentity:    w.SourceIdentity,
		MaxUses:           w.MaxUses,
		Chain:             w.Chain,
	}
}

func encodeClaims(c *Claims) ([]byte, error) {
	w := wireOf(c)
	// No HTML escaping: policies are full of characters it would inflate.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// asSealed returns the claims that decodeClaims reads back from
// encodeClaims(c): times at whole seconds in UTC, empty lists and maps as
// nil, AccessKeyID and KeyID left out (they are not in the payload). It
// reports false when it cannot tell without decoding: a string that is not
// valid UTF-8, which the encoding replaces.
func asSealed(c *Claims) (*Claims, bool) {
	for _, s := range []string{c.SessionID, c.Account, c.Type, c.PrincipalARN, c.UserID, c.SourceARN,
		c.RoleARN, c.RoleID, c.RoleSessionName, c.SourceIdentity} {
		if !utf8.ValidString(s) {
			return nil, false
		}
	}
	for _, l := range [][]string{c.SessionPolicies, c.PolicyARNs, c.TransitiveTagKeys, c.Chain} {
		for _, s := range l {
			if !utf8.ValidString(s) {
				return nil, false
			}
		}
	}
	for k, v := range c.Tags {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, false
		}
	}
	// What JSON gives back: an empty list or map is left out, and so
	// read back as nil; the others are read into fresh ones.
	w := wireOf(c)
	for _, l := range []*[]string{&w.SessionPolicies, &w.PolicyARNs, &w.TransitiveTagKeys, &w.Chain} {
		if len(*l) == 0 {
			*l = nil
		} else {
			*l = slices.Clone(*l)
		}
	}
	if len(w.Tags) == 0 {
		w.Tags = nil
	} else {
		w.Tags = maps.Clone(w.Tags)
	}
	return w.claims(), true
}

// decodeClaims decodes claims that have already been authenticated. It is
// strict anyway (unknown fields and trailing data are refused) so that only
// what encodeClaims writes is ever read.
func decodeClaims(b []byte) (*Claims, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireClaims
	if err := dec.Decode(&w); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	c := w.claims()
	if !validSessionID(c.SessionID) {
		return nil, errors.New("bad session id")
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Credentials are what STS returns to the caller. Their String, GoString,
// Format, LogValue and MarshalJSON methods redact the secret access key and
// the session token and show only the last 4 characters of the access key
// id, so neither a log line nor a stray json.Marshal leaks them. Encoders
// that must send them (the STS response, the CLI's credential output) copy
// the fields into their own wire shapes explicitly.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

const redacted = "[redacted]"

// String describes the credentials without their secret parts.
func (cr Credentials) String() string {
	return fmt.Sprintf("session.Credentials{AccessKeyID:%s, SecretAccessKey:%s, SessionToken:%s, Expiration:%s}",
		displayKeyID(cr.AccessKeyID), redacted, redacted, cr.Expiration.UTC().Format(time.RFC3339))
}

// GoString is [Credentials.String], so %#v redacts too.
func (cr Credentials) GoString() string { return cr.String() }

// Format writes [Credentials.String] for every verb.
func (cr Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, cr.String()) }

// LogValue logs the credentials without their secret parts.
func (cr Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", displayKeyID(cr.AccessKeyID)),
		slog.String("secret_access_key", redacted),
		slog.String("session_token", redacted),
		slog.Time("expiration", cr.Expiration),
	)
}

// MarshalJSON writes the redacted form of [Credentials.LogValue].
func (cr Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ AccessKeyID, SecretAccessKey, SessionToken, Expiration string }{
		displayKeyID(cr.AccessKeyID), redacted, redacted, cr.Expiration.UTC().Format(time.RFC3339),
	})
}

// displayKeyID shows the last 4 characters of an access key id.
func displayKeyID(id string) string {
	if len(id) <= 4 {
		return "****"
	}
	return "****************"[:min(16, len(id)-4)] + id[len(id)-4:]
}
