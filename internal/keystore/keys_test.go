package keystore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// keyReplica is what one broker holds of the keys.
type keyReplica struct {
	sealer *seal.Sealer
	kr     *sessiontoken.Keyring
	keys   *Keys
}

// keyTopics records the topics published.
type keyTopics struct {
	mu     sync.Mutex
	topics []string
}

func (p *keyTopics) Publish(_ store.Tx, topic, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.topics = append(p.topics, topic)
	return nil
}

func newKeyReplica(t *testing.T, st store.Store, mk *seal.MasterKey, pub Publisher) *keyReplica {
	t.Helper()
	sealer, kr, err := LoadKeys(t.Context(), st, mk, rand.Reader)
	if err != nil {
		t.Fatalf("LoadKeys() = %v", err)
	}
	keys, err := NewKeys(t.Context(), st, mk, sealer, kr, rand.Reader, pub)
	if err != nil {
		t.Fatalf("NewKeys() = %v", err)
	}
	return &keyReplica{sealer: sealer, kr: kr, keys: keys}
}

func openKeyStore(t *testing.T) (store.Store, *seal.MasterKey) {
	t.Helper()
	st, _ := testutil.TempStore(t)
	mk, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return st, mk
}

var keysT0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// mint issues a session on r and returns its credentials.
func (r *keyReplica) mint(t *testing.T) sessiontoken.Credentials {
	t.Helper()
	creds, _, err := r.kr.Mint(sessiontoken.Claims{
		Account:      "123456789012",
		Type:         sessiontoken.TypeGetSessionToken,
		PrincipalARN: "arn:aws:iam::123456789012:user/alice",
		IssuedAt:     keysT0,
		Expires:      keysT0.Add(time.Hour),
	}, rand.Reader)
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	return creds
}

// opens reports whether r accepts the session credentials c.
func (r *keyReplica) opens(c sessiontoken.Credentials) bool {
	claims, err := r.kr.Open(c.SessionToken, c.AccessKeyID)
	if err != nil {
		return false
	}
	secret, err := r.kr.Secret(claims)
	return err == nil && secret == c.SecretAccessKey
}

func (r *keyReplica) mustRotate(t *testing.T, now time.Time, p RotatePolicy) Rotation {
	t.Helper()
	rot, err := r.keys.Rotate(t.Context(), now, p)
	if err != nil {
		t.Fatalf("Rotate() = %v", err)
	}
	return rot
}

func (r *keyReplica) mustReload(t *testing.T) {
	t.Helper()
	if err := r.keys.Reload(t.Context()); err != nil {
		t.Fatalf("Reload() = %v", err)
	}
}

func TestRotateSessionKey(t *testing.T) {
	st, mk := openKeyStore(t)
	var pub keyTopics
	a := newKeyReplica(t, st, mk, &pub)
	b := newKeyReplica(t, st, mk, nil)
	old := a.mint(t)

	rot := a.mustRotate(t, keysT0, RotatePolicy{Session: true})
	if rot.SessionKey != 2 || rot.DataKey != 0 || len(rot.Retired) != 0 {
		t.Fatalf("Rotate() = %+v, want session key 2 only", rot)
	}
	if got := pub.topics; !slices.Equal(got, []string{TopicKeys}) {
		t.Errorf("published %q, want [%q]", got, TopicKeys)
	}
	if id, _ := a.kr.ActiveKeyID(); id != 2 {
		t.Errorf("rotating replica mints with key %d, want 2", id)
	}
	newer := a.mint(t)
	// The other replica has not heard of the rotation (no feed here), and
	// loads the newer key when a token names it.
	if !b.opens(newer) {
		t.Fatal("the other replica refused a session of the key the rotation added")
	}
	// A token of a newer key that no replica has is refused all the same.
	k99, err := sessiontoken.NewServerKey(rand.Reader, 99)
	if err != nil {
		t.Fatal(err)
	}
	forgedRing, err := sessiontoken.NewKeyring(k99)
	if err != nil {
		t.Fatal(err)
	}
	forged, _, err := forgedRing.Mint(sessiontoken.Claims{Account: "123456789012", Type: sessiontoken.TypeGetSessionToken,
		PrincipalARN: "arn:aws:iam::123456789012:user/alice", IssuedAt: keysT0, Expires: keysT0.Add(time.Hour)}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if b.opens(forged) {
		t.Fatal("a token of a key no replica has was opened")
	}
	b.mustReload(t)
	if id, _ := b.kr.ActiveKeyID(); id != 2 {
		t.Errorf("other replica mints with key %d after Reload, want 2", id)
	}
	for name, r := range map[string]*keyReplica{"rotating": a, "other": b} {
		if !r.opens(old) || !r.opens(newer) || !r.opens(b.mint(t)) {
			t.Errorf("%s replica: a live session stopped working after the rotation", name)
		}
	}

	// Not yet retired just before RetireAfter; gone at it, everywhere.
	retire := keysT0.Add(DefaultRetireAfter)
	if rot := a.mustRotate(t, retire.Add(-time.Second), RotatePolicy{}); rot.Changed() {
		t.Errorf("Rotate() before the retirement time = %+v, want no change", rot)
	}
	if !a.opens(old) {
		t.Error("the old key was retired early")
	}
	if rot := a.mustRotate(t, retire, RotatePolicy{}); !slices.Equal(rot.Retired, []uint32{1}) {
		t.Errorf("Rotate() at the retirement time = %+v, want key 1 retired", rot)
	}
	b.mustReload(t)
	for name, r := range map[string]*keyReplica{"rotating": a, "other": b} {
		if r.opens(old) {
			t.Errorf("%s replica still opens a token of a retired key", name)
		}
		if !r.opens(newer) {
			t.Errorf("%s replica no longer opens a token of the active key", name)
		}
	}
}

func TestRotateRetireOld(t *testing.T) {
	st, mk := openKeyStore(t)
	a := newKeyReplica(t, st, mk, nil)
	b := newKeyReplica(t, st, mk, nil)
	first := a.mint(t)
	a.mustRotate(t, keysT0, RotatePolicy{Session: true})
	second := a.mint(t)
	rot := a.mustRotate(t, keysT0.Add(time.Minute), RotatePolicy{Session: true, RetireOld: true})
	if rot.SessionKey != 3 || !slices.Equal(rot.Retired, []uint32{1, 2}) {
		t.Fatalf("Rotate() = %+v, want key 3 and keys 1, 2 retired", rot)
	}
	b.mustReload(t)
	for name, r := range map[string]*keyReplica{"rotating": a, "other": b} {
		if r.opens(first) || r.opens(second) {
			t.Errorf("%s replica still opens sessions of retired keys", name)
		}
		if !r.opens(a.mint(t)) {
			t.Errorf("%s replica does not open a session of the new key", name)
		}
	}
}

func TestRotateSchedule(t *testing.T) {
	st, mk := openKeyStore(t)
	a := newKeyReplica(t, st, mk, nil)
	p := RotatePolicy{SessionKeyEvery: 24 * time.Hour, DataKeyEvery: 30 * 24 * time.Hour}
	tests := []struct {
		name                 string
		at                   time.Duration
		wantSession, wantDat uint32
	}{
		{"ok/undated-keys-get-dated", 0, 0, 0},
		{"ok/not-due", 24*time.Hour - time.Second, 0, 0},
		{"ok/session-due", 24 * time.Hour, 2, 0},
		{"ok/next-period", 48*time.Hour - time.Second, 0, 0},
		{"ok/session-due-again", 48 * time.Hour, 3, 0},
		{"ok/data-due", 30 * 24 * time.Hour, 4, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rot := a.mustRotate(t, keysT0.Add(tt.at), p)
			if rot.SessionKey != tt.wantSession || rot.DataKey != tt.wantDat {
				t.Errorf("Rotate() = %+v, want session key %d, data key %d", rot, tt.wantSession, tt.wantDat)
			}
		})
	}
	infos, err := ListKeys(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, k := range infos {
		if k.Active {
			active = append(active, fmt.Sprintf("%s/%d", k.Kind, k.ID))
		}
	}
	if want := []string{"data/2", "session/4"}; !slices.Equal(active, want) {
		t.Errorf("active keys %q, want %q", active, want)
	}
}

func TestRotateDataKey(t *testing.T) {
	st, mk := openKeyStore(t)
	a := newKeyReplica(t, st, mk, nil)
	b := newKeyReplica(t, st, mk, nil)
	before, err := a.sealer.Seal([]byte("v1"), seal.AAD("test", "r1"))
	if err != nil {
		t.Fatal(err)
	}
	if rot := a.mustRotate(t, keysT0, RotatePolicy{Data: true}); rot.DataKey != 2 {
		t.Fatalf("Rotate() = %+v, want data key 2", rot)
	}
	if got := a.sealer.ActiveKeyID(); got != 2 {
		t.Errorf("sealer seals with data key %d, want 2", got)
	}
	after, err := a.sealer.Seal([]byte("v2"), seal.AAD("test", "r2"))
	if err != nil {
		t.Fatal(err)
	}
	b.mustReload(t)
	for name, r := range map[string]*keyReplica{"rotating": a, "other": b} {
		if v, err := r.sealer.Open(before, seal.AAD("test", "r1")); err != nil || string(v) != "v1" {
			t.Errorf("%s replica: record sealed before the rotation: %q, %v", name, v, err)
		}
		if v, err := r.sealer.Open(after, seal.AAD("test", "r2")); err != nil || string(v) != "v2" {
			t.Errorf("%s replica: record sealed after the rotation: %q, %v", name, v, err)
		}
	}
	// A session key made after the data key rotation is sealed under the
	// new data key; a replica that loads both at once opens it.
	c := newKeyReplica(t, st, mk, nil)
	a.mustRotate(t, keysT0, RotatePolicy{Session: true, Data: true})
	c.mustReload(t)
	if !c.opens(a.mint(t)) {
		t.Error("a replica could not use a session key sealed under a new data key")
	}
}

func TestRotateConcurrently(t *testing.T) {
	st, mk := openKeyStore(t)
	replicas := []*keyReplica{newKeyReplica(t, st, mk, nil), newKeyReplica(t, st, mk, nil), newKeyReplica(t, st, mk, nil)}
	for _, r := range replicas {
		r.mustRotate(t, keysT0, RotatePolicy{}) // date the first keys
	}
	var wg sync.WaitGroup
	rots := make([]Rotation, len(replicas))
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rot, err := r.keys.Rotate(context.Background(), keysT0.Add(25*time.Hour), RotatePolicy{SessionKeyEvery: 24 * time.Hour})
			if err != nil {
				t.Errorf("Rotate() = %v", err)
			}
			rots[i] = rot
		}()
	}
	wg.Wait()
	made := 0
	for _, rot := range rots {
		if rot.SessionKey != 0 {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d replicas made a new key, want 1: %+v", made, rots)
	}
}

func TestRewrapDataKeys(t *testing.T) {
	st, mk := openKeyStore(t)
	a := newKeyReplica(t, st, mk, nil)
	a.mustRotate(t, keysT0, RotatePolicy{Data: true})
	sealed, err := a.sealer.Seal([]byte("v"), seal.AAD("test", "r"))
	if err != nil {
		t.Fatal(err)
	}
	newMK, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := seal.GenerateMasterKey(rand.Reader)
	if _, err := RewrapDataKeys(t.Context(), st, other, newMK, rand.Reader); err == nil {
		t.Fatal("RewrapDataKeys() with the wrong current master key = nil, want an error")
	}
	n, err := RewrapDataKeys(t.Context(), st, mk, newMK, rand.Reader)
	if err != nil || n != 2 {
		t.Fatalf("RewrapDataKeys() = %d, %v; want 2, nil", n, err)
	}
	if _, _, err := LoadKeys(t.Context(), st, mk, rand.Reader); err == nil {
		t.Error("LoadKeys() with the old master key = nil, want an error")
	}
	b := newKeyReplica(t, st, newMK, nil)
	if v, err := b.sealer.Open(sealed, seal.AAD("test", "r")); err != nil || string(v) != "v" {
		t.Errorf("a record sealed before the re-wrap: %q, %v", v, err)
	}
	if !b.opens(a.mint(t)) {
		t.Error("sessions do not survive a master key change")
	}
}

func TestReloadRefusesEmptyStore(t *testing.T) {
	st, mk := openKeyStore(t)
	a := newKeyReplica(t, st, mk, nil)
	if err := st.Update(t.Context(), func(tx store.Tx) error {
		return tx.Delete(bucketKeys, keyName(KindSessionKey, 1))
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.keys.Reload(t.Context()); err == nil {
		t.Fatal("Reload() of a store without session keys = nil, want an error")
	}
	if _, ok := a.kr.ActiveKeyID(); !ok {
		t.Error("Reload() emptied the keyring")
	}
	if _, err := ListKeys(t.Context(), st); errors.Is(err, store.ErrNotFound) {
		t.Error(err)
	}
}
