package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/sigv4"
)

var (
	errInvalidClientToken = &awsapi.Error{Code: awsapi.CodeInvalidClientTokenID, Message: "The security token included in the request is invalid."}
	errExpiredToken       = &awsapi.Error{Code: awsapi.CodeExpiredToken, Message: "The security token included in the request is expired"}
)

// authenticate decides who sent the request. Exactly one path applies:
//
//   - no signature at all: allowed only for operations the table marks
//     Unsigned (the caller is then nil); otherwise MissingAuthenticationToken;
//   - session credentials (ASIA…): the sealed token is opened first, so a
//     forged token is InvalidClientTokenId and never ExpiredToken (no oracle);
//     then the signature is verified with the session's derived secret; then
//     the expiry is checked;
//   - long-term access keys (AKIA…): looked up in IAM; an unknown key is
//     still put through a full verification against a dummy secret so that
//     refusals take the same time whether or not the key exists.
func (s *Server) authenticate(ctx context.Context, hr *http.Request, body []byte, op *rpc.Operation, now time.Time) (*rpc.Caller, error) {
	a, err := sigv4.Parse(hr)
	if err != nil {
		var se *sigv4.Error
		if op.Unsigned && errors.As(err, &se) && se.Reason == sigv4.ReasonMissing {
			return nil, nil
		}
		return nil, err
	}
	// The operation of a JSON request is named by a header; it must be
	// signed, or a captured request could be replayed as another operation.
	if op.Protocol == rpc.ProtocolJSON && !a.IsSigned("x-amz-target") {
		return nil, &sigv4.Error{Reason: sigv4.ReasonSignature, Detail: "X-Amz-Target must be signed"}
	}
	opts := sigv4.Options{
		Region:  s.cfg.Region,
		Service: op.Service,
		Now:     now,
		MaxSkew: maxSkew(op.Service),
		Body:    body,
	}
	// IAM is a global service: SDKs sign it for us-east-1 whatever region
	// they are configured for.
	if op.Service == "iam" && a.Scope.Region == "us-east-1" {
		opts.Region = "us-east-1"
	}

	if strings.HasPrefix(a.AccessKeyID, "ASIA") {
		if a.SecurityToken == "" {
			_ = s.verifier.Verify(hr, a, s.dummySecret, opts)
			return nil, errInvalidClientToken
		}
		claims, err := s.keyring.Open(a.SecurityToken, a.AccessKeyID)
		if err != nil {
			_ = s.verifier.Verify(hr, a, s.dummySecret, opts)
			return nil, errInvalidClientToken
		}
		secret, err := s.keyring.Secret(claims)
		if err != nil {
			return nil, errInvalidClientToken
		}
		if err := s.verifier.Verify(hr, a, secret, opts); err != nil {
			return nil, err
		}
		if claims.Expired(now) {
			return nil, errExpiredToken
		}
		// Revocation, use limits, the dead-man switch and the rest of the
		// session rules are applied by the pipeline (admit), for every
		// caller of every operation.
		return callerFromSession(claims), nil
	}

	user, secret, active, err := s.pcache.accessKey(ctx, a.AccessKeyID)
	if err != nil {
		if errors.Is(err, iam.ErrNoSuchEntity) {
			_ = s.verifier.Verify(hr, a, s.dummySecret, opts)
			return nil, errInvalidClientToken
		}
		return nil, err
	}
	if err := s.verifier.Verify(hr, a, secret, opts); err != nil {
		return nil, err
	}
	// A long-term key never carries a session token; AWS refuses the pair.
	if a.SecurityToken != "" || !active {
		return nil, errInvalidClientToken
	}
	s.recordKeyUse(ctx, a.AccessKeyID, op.Service, opts.Region, now)
	return &rpc.Caller{
		Account:     s.cfg.Account,
		ARN:         user.ARN,
		UserID:      user.ID,
		UserName:    user.Name,
		Type:        "IAMUser",
		AccessKeyID: a.AccessKeyID,
	}, nil
}

func callerFromSession(c *sessiontoken.Claims) *rpc.Caller {
	caller := &rpc.Caller{
		Account:     c.Account,
		ARN:         c.PrincipalARN,
		UserID:      c.UserID,
		AccessKeyID: c.AccessKeyID,
		Session:     c,
	}
	if c.RoleARN != "" {
		caller.Type = "AssumedRole"
		caller.RoleName = roleNameFromARN(c.RoleARN)
	} else {
		caller.Type = "IAMUser"
		caller.UserName = userNameFromARN(c.PrincipalARN)
	}
	return caller
}

// roleNameFromARN returns the last path segment of a role ARN.
func roleNameFromARN(arn string) string {
	_, res, ok := strings.Cut(arn, ":role/")
	if !ok {
		return ""
	}
	return res[strings.LastIndex(res, "/")+1:]
}

func userNameFromARN(arn string) string {
	_, res, ok := strings.Cut(arn, ":user/")
	if !ok {
		return ""
	}
	return res[strings.LastIndex(res, "/")+1:]
}

// recordKeyUse notes, for GetAccessKeyLastUsed, that a long-term key signed
// a verified request for service in region, as IAM does.
func (s *Server) recordKeyUse(ctx context.Context, akid, service, region string, now time.Time) {
	if s.iam == nil {
		return
	}
	s.noteUse(ctx, "key/"+akid, service, region, now, func() error {
		return s.iam.RecordKeyUse(ctx, akid, service, region)
	})
}

// recordRoleUse notes, for GetRole's RoleLastUsed, that a session of the
// role with unique id roleID made a request in region.
func (s *Server) recordRoleUse(ctx context.Context, roleID, region string, now time.Time) {
	if s.iam == nil || roleID == "" {
		return
	}
	s.noteUse(ctx, "role/"+roleID, "", region, now, func() error {
		return s.iam.RecordRoleUse(ctx, roleID, region)
	})
}

// noteUse writes a use with write unless the last use noted here under k,
// for the same service and region, is less than useEvery old (IAM's
// last-used data is approximate too). A failure to write is logged and
// does not refuse the request.
func (s *Server) noteUse(ctx context.Context, k, service, region string, now time.Time, write func() error) {
	if v, ok := s.uses.Load(k); ok {
		if last := v.(use); last.service == service && last.region == region && now.Sub(last.at) < useEvery && !now.Before(last.at) {
			return
		}
	}
	if err := write(); err != nil {
		s.log.Warn("last use not recorded", "of", k, "err", err)
		return
	}
	s.uses.Store(k, use{service: service, region: region, at: now})
}

type use struct {
	service, region string
	at              time.Time
}

const useEvery = time.Minute
