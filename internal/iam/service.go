package iam

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store"
)

// Buckets of the IAM records. Keys are lower-cased names unless noted.
const (
	bucketUsers    = "iam.users"
	bucketKeys     = "iam.keys"   // access key id → key record
	bucketKeyUse   = "iam.keyuse" // access key id → last use, apart from the key so the hot record stays small
	bucketGroups   = "iam.groups"
	bucketRoles    = "iam.roles"
	bucketPolicies = "iam.policies" // "local/<name>" or "aws/<name>"
	bucketMFA      = "iam.mfa"      // lower-cased device name
	bucketMeta     = "iam.meta"
)

// Quotas, as IAM's defaults.
const (
	maxKeysPerUser         = 2
	maxGroupsPerUser       = 10
	maxAttachedPerEntity   = 10
	maxVersionsPerPolicy   = 5
	maxMFAPerUser          = 8
	maxManagedPolicySize   = 6144
	defaultSessionDuration = 3600
	minSessionDuration     = 3600
	maxSessionDuration     = 43200
)

// Service manages the IAM entities of one account. It is safe for concurrent
// use.
type Service struct {
	st      store.Store
	sealer  *seal.Sealer
	account string
	now     func() time.Time
	rand    io.Reader
	cache   *policy.Cache
	gen     atomic.Uint64
}

// New returns the IAM service of account over st. Secrets at rest are sealed
// with sealer; now and rand are the clock and the randomness
// (crypto/rand.Reader in production) of every timestamp, identifier and
// secret it makes.
func New(st store.Store, sealer *seal.Sealer, account string, now func() time.Time, rand io.Reader) *Service {
	return &Service{st: st, sealer: sealer, account: account, now: now, rand: rand, cache: policy.NewCache(defaultCacheSize)}
}

// Account returns the account id the service serves.
func (s *Service) Account() string { return s.account }

// Tag is an IAM tag.
type Tag struct{ Key, Value string }

// User is an IAM user.
type User struct {
	Name, ID, ARN, Path string
	CreateDate          time.Time
	Tags                []Tag
	// PasswordLastUsed is when the user last signed in with a password;
	// zero if never. Only GetUser and ListUsers set it.
	PasswordLastUsed time.Time
}

// Group is an IAM group.
type Group struct {
	Name, ID, ARN, Path string
	CreateDate          time.Time
}

// Role is an IAM role. AssumeRolePolicyDocument is the trust policy as it
// was given.
type Role struct {
	Name, ID, ARN, Path, AssumeRolePolicyDocument, Description string
	MaxSessionDuration                                         int32
	CreateDate                                                 time.Time
	Tags                                                       []Tag
}

// EntityKind names the kind of principal an inline policy or an attachment
// belongs to.
type EntityKind int

// Kinds of principal that hold policies.
const (
	KindUser EntityKind = iota + 1
	KindGroup
	KindRole
)

func (k EntityKind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindGroup:
		return "group"
	case KindRole:
		return "role"
	}
	return "entity"
}

// --- records ---------------------------------------------------------------

type inlineRec struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
}

// entity is what users, groups and roles have in common: their stored
// fields keep their names, at the top level of the record.
type entity struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	Created time.Time `json:"created"`
}

// holder is the part of users, groups and roles that holds policies.
type holder struct {
	Inline   []inlineRec `json:"inline,omitempty"`
	Attached []string    `json:"attached,omitempty"` // managed policy ARNs, in attach order
}

type userRec struct {
	entity
	Tags   []Tag    `json:"tags,omitempty"`
	Keys   []string `json:"keys,omitempty"`   // access key ids
	Groups []string `json:"groups,omitempty"` // group keys
	MFA    []string `json:"mfa,omitempty"`    // serials of enabled devices
	holder
}

type groupRec struct {
	entity
	Members []string `json:"members,omitempty"` // user keys
	holder
}

type roleRec struct {
	entity
	Trust       string `json:"trust"`
	Description string `json:"description,omitempty"`
	MaxSession  int32  `json:"maxSession"`
	Tags        []Tag  `json:"tags,omitempty"`
	holder
}

type keyRec struct {
	ID      string    `json:"id"`
	User    string    `json:"user"` // user key
	Secret  []byte    `json:"secret"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

type keyUseRec struct {
	Date    time.Time `json:"date"`
	Service string    `json:"service"`
	Region  string    `json:"region"`
}

type attachRef struct {
	Kind EntityKind `json:"kind"`
	Key  string     `json:"key"`
}

type versionRec struct {
	ID       string    `json:"id"`
	Document string    `json:"doc"`
	Created  time.Time `json:"created"`
}

type policyRec struct {
	Name        string       `json:"name"`
	ID          string       `json:"id"`
	Path        string       `json:"path"`
	ARN         string       `json:"arn"`
	Description string       `json:"description,omitempty"`
	Created     time.Time    `json:"created"`
	Updated     time.Time    `json:"updated"`
	Default     string       `json:"default"`
	Versions    []versionRec `json:"versions"`
	NextVersion int          `json:"next"`
	Tags        []Tag        `json:"tags,omitempty"`
	Attachments []attachRef  `json:"attachments,omitempty"`
}

type mfaRec struct {
	Serial      string    `json:"serial"`
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	Seed        []byte    `json:"seed"` // sealed base32 seed
	Created     time.Time `json:"created"`
	Enabled     time.Time `json:"enabled,omitzero"`
	User        string    `json:"user,omitempty"` // user key once enabled
	Tags        []Tag     `json:"tags,omitempty"`
	LastCounter int64     `json:"lastCounter,omitempty"` // highest TOTP step accepted
}

// --- transactions ----------------------------------------------------------

type txn struct {
	store.Tx
}

func (s *Service) view(ctx context.Context, fn func(*txn) error) error {
	return s.st.View(ctx, func(tx store.Tx) error { return fn(&txn{tx}) })
}

// read runs fn in a read transaction and returns what it returns.
func read[T any](ctx context.Context, s *Service, fn func(*txn) (T, error)) (T, error) {
	var out T
	err := s.view(ctx, func(t *txn) error {
		var err error
		out, err = fn(t)
		return err
	})
	return out, err
}

// readFrom returns, in a read transaction, what fn makes of what load
// loads.
func readFrom[R, T any](ctx context.Context, s *Service, load func(*txn) (R, error), fn func(t *txn, rec R) (T, error)) (T, error) {
	return read(ctx, s, func(t *txn) (T, error) {
		rec, err := load(t)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(t, rec)
	})
}

// modify, in a write transaction, loads a record with load, changes it
// with fn and saves it with save.
func modify[R any](ctx context.Context, s *Service, load func(*txn) (R, error), fn func(rec R) error, save func(rec R, t *txn) error) error {
	return s.update(ctx, func(t *txn) error {
		rec, err := load(t)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
		return save(rec, t)
	})
}

func (s *Service) update(ctx context.Context, fn func(*txn) error) error {
	err := s.st.Update(ctx, func(tx store.Tx) error { return fn(&txn{tx}) })
	// Every write (even a failed one, to be safe) moves the generation on,
	// which invalidates what callers cached of this service's data.
	s.gen.Add(1)
	return err
}

// Generation changes after every write this Service makes. Callers that
// cache principals or policies compare it to know when to read again
// (writes by other replicas are not seen here: such caches must also
// expire on their own).
func (s *Service) Generation() uint64 { return s.gen.Load() }

// get decodes the record under key into v; found is false if it is absent.
func (t *txn) get(bucket, key string, v any) (found bool, err error) {
	b, err := t.Get(bucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("iam: decode %s record: %w", bucket, err)
	}
	return true, nil
}

func (t *txn) put(bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("iam: encode %s record: %w", bucket, err)
	}
	return t.Put(bucket, key, b)
}

func (t *txn) del(bucket, key string) error {
	err := t.Delete(bucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// scan decodes every record of bucket under prefix, in key order.
func scanAll[T any](t *txn, bucket, prefix string, fn func(key string, rec *T) error) error {
	return t.Scan(bucket, prefix, "", func(key string, value []byte) (bool, error) {
		rec := new(T)
		if err := json.Unmarshal(value, rec); err != nil {
			return false, fmt.Errorf("iam: decode %s record: %w", bucket, err)
		}
		return true, fn(key, rec)
	})
}

// eachRec calls fn with the record under each of keys, in their order;
// absent ones are skipped.
func eachRec[T any](t *txn, bucket string, keys []string, fn func(key string, rec *T) error) error {
	for _, key := range keys {
		rec := new(T)
		ok, err := t.get(bucket, key, rec)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := fn(key, rec); err != nil {
			return err
		}
	}
	return nil
}

// mapRecs returns what fn makes of the record under each of keys, in
// their order; absent ones are skipped.
func mapRecs[R, T any](t *txn, bucket string, keys []string, fn func(*R) T) ([]T, error) {
	var out []T
	err := eachRec(t, bucket, keys, func(_ string, rec *R) error {
		out = append(out, fn(rec))
		return nil
	})
	return out, err
}

// modifyEach changes the record under each of keys with fn and saves it;
// absent ones are skipped.
func modifyEach[T any](t *txn, bucket string, keys []string, fn func(rec *T)) error {
	return eachRec(t, bucket, keys, func(key string, rec *T) error {
		fn(rec)
		return t.put(bucket, key, rec)
	})
}

// insertNew saves rec under key unless a record is there already, which
// is refused with taken.
func insertNew[T any](t *txn, bucket, key string, rec *T, taken error) error {
	if err := absent[T](t, bucket, key, taken); err != nil {
		return err
	}
	return t.put(bucket, key, rec)
}

// absent returns taken if a record is stored under key.
func absent[T any](t *txn, bucket, key string, taken error) error {
	var existing T
	ok, err := t.get(bucket, key, &existing)
	if err != nil {
		return err
	}
	if ok {
		return taken
	}
	return nil
}

// load decodes the record under key. One that is absent, or that match
// (if not nil) refuses, is missing(name).
func load[T any](t *txn, bucket, key string, match func(*T) bool, missing func(string) *Error, name string) (*T, error) {
	rec := new(T)
	ok, err := t.get(bucket, key, rec)
	if err != nil {
		return nil, err
	}
	if !ok || match != nil && !match(rec) {
		return nil, missing(name)
	}
	return rec, nil
}

// user, group and role load one by name, without regard to case.

func (t *txn) user(name string) (*userRec, error) {
	return load[userRec](t, bucketUsers, nameKey(name), nil, noSuchUser, name)
}

func (t *txn) group(name string) (*groupRec, error) {
	return load[groupRec](t, bucketGroups, nameKey(name), nil, noSuchGroup, name)
}

func (t *txn) role(name string) (*roleRec, error) {
	return load[roleRec](t, bucketRoles, nameKey(name), nil, noSuchRole, name)
}

// --- names, ids, ARNs ------------------------------------------------------

// nameKey is the store key of an IAM name: names are unique without regard
// to case. Names are ASCII (checked against the model's pattern first), so
// lower-casing is exact.
func nameKey(name string) string { return strings.ToLower(name) }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix followed by 16 characters of [A-Z2-7] (80 random
// bits), the shape of IAM's unique ids and access key ids.
func (s *Service) newID(prefix string) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("iam: read random: %w", err)
	}
	return prefix + idEncoding.EncodeToString(b[:]), nil
}

func (s *Service) arn(resourceType, path, name string) string {
	return "arn:aws:iam::" + s.account + ":" + resourceType + path + name
}

// UserARN returns the ARN of a user with that path and name.
func (s *Service) UserARN(path, name string) string { return s.arn("user", path, name) }

// GroupARN returns the ARN of a group with that path and name.
func (s *Service) GroupARN(path, name string) string { return s.arn("group", path, name) }

// RoleARN returns the ARN of a role with that path and name.
func (s *Service) RoleARN(path, name string) string { return s.arn("role", path, name) }

// PolicyARN returns the ARN of a customer managed policy.
func (s *Service) PolicyARN(path, name string) string { return s.arn("policy", path, name) }

// MFASerial returns the serial number (ARN) of a virtual MFA device.
func (s *Service) MFASerial(path, name string) string { return s.arn("mfa", path, name) }

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Second) }

func (s *Service) userOut(r *userRec) *User {
	return &User{Name: r.Name, ID: r.ID, ARN: s.UserARN(r.Path, r.Name), Path: r.Path, CreateDate: r.Created, Tags: append([]Tag(nil), r.Tags...)}
}

func (s *Service) groupOut(r *groupRec) *Group {
	return &Group{Name: r.Name, ID: r.ID, ARN: s.GroupARN(r.Path, r.Name), Path: r.Path, CreateDate: r.Created}
}

func (s *Service) roleOut(r *roleRec) *Role {
	return &Role{
		Name: r.Name, ID: r.ID, ARN: s.RoleARN(r.Path, r.Name), Path: r.Path,
		AssumeRolePolicyDocument: r.Trust, Description: r.Description,
		MaxSessionDuration: r.MaxSession, CreateDate: r.Created, Tags: append([]Tag(nil), r.Tags...),
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func remove(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func replace(list []string, from, to string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		if x == from {
			x = to
		}
		out[i] = x
	}
	return out
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("iam: encode record: %w", err)
	}
	return b, nil
}

func sortUsers(l []User) {
	sort.Slice(l, func(i, j int) bool { return nameKey(l[i].Name) < nameKey(l[j].Name) })
}

func sortGroups(l []Group) {
	sort.Slice(l, func(i, j int) bool { return nameKey(l[i].Name) < nameKey(l[j].Name) })
}
