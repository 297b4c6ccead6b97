package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestServerPortInUseLeavesNoDataDirectory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"server", "--listen", ln.Addr().String(), "--data", dir}, func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "address already in use") || !strings.Contains(stderr.String(), "shortfuse: hint: is another broker running?") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data directory %s exists after the failed start (stat: %v)", dir, err)
	}
}

// The profiling endpoints serve on loopback only, on their own listener,
// and not on the API's.
func TestServerPprofListen(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"server", "--data", t.TempDir(), "--pprof-listen", "0.0.0.0:0"},
		func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if code != 2 && code != 1 || !strings.Contains(stderr.String(), "--pprof-listen") {
		t.Fatalf("non-loopback --pprof-listen: exit %d\n%s", code, stderr.String())
	}

	stop, err := servePprof("127.0.0.1:0", slog.New(slog.NewTextHandler(&stderr, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	m := regexp.MustCompile(`url=(http://\S+/debug/pprof/)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no profiling url logged:\n%s", stderr.String())
	}
	for path, want := range map[string]int{"": http.StatusOK, "goroutine?debug=1": http.StatusOK, "cmdline": http.StatusNotFound} {
		resp, err := http.Get(m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s%s: %d, want %d", m[1], path, resp.StatusCode, want)
		}
	}
}
