package server

import (
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// The request, the handler signature, the operations table and paging are
// package rpc's, which the handlers of every service share; these names
// keep the server's own files as they read.

type (
	Request   = rpc.Request
	Caller    = rpc.Caller
	Handler   = rpc.Handler
	Rules     = rpc.Rules
	Operation = rpc.Operation
	Decision  = rpc.Decision
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

// pageToken encodes page positions for one protocol (rpc.PageToken).
type pageToken struct{ rpc.PageToken }

var smNextToken = pageToken{rpc.PageToken{Prefix: "sm1:", Bad: awsapi.Errorf(awsapi.CodeInvalidNextToken, "The NextToken value is invalid.")}}

func (t pageToken) encode(pos int) string        { return t.Encode(pos) }
func (t pageToken) decode(s string) (int, error) { return t.Decode(s) }

func cutPage[T any](items []T, start, n int) ([]T, int) { return rpc.CutPage(items, start, n) }

func errAccessDenied(r *Request, action, resource string, explicit bool) error {
	return rpc.AccessDenied(r, action, resource, explicit)
}
