package main

import (
	"strings"
	"testing"
)

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
