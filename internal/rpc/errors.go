package rpc

import (
	"errors"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/fault"
)

// KindCode maps one domain error kind (a sentinel) to its wire code.
type KindCode struct {
	Kind error
	Code awsapi.Code
}

// FaultCodes is one domain's table of wire codes for the kinds of its
// errors (package fault).
type FaultCodes []KindCode

// ToWire maps a *fault.Error whose kind is in the table to its wire error,
// with the error's message, which is written for clients. It reports false
// for any other error.
func (t FaultCodes) ToWire(err error) (*awsapi.Error, bool) {
	var e *fault.Error
	if !errors.As(err, &e) {
		return nil, false
	}
	code, ok := CodeOfKind(e.Kind, t)
	if !ok {
		return nil, false
	}
	return &awsapi.Error{Code: code, Message: e.Msg}, true
}

// CodeOfKind looks kind up in a domain's table.
func CodeOfKind(kind error, table []KindCode) (awsapi.Code, bool) {
	for _, c := range table {
		if errors.Is(kind, c.Kind) {
			return c.Code, true
		}
	}
	return 0, false
}

// ValidationError is a ValidationError of the wire, with AWS's message.
func ValidationError(format string, args ...any) error {
	return awsapi.Errorf(awsapi.CodeValidation, format, args...)
}

// SafeText shortens client text and replaces its control characters
// before it is echoed in a message or an ARN.
func SafeText(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
