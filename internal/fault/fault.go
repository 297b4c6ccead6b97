// Package fault is the one error type of the broker's domain packages: a
// kind, which says which error it is, and a message written for clients.
// Package server maps kinds to wire codes in one place (one table per
// domain), and sends the message as it is.
package fault

import "fmt"

// Error is a domain error. Msg is written in AWS's words and is safe to
// show to a client (it never holds a secret); Kind is a sentinel of the
// domain package that made it (iam.ErrNoSuchEntity).
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns Kind, so errors.Is(err, iam.ErrNoSuchEntity) works.
func (e *Error) Unwrap() error { return e.Kind }

// New returns an Error of that kind with a formatted message.
func New(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
