package seal

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Run("ok/creates-0600-then-loads-same-key", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "master.key")
		k1, created, err := LoadOrCreateKeyFile(path, rand.Reader)
		if err != nil || !created {
			t.Fatalf("LoadOrCreateKeyFile() = _, %v, %v; want created", created, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("created key file mode = %04o, want 0600", got)
		}
		b, _ := os.ReadFile(path)
		if string(b) != k1.Text() {
			t.Errorf("key file holds %d bytes, not Text()", len(b))
		}
		k2, created, err := LoadOrCreateKeyFile(path, rand.Reader)
		if err != nil || created {
			t.Fatalf("second LoadOrCreateKeyFile() = _, %v, %v; want loaded", created, err)
		}
		if k1.key != k2.key {
			t.Errorf("second call returned another key")
		}
	})
	t.Run("ok/created-despite-permissive-umask", func(t *testing.T) {
		old := syscall.Umask(0)
		defer syscall.Umask(old)
		path := filepath.Join(t.TempDir(), "master.key")
		if _, _, err := LoadOrCreateKeyFile(path, rand.Reader); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode = %04o, want 0600", got)
		}
	})
	t.Run("fail/refuses-existing-0644", func(t *testing.T) {
		path := writeKeyFile(t, 0o644)
		if _, created, err := LoadOrCreateKeyFile(path, rand.Reader); err == nil || created {
			t.Errorf("LoadOrCreateKeyFile() = _, %v, %v; want refusal", created, err)
		}
	})
	t.Run("fail/missing-directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope", "master.key")
		if _, _, err := LoadOrCreateKeyFile(path, rand.Reader); err == nil {
			t.Errorf("LoadOrCreateKeyFile() error = nil")
		}
	})
	t.Run("fail/rand-fails-creates-nothing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "master.key")
		if _, _, err := LoadOrCreateKeyFile(path, strings.NewReader("short")); err == nil {
			t.Errorf("LoadOrCreateKeyFile() error = nil")
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("key file exists after failure: %v", err)
		}
	})
}

func TestLoadKeyFile(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		ok   bool
	}{
		{"ok/0600", func(t *testing.T) string { return writeKeyFile(t, 0o600) }, true},
		{"ok/0400", func(t *testing.T) string { return writeKeyFile(t, 0o400) }, true},
		{"ok/symlink-to-0600", func(t *testing.T) string {
			target := writeKeyFile(t, 0o600)
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, true},
		{"fail/0644", func(t *testing.T) string { return writeKeyFile(t, 0o644) }, false},
		{"fail/0640", func(t *testing.T) string { return writeKeyFile(t, 0o640) }, false},
		{"fail/0604", func(t *testing.T) string { return writeKeyFile(t, 0o604) }, false},
		{"fail/0601", func(t *testing.T) string { return writeKeyFile(t, 0o601) }, false},
		{"fail/0610", func(t *testing.T) string { return writeKeyFile(t, 0o610) }, false},
		{"fail/missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }, false},
		{"fail/directory", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			return d
		}, false},
		{"fail/fifo", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "fifo")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return p
		}, false},
		{"fail/malformed", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "bad")
			if err := os.WriteFile(p, []byte("not a key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, false},
		{"fail/huge", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "huge")
			if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			k, err := LoadKeyFile(path)
			if tt.ok {
				if err != nil || k == nil {
					t.Errorf("LoadKeyFile() = %v, %v; want a key", k, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadKeyFile() error = nil, want refusal")
			}
			if fi, _ := os.Stat(path); fi != nil && fi.Mode().IsRegular() {
				b, _ := os.ReadFile(path)
				if body := strings.TrimPrefix(strings.TrimSpace(string(b)), masterKeyPrefix); len(body) > 8 && strings.Contains(err.Error(), body) {
					t.Errorf("error %q quotes the key file", err)
				}
			}
		})
	}
	t.Run("fail/missing-is-not-exist", func(t *testing.T) {
		_, err := LoadKeyFile(filepath.Join(t.TempDir(), "missing"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadKeyFile() error = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("fail/malformed-is-ErrMalformedKey", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad")
		os.WriteFile(p, []byte("shortfuse-master-key-v1:AAAA\n"), 0o600)
		if _, err := LoadKeyFile(p); !errors.Is(err, ErrMalformedKey) {
			t.Errorf("LoadKeyFile() error = %v, want ErrMalformedKey", err)
		}
	})
}

// writeKeyFile writes a valid key file with the given mode and returns its path.
func writeKeyFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	k, err := GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(p, []byte(k.Text()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}
