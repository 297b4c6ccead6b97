package server

import (
	"github.com/shortfuse/shortfuse/internal/iamapi"
	"github.com/shortfuse/shortfuse/internal/oidc"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/smapi"
)

// addOperations builds the broker's operations table: STS and the shortfuse
// service here, one line per operation with the rules (rpc.Rules) by which
// the pipeline treats its calls; IAM's and Secrets Manager's lines are in
// their packages' Register (internal/iamapi/routes.go,
// internal/smapi/routes.go), written the same way.
func addOperations(m *rpc.Mux, s *Server) {
	// STS
	m.Query("sts", "GetCallerIdentity", rpc.Read, handleGetCallerIdentity())
	m.Query("sts", "GetSessionToken", rpc.Mint, handleGetSessionToken(s))
	m.Query("sts", "AssumeRole", rpc.Mint, handleAssumeRole(s))
	m.QueryUnsigned("sts", "AssumeRoleWithWebIdentity", rpc.Mint, handleAssumeRoleWithWebIdentity(s, newWebIdentity(oidc.RemoteOptions{})))

	// shortfuse: session control beyond AWS (docs/shortfuse-api.md)
	m.JSON("shortfuse", "RevokeSession", rpc.Write|rpc.SelfRevoke|rpc.Uncounted, handleRevokeSession(s))
	m.JSON("shortfuse", "RevokeSessions", rpc.Write, handleRevokeSessions(s))
	m.JSON("shortfuse", "Heartbeat", rpc.Write|rpc.Uncounted, handleHeartbeat(s))
	m.JSON("shortfuse", "NarrowSession", rpc.Write|rpc.Uncounted, handleNarrowSession(s))
	m.JSON("shortfuse", "ListSessions", rpc.Read, handleListSessions(s))
	m.JSON("shortfuse", "SetOpenIDConnectProviderJWKS", rpc.Write|rpc.IAM, handleSetOpenIDConnectProviderJWKS(s))

	// shortfuse: build-bound approval requests (shortfuse_approvals.go)
	m.JSON("shortfuse", "CreateRequest", rpc.Write, approvalsOp(s, handleCreateRequest(s)))
	m.JSON("shortfuse", "GetRequest", rpc.Read, approvalsOp(s, handleGetRequest(s)))
	m.JSON("shortfuse", "ListRequests", rpc.Read, approvalsOp(s, handleListRequests(s)))
	m.JSON("shortfuse", "ApproveRequest", rpc.Write, approvalsOp(s, handleApproveRequest(s)))
	m.JSON("shortfuse", "DenyRequest", rpc.Write, approvalsOp(s, handleDenyRequest(s)))
	m.JSON("shortfuse", "RedeemRequest", rpc.Write, approvalsOp(s, handleRedeemRequest(s)))
	m.JSON("shortfuse", "RevokeRequestSession", rpc.Write, approvalsOp(s, handleRevokeRequestSession(s)))

	// IAM (package iamapi)
	iamapi.Register(m, s.iam)

	// Secrets Manager (package smapi)
	smapi.Register(m, smapi.Deps{Secrets: s.secrets, DBCred: s.dbcred, SessionEnd: s.storedSessionEnd, Rotation: s.rotation})
}
