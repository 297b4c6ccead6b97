package server

// addOperations is the whole API of the broker, one line per operation.
func addOperations(m *Mux, s *Server) {
	// STS
	m.Query("sts", "GetCallerIdentity", handleGetCallerIdentity())
	m.Query("sts", "GetSessionToken", handleGetSessionToken(s))
	m.Query("sts", "AssumeRole", handleAssumeRole(s))

	// IAM: iam_routes.go
	addIAMOperations(m, s.iam)
}
