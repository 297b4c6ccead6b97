package sessiontoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// ErrInvalidToken is the one error of [Keyring.Open] and [Keyring.Secret].
// It says nothing about why a token was refused (malformed, truncated,
// tampered, minted for another access key id, or under an unknown key).
var ErrInvalidToken = errors.New("session: invalid token")

// ErrTooLarge is returned by [Keyring.Mint] when the claims (session
// policies, policy ARNs, tags) do not fit in a token of [MaxTokenLen]
// characters; STS reports it as PackedPolicyTooLarge.
var ErrTooLarge = errors.New("session: claims too large for a session token")

// ErrNoKey is returned by [Keyring.Mint] when the keyring holds no key.
var ErrNoKey = errors.New("session: no server key to mint with")

// ServerKeySize is the size in bytes of a server key.
const ServerKeySize = 32

// MaxTokenLen bounds the length of a session token. Open refuses longer
// input before decoding it. Typical tokens are a few hundred characters; the
// bound leaves room for an AssumeRole session policy at AWS's 2048-character
// limit plus policy ARNs and tags, and stays well under common HTTP header
// limits (8 KiB lines).
const MaxTokenLen = 6144

const (
	tokenPrefix  = "sfs1."
	tokenVersion = 1
	nonceSize    = 12
	tagSize      = 16
	headerSize   = 1 + 4 + nonceSize

	tokenAADLabel = "shortfuse-session-token"
	secretLabel   = "secret-access-key"
	sessionIDSize = 20
	secretLen     = 40
	akidPrefix    = "ASIA"
)

// tokenEncoding is unpadded base64url. It is used in strict mode (no stray
// padding bits) and the text is checked against the alphabet first, because
// the decoder would otherwise skip '\r' and '\n': one token, one text.
var tokenEncoding = base64.RawURLEncoding.Strict()

// ServerKey is a secret from which session tokens are sealed and session
// secrets derived. It never prints; persist it sealed with [ServerKey.Bytes].
type ServerKey struct {
	ID  uint32
	key [ServerKeySize]byte
}

// NewServerKey returns a new random server key with the given id, read from
// rand (crypto/rand.Reader in production). The highest id in a [Keyring]
// mints.
func NewServerKey(rand io.Reader, id uint32) (*ServerKey, error) {
	k := &ServerKey{ID: id}
	if _, err := io.ReadFull(rand, k.key[:]); err != nil {
		return nil, fmt.Errorf("session: generate server key: %w", err)
	}
	return k, nil
}

// ServerKeyFromBytes rebuilds a server key persisted with [ServerKey.Bytes].
func ServerKeyFromBytes(id uint32, b []byte) (*ServerKey, error) {
	if len(b) != ServerKeySize {
		return nil, fmt.Errorf("session: server key is %d bytes, want %d", len(b), ServerKeySize)
	}
	k := &ServerKey{ID: id}
	copy(k.key[:], b)
	return k, nil
}

// Bytes returns a copy of the key material, for the caller to persist sealed
// (internal/seal) in the store. Treat it as the key itself.
func (k *ServerKey) Bytes() []byte { return append([]byte(nil), k.key[:]...) }

// String shows the key id only.
func (k ServerKey) String() string {
	return fmt.Sprintf("session.ServerKey{ID:%d, key:%s}", k.ID, redacted)
}

// GoString is [ServerKey.String].
func (k ServerKey) GoString() string { return k.String() }

// Format writes [ServerKey.String] for every verb.
func (k ServerKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue logs the key id only.
func (k ServerKey) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("id", uint64(k.ID)), slog.String("key", redacted))
}

// MarshalJSON shows the key id only.
func (k ServerKey) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"ID":%d,"key":%q}`, k.ID, redacted), nil
}

// ringKey is a server key ready for use: its two HKDF subkeys.
type ringKey struct {
	id        uint32
	raw       [ServerKeySize]byte // to recognise a re-added key
	aead      cipher.AEAD         // seals tokens
	secretKey []byte              // HMAC key deriving secret access keys
	macs      sync.Pool           // of HMAC-SHA256 keyed with secretKey
}

func newRingKey(k *ServerKey) (*ringKey, error) {
	tokenKey, err := hkdf.Key(sha256.New, k.key[:], nil, "shortfuse session token v1", 32)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	secretKey, err := hkdf.Key(sha256.New, k.key[:], nil, "shortfuse session secret v1", 32)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	block, err := aes.NewCipher(tokenKey)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	clear(tokenKey)
	rk := &ringKey{id: k.ID, raw: k.key, aead: aead, secretKey: secretKey}
	rk.macs.New = func() any { return hmac.New(sha256.New, secretKey) }
	return rk, nil
}

// secret derives a session's secret access key:
//
//	base64(HMAC-SHA256(secretKey, "secret-access-key" || sessionID))[:40]
//
// 40 characters of standard base64, like an AWS secret access key (240 bits).
func (k *ringKey) secret(sessionID string) string {
	mac := k.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte(secretLabel))
	mac.Write([]byte(sessionID))
	var sum [sha256.Size]byte
	var enc [44]byte // base64 of 32 bytes
	base64.StdEncoding.Encode(enc[:], mac.Sum(sum[:0]))
	k.macs.Put(mac)
	return string(enc[:secretLen])
}

// Keyring holds the server keys. The key with the highest id mints; every
// key opens. It is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	keys    map[uint32]*ringKey
	active  *ringKey
	onNewer func(id uint32) // OnNewerKey
}

// NewKeyring returns a keyring holding keys (at least one).
func NewKeyring(keys ...*ServerKey) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("session: a keyring needs at least one server key")
	}
	kr := &Keyring{keys: make(map[uint32]*ringKey, len(keys))}
	for _, k := range keys {
		if err := kr.Add(k); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// Add makes k known; it mints from now on if its id is the highest. Adding a
// key that is already known is a no-op, so a replica may re-add every stored
// key when it reloads them. Adding different key material under a known id
// returns an error and changes nothing.
func (kr *Keyring) Add(k *ServerKey) error {
	if k == nil {
		return errors.New("session: nil server key")
	}
	if k.key == ([ServerKeySize]byte{}) {
		// A ServerKey literal rather than one from NewServerKey or ServerKeyFromBytes.
		return errors.New("session: server key is all zeros")
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.keys == nil {
		kr.keys = make(map[uint32]*ringKey)
	}
	if old, ok := kr.keys[k.ID]; ok {
		if subtle.ConstantTimeCompare(old.raw[:], k.key[:]) == 1 {
			return nil
		}
		return fmt.Errorf("session: a different server key with id %d is already known", k.ID)
	}
	rk, err := newRingKey(k)
	if err != nil {
		return err
	}
	kr.keys[k.ID] = rk
	if kr.active == nil || rk.id > kr.active.id {
		kr.active = rk
	}
	return nil
}

// Remove forgets the key with the given id: tokens sealed under it no longer
// open and their secrets no longer derive. If it was minting, the highest
// remaining key mints; if none remains, Mint returns [ErrNoKey].
func (kr *Keyring) Remove(id uint32) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	delete(kr.keys, id)
	if kr.active != nil && kr.active.id == id {
		kr.active = nil
		for _, k := range kr.keys {
			if kr.active == nil || k.id > kr.active.id {
				kr.active = k
			}
		}
	}
}

// ActiveKeyID returns the id of the key that mints, and false if the keyring
// is empty.
func (kr *Keyring) ActiveKeyID() (uint32, bool) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	if kr.active == nil {
		return 0, false
	}
	return kr.active.id, true
}

// OnNewerKey sets a function that Open calls, before it refuses a token,
// when the token names a key newer than every key the keyring knows: a key
// another replica added (rotation) that this one has not loaded yet. The
// function loads the keys it can find (and may decline, to bound the cost
// of forged tokens); Open then looks again. Tokens naming an older, unknown
// key (removed, or never made) are refused without a call.
func (kr *Keyring) OnNewerKey(f func(id uint32)) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.onNewer = f
}

// missed is Open's second look for a key id it does not know.
func (kr *Keyring) missed(id uint32) *ringKey {
	kr.mu.RLock()
	f, newer := kr.onNewer, kr.active == nil || id > kr.active.id
	kr.mu.RUnlock()
	if f == nil || !newer {
		return nil
	}
	f(id)
	return kr.key(id)
}

func (kr *Keyring) key(id uint32) *ringKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.keys[id]
}

// Mint issues credentials for c. It draws a new session id from rand
// (crypto/rand.Reader in production), derives the access key id from it,
// seals the claims under the newest server key, and derives the secret
// access key. The caller's SessionID, AccessKeyID and KeyID are overwritten.
//
// It returns the credentials and the claims exactly as [Keyring.Open] will
// return them (times truncated to the second, in UTC; empty lists as nil).
// It fails if c.Type is unknown, IssuedAt is unset, Expires is not after
// IssuedAt or MaxUses is negative; with [ErrTooLarge] if the token would
// exceed [MaxTokenLen]; and with [ErrNoKey] if the keyring is empty.
func (kr *Keyring) Mint(c Claims, rand io.Reader) (Credentials, Claims, error) {
	kr.mu.RLock()
	k := kr.active
	kr.mu.RUnlock()
	if k == nil {
		return Credentials{}, Claims{}, ErrNoKey
	}
	if err := c.validate(); err != nil {
		return Credentials{}, Claims{}, err
	}

	var buf [sessionIDSize + nonceSize]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return Credentials{}, Claims{}, fmt.Errorf("session: mint: %w", err)
	}
	c.SessionID = hex.EncodeToString(buf[:sessionIDSize])
	c.AccessKeyID = deriveAccessKeyID(c.SessionID)
	c.KeyID = k.id

	payload, err := encodeClaims(&c)
	if err != nil {
		return Credentials{}, Claims{}, fmt.Errorf("session: mint: %w", err)
	}
	if len(tokenPrefix)+tokenEncoding.EncodedLen(headerSize+len(payload)+tagSize) > MaxTokenLen {
		return Credentials{}, Claims{}, ErrTooLarge
	}
	// What Open will see: c as the encoding keeps it, or, where the
	// encoding may change a value, the payload decoded.
	minted, ok := asSealed(&c)
	if !ok {
		if minted, err = decodeClaims(payload); err != nil {
			return Credentials{}, Claims{}, fmt.Errorf("session: mint: %w", err)
		}
	}
	minted.AccessKeyID, minted.KeyID = c.AccessKeyID, k.id

	sealed := make([]byte, headerSize, headerSize+len(payload)+tagSize)
	sealed[0] = tokenVersion
	binary.BigEndian.PutUint32(sealed[1:5], k.id)
	copy(sealed[5:headerSize], buf[sessionIDSize:])
	sealed = k.aead.Seal(sealed, sealed[5:headerSize], payload, tokenAAD(sealed[:headerSize], c.AccessKeyID))

	creds := Credentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: k.secret(c.SessionID),
		SessionToken:    tokenPrefix + tokenEncoding.EncodeToString(sealed),
		Expiration:      minted.Expires,
	}
	return creds, *minted, nil
}

// tokenAAD is the GCM additional data of a token: its header (fixed length),
// a label, and the access key id the token belongs to, so a token presented
// with another access key id does not open.
func tokenAAD(header []byte, accessKeyID string) []byte {
	ad := make([]byte, 0, len(header)+len(tokenAADLabel)+len(accessKeyID))
	ad = append(ad, header...)
	ad = append(ad, tokenAADLabel...)
	return append(ad, accessKeyID...)
}

// Open authenticates token as minted for accessKeyID and returns its claims.
// The token is authenticated (AES-GCM under the server key its header names,
// with the access key id as additional data) before any claim is decoded.
// Every failure returns [ErrInvalidToken].
//
// Open does not check expiry: call [Claims.Expired] on the result, so that
// a forged token is never reported as expired.
func (kr *Keyring) Open(token, accessKeyID string) (*Claims, error) {
	if len(token) > MaxTokenLen {
		return nil, ErrInvalidToken
	}
	body, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || !isBase64URL(body) {
		return nil, ErrInvalidToken
	}
	raw, err := tokenEncoding.DecodeString(body)
	if err != nil || len(raw) < headerSize+tagSize || raw[0] != tokenVersion {
		return nil, ErrInvalidToken
	}
	id := binary.BigEndian.Uint32(raw[1:5])
	k := kr.key(id)
	if k == nil {
		if k = kr.missed(id); k == nil {
			return nil, ErrInvalidToken
		}
	}
	header := raw[:headerSize]
	payload, err := k.aead.Open(nil, header[5:], raw[headerSize:], tokenAAD(header, accessKeyID))
	if err != nil {
		return nil, ErrInvalidToken
	}
	// Authenticated: only now is the content read.
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, ErrInvalidToken
	}
	// Already bound by the AAD; checked again so that claims never disagree
	// with the access key id they are returned for.
	c.AccessKeyID = deriveAccessKeyID(c.SessionID)
	if subtle.ConstantTimeCompare([]byte(c.AccessKeyID), []byte(accessKeyID)) != 1 {
		return nil, ErrInvalidToken
	}
	c.KeyID = id
	return c, nil
}

// Secret re-derives the secret access key of the session c (claims returned
// by [Keyring.Open] or [Keyring.Mint]), from the server key c.KeyID and
// c.SessionID, for the SigV4 check. It returns [ErrInvalidToken] if that key
// is no longer known or the claims are inconsistent.
func (kr *Keyring) Secret(c *Claims) (string, error) {
	if c == nil || !validSessionID(c.SessionID) ||
		subtle.ConstantTimeCompare([]byte(deriveAccessKeyID(c.SessionID)), []byte(c.AccessKeyID)) != 1 {
		return "", ErrInvalidToken
	}
	k := kr.key(c.KeyID)
	if k == nil {
		return "", ErrInvalidToken
	}
	return k.secret(c.SessionID), nil
}

// deriveAccessKeyID derives the AWS-shaped access key id of a session:
// "ASIA" + the first 16 base32 characters of SHA-256(label || sessionID)
// (80 bits), upper case like AWS's.
func deriveAccessKeyID(sessionID string) string {
	sum := sha256.Sum256([]byte("shortfuse-access-key-id" + sessionID))
	return akidPrefix + base32.StdEncoding.EncodeToString(sum[:10])
}

func validSessionID(s string) bool {
	if len(s) != 2*sessionIDSize {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidAccessKeyID reports whether s has the shape of a session access key
// id: "ASIA" and 16 characters of the base32 alphabet.
func ValidAccessKeyID(s string) bool {
	if len(s) != len(akidPrefix)+16 || s[:len(akidPrefix)] != akidPrefix {
		return false
	}
	for i := len(akidPrefix); i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
