package token

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Cache keeps credential_process results between runs of `shortfuse token
// --credential-process`, the way the aws CLI keeps ~/.aws/cli/cache: one
// 0600 file per request in a 0700 directory, holding the credential_process
// JSON. The file name is a hash of the request, never a name from the
// input.
type Cache struct {
	Dir string
}

// Key derives the cache key of a request from its parameters (profile,
// role, duration, policy, ...). Parameters are joined unambiguously.
func Key(params ...string) string {
	h := sha256.New()
	for _, p := range params {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

func (c *Cache) path(key string) (string, error) {
	if len(key) != 40 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", errors.New("token cache: malformed key")
	}
	return filepath.Join(c.Dir, key+".json"), nil
}

// Load returns the cached credentials for key if they stay valid for at
// least minRemaining after now. A missing, unreadable, malformed or
// too-old entry is a miss (ok false) and is removed; only a cache file with
// the wrong owner permissions is an error, so that a widened file is never
// used silently.
func (c *Cache) Load(key string, now time.Time, minRemaining time.Duration) (cred Credentials, ok bool, err error) {
	p, err := c.path(key)
	if err != nil {
		return Credentials{}, false, err
	}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, false, nil
	}
	if err != nil {
		return Credentials{}, false, fmt.Errorf("token cache: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return Credentials{}, false, fmt.Errorf("token cache: %s is not a private regular file (want mode 0600); remove it", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return Credentials{}, false, fmt.Errorf("token cache: %w", err)
	}
	cred, err = Decode(FormatJSON, data)
	if err != nil || cred.Expiration.IsZero() || cred.Expiration.Sub(now) < minRemaining {
		_ = os.Remove(p)
		return Credentials{}, false, nil
	}
	return cred, true, nil
}

// Store writes cred for key: to a temporary file created 0600, synced, then
// renamed over the entry, so a reader never sees half a file.
func (c *Cache) Store(key string, cred Credentials) error {
	p, err := c.path(key)
	if err != nil {
		return err
	}
	data, err := Encode(FormatJSON, cred)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := os.Chmod(c.Dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	f, err := os.CreateTemp(c.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// Remove deletes the entry for key, if any.
func (c *Cache) Remove(key string) error {
	p, err := c.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}
