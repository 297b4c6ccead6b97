package seal

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrOpen is the one error of [Sealer.Open] and [MasterKey.Unwrap]. It says
// nothing about why: wrong AAD, tampering, truncation and unknown keys all
// look the same, so a caller cannot be turned into an oracle.
var ErrOpen = errors.New("seal: cannot open ciphertext")

// Sealed record format:
//
//	version (1 byte) | data key ID (4 bytes big-endian) | nonce (12 bytes) | ciphertext + tag (16 bytes)
//
// The 17-byte header is authenticated too: GCM's additional data is the
// header followed by the caller's AAD. The header has a fixed length, so the
// concatenation is unambiguous.
const (
	sealVersion = 1
	nonceSize   = 12
	tagSize     = 16
	headerSize  = 1 + 4 + nonceSize
	// Overhead is the number of bytes Seal adds to a plaintext.
	Overhead = headerSize + tagSize
)

// Sealer encrypts records with the newest data key and opens records sealed
// with any key it knows. It is safe for concurrent use.
type Sealer struct {
	rand io.Reader

	mu     sync.RWMutex
	keys   map[uint32]*sealerKey
	active *sealerKey
}

type sealerKey struct {
	dk   *DataKey
	aead cipher.AEAD
}

// NewSealer returns a Sealer holding keys; the one with the highest ID seals.
// At least one key is required. Nonces are read from rand
// (crypto/rand.Reader in production).
func NewSealer(rand io.Reader, keys ...*DataKey) (*Sealer, error) {
	if rand == nil {
		return nil, errors.New("seal: nil random source")
	}
	if len(keys) == 0 {
		return nil, errors.New("seal: a sealer needs at least one data key")
	}
	s := &Sealer{rand: rand, keys: make(map[uint32]*sealerKey, len(keys))}
	for _, dk := range keys {
		if err := s.Add(dk); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add makes dk known to the sealer; it becomes the sealing key if its ID is
// the highest. Adding a key that is already known is a no-op, so a replica
// may re-add every stored key when it reloads them. Adding different key
// bytes under a known ID returns an error and changes nothing: records sealed
// under the first key must stay readable.
func (s *Sealer) Add(dk *DataKey) error {
	if dk == nil {
		return errors.New("seal: nil data key")
	}
	if dk.key == ([KeySize]byte{}) {
		// A DataKey literal rather than one from NewDataKey or Unwrap.
		return errors.New("seal: data key is all zeros")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = make(map[uint32]*sealerKey)
	}
	if old, ok := s.keys[dk.ID]; ok {
		if old.dk.equal(dk) {
			return nil
		}
		return fmt.Errorf("seal: a different data key with id %d is already known", dk.ID)
	}
	aead, err := newGCM(dk.key[:])
	if err != nil {
		return err
	}
	own := &DataKey{ID: dk.ID, key: dk.key} // a copy: the caller may clear theirs
	k := &sealerKey{dk: own, aead: aead}
	s.keys[dk.ID] = k
	if s.active == nil || dk.ID > s.active.dk.ID {
		s.active = k
	}
	return nil
}

// ActiveKeyID returns the ID of the key that [Sealer.Seal] uses.
func (s *Sealer) ActiveKeyID() uint32 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.active.dk.ID
}

// Seal encrypts plaintext with the active data key and binds it to aad (see
// [AAD]); the same aad must be given to [Sealer.Open].
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	s.mu.RLock()
	k := s.active
	s.mu.RUnlock()
	if k == nil || s.rand == nil {
		return nil, errors.New("seal: sealer not made by NewSealer")
	}

	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:5], k.dk.ID)
	if _, err := io.ReadFull(s.rand, out[5:headerSize]); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}
	return k.aead.Seal(out, out[5:headerSize], plaintext, additionalData(out[:headerSize], aad)), nil
}

// Open decrypts a ciphertext made by [Sealer.Seal] with any known key. Every
// failure (wrong aad, tampering, truncation, unknown key or version) returns
// [ErrOpen].
func (s *Sealer) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < Overhead || ciphertext[0] != sealVersion {
		return nil, ErrOpen
	}
	id := binary.BigEndian.Uint32(ciphertext[1:5])
	s.mu.RLock()
	k, ok := s.keys[id]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrOpen
	}
	header := ciphertext[:headerSize]
	pt, err := k.aead.Open(nil, header[5:], ciphertext[headerSize:], additionalData(header, aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}

// AAD encodes parts unambiguously as associated data for [Sealer.Seal] and
// [Sealer.Open]: each part is preceded by its length (uvarint), so
// AAD("a", "bc") and AAD("ab", "c") differ. Use it to bind a ciphertext to
// its record, for example AAD("secret-version", arn, versionID).
func AAD(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}
