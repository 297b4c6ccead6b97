package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/client/tty"
)

// fakePrompter answers prompts from a list.
type fakePrompter struct {
	answers []string
	prompts []string
	err     error
}

func (p *fakePrompter) ReadSecret(ctx context.Context, prompt string) ([]byte, error) {
	p.prompts = append(p.prompts, prompt)
	if p.err != nil {
		return nil, p.err
	}
	if len(p.answers) == 0 {
		return nil, errors.New("no more answers")
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return []byte(a), nil
}

func TestReadSecretValue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, []byte(strings.Repeat("x", maxSecretValue+1)), 0o600)
	tests := []struct {
		name     string
		fromFile string
		keepNL   bool
		stdin    string
		terminal bool
		prompter *fakePrompter
		want     string
		err      string
	}{
		{"ok/pipe-newline-dropped", "", false, "pw\n", false, nil, "pw", ""},
		{"ok/pipe-crlf-dropped", "", false, "pw\r\n", false, nil, "pw", ""},
		{"ok/pipe-only-one-newline", "", false, "pw\n\n", false, nil, "pw\n", ""},
		{"ok/pipe-keep-newline", "", true, "pw\n", false, nil, "pw\n", ""},
		{"ok/multi-line", "", false, "a\nb\n", false, nil, "a\nb", ""},
		{"ok/file", file, false, "ignored", false, nil, "from-file", ""},
		{"ok/terminal-twice", "", false, "", true, &fakePrompter{answers: []string{"typed", "typed"}}, "typed", ""},
		{"fail/terminal-differ", "", false, "", true, &fakePrompter{answers: []string{"typed", "other"}}, "", "differ"},
		{"fail/terminal-empty", "", false, "", true, &fakePrompter{answers: []string{"", ""}}, "", "empty"},
		{"fail/no-terminal", "", false, "", true, &fakePrompter{err: tty.ErrNoTerminal}, "", "no terminal"},
		{"fail/empty-pipe", "", false, "", false, nil, "", "empty"},
		{"fail/just-newline", "", false, "\n", false, nil, "", "empty"},
		{"fail/too-big-pipe", "", false, strings.Repeat("x", maxSecretValue+1), false, nil, "", "larger than"},
		{"fail/too-big-file", big, false, "", false, nil, "", "larger than"},
		{"fail/missing-file", filepath.Join(dir, "nope"), false, "", false, nil, "", "--from-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &secretPutInput{name: "/prod/x", fromFile: tc.fromFile, keepNewline: tc.keepNL, isTerminal: func(io.Reader) bool { return tc.terminal }}
			if tc.prompter != nil {
				in.prompter = tc.prompter
			}
			got, err := readSecretValue(context.Background(), in, strings.NewReader(tc.stdin))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("readSecretValue() = %q, %v; want error with %q", got, err, tc.err)
				}
				if tc.prompter != nil && len(tc.prompter.answers) > 0 && strings.Contains(err.Error(), tc.prompter.answers[0]) {
					t.Errorf("error %q shows the value", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("readSecretValue() = %q, %v; want %q", got, err, tc.want)
			}
			if tc.prompter != nil && (len(tc.prompter.prompts) != 2 || tc.prompter.prompts[0] != "Value for /prod/x: ") {
				t.Errorf("prompts %q", tc.prompter.prompts)
			}
		})
	}
}

func TestSecretPutInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"/prod/exampleCredential", true},
		{"prod_db+x=y.z@w-1", true},
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf", true},
		{"", false},
		{"has space", false},
		{"semi;colon", false},
		{strings.Repeat("x", 513), false},
	} {
		in := &secretPutInput{name: tc.name}
		if err := in.validate(); (err == nil) != tc.ok {
			t.Errorf("validate(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
