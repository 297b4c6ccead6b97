package server

import (
	"github.com/shortfuse/shortfuse/internal/iamapi"
	"github.com/shortfuse/shortfuse/internal/oidc"
	"github.com/shortfuse/shortfuse/internal/smapi"
)

// addOperations is the whole API of the broker, one line per operation,
// with the rules (rpc.Rules) by which the pipeline treats its calls.
func addOperations(m *Mux, s *Server) {
	// STS
	m.Query("sts", "GetCallerIdentity", Read, handleGetCallerIdentity())
	m.Query("sts", "GetSessionToken", Mint, handleGetSessionToken(s))
	m.Query("sts", "AssumeRole", Mint, handleAssumeRole(s))
	m.QueryUnsigned("sts", "AssumeRoleWithWebIdentity", Mint, handleAssumeRoleWithWebIdentity(s, newWebIdentity(oidc.RemoteOptions{})))

	// shortfuse: session control beyond AWS (docs/shortfuse-api.md)
	m.JSON("shortfuse", "RevokeSession", Write|SelfRevoke|Uncounted, handleRevokeSession(s))
	m.JSON("shortfuse", "RevokeSessions", Write, handleRevokeSessions(s))
	m.JSON("shortfuse", "Heartbeat", Write|Uncounted, handleHeartbeat(s))
	m.JSON("shortfuse", "NarrowSession", Write|Uncounted, handleNarrowSession(s))
	m.JSON("shortfuse", "ListSessions", Read, handleListSessions(s))
	m.JSON("shortfuse", "SetOpenIDConnectProviderJWKS", Write|IAM, handleSetOpenIDConnectProviderJWKS(s))

	// shortfuse: build-bound approval requests (shortfuse_approvals.go)
	m.JSON("shortfuse", "CreateRequest", Write, approvalsOp(s, handleCreateRequest(s)))
	m.JSON("shortfuse", "GetRequest", Read, approvalsOp(s, handleGetRequest(s)))
	m.JSON("shortfuse", "ListRequests", Read, approvalsOp(s, handleListRequests(s)))
	m.JSON("shortfuse", "ApproveRequest", Write, approvalsOp(s, handleApproveRequest(s)))
	m.JSON("shortfuse", "DenyRequest", Write, approvalsOp(s, handleDenyRequest(s)))
	m.JSON("shortfuse", "RedeemRequest", Write, approvalsOp(s, handleRedeemRequest(s)))
	m.JSON("shortfuse", "RevokeRequestSession", Write, approvalsOp(s, handleRevokeRequestSession(s)))

	// IAM (package iamapi)
	iamapi.Register(m, s.iam)

	// Secrets Manager (package smapi)
	smapi.Register(m, smapi.Deps{Secrets: s.secrets, DBCred: s.dbcred, SessionEnd: s.storedSessionEnd, Rotation: s.rotation})
}
