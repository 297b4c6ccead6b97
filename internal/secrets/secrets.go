package secrets

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store"
)

// The staging labels Secrets Manager gives a meaning to.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Limits, from the service model and the Secrets Manager quotas.
const (
	MaxNameLen          = 512
	MaxValueSize        = 65536
	MaxDescriptionLen   = 2048
	MaxTags             = 50
	MaxTagKeyLen        = 128
	MaxTagValueLen      = 256
	MaxStageLen         = 256
	MaxStagesPerVersion = 20
	MinVersionIDLen     = 32
	MaxVersionIDLen     = 64
	MaxPolicySize       = 20480
	// MaxVersions is the number of versions a secret keeps. Beyond it,
	// versions without staging labels are removed, oldest first, but only
	// once they are older than DeprecatedVersionMinAge; a version that
	// cannot make room that way is refused with LimitExceededException.
	MaxVersions             = 100
	DeprecatedVersionMinAge = 24 * time.Hour

	MinRecoveryWindowDays     = 7
	MaxRecoveryWindowDays     = 30
	DefaultRecoveryWindowDays = 30
)

// Buckets. Secrets are keyed by name (names are case-sensitive, as ARNs
// are); values by "ARN|versionID" — a name has no '|', so the prefix
// "ARN|" holds exactly the values of one secret.
const (
	bucketSecrets = "secrets"
	bucketValues  = "secrets.values"
)

// Service manages the secrets of one account in one region. It is safe for
// concurrent use.
type Service struct {
	st       store.Store
	sealer   *seal.Sealer
	account  string
	region   string
	now      func() time.Time
	rand     io.Reader
	policies *policy.Cache
	recs     *recCache
}

// New returns the Secrets Manager service of account and region over st.
// Values are sealed with sealer; now and rand (crypto/rand.Reader in
// production) are the clock and randomness of every date, ARN suffix,
// version id and generated password.
func New(st store.Store, sealer *seal.Sealer, account, region string, now func() time.Time, rand io.Reader) *Service {
	return &Service{st: st, sealer: sealer, account: account, region: region, now: now, rand: rand, policies: policy.NewCache(1024), recs: newRecCache(4096)}
}

// Account returns the account id the service serves.
func (s *Service) Account() string { return s.account }

// Region returns the region the service serves.
func (s *Service) Region() string { return s.region }

// ARNPrefix is the ARN of a secret up to its name:
// "arn:aws:secretsmanager:REGION:ACCOUNT:secret:".
func (s *Service) ARNPrefix() string {
	return "arn:aws:secretsmanager:" + s.region + ":" + s.account + ":secret:"
}

// Tag is a secret's tag.
type Tag struct{ Key, Value string }

// Secret is a secret's metadata. It never holds a value.
type Secret struct {
	ARN, Name, Description string
	Created, LastChanged   time.Time
	// LastAccessed is the day (00:00 UTC) the secret's value was last
	// read; zero if it never was.
	LastAccessed time.Time
	// DeletedDate is when DeleteSecret scheduled the secret for deletion,
	// and DeletionDate when the recovery window ends and the secret is
	// purged; both are zero unless the secret is scheduled for deletion.
	DeletedDate, DeletionDate time.Time
	Tags                      []Tag
	// Tagged reports whether the secret has ever had tags (then its
	// Tags are listed even when empty, as AWS lists them).
	Tagged bool
	// Policy is the resource policy as it was given, "" when none.
	Policy string
	// Versions, oldest first.
	Versions []Version
	// Rotation is the rotation configuration and state; nil when the
	// secret was never configured for rotation.
	Rotation *Rotation
}

// ScheduledForDeletion reports whether DeleteSecret scheduled the secret
// for deletion and it has not been restored.
func (s *Secret) ScheduledForDeletion() bool { return !s.DeletionDate.IsZero() }

// VersionsToStages maps the ID of each version that has staging labels to
// its labels; versions without labels (deprecated) are left out, as AWS
// does in DescribeSecret and ListSecrets.
func (s *Secret) VersionsToStages() map[string][]string {
	m := make(map[string][]string)
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = slices.Clone(v.Stages)
		}
	}
	return m
}

// Version is one version of a secret, without its value.
type Version struct {
	ID           string
	Stages       []string
	Created      time.Time
	LastAccessed time.Time // a day, as Secret.LastAccessed
}

// SecretValue is one version of a secret with its value.
type SecretValue struct {
	ARN, Name, VersionID string
	Stages               []string
	Created              time.Time
	Value                Value
}

// --- records -----------------------------------------------------------------

type secretRec struct {
	ARN         string    `json:"arn"`
	Name        string    `json:"name"`
	Description string    `json:"desc,omitempty"`
	Created     time.Time `json:"created"`
	Changed     time.Time `json:"changed"`
	Accessed    time.Time `json:"accessed,omitzero"`
	Deleted     time.Time `json:"deleted,omitzero"`
	DeleteAt    time.Time `json:"deleteAt,omitzero"`
	Tags        []Tag     `json:"tags,omitempty"`
	// Tagged: the secret has had tags. AWS lists a secret that has lost
	// its last tag with "Tags": [], and one never tagged without Tags.
	Tagged   bool         `json:"tagged,omitempty"`
	Policy   string       `json:"policy,omitempty"`
	Versions []versionRec `json:"versions,omitempty"`
	Rotation *Rotation    `json:"rotation,omitempty"`
}

type versionRec struct {
	ID       string    `json:"id"`
	Stages   []string  `json:"stages,omitempty"`
	Created  time.Time `json:"created"`
	Accessed time.Time `json:"accessed,omitzero"`
	Binary   bool      `json:"binary,omitempty"`
}

func (r *secretRec) secret() *Secret {
	s := &Secret{
		ARN: r.ARN, Name: r.Name, Description: r.Description,
		Created: r.Created, LastChanged: r.Changed, LastAccessed: r.Accessed,
		DeletedDate: r.Deleted, DeletionDate: r.DeleteAt,
		Tags: slices.Clone(r.Tags), Tagged: r.Tagged || len(r.Tags) > 0, Policy: r.Policy,
	}
	for _, v := range r.Versions {
		s.Versions = append(s.Versions, Version{ID: v.ID, Stages: slices.Clone(v.Stages), Created: v.Created, LastAccessed: v.Accessed})
	}
	if r.Rotation != nil {
		rot := *r.Rotation
		s.Rotation = &rot
	}
	return s
}

// live reports whether the secret still exists at now: a secret whose
// recovery window has ended is gone, whether or not it has been purged yet.
func (r *secretRec) live(now time.Time) bool {
	return r.DeleteAt.IsZero() || now.Before(r.DeleteAt)
}

func (r *secretRec) scheduled() bool { return !r.DeleteAt.IsZero() }

func (r *secretRec) version(id string) int {
	for i, v := range r.Versions {
		if v.ID == id {
			return i
		}
	}
	return -1
}

// holder returns the index of the version that has label, or -1.
func (r *secretRec) holder(label string) int {
	for i, v := range r.Versions {
		if slices.Contains(v.Stages, label) {
			return i
		}
	}
	return -1
}

func (r *secretRec) detach(label string, i int) {
	r.Versions[i].Stages = slices.DeleteFunc(r.Versions[i].Stages, func(s string) bool { return s == label })
}

// attach attaches label to version i, removing it from the version that had
// it. Moving AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left.
func (r *secretRec) attach(label string, i int) {
	from := r.holder(label)
	if from == i {
		return
	}
	if from >= 0 {
		r.detach(label, from)
	}
	r.Versions[i].Stages = append(r.Versions[i].Stages, label)
	if label == StageCurrent && from >= 0 {
		if p := r.holder(StagePrevious); p >= 0 {
			r.detach(StagePrevious, p)
		}
		r.Versions[from].Stages = append(r.Versions[from].Stages, StagePrevious)
	}
}

func valueKey(arn, versionID string) string { return arn + "|" + versionID }

// valueAAD binds a ciphertext to its secret and version: a ciphertext moved
// to another record does not open.
func valueAAD(arn, versionID string) []byte {
	return seal.AAD("secret-version", arn, versionID)
}

func (s *Service) load(tx store.Tx, name string) (*secretRec, error) {
	if checkName(name) != nil {
		return nil, errNotFound
	}
	b, err := tx.Get(bucketSecrets, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.recs.decode(name, b)
}

func decodeRec(b []byte) (*secretRec, error) {
	var r secretRec
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("secret record: %w", err)
	}
	return &r, nil
}

func (s *Service) save(tx store.Tx, r *secretRec) error {
	r.normalize()
	b := r.appendJSON(make([]byte, 0, 512))
	if err := tx.Put(bucketSecrets, r.Name, b); err != nil {
		return err
	}
	s.recs.put(r.Name, b, r.clone())
	return nil
}

// scanRecs calls fn with the record of each secret the store holds, in
// name order.
func scanRecs(tx store.Tx, fn func(r *secretRec)) error {
	return tx.Scan(bucketSecrets, "", "", func(_ string, b []byte) (bool, error) {
		r, err := decodeRec(b)
		if err != nil {
			return false, err
		}
		fn(r)
		return true, nil
	})
}

// purge removes a secret and all its values.
func (s *Service) purge(tx store.Tx, r *secretRec) error {
	var keys []string
	err := tx.Scan(bucketValues, r.ARN+"|", "", func(k string, _ []byte) (bool, error) {
		keys = append(keys, k)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(bucketValues, k); err != nil {
			return err
		}
	}
	s.recs.forget(r.Name)
	err = tx.Delete(bucketSecrets, r.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// find resolves a SecretId as AWS does: a full ARN (with its random
// suffix) names exactly one secret and no later one of the same name; a
// partial ARN (without the suffix) and a bare name name the secret that
// has that name now. A secret past its recovery window is not found; in a
// read-write transaction (purge) it is purged on the way.
func (s *Service) find(tx store.Tx, id string, now time.Time, purge bool) (*secretRec, error) {
	name := id
	if strings.HasPrefix(id, "arn:") {
		rest, ok := strings.CutPrefix(id, s.ARNPrefix())
		if !ok {
			return nil, errNotFound
		}
		if n, ok := cutSuffix(rest); ok {
			r, err := s.load(tx, n)
			switch {
			case err == nil && r.ARN == id:
				return s.alive(tx, r, now, purge)
			case err != nil && !errors.Is(err, ErrNotFound):
				return nil, err
			}
		}
		name = rest
	}
	r, err := s.load(tx, name)
	if err != nil {
		return nil, err
	}
	return s.alive(tx, r, now, purge)
}

func (s *Service) alive(tx store.Tx, r *secretRec, now time.Time, purge bool) (*secretRec, error) {
	if r.live(now) {
		return r, nil
	}
	if purge {
		if err := s.purge(tx, r); err != nil {
			return nil, err
		}
	}
	return nil, errNotFound
}

// cutSuffix splits "NAME-XXXXXX" (six ASCII letters or digits) into NAME.
func cutSuffix(s string) (string, bool) {
	if len(s) < 8 || s[len(s)-7] != '-' {
		return "", false
	}
	for _, c := range []byte(s[len(s)-6:]) {
		if !isAlnum(c) {
			return "", false
		}
	}
	return s[:len(s)-7], true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// checkName enforces AWS's rule for secret names: 1 to 512 characters of
// A-Za-z0-9 and /_+=.@-.
func checkName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen {
		return validationf("name", "Member must have length between 1 and %d", MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && !strings.ContainsRune("/_+=.@-", rune(c)) {
			return errInvalidName
		}
	}
	return nil
}

// CheckName reports whether name is a valid secret name.
func CheckName(name string) error { return checkName(name) }

// NewARN returns a fresh ARN for a secret named name:
// ARNPrefix + name + "-" + six random letters and digits.
func (s *Service) NewARN(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	suffix, err := randomString(s.rand, alphabet, 6)
	if err != nil {
		return "", err
	}
	return s.ARNPrefix() + name + "-" + suffix, nil
}

// WouldBeARN is the resource to authorize an operation on a secret that
// does not exist: the ARN it would have, with "??????" in place of the
// random suffix it cannot know. A policy that would allow the caller on the
// secret whatever its suffix ("…:secret:NAME-??????", "…:secret:NAME*",
// "*") matches it; one naming a particular suffix does not.
func (s *Service) WouldBeARN(id string) string {
	rest, isARN := strings.CutPrefix(id, "arn:")
	if isARN {
		if _, ok := cutSuffix(rest); ok {
			return id
		}
		return id + "-??????"
	}
	return s.ARNPrefix() + id + "-??????"
}

// NameOf is the name a SecretId refers to, for condition keys: the ARN
// without prefix and suffix, or the id itself.
func (s *Service) NameOf(id string) string {
	rest, ok := strings.CutPrefix(id, s.ARNPrefix())
	if !ok {
		return id
	}
	if n, ok := cutSuffix(rest); ok {
		return n
	}
	return rest
}

// NewVersionID returns a random version id in the form the SDKs use for
// ClientRequestToken (a UUID), for callers that send none.
func (s *Service) NewVersionID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("version id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// Describe returns the secret that id (a name, a full ARN or a partial ARN)
// names. It returns an error of kind ErrNotFound if there is none, or if
// its recovery window has ended.
func (s *Service) Describe(ctx context.Context, id string) (*Secret, error) {
	now := s.now()
	var out *Secret
	err := s.st.View(ctx, func(tx store.Tx) error {
		r, err := s.find(tx, id, now, false)
		if err != nil {
			return err
		}
		out = r.secret()
		return nil
	})
	return out, err
}

// ResourcePolicy returns the parsed resource policy of sec, nil when it has
// none. A stored policy that no longer parses is an error, not "no
// policy": its Deny statements must not vanish.
func (s *Service) ResourcePolicy(sec *Secret) (*policy.Policy, error) {
	if sec.Policy == "" {
		return nil, nil
	}
	p, err := s.policies.Parse(sec.Policy, policy.KindResource)
	if err != nil {
		return nil, fmt.Errorf("stored resource policy of %s: %w", sec.ARN, err)
	}
	return p, nil
}

// day truncates t to 00:00 UTC: AWS keeps access dates to the day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
