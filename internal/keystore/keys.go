package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store"
)

// TopicKeys is the feed topic published when key records change: every
// replica then reloads its keys (Keys.Reload).
const TopicKeys = "keys"

// DefaultRetireAfter is how long a session server key still opens tokens
// after a newer key took over minting: the longest session AWS allows
// (GetSessionToken, 36 h) and a margin for replicas that minted with it a
// little longer, before they learned of the new key, and for clock skew.
const DefaultRetireAfter = 36*time.Hour + 15*time.Minute

// Key kinds, as in the store layout (keyName) and in KeyInfo.
const (
	KindDataKey    = "data"
	KindSessionKey = "session"
)

// infoName is the key of the record that dates a key: "info/KIND/ID".
func infoName(kind string, id uint32) string { return "info/" + keyName(kind, id) }

// keyInfo is the clear record kept beside each key.
type keyInfo struct {
	Created  time.Time `json:"created,omitzero"`
	RetireAt time.Time `json:"retireAt,omitzero"`
}

// KeyInfo describes one stored key (never its material).
type KeyInfo struct {
	Kind     string    // KindDataKey or KindSessionKey
	ID       uint32    //
	Created  time.Time // zero for keys made before keys were dated
	RetireAt time.Time // session keys that no longer mint: when they are removed
	Active   bool      // the key that seals (data) or mints (session)
}

// Publisher records a change for the other replicas inside the store
// transaction that makes it (package feed).
type Publisher interface {
	Publish(tx store.Tx, topic, subject string) error
}

// Keys keeps a broker's data keys (in its Sealer) and session server keys
// (in its Keyring) in step with the key records of the store, which every
// replica shares, and rotates them.
//
// Data keys are never removed: records sealed under an old one stay
// readable, and new records are sealed under the newest. A session key that
// a newer key replaced keeps opening the tokens it minted until every one
// of them has expired (RotatePolicy.RetireAfter); then it is deleted, and
// every replica forgets it.
type Keys struct {
	st     store.Store
	mk     *seal.MasterKey
	sealer *seal.Sealer
	kr     *sessiontoken.Keyring
	rnd    io.Reader
	pub    Publisher

	mu       sync.Mutex // serializes Reload
	sessions map[uint32]bool
	data     map[uint32]bool

	missMu   sync.Mutex // serializes reloads for tokens of unknown keys
	lastMiss time.Time  // when the last such reload ended
}

// missReloadEvery bounds the store reads that tokens naming an unknown,
// newer key can cause: a forged token costs at most one reload in this
// interval, whatever the rate of such tokens.
const missReloadEvery = 100 * time.Millisecond

// newerKey reloads the keys for a token that names a session key newer than
// any this replica knows: another replica rotated, and the change feed has
// not told this one yet. Without it, a session minted on the other replica
// just after a rotation would be refused here for up to the feed's delay.
func (k *Keys) newerKey(id uint32) {
	k.missMu.Lock()
	defer k.missMu.Unlock()
	if k.known(id) {
		return // a reload made while this caller waited found it
	}
	if time.Since(k.lastMiss) < missReloadEvery {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = k.Reload(ctx) // a failure leaves the token refused, as before
	k.lastMiss = time.Now()
}

// known reports whether the session key id is loaded.
func (k *Keys) known(id uint32) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sessions[id]
}

// NewKeys returns the key manager of a broker whose sealer and keyring
// came from LoadKeys, and loads any key they lack. pub may be nil (a single
// broker).
func NewKeys(ctx context.Context, st store.Store, mk *seal.MasterKey, sealer *seal.Sealer, kr *sessiontoken.Keyring, rnd io.Reader, pub Publisher) (*Keys, error) {
	k := &Keys{st: st, mk: mk, sealer: sealer, kr: kr, rnd: rnd, pub: pub, sessions: map[uint32]bool{}, data: map[uint32]bool{}}
	kr.OnNewerKey(k.newerKey)
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload reads the key records: it adds the keys it does not know yet to the
// sealer and the keyring, and removes from the keyring the session keys
// that were deleted. Call it when another replica published TopicKeys.
func (k *Keys) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	data := map[uint32][]byte{}
	sessions := map[uint32][]byte{}
	err := k.st.View(ctx, func(tx store.Tx) error {
		if err := scanKeys(tx, KindDataKey, func(id uint32, v []byte) { data[id] = v }); err != nil {
			return err
		}
		return scanKeys(tx, KindSessionKey, func(id uint32, v []byte) { sessions[id] = v })
	})
	if err != nil {
		return err
	}
	if len(data) == 0 || len(sessions) == 0 {
		// Never empty the keyring on a read that found nothing.
		return errors.New("keys: the store holds no data or session keys")
	}
	// Data keys first: a new session key may be sealed under a new data key.
	for _, id := range slices.Sorted(maps.Keys(data)) {
		if k.data[id] {
			continue
		}
		dk, err := k.mk.Unwrap(id, data[id])
		if err != nil {
			return fmt.Errorf("data key %d does not open with this master key (wrong --master-key-file?): %w", id, err)
		}
		if err := k.sealer.Add(dk); err != nil {
			return fmt.Errorf("data key %d: %w", id, err)
		}
		k.data[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(sessions)) {
		if k.sessions[id] {
			continue
		}
		b, err := k.sealer.Open(sessions[id], seal.AAD("server-key", keyName(KindSessionKey, id)))
		if err != nil {
			return fmt.Errorf("session key %d: %w", id, err)
		}
		sk, err := sessiontoken.ServerKeyFromBytes(id, b)
		clear(b)
		if err != nil {
			return fmt.Errorf("session key %d: %w", id, err)
		}
		if err := k.kr.Add(sk); err != nil {
			return fmt.Errorf("session key %d: %w", id, err)
		}
		k.sessions[id] = true
	}
	for id := range k.sessions {
		if _, ok := sessions[id]; !ok {
			k.kr.Remove(id)
			delete(k.sessions, id)
		}
	}
	return nil
}

func scanKeys(tx store.Tx, kind string, fn func(id uint32, v []byte)) error {
	prefix := kind + "/"
	return tx.Scan(bucketKeys, prefix, "", func(key string, v []byte) (bool, error) {
		id, err := parseKeyID(key, prefix)
		if err != nil {
			return false, err
		}
		fn(id, slices.Clone(v))
		return true, nil
	})
}

// RotatePolicy says which keys Rotate replaces.
type RotatePolicy struct {
	// SessionKeyEvery and DataKeyEvery replace the newest key of a kind
	// once it is that old. Zero never does.
	SessionKeyEvery, DataKeyEvery time.Duration
	// Session and Data replace the newest key of a kind now, whatever its age.
	Session, Data bool
	// RetireAfter is how long a replaced session key still opens the
	// tokens it minted. Zero means DefaultRetireAfter. It must exceed the
	// longest session any replica mints.
	RetireAfter time.Duration
	// RetireOld deletes every session key but the newest now, whatever
	// their retirement time: every session they minted stops working, on
	// every replica. For a session key that may have leaked.
	RetireOld bool
}

// Rotation says what Rotate did.
type Rotation struct {
	SessionKey uint32   // the new session key's id, 0 if none
	DataKey    uint32   // the new data key's id, 0 if none
	Retired    []uint32 // session keys deleted
}

// Changed reports whether Rotate changed any key.
func (r Rotation) Changed() bool {
	return r.SessionKey != 0 || r.DataKey != 0 || len(r.Retired) > 0
}

// Rotate replaces the keys that policy says are due at now, deletes the
// replaced session keys whose retirement time has come, and reloads. Keys
// made before they were dated get their date now, so a broker upgraded in
// place rotates one period later. Several replicas may call it at once:
// only one replaces a given key.
func (k *Keys) Rotate(ctx context.Context, now time.Time, policy RotatePolicy) (Rotation, error) {
	if policy.RetireAfter <= 0 {
		policy.RetireAfter = DefaultRetireAfter
	}
	now = now.UTC().Truncate(time.Second)
	var rot Rotation
	err := k.st.Update(ctx, func(tx store.Tx) error {
		rot = Rotation{}
		changed := false
		newData, dataChanged, err := k.rotateKind(tx, KindDataKey, now, policy.Data, policy.DataKeyEvery, 0)
		if err != nil {
			return err
		}
		newSession, sessionChanged, err := k.rotateKind(tx, KindSessionKey, now, policy.Session, policy.SessionKeyEvery, policy.RetireAfter)
		if err != nil {
			return err
		}
		retired, err := retireSessionKeys(tx, now, policy.RetireOld)
		if err != nil {
			return err
		}
		rot = Rotation{SessionKey: newSession, DataKey: newData, Retired: retired}
		changed = dataChanged || sessionChanged || len(retired) > 0
		if changed && k.pub != nil {
			return k.pub.Publish(tx, TopicKeys, "")
		}
		return nil
	})
	if errors.Is(err, store.ErrExists) {
		// Another replica made the same key first: take its.
		rot, err = Rotation{}, nil
	}
	if err != nil {
		return Rotation{}, err
	}
	if err := k.Reload(ctx); err != nil {
		return rot, err
	}
	return rot, nil
}

// rotateKind makes a new key of kind if force, or if the newest is at least
// every old, and returns its id. retireAfter > 0 dates the retirement of
// the key it replaces. changed also reports that records were only dated.
func (k *Keys) rotateKind(tx store.Tx, kind string, now time.Time, force bool, every, retireAfter time.Duration) (newID uint32, changed bool, err error) {
	var newest uint32
	if err := scanKeys(tx, kind, func(id uint32, _ []byte) { newest = max(newest, id) }); err != nil {
		return 0, false, err
	}
	if newest == 0 {
		return 0, false, fmt.Errorf("keys: no %s keys in the store", kind)
	}
	info, err := getInfo(tx, kind, newest)
	if err != nil {
		return 0, false, err
	}
	if info.Created.IsZero() {
		// Made before keys were dated: its period starts now.
		info.Created = now
		if err := putInfo(tx, kind, newest, info); err != nil {
			return 0, false, err
		}
		changed = true
	}
	due := force || (every > 0 && !now.Before(info.Created.Add(every)))
	if !due {
		return 0, changed, nil
	}
	if newest == ^uint32(0) {
		return 0, false, fmt.Errorf("keys: %s key ids are exhausted", kind)
	}
	id := newest + 1
	var v []byte
	switch kind {
	case KindDataKey:
		dk, err := seal.NewDataKey(k.rnd, id)
		if err != nil {
			return 0, false, err
		}
		if v, err = k.mk.Wrap(dk, k.rnd); err != nil {
			return 0, false, err
		}
	case KindSessionKey:
		sk, err := sessiontoken.NewServerKey(k.rnd, id)
		if err != nil {
			return 0, false, err
		}
		b := sk.Bytes()
		v, err = k.sealer.Seal(b, seal.AAD("server-key", keyName(KindSessionKey, id)))
		clear(b)
		if err != nil {
			return 0, false, err
		}
	}
	if err := tx.Insert(bucketKeys, keyName(kind, id), v); err != nil {
		return 0, false, err
	}
	if err := putInfo(tx, kind, id, keyInfo{Created: now}); err != nil {
		return 0, false, err
	}
	if retireAfter > 0 {
		info.RetireAt = now.Add(retireAfter)
		if err := putInfo(tx, kind, newest, info); err != nil {
			return 0, false, err
		}
	}
	return id, true, nil
}

// retireSessionKeys deletes the session keys whose retirement time has
// come (all of them with all set), never the newest. A replaced key without
// a retirement time (older versions did not date them) gets one now.
func retireSessionKeys(tx store.Tx, now time.Time, all bool) ([]uint32, error) {
	var ids []uint32
	if err := scanKeys(tx, KindSessionKey, func(id uint32, _ []byte) { ids = append(ids, id) }); err != nil {
		return nil, err
	}
	var retired []uint32
	for _, id := range ids[:max(len(ids)-1, 0)] {
		info, err := getInfo(tx, KindSessionKey, id)
		if err != nil {
			return nil, err
		}
		switch {
		case all, !info.RetireAt.IsZero() && !now.Before(info.RetireAt):
			if err := tx.Delete(bucketKeys, keyName(KindSessionKey, id)); err != nil {
				return nil, err
			}
			if err := tx.Delete(bucketKeys, infoName(KindSessionKey, id)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			retired = append(retired, id)
		case info.RetireAt.IsZero():
			info.RetireAt = now.Add(DefaultRetireAfter)
			if err := putInfo(tx, KindSessionKey, id, info); err != nil {
				return nil, err
			}
		}
	}
	return retired, nil
}

func getInfo(tx store.Tx, kind string, id uint32) (keyInfo, error) {
	var info keyInfo
	v, err := tx.Get(bucketKeys, infoName(kind, id))
	if errors.Is(err, store.ErrNotFound) {
		return info, nil
	}
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(v, &info); err != nil {
		return info, fmt.Errorf("keys: %s key %d: malformed date record", kind, id)
	}
	return info, nil
}

func putInfo(tx store.Tx, kind string, id uint32, info keyInfo) error {
	v, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return tx.Put(bucketKeys, infoName(kind, id), v)
}

// ListKeys describes the keys in the store, data keys first, each kind by id.
func ListKeys(ctx context.Context, st store.Store) ([]KeyInfo, error) {
	var out []KeyInfo
	err := st.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		for _, kind := range []string{KindDataKey, KindSessionKey} {
			var ids []uint32
			if err := scanKeys(tx, kind, func(id uint32, _ []byte) { ids = append(ids, id) }); err != nil {
				return err
			}
			for i, id := range ids {
				info, err := getInfo(tx, kind, id)
				if err != nil {
					return err
				}
				out = append(out, KeyInfo{Kind: kind, ID: id, Created: info.Created, RetireAt: info.RetireAt, Active: i == len(ids)-1})
			}
		}
		return nil
	})
	return out, err
}

// RewrapDataKeys re-encrypts every data key of the store under newMK, so
// that the master key can be replaced; records sealed under the data keys
// are untouched. Every key must open with oldMK first: either all are
// re-wrapped or none. Brokers that use the store must be stopped, and
// started again with the new master key.
func RewrapDataKeys(ctx context.Context, st store.Store, oldMK, newMK *seal.MasterKey, rnd io.Reader) (int, error) {
	n := 0
	err := st.Update(ctx, func(tx store.Tx) error {
		n = 0
		wrapped := map[uint32][]byte{}
		if err := scanKeys(tx, KindDataKey, func(id uint32, v []byte) { wrapped[id] = v }); err != nil {
			return err
		}
		if len(wrapped) == 0 {
			return errors.New("keys: the store holds no data keys")
		}
		for _, id := range slices.Sorted(maps.Keys(wrapped)) {
			dk, err := oldMK.Unwrap(id, wrapped[id])
			if err != nil {
				return fmt.Errorf("data key %d does not open with the current master key: %w", id, err)
			}
			v, err := newMK.Wrap(dk, rnd)
			if err != nil {
				return err
			}
			if err := tx.Put(bucketKeys, keyName(KindDataKey, id), v); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// StoreHasKeys reports whether st already holds data keys, and so belongs
// to some master key: a broker must then not make a new one.
func StoreHasKeys(ctx context.Context, st store.Store) (bool, error) {
	var n int
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.Count(bucketKeys, KindDataKey+"/")
		return err
	})
	return n > 0, err
}

// CheckStore reads the account id of a store (a backup about to be
// restored) and, if mk is not nil, checks that mk opens every data key.
func CheckStore(ctx context.Context, st store.Store, mk *seal.MasterKey) (account string, err error) {
	err = st.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bucketMeta, "account")
		if errors.Is(err, store.ErrNotFound) {
			return errors.New("the store has no account: it was never used by a broker")
		}
		if err != nil {
			return err
		}
		account = string(v)
		if mk == nil {
			return nil
		}
		var bad []uint32
		n := 0
		err = scanKeys(tx, KindDataKey, func(id uint32, v []byte) {
			n++
			if _, err := mk.Unwrap(id, v); err != nil {
				bad = append(bad, id)
			}
		})
		switch {
		case err != nil:
			return err
		case n == 0:
			return errors.New("the store holds no data keys")
		case len(bad) > 0:
			return fmt.Errorf("data keys %v do not open with this master key", bad)
		}
		return nil
	})
	return account, err
}
