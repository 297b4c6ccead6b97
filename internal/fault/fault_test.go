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

func TestPrintableMarksWhatItChangesOrCuts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 64, "plain"},
		{"a\nb\x7fc\x00", 64, "a?b?c?"},
		{"bad\xffutf8", 64, "bad?utf8"},
		{"abcdef", 3, "abc…"},
		{"éé", 2, "é…"},
		{"", 3, ""},
	} {
		if got := Printable(tc.in, tc.max); got != tc.want {
			t.Errorf("Printable(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
