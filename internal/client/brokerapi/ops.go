package brokerapi

import (
	"context"
	"errors"
	"time"

	"github.com/shortfuse/shortfuse/internal/brokerwire"
)

// EpochTime is a time sent as epoch seconds (an integer or a fraction).
type EpochTime = brokerwire.EpochTime

// Session is one session as ListSessions reports it. It never carries the
// session's secrets.
type Session struct {
	AccessKeyID    string    `json:"AccessKeyId"`
	PrincipalArn   string    `json:"PrincipalArn"`
	SourceArn      string    `json:"SourceArn,omitempty"`
	Type           string    `json:"Type,omitempty"`
	IssuedAt       EpochTime `json:"IssuedAt"`
	Expiration     EpochTime `json:"Expiration"`
	State          string    `json:"State"`
	Uses           int64     `json:"Uses"`
	MaxUses        int64     `json:"MaxUses,omitempty"`
	LastHeartbeat  EpochTime `json:"LastHeartbeat"`
	SourceIdentity string    `json:"SourceIdentity,omitempty"`
	// DatabaseCredentials are the session's database credentials (dynamic
	// secrets), newest first.
	DatabaseCredentials []DatabaseCredential `json:"DatabaseCredentials,omitempty"`
}

// DatabaseCredential is a database role the broker created for a session.
type DatabaseCredential struct {
	RoleName   string    `json:"RoleName"`
	Database   string    `json:"Database"`
	SecretArn  string    `json:"SecretArn"`
	State      string    `json:"State"`
	Created    EpochTime `json:"Created"`
	ValidUntil EpochTime `json:"ValidUntil"`
	Ended      EpochTime `json:"Ended,omitzero"`
	Reason     string    `json:"Reason,omitempty"`
}

// RevokeSession revokes the session of accessKeyID, or the caller's own
// session when accessKeyID is "" (always allowed).
func (c *Client) RevokeSession(ctx context.Context, accessKeyID string) error {
	in := struct {
		AccessKeyID string `json:"AccessKeyId,omitempty"`
	}{accessKeyID}
	return c.call(ctx, "RevokeSession", in, nil)
}

// RevokeSessions revokes every session of principalArn issued before
// issuedBefore (zero: now, as the broker sees it) and returns how many.
func (c *Client) RevokeSessions(ctx context.Context, principalArn string, issuedBefore time.Time) (int, error) {
	in := struct {
		PrincipalArn string `json:"PrincipalArn"`
		IssuedBefore *int64 `json:"IssuedBefore,omitempty"`
	}{PrincipalArn: principalArn}
	if !issuedBefore.IsZero() {
		s := issuedBefore.Unix()
		in.IssuedBefore = &s
	}
	var out struct {
		Revoked int `json:"Revoked"`
	}
	err := c.call(ctx, "RevokeSessions", in, &out)
	return out.Revoked, err
}

// HeartbeatResult is the broker's answer to a heartbeat.
type HeartbeatResult struct {
	// Expiration is when the session expires.
	Expiration time.Time
	// Deadline is when the session is abandoned without a further
	// heartbeat.
	Deadline time.Time
}

// Heartbeat arms (or re-arms) the dead-man switch of the calling session:
// without another heartbeat within grace, the broker refuses the session.
// The broker accepts 10 s to 1 h and rounds to whole seconds.
func (c *Client) Heartbeat(ctx context.Context, grace time.Duration) (HeartbeatResult, error) {
	in := struct {
		GraceSeconds int64 `json:"GraceSeconds"`
	}{int64(grace.Round(time.Second) / time.Second)}
	var out struct {
		Expiration EpochTime `json:"Expiration"`
		Deadline   EpochTime `json:"Deadline"`
	}
	if err := c.call(ctx, "Heartbeat", in, &out); err != nil {
		return HeartbeatResult{}, err
	}
	return HeartbeatResult{Expiration: out.Expiration.Time, Deadline: out.Deadline.Time}, nil
}

// ListSessionsInput selects sessions; the zero value lists the active
// sessions of every principal.
type ListSessionsInput struct {
	PrincipalArn    string `json:"PrincipalArn,omitempty"`
	IncludeInactive bool   `json:"IncludeInactive,omitempty"`
	MaxResults      int    `json:"MaxResults,omitempty"`
	NextToken       string `json:"NextToken,omitempty"`
}

// ListSessionsOutput is one page of sessions.
type ListSessionsOutput struct {
	Sessions  []Session `json:"Sessions"`
	NextToken string    `json:"NextToken,omitempty"`
}

// ListSessions returns one page.
func (c *Client) ListSessions(ctx context.Context, in ListSessionsInput) (*ListSessionsOutput, error) {
	return callFor[ListSessionsOutput](ctx, c, "ListSessions", in)
}

// maxPages bounds ListAllSessions against a broker that never stops paging.
const maxPages = 1000

// ListAllSessions follows NextToken through every page.
func (c *Client) ListAllSessions(ctx context.Context, in ListSessionsInput) ([]Session, error) {
	var all []Session
	for range maxPages {
		out, err := c.ListSessions(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.Sessions...)
		if out.NextToken == "" || out.NextToken == in.NextToken {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
	return all, errors.New("shortfuse.ListSessions: too many pages")
}

// NarrowSessionInput is what the calling session takes away from itself;
// zero fields are left as they are.
type NarrowSessionInput struct {
	MaxUses  int           // a use limit (or a lower one)
	Lifetime time.Duration // end the session this long from now, if sooner
	Grace    time.Duration // arm a dead-man switch with this grace, or bring it closer
}

// NarrowSessionResult is what holds of the session after narrowing.
type NarrowSessionResult struct {
	Expiration time.Time
	MaxUses    int
	Uses       int
	Deadline   time.Time
}

// NarrowSession narrows the calling session (and so its whole family):
// the broker only ever takes power away through it. It needs no
// permission and spends no use.
func (c *Client) NarrowSession(ctx context.Context, n NarrowSessionInput) (NarrowSessionResult, error) {
	var in struct {
		MaxUses         *int   `json:"MaxUses,omitempty"`
		DurationSeconds *int64 `json:"DurationSeconds,omitempty"`
		GraceSeconds    *int64 `json:"GraceSeconds,omitempty"`
	}
	if n.MaxUses > 0 {
		in.MaxUses = &n.MaxUses
	}
	if n.Lifetime > 0 {
		s := int64(n.Lifetime.Round(time.Second) / time.Second)
		in.DurationSeconds = &s
	}
	if n.Grace > 0 {
		s := int64(n.Grace.Round(time.Second) / time.Second)
		in.GraceSeconds = &s
	}
	var out struct {
		Expiration EpochTime  `json:"Expiration"`
		MaxUses    int        `json:"MaxUses"`
		Uses       int        `json:"Uses"`
		Deadline   *EpochTime `json:"Deadline"`
	}
	if err := c.call(ctx, "NarrowSession", in, &out); err != nil {
		return NarrowSessionResult{}, err
	}
	res := NarrowSessionResult{Expiration: out.Expiration.Time, MaxUses: out.MaxUses, Uses: out.Uses}
	if out.Deadline != nil {
		res.Deadline = out.Deadline.Time
	}
	return res, nil
}

// SetOpenIDConnectProviderJWKS stores an OpenID Connect provider's key set
// with the provider ("" removes it) and returns the key ids the broker
// read from it.
func (c *Client) SetOpenIDConnectProviderJWKS(ctx context.Context, providerArn, jwks string) ([]string, error) {
	in := struct {
		OpenIDConnectProviderArn string `json:"OpenIDConnectProviderArn"`
		JWKS                     string `json:"JWKS"`
	}{providerArn, jwks}
	var out struct {
		KeyIds []string `json:"KeyIds"`
	}
	if err := c.call(ctx, "SetOpenIDConnectProviderJWKS", in, &out); err != nil {
		return nil, err
	}
	return out.KeyIds, nil
}
