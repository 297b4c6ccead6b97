package fault

import (
	"errors"
	"fmt"
	"testing"
)

var errKind = errors.New("kind")

func TestErrorIsItsKindAndSaysItsMessage(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", New(errKind, "The %s was not found.", "thing"))
	if !errors.Is(err, errKind) {
		t.Fatal("errors.Is does not find the kind")
	}
	var e *Error
	if !errors.As(err, &e) || e.Msg != "The thing was not found." || e.Error() != e.Msg {
		t.Fatalf("errors.As = %v, message %q", e, e.Msg)
	}
}
