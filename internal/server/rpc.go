package server

import (
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// The request, the handler signature and the operations table are package
// rpc's, which the handlers of every service share; these names keep the
// server's own files (STS, the shortfuse service, the pipeline) as they
// read.

type (
	Request   = rpc.Request
	Caller    = rpc.Caller
	Handler   = rpc.Handler
	Operation = rpc.Operation
	Mux       = rpc.Mux
	Protocol  = rpc.Protocol
	authz     = rpc.Authz
)

// The rules of the operations table (rpc.Rules).
const (
	Write      = rpc.Write
	Read       = rpc.Read
	Mint       = rpc.Mint
	IAM        = rpc.IAM
	SelfRevoke = rpc.SelfRevoke
	Uncounted  = rpc.Uncounted
)

// The protocols the broker speaks.
const (
	ProtocolQuery = rpc.ProtocolQuery
	ProtocolJSON  = rpc.ProtocolJSON
)

// NewMux returns an empty operations table.
func NewMux() *Mux { return rpc.NewMux() }

func errAccessDenied(r *Request, action, resource string, explicit bool) error {
	return rpc.AccessDenied(r, action, resource, explicit)
}
