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

	// IAM: iam_routes.go
	addIAMOperations(m, s.iam)

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
