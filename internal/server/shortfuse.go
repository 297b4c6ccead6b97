package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// The shortfuse service: session control beyond AWS (docs/shortfuse-api.md).

// jsonOp is the handler of a shortfuse operation whose input is In: it
// decodes the JSON 1.1 request body strictly (awsapi.DecodeJSON: unknown or
// wrong-case members, duplicate keys and trailing data are refused) and
// serves the input.
func jsonOp[In any](serve func(ctx context.Context, r *rpc.Request, in *In) (any, error)) rpc.Handler {
	return rpc.Decoded(awsapi.DecodeJSON, serve)
}

// sessionOp is jsonOp for the operations a session makes on itself: a
// caller with long-term access keys is refused once its input decodes.
func sessionOp[In any](serve func(ctx context.Context, r *rpc.Request, in *In) (any, error)) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *In) (any, error) {
		if r.Caller.Session == nil {
			return nil, errNotSession()
		}
		return serve(ctx, r, in)
	})
}

func errNotSession() error {
	return &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "This operation needs session credentials (from GetSessionToken or AssumeRole); long-term access keys have no session."}
}

type revokeSessionInput struct {
	AccessKeyID *string `json:"AccessKeyId"`
}

// RevokeSession: a caller may always revoke its own session; revoking
// another needs shortfuse:RevokeSession on that session's principal.
func handleRevokeSession(s *Server) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *revokeSessionInput) (any, error) {
		target := ""
		if in.AccessKeyID != nil {
			target = *in.AccessKeyID
			if !sessiontoken.ValidAccessKeyID(target) {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "AccessKeyId must be a session access key id (ASIA followed by 16 characters)"}
			}
		}
		own := target == "" || target == r.Caller.AccessKeyID
		if own {
			if r.Caller.Session == nil {
				return nil, errNotSession()
			}
			target = r.Caller.AccessKeyID
		} else {
			rec, err := s.sessions.Get(ctx, target)
			if err != nil && !errors.Is(err, registry.ErrNotFound) {
				return nil, err
			}
			// One answer to a caller who may not revoke, whether or not
			// the key id names a session: neither its existence nor its
			// principal leaks. Only a caller allowed to revoke any session
			// learns that one does not exist.
			resource := "*"
			if rec != nil {
				resource = rec.PrincipalARN
			}
			if err := r.Check(ctx, rpc.Authz{Action: "shortfuse:RevokeSession", Resource: resource}); err != nil {
				return nil, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "User: " + r.Caller.ARN + " is not authorized to perform: shortfuse:RevokeSession on the session it named"}
			}
			if rec == nil {
				return nil, &awsapi.Error{Code: awsapi.CodeResourceNotFound, Message: "No session has access key id " + target}
			}
		}
		if err := s.sessions.Revoke(ctx, target, r.Caller.ARN, r.Time); err != nil {
			return nil, err
		}
		s.sessionEnded()
		if m := s.cfg.Metrics; m != nil {
			m.revocations.WithLabelValues("session").Inc()
		}
		s.log.Info("session revoked", "request_id", r.ID, "access_key_id", target, "by", r.Caller.ARN)
		return nil, nil
	})
}

type revokeSessionsInput struct {
	PrincipalArn *string  `json:"PrincipalArn"`
	IssuedBefore *float64 `json:"IssuedBefore"`
}

type revokeSessionsOutput struct {
	Revoked int `json:"Revoked"`
}

var rePrincipalARN = regexp.MustCompile(`^arn:aws:(iam::\d{12}:(user|role)/[\w+=,.@/-]+|sts::\d{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+)$`)

// RevokeSessions revokes every session of a principal issued before a time
// (default: now): the response to a leaked credential.
func handleRevokeSessions(s *Server) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *revokeSessionsInput) (any, error) {
		if in.PrincipalArn == nil || !rePrincipalARN.MatchString(*in.PrincipalArn) || len(*in.PrincipalArn) > 2048 {
			return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "PrincipalArn must be the ARN of an IAM user, an IAM role or an assumed-role session"}
		}
		before := r.Time
		if in.IssuedBefore != nil {
			before = time.Unix(int64(*in.IssuedBefore), 0)
			if before.After(r.Time.Add(time.Minute)) {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "IssuedBefore must not be in the future"}
			}
		}
		if err := r.Authorize(ctx, "shortfuse:RevokeSessions", *in.PrincipalArn, nil); err != nil {
			return nil, err
		}
		// A session issued in this very second is revoked too: the cut is
		// the end of the second.
		n, err := s.sessions.RevokeBefore(ctx, *in.PrincipalArn, before.Truncate(time.Second).Add(time.Second), r.Time)
		if err != nil {
			return nil, err
		}
		s.sessionEnded()
		if m := s.cfg.Metrics; m != nil {
			m.revocations.WithLabelValues("principal").Inc()
		}
		s.log.Info("sessions revoked", "request_id", r.ID, "principal", *in.PrincipalArn, "before", before.UTC().Format(time.RFC3339), "by", r.Caller.ARN, "count", n)
		return &revokeSessionsOutput{Revoked: n}, nil
	})
}

type heartbeatInput struct {
	GraceSeconds *int64 `json:"GraceSeconds"`
}

type heartbeatOutput struct {
	Expiration float64 `json:"Expiration"`
	Deadline   float64 `json:"Deadline"`
}

// Heartbeat arms the caller's dead-man switch.
func handleHeartbeat(s *Server) rpc.Handler {
	return sessionOp(func(ctx context.Context, r *rpc.Request, in *heartbeatInput) (any, error) {
		seconds := int64(60)
		if in.GraceSeconds != nil {
			seconds = *in.GraceSeconds
		}
		grace, err := graceParam(seconds)
		if err != nil {
			return nil, err
		}
		rec, err := s.sessions.Heartbeat(ctx, r.Caller.AccessKeyID, grace, r.Time)
		if err != nil {
			return nil, sessionRefusal(err)
		}
		return &heartbeatOutput{Expiration: float64(s.recordEnd(r.Caller.Session, rec).Unix()), Deadline: float64(rec.Deadline.Unix())}, nil
	})
}

// graceParam checks the GraceSeconds of a dead-man switch: from 10 s to an
// hour.
func graceParam(seconds int64) (time.Duration, error) {
	if seconds < 10 || seconds > 3600 {
		return 0, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "GraceSeconds must be between 10 and 3600"}
	}
	return time.Duration(seconds) * time.Second, nil
}

type narrowSessionInput struct {
	MaxUses         *int   `json:"MaxUses"`
	DurationSeconds *int64 `json:"DurationSeconds"`
	GraceSeconds    *int64 `json:"GraceSeconds"`
}

type narrowSessionOutput struct {
	AccessKeyID string   `json:"AccessKeyId"`
	Expiration  float64  `json:"Expiration"`
	MaxUses     int      `json:"MaxUses,omitempty"`
	Uses        int      `json:"Uses"`
	Deadline    *float64 `json:"Deadline,omitempty"`
}

// NarrowSession: a session takes power away from itself, never adds it:
// a use limit (or a lower one), an earlier expiry (DurationSeconds from
// now), a dead-man switch (or a closer deadline). It needs no permission,
// spends no use, and binds the session's whole family, as every limit of
// a session does. This is how a session from GetSessionToken, which can
// carry no session tags, gets a use limit.
func handleNarrowSession(s *Server) rpc.Handler {
	return sessionOp(func(ctx context.Context, r *rpc.Request, in *narrowSessionInput) (any, error) {
		var n registry.Narrowing
		if in.MaxUses != nil {
			if *in.MaxUses < 1 || *in.MaxUses > 1000000 {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "MaxUses must be between 1 and 1000000"}
			}
			n.MaxUses = *in.MaxUses
		}
		if in.DurationSeconds != nil {
			if *in.DurationSeconds < 1 || *in.DurationSeconds > 129600 {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "DurationSeconds must be between 1 and 129600"}
			}
			n.Expires = r.Time.Add(time.Duration(*in.DurationSeconds) * time.Second)
		}
		if in.GraceSeconds != nil {
			grace, err := graceParam(*in.GraceSeconds)
			if err != nil {
				return nil, err
			}
			n.Grace = grace
		}
		if n == (registry.Narrowing{}) {
			return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "Give at least one of MaxUses, DurationSeconds and GraceSeconds"}
		}
		rec, err := s.sessions.Narrow(ctx, r.Caller.AccessKeyID, n, r.Time)
		if err != nil {
			return nil, sessionRefusal(err)
		}
		end := s.recordEnd(r.Caller.Session, rec)
		out := &narrowSessionOutput{AccessKeyID: rec.AccessKeyID, Expiration: float64(end.Unix()), MaxUses: rec.MaxUses, Uses: rec.Uses}
		if !rec.Deadline.IsZero() {
			d := float64(rec.Deadline.Unix())
			out.Deadline = &d
		}
		r.Log().Info("session narrowed", "access_key_id", rec.AccessKeyID, "max_uses", rec.MaxUses, "expires", end.UTC().Format(time.RFC3339))
		return out, nil
	})
}

type listSessionsInput struct {
	PrincipalArn    *string `json:"PrincipalArn"`
	IncludeInactive *bool   `json:"IncludeInactive"`
	MaxResults      *int    `json:"MaxResults"`
	NextToken       *string `json:"NextToken"`
}

type sessionShape struct {
	AccessKeyID    string   `json:"AccessKeyId"`
	PrincipalArn   string   `json:"PrincipalArn"`
	SourceArn      string   `json:"SourceArn,omitempty"`
	Type           string   `json:"Type"`
	IssuedAt       float64  `json:"IssuedAt"`
	Expiration     float64  `json:"Expiration"`
	State          string   `json:"State"`
	Uses           int      `json:"Uses"`
	MaxUses        int      `json:"MaxUses,omitempty"`
	LastHeartbeat  *float64 `json:"LastHeartbeat,omitempty"`
	SourceIdentity string   `json:"SourceIdentity,omitempty"`
	// Chain lists the sessions this one descends from, root first.
	Chain []string `json:"Chain,omitempty"`
	// DatabaseCredentials are the session's leases of dynamic secrets,
	// newest first.
	DatabaseCredentials []dbLeaseShape `json:"DatabaseCredentials,omitempty"`
}

// dbLeaseShape is one database credential of a session: never its
// password.
type dbLeaseShape struct {
	RoleName   string  `json:"RoleName"`
	Database   string  `json:"Database"` // host:port/dbname
	SecretArn  string  `json:"SecretArn"`
	State      string  `json:"State"` // creating, live, dropping, dropped, failed
	Created    float64 `json:"Created"`
	ValidUntil float64 `json:"ValidUntil"`
	Ended      float64 `json:"Ended,omitempty"`
	Reason     string  `json:"Reason,omitempty"`
}

type listSessionsOutput struct {
	Sessions  []sessionShape `json:"Sessions"`
	NextToken string         `json:"NextToken,omitempty"`
}

// sessionOut is a session as ListSessions shows it, with its database
// credentials.
func sessionOut(rec *registry.Record, leases []dbcred.Lease, now time.Time, before map[string]time.Time) sessionShape {
	sh := sessionShape{
		AccessKeyID:    rec.AccessKeyID,
		PrincipalArn:   rec.PrincipalARN,
		SourceArn:      rec.SourceARN,
		Type:           rec.Type,
		IssuedAt:       float64(rec.IssuedAt.Unix()),
		Expiration:     float64(rec.Expires.Unix()),
		State:          rec.State(now, before),
		Uses:           rec.Uses,
		MaxUses:        rec.MaxUses,
		SourceIdentity: rec.SourceIdentity,
		Chain:          rec.Chain,
	}
	if !rec.LastHeartbeat.IsZero() {
		hb := float64(rec.LastHeartbeat.Unix())
		sh.LastHeartbeat = &hb
	}
	for _, l := range leases {
		ls := dbLeaseShape{
			RoleName: l.Role, Database: fmt.Sprintf("%s:%d/%s", l.Host, l.Port, l.DBName), SecretArn: l.SecretARN,
			State: l.State, Created: float64(l.Created.Unix()), ValidUntil: float64(l.Expires.Unix()), Reason: l.Reason,
		}
		if !l.Ended.IsZero() {
			ls.Ended = float64(l.Ended.Unix())
		}
		sh.DatabaseCredentials = append(sh.DatabaseCredentials, ls)
	}
	return sh
}

func handleListSessions(s *Server) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *listSessionsInput) (any, error) {
		if err := r.Authorize(ctx, "shortfuse:ListSessions", "*", nil); err != nil {
			return nil, err
		}
		f := registry.Filter{Limit: 100}
		if in.PrincipalArn != nil {
			f.Principal = *in.PrincipalArn
		}
		if in.IncludeInactive != nil {
			f.IncludeInactive = *in.IncludeInactive
		}
		if in.MaxResults != nil {
			if *in.MaxResults < 1 || *in.MaxResults > 1000 {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: "MaxResults must be between 1 and 1000"}
			}
			f.Limit = *in.MaxResults
		}
		if in.NextToken != nil {
			after, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
			if err != nil || !sessiontoken.ValidAccessKeyID(string(after)) {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidNextToken, Message: "The NextToken is not valid"}
			}
			f.After = string(after)
		}
		recs, next, err := s.sessions.List(ctx, f, r.Time)
		if err != nil {
			return nil, err
		}
		before := s.sessions.Before()
		var leases map[string][]dbcred.Lease
		if s.dbcred != nil && len(recs) > 0 {
			akids := make([]string, len(recs))
			for i := range recs {
				akids[i] = recs[i].AccessKeyID
			}
			if leases, err = s.dbcred.Leases(ctx, akids); err != nil {
				return nil, err
			}
		}
		out := &listSessionsOutput{Sessions: make([]sessionShape, 0, len(recs))}
		for i := range recs {
			out.Sessions = append(out.Sessions, sessionOut(&recs[i], leases[recs[i].AccessKeyID], r.Time, before))
		}
		if next != "" {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(next))
		}
		return out, nil
	})
}

// sessionEnded tells the database credentials' reaper to look now rather
// than at its next tick: a session was revoked here.
func (s *Server) sessionEnded() {
	if s.dbcred != nil {
		s.dbcred.Nudge()
	}
}
