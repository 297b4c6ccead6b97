package keystore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store"
)

// Store layout of the broker's own records.
const (
	bucketMeta = "meta"
	bucketKeys = "keys"
)

var reAccount = regexp.MustCompile(`^\d{12}$`)

// LoadAccount returns the broker's account id: the stored one, or on first
// start want (if given) or a random 12-digit id, stored. A want that differs
// from the stored id is an error: the id is part of every ARN already issued.
func LoadAccount(ctx context.Context, st store.Store, want string, rnd io.Reader) (string, error) {
	if want != "" && !reAccount.MatchString(want) {
		return "", fmt.Errorf("account id %q is not 12 digits", want)
	}
	var account string
	err := st.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bucketMeta, "account")
		if err == nil {
			account = string(v)
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		account = want
		if account == "" {
			n, err := rand.Int(rnd, big.NewInt(9e11))
			if err != nil {
				return err
			}
			account = fmt.Sprintf("%012d", n.Int64()+1e11)
		}
		return tx.Put(bucketMeta, "account", []byte(account))
	})
	if err != nil {
		return "", err
	}
	if want != "" && want != account {
		return "", fmt.Errorf("the data directory belongs to account %s, not %s", account, want)
	}
	return account, nil
}

func keyName(kind string, id uint32) string { return fmt.Sprintf("%s/%08x", kind, id) }

// LoadKeys loads the data keys (wrapped under the master key) that seal
// records at rest, and the server keys (sealed under a data key) that seal
// session tokens. On first start it creates one of each.
func LoadKeys(ctx context.Context, st store.Store, mk *seal.MasterKey, rnd io.Reader) (*seal.Sealer, *sessiontoken.Keyring, error) {
	// Create the first keys if there are none. The fn may run more than once
	// (batched transactions), so it generates inside and keeps no state.
	if err := st.Update(ctx, func(tx store.Tx) error { return createFirstKeys(tx, mk, rnd) }); err != nil {
		return nil, nil, err
	}
	var (
		dataKeys   []*seal.DataKey
		sealedKeys = map[uint32][]byte{}
	)
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		dataKeys, sealedKeys, err = readKeys(tx, mk)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(dataKeys) == 0 {
		return nil, nil, errors.New("no data keys in the store")
	}
	sealer, err := seal.NewSealer(rnd, dataKeys...)
	if err != nil {
		return nil, nil, err
	}
	var serverKeys []*sessiontoken.ServerKey
	for id, ct := range sealedKeys {
		b, err := sealer.Open(ct, seal.AAD("server-key", keyName("session", id)))
		if err != nil {
			return nil, nil, fmt.Errorf("server key %d: %w", id, err)
		}
		sk, err := sessiontoken.ServerKeyFromBytes(id, b)
		if err != nil {
			return nil, nil, err
		}
		serverKeys = append(serverKeys, sk)
	}
	if len(serverKeys) == 0 {
		return nil, nil, errors.New("no session keys in the store")
	}
	kr, err := sessiontoken.NewKeyring(serverKeys...)
	if err != nil {
		return nil, nil, err
	}
	return sealer, kr, nil
}

// createFirstKeys creates data key 1 (wrapped under the master key) and
// session key 1 (sealed under data key 1) in a store that has no data key.
func createFirstKeys(tx store.Tx, mk *seal.MasterKey, rnd io.Reader) error {
	n, err := tx.Count(bucketKeys, "data/")
	if err != nil || n > 0 {
		return err
	}
	dk, err := seal.NewDataKey(rnd, 1)
	if err != nil {
		return err
	}
	wrapped, err := mk.Wrap(dk, rnd)
	if err != nil {
		return err
	}
	if err := tx.Put(bucketKeys, keyName("data", 1), wrapped); err != nil {
		return err
	}
	sealer, err := seal.NewSealer(rnd, dk)
	if err != nil {
		return err
	}
	sk, err := sessiontoken.NewServerKey(rnd, 1)
	if err != nil {
		return err
	}
	ct, err := sealer.Seal(sk.Bytes(), seal.AAD("server-key", keyName("session", 1)))
	if err != nil {
		return err
	}
	return tx.Put(bucketKeys, keyName("session", 1), ct)
}

// readKeys unwraps the data keys with the master key and reads the sealed
// session keys, by id.
func readKeys(tx store.Tx, mk *seal.MasterKey) (dataKeys []*seal.DataKey, sealedKeys map[uint32][]byte, err error) {
	sealedKeys = map[uint32][]byte{}
	if err := tx.Scan(bucketKeys, "data/", "", func(k string, v []byte) (bool, error) {
		id, err := parseKeyID(k, "data/")
		if err != nil {
			return false, err
		}
		dk, err := mk.Unwrap(id, v)
		if err != nil {
			return false, fmt.Errorf("data key %s does not open with this master key (wrong --master-key-file?): %w", k, err)
		}
		dataKeys = append(dataKeys, dk)
		return true, nil
	}); err != nil {
		return nil, nil, err
	}
	err = tx.Scan(bucketKeys, "session/", "", func(k string, v []byte) (bool, error) {
		id, err := parseKeyID(k, "session/")
		if err != nil {
			return false, err
		}
		sealedKeys[id] = append([]byte(nil), v...)
		return true, nil
	})
	return dataKeys, sealedKeys, err
}

func parseKeyID(k, prefix string) (uint32, error) {
	v, err := strconv.ParseUint(k[len(prefix):], 16, 32)
	if err != nil || len(k) != len(prefix)+8 {
		return 0, fmt.Errorf("malformed key record %q", k)
	}
	return uint32(v), nil
}

// LoadAuditKey returns the key of the audit trail's HMACs, sealed in the
// store; on first start it creates one.
func LoadAuditKey(ctx context.Context, st store.Store, sealer *seal.Sealer, rnd io.Reader) ([]byte, error) {
	const name = "audit/00000001"
	aad := seal.AAD("audit-key", name)
	var key []byte
	err := st.Update(ctx, func(tx store.Tx) error {
		ct, err := tx.Get(bucketKeys, name)
		if err == nil {
			key, err = sealer.Open(ct, aad)
			if err != nil {
				return fmt.Errorf("audit key: %w", err)
			}
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		k := make([]byte, 32)
		if _, err := io.ReadFull(rnd, k); err != nil {
			return err
		}
		ct, err = sealer.Seal(k, aad)
		if err != nil {
			return err
		}
		key = k
		return tx.Put(bucketKeys, name, ct)
	})
	return key, err
}
