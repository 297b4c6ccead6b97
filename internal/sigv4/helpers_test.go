package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The AWS test suite's credentials and time.
const (
	suiteAccessKey = "AKIDEXAMPLE"
	suiteSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteRegion    = "us-east-1"
	suiteService   = "service"
)

var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// suiteWire turns a test-suite .sreq file (LF line endings, body after a blank line, no
// Content-Length) into an HTTP/1.1 request as it would arrive on the wire.
func suiteWire(sreq []byte) []byte {
	head, body, _ := bytes.Cut(sreq, []byte("\n\n"))
	var b bytes.Buffer
	for line := range bytes.SplitSeq(head, []byte("\n")) {
		b.Write(line)
		b.WriteString("\r\n")
	}
	if len(body) > 0 {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// readServerRequest parses wire bytes as Go's HTTP server does and reads the body, as the
// broker's handler will before calling Verify.
func readServerRequest(wire []byte) (*http.Request, []byte, error) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r, body, nil
}

func mustReadServerRequest(tb testing.TB, wire []byte) (*http.Request, []byte) {
	tb.Helper()
	r, body, err := readServerRequest(wire)
	if err != nil {
		tb.Fatalf("http.ReadRequest(%q): %v", wire, err)
	}
	return r, body
}

// parseAndVerify runs the two steps the broker runs.
func parseAndVerify(v *Verifier, r *http.Request, secret string, o Options) error {
	a, err := Parse(r)
	if err != nil {
		return err
	}
	return v.Verify(r, a, secret, o)
}

// wantReason checks that err is an *Error with the given reason (0 means no error).
func wantReason(tb testing.TB, what string, err error, want Reason) {
	tb.Helper()
	if want == 0 {
		if err != nil {
			tb.Errorf("%s = %v, want nil", what, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Errorf("%s = %v, want *sigv4.Error with reason %v", what, err, want)
		return
	}
	if e.Reason != want {
		tb.Errorf("%s = %v, want reason %v", what, err, want)
	}
}

// assertSafeDetail checks that an error's text leaks neither the secret nor the expected
// signature.
func assertSafeDetail(tb testing.TB, err error, secrets ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			tb.Errorf("error %q contains secret material %q", err, s)
		}
	}
}
