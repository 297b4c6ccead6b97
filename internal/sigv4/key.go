package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sync"
)

// DefaultCacheSize bounds the signing keys a [Verifier] keeps.
const DefaultCacheSize = 4096

// deriveSigningKey is the HMAC chain of "Derive a signing key":
//
//	kDate    = HMAC("AWS4" + secret, Date)
//	kRegion  = HMAC(kDate, Region)
//	kService = HMAC(kRegion, Service)
//	kSigning = HMAC(kService, "aws4_request")
func deriveSigningKey(secret string, s Scope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), s.Date)
	k = hmacSHA256(k, s.Region)
	k = hmacSHA256(k, s.Service)
	return hmacSHA256(k, Terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// cacheKey identifies a signing key by a SHA-256 over the secret and the scope, each
// length-prefixed so that no two different tuples share an encoding. Keying on the secret
// (not the access key id) means a request signed with a wrong secret never reuses the
// right secret's entry, and the map holds no secret in clear.
func cacheKey(secret string, s Scope) [sha256.Size]byte {
	h := sha256.New()
	var n [4]byte
	for _, part := range [...]string{secret, s.Date, s.Region, s.Service} {
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		h.Write(n[:])
		h.Write([]byte(part))
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// Verifier checks signatures and caches derived signing keys. The zero value is not usable;
// call [NewVerifier]. A Verifier is safe for concurrent use.
type Verifier struct {
	mu   sync.Mutex
	max  int
	keys map[[sha256.Size]byte]*signingEntry
	// fifo holds the cache keys in insertion order; the oldest is evicted first. Signing keys
	// change daily, so first-in-first-out is as good as least-recently-used here.
	fifo [][sha256.Size]byte
	next int
}

// NewVerifier returns a Verifier whose signing-key cache holds at most [DefaultCacheSize] keys.
func NewVerifier() *Verifier {
	return newVerifier(DefaultCacheSize)
}

func newVerifier(size int) *Verifier {
	if size < 1 {
		size = 1
	}
	return &Verifier{max: size, keys: make(map[[sha256.Size]byte]*signingEntry)}
}

// signingEntry is a cached signing key with a pool of HMACs keyed with it: keying an HMAC
// costs two hash states and the key's pads, more than the signature check itself.
type signingEntry struct {
	key  []byte
	macs sync.Pool // of hash.Hash
}

// sign writes the hex HMAC-SHA256 of msg under the entry's key to out.
func (e *signingEntry) sign(msg []byte, out *[2 * sha256.Size]byte) {
	m, _ := e.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, e.key)
	} else {
		m.Reset()
	}
	m.Write(msg)
	var sum [sha256.Size]byte
	hex.Encode(out[:], m.Sum(sum[:0]))
	e.macs.Put(m)
}

// signingKey returns the signing key for (secret, scope), deriving and caching it if needed.
func (v *Verifier) signingKey(secret string, s Scope) []byte { return v.signing(secret, s).key }

// signing returns the cached entry for (secret, scope), deriving the key if needed.
func (v *Verifier) signing(secret string, s Scope) *signingEntry {
	ck := cacheKey(secret, s)
	v.mu.Lock()
	e, ok := v.keys[ck]
	v.mu.Unlock()
	if ok {
		return e
	}
	e = &signingEntry{key: deriveSigningKey(secret, s)}
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.keys[ck]; ok {
		return old // another goroutine derived it meanwhile
	}
	if len(v.fifo) < v.max {
		v.fifo = append(v.fifo, ck)
	} else {
		delete(v.keys, v.fifo[v.next])
		v.fifo[v.next] = ck
		v.next = (v.next + 1) % v.max
	}
	v.keys[ck] = e
	return e
}

// cached reports how many signing keys are cached (for tests).
func (v *Verifier) cached() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.keys)
}
