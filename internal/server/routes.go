package server

import "github.com/shortfuse/shortfuse/internal/oidc"

// addOperations is the whole API of the broker, one line per operation.
func addOperations(m *Mux, s *Server) {
	// STS
	m.Query("sts", "GetCallerIdentity", handleGetCallerIdentity())
	m.Query("sts", "GetSessionToken", handleGetSessionToken(s))
	m.Query("sts", "AssumeRole", handleAssumeRole(s))
	m.QueryUnsigned("sts", "AssumeRoleWithWebIdentity", handleAssumeRoleWithWebIdentity(s, newWebIdentity(oidc.RemoteOptions{})))

	// shortfuse: session control beyond AWS (docs/shortfuse-api.md)
	m.JSON("shortfuse", "RevokeSession", handleRevokeSession(s))
	m.JSON("shortfuse", "RevokeSessions", handleRevokeSessions(s))
	m.JSON("shortfuse", "Heartbeat", handleHeartbeat(s))
	m.JSON("shortfuse", "ListSessions", handleListSessions(s))
	m.JSON("shortfuse", "SetOpenIDConnectProviderJWKS", handleSetOpenIDConnectProviderJWKS(s))

	// shortfuse: build-bound approval requests (shortfuse_approvals.go)
	m.JSON("shortfuse", "CreateRequest", approvalsOp(s, handleCreateRequest(s)))
	m.JSON("shortfuse", "GetRequest", approvalsOp(s, handleGetRequest(s)))
	m.JSON("shortfuse", "ListRequests", approvalsOp(s, handleListRequests(s)))
	m.JSON("shortfuse", "ApproveRequest", approvalsOp(s, handleApproveRequest(s)))
	m.JSON("shortfuse", "DenyRequest", approvalsOp(s, handleDenyRequest(s)))
	m.JSON("shortfuse", "RedeemRequest", approvalsOp(s, handleRedeemRequest(s)))
	m.JSON("shortfuse", "RevokeRequestSession", approvalsOp(s, handleRevokeRequestSession(s)))

	// IAM: iam_routes.go
	addIAMOperations(m, s.iam)

	// IAM: login profiles, the approval page's passwords (iam_login.go)
	m.Query("iam", "CreateLoginProfile", handleCreateLoginProfile(s.iam))
	m.Query("iam", "GetLoginProfile", handleGetLoginProfile(s.iam))
	m.Query("iam", "UpdateLoginProfile", handleUpdateLoginProfile(s.iam))
	m.Query("iam", "DeleteLoginProfile", handleDeleteLoginProfile(s.iam))
	m.Query("iam", "ChangePassword", handleChangePassword(s))

	// IAM: OpenID Connect providers (iam_oidc.go)
	m.Query("iam", "CreateOpenIDConnectProvider", handleCreateOpenIDConnectProvider(s.iam))
	m.Query("iam", "GetOpenIDConnectProvider", handleGetOpenIDConnectProvider(s.iam))
	m.Query("iam", "ListOpenIDConnectProviders", handleListOpenIDConnectProviders(s.iam))
	m.Query("iam", "DeleteOpenIDConnectProvider", handleDeleteOpenIDConnectProvider(s.iam))
	m.Query("iam", "AddClientIDToOpenIDConnectProvider", handleAddClientIDToOpenIDConnectProvider(s.iam))
	m.Query("iam", "RemoveClientIDFromOpenIDConnectProvider", handleRemoveClientIDFromOpenIDConnectProvider(s.iam))
	m.Query("iam", "UpdateOpenIDConnectProviderThumbprint", handleUpdateOpenIDConnectProviderThumbprint(s.iam))
	m.Query("iam", "TagOpenIDConnectProvider", handleTagOpenIDConnectProvider(s.iam))
	m.Query("iam", "UntagOpenIDConnectProvider", handleUntagOpenIDConnectProvider(s.iam))
	m.Query("iam", "ListOpenIDConnectProviderTags", handleListOpenIDConnectProviderTags(s.iam))

	// Secrets Manager: sm_routes.go
	addSecretsOperations(m, s.secrets)
}
