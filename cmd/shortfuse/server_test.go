package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
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
