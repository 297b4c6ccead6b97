package server

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// Auditor receives the broker's audit records (rpc.Auditor).
type Auditor = rpc.Auditor

var eventSources = map[string]string{
	"sts":            audit.SourceSTS,
	"iam":            audit.SourceIAM,
	"secretsmanager": audit.SourceSecretsManager,
	"shortfuse":      audit.SourceShortfuse,
}

// auditIntent puts a state-changing request on record before it executes,
// so that a broken sink refuses it with nothing changed.
func (s *Server) auditIntent(ctx context.Context, r *rpc.Request) error {
	if s.cfg.Audit == nil {
		return nil
	}
	rec := s.baseRecord(r)
	rec.Phase = audit.PhaseIntent
	if err := s.cfg.Audit.Append(ctx, rec); err != nil {
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.AuditWriteErrors.Inc()
		}
		return err
	}
	return nil
}

// auditRequest writes the request's complete record; it returns only when
// the record is durable.
func (s *Server) auditRequest(ctx context.Context, r *rpc.Request, result any, err error) error {
	if s.cfg.Audit == nil {
		return nil
	}
	rec := s.baseRecord(r)
	if err != nil {
		we := s.toWire(err, r.ID)
		rec.ErrorCode = we.QueryCode()
		if r.Service == "secretsmanager" || r.Service == "shortfuse" {
			rec.ErrorCode = we.JSONCode()
		}
		rec.ErrorMessage = we.Message
	} else if result != nil && recordsResponse(r) {
		rec.ResponseElements = s.responseElements(result)
	}
	if aerr := s.cfg.Audit.Append(ctx, rec); aerr != nil {
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.AuditWriteErrors.Inc()
		}
		return aerr
	}
	return nil
}

// recordsResponse: the response elements of reads are left out (as
// CloudTrail does); those of writes are kept, and those of the calls that
// mint sessions, whose access key id and expiry tie later records to this
// one.
func recordsResponse(r *rpc.Request) bool {
	return r.Op != nil && !r.Op.Rules.Has(rpc.Read)
}

// readOnlyRecord is CloudTrail's readOnly flag: reads, and the STS calls
// that mint sessions.
func readOnlyRecord(r *rpc.Request) bool {
	return r.Op != nil && (r.Op.Rules.Has(rpc.Read) || r.Op.Rules.Has(rpc.Mint))
}

func (s *Server) baseRecord(r *rpc.Request) *audit.Record {
	rec := &audit.Record{
		EventTime:          r.Time,
		EventSource:        eventSources[r.Service],
		EventName:          r.Action,
		AWSRegion:          s.cfg.Region,
		SourceIPAddress:    r.SourceIP,
		UserAgent:          r.UserAgent,
		RequestID:          r.ID,
		ReadOnly:           readOnlyRecord(r),
		RecipientAccountID: s.cfg.Account,
		RequestParameters:  s.requestParameters(r),
	}
	if c := r.Caller; c != nil {
		id := &audit.UserIdentity{
			Type:        c.Type,
			PrincipalID: c.UserID,
			ARN:         c.ARN,
			AccountID:   c.Account,
			AccessKeyID: c.AccessKeyID,
			UserName:    c.UserName,
		}
		if sc := c.Session; sc != nil {
			mfa := "false"
			if sc.MFA {
				mfa = "true"
			}
			ctx := &audit.SessionContext{
				Attributes:     audit.SessionAttributes{CreationDate: sc.IssuedAt, MFAAuthenticated: mfa},
				SourceIdentity: sc.SourceIdentity,
			}
			if sc.RoleARN != "" {
				ctx.SessionIssuer = &audit.SessionIssuer{Type: "Role", PrincipalID: sc.RoleID, ARN: sc.RoleARN, AccountID: sc.Account, UserName: c.RoleName}
			} else {
				ctx.SessionIssuer = &audit.SessionIssuer{Type: "IAMUser", PrincipalID: sc.UserID, ARN: sc.PrincipalARN, AccountID: sc.Account, UserName: c.UserName}
			}
			id.SessionContext = ctx
		}
		rec.UserIdentity = id
	} else {
		rec.UserIdentity = &audit.UserIdentity{Type: audit.IdentityUnknown}
	}
	for _, d := range r.Decisions {
		ad := audit.Decision{Action: d.Action, Resource: d.Resource, Decision: d.Result.Decision.String()}
		if m := d.Result.Deciding; m != nil {
			ad.PolicyID, ad.StatementIndex, ad.Sid = m.PolicyID, m.Statement, m.Sid
		}
		rec.Decisions = append(rec.Decisions, ad)
	}
	return rec
}

// requestParameters is the request as CloudTrail would show it, with every
// secret field replaced by its HMAC under the audit key.
func (s *Server) requestParameters(r *rpc.Request) map[string]any {
	var m map[string]any
	switch {
	case r.Params != nil:
		m = s.cfg.Redactor.Scrub(r.Params.Map(func(k string) bool {
			return k != "Action" && k != "Version" && !strings.HasPrefix(k, "X-Amz-")
		}))
	case len(r.Body) > 0:
		var err error
		if m, err = s.cfg.Redactor.ScrubJSON(r.Body); err != nil {
			// An undecodable body is recorded by its HMAC only.
			m = map[string]any{"undecodableBody": s.cfg.Redactor.Hash(r.Body)}
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// responseElements turns a result into a map, with secrets replaced: the
// map that the result's JSON encoding scrubbed by the Redactor gives. The
// results of the calls that mint sessions, recorded at every mint, build
// that map themselves (elementsBuilder), which
// TestResponseElementsBuiltAsScrubbedJSON holds to the same map.
func (s *Server) responseElements(result any) map[string]any {
	if e, ok := result.(elementsBuilder); ok {
		return e.responseElements(s.cfg.Redactor)
	}
	return scrubbedJSON(s.cfg.Redactor, result)
}

// scrubbedJSON is result's JSON encoding as a map, scrubbed by r.
func scrubbedJSON(r *audit.Redactor, result any) map[string]any {
	b, err := json.Marshal(result)
	if err != nil {
		return nil
	}
	m, err := r.ScrubJSON(b)
	if err != nil {
		return nil
	}
	return m
}
