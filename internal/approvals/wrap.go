package approvals

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// The redemption key is a 32-byte secret that the job generates and keeps
// in memory. Two keys are derived from it with HKDF-SHA256: an Ed25519 key
// that signs the redemption proof, and an X25519 key to which the broker
// seals the credentials. The broker stores only their public halves, so
// nothing it holds (its store, its logs, its audit trail) can redeem a
// request or open the sealed credentials; it checks the proof and hands the
// ciphertext over once.
//
// Sealing is ECIES over X25519: an ephemeral key pair, the shared secret
// through HKDF-SHA256 (salt: the ephemeral and recipient public keys; info:
// the request code) to an AES-256-GCM key, the code as associated data, so
// a sealed blob does not open under another request's code.

const (
	seedLen    = 32
	wrapV1     = 1
	infoSign   = "shortfuse approval redemption ed25519 v1"
	infoWrap   = "shortfuse approval redemption x25519 v1"
	infoSeal   = "shortfuse approval wrap v1\x00"
	proofLabel = "shortfuse approval redemption proof v1\x00"
)

// Sizes of the public values and of the proof.
const (
	VerifyKeySize = ed25519.PublicKeySize
	WrapKeySize   = 32
	ProofSize     = ed25519.SignatureSize
)

// RedemptionKey is the job's secret for one request. Its String and
// GoString never show it.
type RedemptionKey struct {
	sign ed25519.PrivateKey
	wrap *ecdh.PrivateKey
}

// NewRedemptionKey generates a key from rand.
func NewRedemptionKey(rand io.Reader) (*RedemptionKey, error) {
	var seed [seedLen]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("approvals: read random: %w", err)
	}
	defer clear(seed[:])
	return redemptionKeyFromSeed(seed[:])
}

func redemptionKeyFromSeed(seed []byte) (*RedemptionKey, error) {
	signSeed, err := hkdf.Key(sha256.New, seed, nil, infoSign, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	defer clear(signSeed)
	wrapSeed, err := hkdf.Key(sha256.New, seed, nil, infoWrap, 32)
	if err != nil {
		return nil, err
	}
	defer clear(wrapSeed)
	wk, err := ecdh.X25519().NewPrivateKey(wrapSeed)
	if err != nil {
		return nil, err
	}
	return &RedemptionKey{sign: ed25519.NewKeyFromSeed(signSeed), wrap: wk}, nil
}

// String hides the key.
func (k *RedemptionKey) String() string { return "approvals.RedemptionKey[redacted]" }

// GoString hides the key.
func (k *RedemptionKey) GoString() string { return k.String() }

// VerifyKey is the public key the broker checks proofs with.
func (k *RedemptionKey) VerifyKey() []byte {
	return append([]byte(nil), k.sign.Public().(ed25519.PublicKey)...)
}

// WrapKey is the public key the broker seals the credentials to.
func (k *RedemptionKey) WrapKey() []byte { return k.wrap.PublicKey().Bytes() }

// Proof signs the redemption of code.
func (k *RedemptionKey) Proof(code string) []byte {
	return ed25519.Sign(k.sign, []byte(proofLabel+code))
}

// VerifyProof checks a redemption proof for code against a verify key.
func VerifyProof(verifyKey []byte, code string, proof []byte) bool {
	if len(verifyKey) != VerifyKeySize || len(proof) != ProofSize {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(verifyKey), []byte(proofLabel+code), proof)
}

// CheckPublicKeys checks the public values a client sent.
func CheckPublicKeys(verifyKey, wrapKey []byte) error {
	if len(verifyKey) != VerifyKeySize {
		return fmt.Errorf("the verify key must be %d bytes (Ed25519)", VerifyKeySize)
	}
	if len(wrapKey) != WrapKeySize {
		return fmt.Errorf("the wrap key must be %d bytes (X25519)", WrapKeySize)
	}
	if _, err := ecdh.X25519().NewPublicKey(wrapKey); err != nil {
		return errors.New("the wrap key is not an X25519 public key")
	}
	return nil
}

// Wrap seals plaintext for the holder of the wrap key, bound to code.
func Wrap(rand io.Reader, wrapKey []byte, code string, plaintext []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(wrapKey)
	if err != nil {
		return nil, errors.New("approvals: wrap: bad wrap key")
	}
	eph, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("approvals: wrap: %w", err)
	}
	shared, err := eph.ECDH(pub)
	if err != nil {
		return nil, errors.New("approvals: wrap: bad wrap key")
	}
	ephPub := eph.PublicKey().Bytes()
	aead, err := sealCipher(shared, ephPub, wrapKey, code)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+len(ephPub)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, wrapV1)
	out = append(out, ephPub...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("approvals: wrap: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, []byte(code)), nil
}

// Unwrap opens a blob sealed by Wrap for code.
func (k *RedemptionKey) Unwrap(code string, blob []byte) ([]byte, error) {
	errOpen := errors.New("approvals: the sealed credentials do not open with this request's key")
	if len(blob) < 1+32+12+16 || blob[0] != wrapV1 {
		return nil, errOpen
	}
	ephPub := blob[1:33]
	pub, err := ecdh.X25519().NewPublicKey(ephPub)
	if err != nil {
		return nil, errOpen
	}
	shared, err := k.wrap.ECDH(pub)
	if err != nil {
		return nil, errOpen
	}
	aead, err := sealCipher(shared, ephPub, k.WrapKey(), code)
	if err != nil {
		return nil, err
	}
	rest := blob[33:]
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte(code))
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

func sealCipher(shared, ephPub, recipient []byte, code string) (cipher.AEAD, error) {
	defer clear(shared)
	salt := append(append([]byte(nil), ephPub...), recipient...)
	key, err := hkdf.Key(sha256.New, shared, salt, infoSeal+code, 32)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
