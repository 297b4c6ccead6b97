package tty

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNoTerminal(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"fail/missing-device", filepath.Join(t.TempDir(), "nope")},
		{"fail/not-a-terminal", os.DevNull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Terminal{Path: tc.path}.ReadSecret(context.Background(), "secret: ")
			if !errors.Is(err, ErrNoTerminal) {
				t.Errorf("ReadSecret() = %v, want ErrNoTerminal", err)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) || IsTerminal(strings.NewReader("x")) {
		t.Error("IsTerminal() true for /dev/null or a reader")
	}
}
