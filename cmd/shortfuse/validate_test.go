package main

import (
	"strings"
	"testing"
)

// validateCase is one input for a command's validate: want is "" for an
// input it accepts, else a part of the message that refuses it.
type validateCase[T any] struct {
	name string
	in   T
	want string
}

// testValidate checks validate on each case, in a subtest of its name.
func testValidate[T any, P interface {
	*T
	validate() error
}](t *testing.T, cases []validateCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkValidated(t, P(&tc.in).validate(), tc.want)
		})
	}
}

// checkValidated fails t unless err, what an input's validate returned,
// is nil where want is "", and otherwise an error whose message contains
// want.
func checkValidated(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("validate() = %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("validate() = %v, want error containing %q", err, want)
	}
}
