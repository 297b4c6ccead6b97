package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/seal"
)

func TestServerPortInUseLeavesNoDataDirectory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"server", "--listen", ln.Addr().String(), "--data", dir}, withStreams(func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &stderr))
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
	code := run(context.Background(), []string{"server", "--data", t.TempDir(), "--pprof-listen", "0.0.0.0:0"}, withStreams(func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &stderr))
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

func TestServerMasterKeyFromEnvironment(t *testing.T) {
	mk, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := mk.Text()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	env := func(name string) string {
		if name == masterKeyEnv {
			return key
		}
		return ""
	}
	noEnv := func(string) string { return "" }

	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"server", "--listen", addr, "--data", dir}, withStreams(env, strings.NewReader(""), &bytes.Buffer{}, &stderr))
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("server exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /healthz after 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("server exited %d:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !os.IsNotExist(err) {
		t.Errorf("master.key written although the key came from %s (stat: %v)", masterKeyEnv, err)
	}

	// The store's keys are wrapped under that key: admin recover opens them
	// with it, and not without it.
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"admin", "recover", "--data", dir, "--deactivate-old"}, withStreams(env, strings.NewReader(""), &out, &errOut)); code != 0 {
		t.Fatalf("admin recover with %s: exit %d\n%s", masterKeyEnv, code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"admin", "recover", "--data", dir, "--deactivate-old"}, withStreams(noEnv, strings.NewReader(""), &out, &errOut)); code == 0 {
		t.Errorf("admin recover without the key succeeded")
	}

	// A key file as well is refused, and a malformed key is not echoed.
	errOut.Reset()
	both := func(name string) string {
		if name == "SHORTFUSE_MASTER_KEY_FILE" {
			return filepath.Join(dir, "other.key")
		}
		return env(name)
	}
	if code := run(context.Background(), []string{"admin", "recover", "--data", dir, "--deactivate-old"}, withStreams(both, strings.NewReader(""), &out, &errOut)); code == 0 || !strings.Contains(errOut.String(), "give one") {
		t.Errorf("key in the environment and a key file: exit %d\n%s", code, errOut.String())
	}
	errOut.Reset()
	bad := "shortfuse-master-key-v1:not-a-key-TOPSECRET"
	badEnv := func(name string) string {
		if name == masterKeyEnv {
			return bad
		}
		return ""
	}
	if code := run(context.Background(), []string{"admin", "recover", "--data", dir, "--deactivate-old"}, withStreams(badEnv, strings.NewReader(""), &out, &errOut)); code == 0 || strings.Contains(errOut.String(), "TOPSECRET") || !strings.Contains(errOut.String(), masterKeyEnv) {
		t.Errorf("malformed key: exit %d\n%s", code, errOut.String())
	}
	// The server refuses it before it creates anything.
	errOut.Reset()
	fresh := filepath.Join(t.TempDir(), "fresh")
	if code := run(context.Background(), []string{"server", "--listen", addr, "--data", fresh}, withStreams(badEnv, strings.NewReader(""), &out, &errOut)); code == 0 || strings.Contains(errOut.String(), "TOPSECRET") {
		t.Errorf("server with a malformed key: exit %d\n%s", code, errOut.String())
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("data directory %s created although the key was malformed (stat: %v)", fresh, err)
	}
}

// A master key file that does not parse is refused before the store is
// created or opened.
func TestServerBadKeyFileCreatesNoStore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"server", "--listen", "127.0.0.1:0", "--data", dir}, withStreams(func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &stderr))
	if code == 0 || !strings.Contains(stderr.String(), "master key") {
		t.Fatalf("exit %d, want a master key error\n%s", code, stderr.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "master.key" {
			t.Errorf("%s was created although the key file does not parse", e.Name())
		}
	}
}
