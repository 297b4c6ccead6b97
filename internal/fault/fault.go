// Package fault is the one error type of the broker's domain packages: a
// kind, which says which error it is, and a message written for clients.
// Package server maps kinds to wire codes in one place (one table per
// domain), and sends the message as it is.
package fault

import (
	"fmt"
	"unicode/utf8"
)

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

// Printable makes text that came from a client, a token or a database fit
// to quote in a message: control characters and invalid UTF-8 become '?',
// and past max bytes the rest is cut, marked by '…'.
func Printable(s string, max int) string {
	out := make([]rune, 0, min(len(s), max+1))
	for i, r := range s {
		if i >= max {
			out = append(out, '…')
			break
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
