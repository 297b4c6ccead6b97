package server

// addOperations is the whole API of the broker, one line per operation.
func addOperations(m *Mux, s *Server) {
	// STS
	m.Query("sts", "GetCallerIdentity", handleGetCallerIdentity())
	m.Query("sts", "GetSessionToken", handleGetSessionToken(s))
	m.Query("sts", "AssumeRole", handleAssumeRole(s))

	// shortfuse: session control beyond AWS (docs/shortfuse-api.md)
	m.JSON("shortfuse", "RevokeSession", handleRevokeSession(s))
	m.JSON("shortfuse", "RevokeSessions", handleRevokeSessions(s))
	m.JSON("shortfuse", "Heartbeat", handleHeartbeat(s))
	m.JSON("shortfuse", "ListSessions", handleListSessions(s))

	// IAM: iam_routes.go
	addIAMOperations(m, s.iam)
}
