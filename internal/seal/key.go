package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// KeySize is the size in bytes of master keys and data keys (AES-256).
const KeySize = 32

const (
	masterKeyPrefix = "shortfuse-master-key-v1:"
	redacted        = "[redacted]"
)

// ErrMalformedKey is returned by [ParseMasterKey] (and the key-file loaders)
// when the text is not a master key. The error never quotes the text.
var ErrMalformedKey = errors.New("seal: malformed master key")

// errZeroMaster refuses a MasterKey literal: a real key is never all zeros.
var errZeroMaster = errors.New("seal: master key is all zeros (not generated or parsed)")

// MasterKey wraps and unwraps data keys. It is never printed, logged or
// marshalled: every formatting method yields "[redacted]". The only way to
// obtain its value is [MasterKey.Text], for writing the key file.
type MasterKey struct {
	key [KeySize]byte
}

// GenerateMasterKey returns a new random master key read from rand
// (crypto/rand.Reader in production).
func GenerateMasterKey(rand io.Reader) (*MasterKey, error) {
	k := new(MasterKey)
	if _, err := io.ReadFull(rand, k.key[:]); err != nil {
		return nil, fmt.Errorf("seal: generate master key: %w", err)
	}
	return k, nil
}

// ParseMasterKey parses the text format written by [MasterKey.Text]:
//
//	shortfuse-master-key-v1:<standard base64 of 32 bytes>
//
// Surrounding white space (such as the final newline of a key file or of an
// environment variable) is ignored. Any other deviation returns
// [ErrMalformedKey].
func ParseMasterKey(text string) (*MasterKey, error) {
	text = strings.TrimSpace(text)
	b64, ok := strings.CutPrefix(text, masterKeyPrefix)
	if !ok {
		return nil, ErrMalformedKey
	}
	// Strict: one text, one key (no ignored padding bits, no newlines inside).
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != KeySize || strings.ContainsAny(b64, "\r\n") {
		clear(raw)
		return nil, ErrMalformedKey
	}
	k := new(MasterKey)
	copy(k.key[:], raw)
	clear(raw)
	return k, nil
}

// Text returns the key in the key-file format, ending with a newline. It is
// the one place the master key leaves this package; treat the result as the
// key itself.
func (k *MasterKey) Text() string {
	return masterKeyPrefix + base64.StdEncoding.EncodeToString(k.key[:]) + "\n"
}

// String returns "[redacted]".
func (MasterKey) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not print the key either.
func (MasterKey) GoString() string { return redacted }

// Format writes "[redacted]" for every verb: without it, verbs such as %x or
// %d would print the struct's bytes.
func (MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue returns "[redacted]" for log/slog.
func (MasterKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (MasterKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// DataKey is an AES-256-GCM key that seals records. The caller stores it
// wrapped under the master key ([MasterKey.Wrap]) together with its ID. Like
// the master key, it never prints.
type DataKey struct {
	ID  uint32
	key [KeySize]byte
}

// NewDataKey returns a new random data key with the given ID. IDs order keys:
// the highest known ID is the one a [Sealer] seals with.
func NewDataKey(rand io.Reader, id uint32) (*DataKey, error) {
	dk := &DataKey{ID: id}
	if _, err := io.ReadFull(rand, dk.key[:]); err != nil {
		return nil, fmt.Errorf("seal: generate data key: %w", err)
	}
	return dk, nil
}

// String returns the key ID with the key redacted.
func (dk DataKey) String() string { return fmt.Sprintf("seal.DataKey{ID:%d, key:%s}", dk.ID, redacted) }

// GoString is [DataKey.String].
func (dk DataKey) GoString() string { return dk.String() }

// Format writes [DataKey.String] for every verb.
func (dk DataKey) Format(f fmt.State, _ rune) { io.WriteString(f, dk.String()) }

// LogValue logs the key ID only.
func (dk DataKey) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("id", uint64(dk.ID)), slog.String("key", redacted))
}

// MarshalJSON returns the key ID only.
func (dk DataKey) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"ID":%d,"key":%q}`, dk.ID, redacted), nil
}

// Wrapped data key format:
//
//	version (1 byte) | nonce (12 bytes) | AES-GCM(master key, data key) + tag (16 bytes)
//
// The AAD is "shortfuse-seal-wrap" | version | key ID (4 bytes big-endian):
// a wrapped key stored under another ID, or bytes swapped between two
// wrapped keys, do not unwrap.
const (
	wrapVersion = 1
	wrapLabel   = "shortfuse-seal-wrap"
	wrappedLen  = 1 + nonceSize + KeySize + tagSize
)

func wrapAAD(id uint32) []byte {
	aad := make([]byte, 0, len(wrapLabel)+5)
	aad = append(aad, wrapLabel...)
	aad = append(aad, wrapVersion)
	return binary.BigEndian.AppendUint32(aad, id)
}

// Wrap encrypts dk under the master key, with a nonce read from rand. Store
// the result with dk.ID; give both back to [MasterKey.Unwrap].
func (k *MasterKey) Wrap(dk *DataKey, rand io.Reader) ([]byte, error) {
	if dk == nil || dk.key == ([KeySize]byte{}) {
		return nil, errors.New("seal: wrap: nil or all-zero data key")
	}
	if k.key == ([KeySize]byte{}) {
		return nil, errZeroMaster
	}
	aead, err := newGCM(k.key[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, wrappedLen)
	out[0] = wrapVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("seal: wrap: read nonce: %w", err)
	}
	return aead.Seal(out, out[1:], dk.key[:], wrapAAD(dk.ID)), nil
}

// Unwrap decrypts a data key wrapped by [MasterKey.Wrap] and returns it with
// the given ID. It returns [ErrOpen] if the bytes were tampered with, belong
// to another ID, or were wrapped under another master key.
func (k *MasterKey) Unwrap(id uint32, wrapped []byte) (*DataKey, error) {
	if k.key == ([KeySize]byte{}) {
		return nil, errZeroMaster
	}
	if len(wrapped) != wrappedLen || wrapped[0] != wrapVersion {
		return nil, ErrOpen
	}
	aead, err := newGCM(k.key[:])
	if err != nil {
		return nil, err
	}
	nonce, ct := wrapped[1:1+nonceSize], wrapped[1+nonceSize:]
	raw, err := aead.Open(nil, nonce, ct, wrapAAD(id))
	if err != nil {
		return nil, ErrOpen
	}
	dk := &DataKey{ID: id}
	copy(dk.key[:], raw)
	clear(raw)
	return dk, nil
}

// equal reports in constant time whether two keys have the same bytes.
func (dk *DataKey) equal(o *DataKey) bool {
	return subtle.ConstantTimeCompare(dk.key[:], o.key[:]) == 1
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead, nil
}
