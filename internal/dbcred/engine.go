package dbcred

import (
	"context"
	"crypto/rand"
	"io"
	"strings"
	"time"
)

// RolePrefix starts the name of every role the broker creates; at start,
// roles with it that the master created and that no live lease holds are
// dropped (leftovers of a broker that stopped before it could drop them).
const RolePrefix = "sf_"

// Engine creates and drops the roles of leases on one kind of database.
// Every method connects with the master credential it is given; none keeps
// it. Implementations quote every identifier and literal by the database's
// rules and never put a password in an error.
type Engine interface {
	// CreateLease creates role, able to log in with password until
	// validUntil (the database's own backstop), member of grants.
	CreateLease(ctx context.Context, m *Master, role string, password Password, grants []string, validUntil time.Time) error
	// Drop makes role unable to log in, ends its connections and drops
	// it. Dropping a role that does not exist is not an error.
	Drop(ctx context.Context, m *Master, role string) error
	// ListLeftovers lists the roles whose names start with prefix that
	// this master created.
	ListLeftovers(ctx context.Context, m *Master, prefix string) ([]string, error)
}

// Alphabets of generated names and passwords. Passwords are letters and
// digits only (190 bits in 32 characters), so that no client, URL or shell
// needs to escape them.
const (
	nameAlphabet     = "abcdefghijklmnopqrstuvwxyz0123456789"
	passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	passwordLength   = 32
)

// RoleName makes the name of a new lease's role:
// sf_<last 8 characters of the access key id, lower case>_<10 random>.
func RoleName(rand io.Reader, accessKeyID string) (string, error) {
	short := strings.ToLower(accessKeyID)
	if len(short) > 8 {
		short = short[len(short)-8:]
	}
	var b strings.Builder
	b.WriteString(RolePrefix)
	for i := 0; i < len(short); i++ {
		if c := short[i]; 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		}
	}
	b.WriteByte('_')
	r, err := randomString(rand, nameAlphabet, 10)
	if err != nil {
		return "", err
	}
	b.WriteString(r)
	return b.String(), nil
}

// NewPasswordFrom makes a new lease's password.
func NewPasswordFrom(rand io.Reader) (Password, error) {
	s, err := randomString(rand, passwordAlphabet, passwordLength)
	return NewPassword(s), err
}

// randomString draws n characters of alphabet without modulo bias.
func randomString(r io.Reader, alphabet string, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
