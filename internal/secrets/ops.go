package secrets

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/store"
)

// --- validation ----------------------------------------------------------------

func checkValue(v Value) error {
	if v.IsZero() {
		return nil
	}
	field := "secretString"
	if v.IsBinary() {
		field = "secretBinary"
	}
	if v.Len() < 1 || v.Len() > MaxValueSize {
		return validationf(field, "Member must have length between 1 and %d", MaxValueSize)
	}
	if !v.IsBinary() && !utf8.Valid(v.data) {
		return validationf(field, "Member must be valid UTF-8")
	}
	return nil
}

// CheckVersionID checks a ClientRequestToken or VersionId: 32 to 64
// printable ASCII characters (the model sets the length; the broker also
// keeps the characters printable, since the id is echoed and used in keys).
func CheckVersionID(field, id string) error {
	if len(id) < MinVersionIDLen || len(id) > MaxVersionIDLen {
		return validationf(field, "Member must have length between %d and %d", MinVersionIDLen, MaxVersionIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f {
			return validationf(field, "Member must contain only printable ASCII characters")
		}
	}
	return nil
}

func checkDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxDescriptionLen {
		return validationf("description", "Member must have length less than or equal to %d", MaxDescriptionLen)
	}
	return nil
}

// checkStage checks one staging label: 1 to 256 characters.
func checkStage(field, s string) error {
	if s == "" || utf8.RuneCountInString(s) > MaxStageLen {
		return validationf(field, "Member must have length between 1 and %d", MaxStageLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return validationf(field, "Member must not contain control characters")
		}
	}
	return nil
}

// tagRune is the character set of AWS tags: letters, digits, white space
// and _ . : / = + - @.
func tagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("_.:/=+-@", r)
}

func checkTagKey(k string) error {
	if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLen {
		return validationf("tags.member.key", "Member must have length between 1 and %d", MaxTagKeyLen)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return newErr(ErrInvalidParameter, "Tag keys starting with aws: are reserved for AWS use.")
	}
	for _, r := range k {
		if !tagRune(r) {
			return newErr(ErrInvalidParameter, "Tag key %q has a character outside letters, digits, white space and _.:/=+-@", fault.Printable(k, 128))
		}
	}
	return nil
}

func checkTags(tags []Tag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkTagKey(t.Key); err != nil {
			return err
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLen {
			return validationf("tags.member.value", "Member must have length less than or equal to %d", MaxTagValueLen)
		}
		for _, r := range t.Value {
			if !tagRune(r) {
				return newErr(ErrInvalidParameter, "The value of tag %q has a character outside letters, digits, white space and _.:/=+-@", fault.Printable(t.Key, 128))
			}
		}
		if seen[t.Key] {
			return newErr(ErrInvalidParameter, "Tag key %q is given more than once.", fault.Printable(t.Key, 128))
		}
		seen[t.Key] = true
	}
	return nil
}

// mergeTags adds tags to have, replacing the values of keys it has.
func mergeTags(have, add []Tag) []Tag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(h Tag) bool { return h.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}

// --- versions ------------------------------------------------------------------

// addVersion adds a version with value v and id to r, attaching stages (nil
// means AWSCURRENT). If r already has a version id, the call is a retry:
// with the same value it returns that version and changes nothing; with
// another value it fails (versions are immutable). It returns the index of
// the version.
func (s *Service) addVersion(tx store.Tx, r *secretRec, id string, v Value, stages []string, now time.Time) (int, error) {
	if i := r.version(id); i >= 0 {
		b, err := tx.Get(bucketValues, valueKey(r.ARN, id))
		if err != nil {
			return 0, err
		}
		old, err := s.sealer.Open(b, valueAAD(r.ARN, id))
		if err != nil {
			return 0, errDecryption
		}
		have := Value{data: old, binary: r.Versions[i].Binary}
		if !have.Equal(v) {
			return 0, errVersionChanged
		}
		return i, nil
	}
	if stages == nil {
		stages = []string{StageCurrent}
	}
	// A secret's first version is always AWSCURRENT, whatever else it is.
	if len(r.Versions) == 0 && !slices.Contains(stages, StageCurrent) {
		stages = append(slices.Clone(stages), StageCurrent)
	}
	if len(stages) > MaxStagesPerVersion {
		return 0, newErr(ErrLimitExceeded, "A version can have at most %d staging labels.", MaxStagesPerVersion)
	}
	if err := s.makeRoom(tx, r, now); err != nil {
		return 0, err
	}
	ct, err := s.sealer.Seal(v.data, valueAAD(r.ARN, id))
	if err != nil {
		return 0, err
	}
	if err := tx.Insert(bucketValues, valueKey(r.ARN, id), ct); err != nil {
		return 0, err
	}
	r.Versions = append(r.Versions, versionRec{ID: id, Created: now, Binary: v.IsBinary()})
	i := len(r.Versions) - 1
	was := r.holder(StageCurrent)
	for _, st := range stages {
		r.attach(st, i)
	}
	// A version that was AWSCURRENT and AWSPENDING at once (a rotation
	// finished without removing AWSPENDING) keeps AWSPREVIOUS only when a
	// new version becomes current, as in AWS: its value is not pending any
	// more, and a rotation that asks "is a version pending?" must not find
	// it.
	if was >= 0 && slices.Contains(stages, StageCurrent) {
		r.detach(StagePending, was)
	}
	r.Changed = now
	return i, nil
}

// makeRoom applies the version quota before a version is added: versions
// without staging labels older than DeprecatedVersionMinAge are removed,
// oldest first, until there is room; if there is none, the new version is
// refused.
func (s *Service) makeRoom(tx store.Tx, r *secretRec, now time.Time) error {
	for i := 0; i < len(r.Versions) && len(r.Versions) >= MaxVersions; {
		v := r.Versions[i]
		if len(v.Stages) == 0 && now.Sub(v.Created) >= DeprecatedVersionMinAge {
			if err := tx.Delete(bucketValues, valueKey(r.ARN, v.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			r.Versions = slices.Delete(r.Versions, i, i+1)
			continue
		}
		i++
	}
	if len(r.Versions) >= MaxVersions {
		return newErr(ErrLimitExceeded, "The secret has %d versions, the most it can have. Versions without staging labels are removed once they are %d hours old; try again later.", MaxVersions, int(DeprecatedVersionMinAge/time.Hour))
	}
	return nil
}

func (s *Service) openValue(tx store.Tx, r *secretRec, i int) (Value, error) {
	v := r.Versions[i]
	b, err := tx.Get(bucketValues, valueKey(r.ARN, v.ID))
	if errors.Is(err, store.ErrNotFound) {
		return Value{}, errDecryption
	}
	if err != nil {
		return Value{}, err
	}
	return s.unseal(b, r.ARN, v.ID, v.Binary)
}

// unseal opens the stored ciphertext of a version's value.
func (s *Service) unseal(b []byte, arn, versionID string, binary bool) (Value, error) {
	pt, err := s.sealer.Open(b, valueAAD(arn, versionID))
	if err != nil {
		return Value{}, errDecryption
	}
	if pt == nil {
		pt = []byte{}
	}
	return Value{data: pt, binary: binary}, nil
}

// --- operations ----------------------------------------------------------------

// CreateInput is the input of Create.
type CreateInput struct {
	// ARN is the new secret's ARN, from NewARN (so that the caller can be
	// authorized on it first). Empty: Create makes one.
	ARN         string
	Name        string
	Description string
	// Value is the first version's value; the zero Value creates a secret
	// without versions.
	Value Value
	// VersionID is the ClientRequestToken: the first version's id, and the
	// idempotency key of the call. Empty: Create makes one.
	VersionID string
	Tags      []Tag
	// Master is the master ARN the caller was authorized on when the
	// secret is dynamic (DynamicMaster); the write refuses any other.
	Master string
}

// Result names a secret and, for operations that make one, a version.
type Result struct {
	ARN, Name, VersionID string
	Stages               []string
}

// Create creates a secret. A retry with the VersionID and value of a
// version the secret already has returns that version (idempotency). It
// fails with ErrExists if the name is taken, with ErrInvalidRequest if a
// secret of that name is scheduled for deletion.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Result, error) {
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := checkValue(in.Value); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > MaxTags {
		return nil, newErr(ErrLimitExceeded, "A secret can have at most %d tags.", MaxTags)
	}
	var err error
	if in.ARN == "" {
		if in.ARN, err = s.NewARN(in.Name); err != nil {
			return nil, err
		}
	}
	if n, ok := cutSuffix(strings.TrimPrefix(in.ARN, s.ARNPrefix())); !ok || n != in.Name || !strings.HasPrefix(in.ARN, s.ARNPrefix()) {
		return nil, errors.New("secrets: CreateInput.ARN is not an ARN from NewARN for the name")
	}
	if in.VersionID == "" {
		if in.VersionID, err = s.NewVersionID(); err != nil {
			return nil, err
		}
	} else if err := CheckVersionID("clientRequestToken", in.VersionID); err != nil {
		return nil, err
	}
	now := s.now()
	var res *Result
	err = s.st.Update(ctx, func(tx store.Tx) error {
		res = nil
		old, err := s.load(tx, in.Name)
		switch {
		case err == nil && !old.live(now):
			if err := s.purge(tx, old); err != nil {
				return err
			}
		case err == nil && old.scheduled():
			return newErr(ErrInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
		case err == nil:
			if i := old.version(in.VersionID); i >= 0 && !in.Value.IsZero() {
				// A retry of the call that created the secret.
				if _, err := s.addVersion(tx, old, in.VersionID, in.Value, nil, now); err != nil {
					return err
				}
				res = &Result{ARN: old.ARN, Name: old.Name, VersionID: in.VersionID}
				return nil
			}
			return newErr(ErrExists, "The operation failed because the secret %s already exists.", in.Name)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		r := &secretRec{
			ARN: in.ARN, Name: in.Name, Description: in.Description,
			Created: now, Changed: now, Tags: slices.Clone(in.Tags), Tagged: len(in.Tags) > 0,
		}
		if in.Value.IsZero() {
			// The tags of a dynamic secret are checked with no value too.
			if err := checkDynamicTags(r.Tags); err != nil {
				return err
			}
		}
		res, err = s.saveValue(tx, r, in.VersionID, in.Value, in.Master, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// saveValue saves r with v as its new version versionID (checked, for a
// dynamic secret, as its configuration, the master authorized being
// master), or with no new version when v is zero.
func (s *Service) saveValue(tx store.Tx, r *secretRec, versionID string, v Value, master string, now time.Time) (*Result, error) {
	res := &Result{ARN: r.ARN, Name: r.Name}
	if !v.IsZero() {
		if err := s.checkDynamic(tx, r, v, master, now); err != nil {
			return nil, err
		}
		if _, err := s.addVersion(tx, r, versionID, v, nil, now); err != nil {
			return nil, err
		}
		res.VersionID = versionID
	}
	return res, s.save(tx, r)
}

// GetValue returns the value of one version of the secret id: the version
// versionID, or the one with label stage, or (neither given) AWSCURRENT;
// given both, they must name the same version. It fails with
// ErrInvalidRequest if the secret is scheduled for deletion, with
// ErrNotFound if there is no such version, and with ErrDecryption if the
// stored ciphertext does not open for this secret and version.
//
// It records the day of access (LastAccessedDate), which costs a write the
// first time a secret is read on a given day.
func (s *Service) GetValue(ctx context.Context, id, versionID, stage string) (*SecretValue, error) {
	l, err := s.Lookup(ctx, id, versionID, stage)
	if err != nil {
		return nil, err
	}
	return s.Open(ctx, l)
}

// Looked is a secret and one of its versions read in one transaction, the
// version's value still sealed: the caller authorizes on Secret, and only
// then opens the value (Open). A GetSecretValue thus reads the store once.
type Looked struct {
	// Secret is the secret as DescribeSecret shows it.
	Secret *Secret
	err    error // why the version cannot be read: the secret is deleted, no such version
	value  SecretValue
	sealed []byte
	touch  bool // the day of access is to be recorded
	at     time.Time
}

// Lookup reads the secret id and, sealed, the value of the version that
// versionID and stage select (as GetValue). It fails only when the secret
// does not exist (ErrNotFound) or the store does; a version that cannot be
// read is Open's error, so that the caller authorizes first.
func (s *Service) Lookup(ctx context.Context, id, versionID, stage string) (*Looked, error) {
	now := s.now()
	l := &Looked{at: now}
	err := s.st.View(ctx, func(tx store.Tx) error {
		r, err := s.find(tx, id, now, false)
		if err != nil {
			return err
		}
		l.Secret = r.secret()
		if r.scheduled() {
			l.err = errMarkedDeleted
			return nil
		}
		i, err := pickVersion(r, versionID, stage)
		if err != nil {
			l.err = err
			return nil
		}
		ver := r.Versions[i]
		b, err := tx.Get(bucketValues, valueKey(r.ARN, ver.ID))
		switch {
		case errors.Is(err, store.ErrNotFound):
			l.err = errDecryption
			return nil
		case err != nil:
			return err
		}
		l.sealed = b
		l.value = SecretValue{ARN: r.ARN, Name: r.Name, VersionID: ver.ID, Stages: slices.Clone(ver.Stages), Created: ver.Created, Value: Value{binary: ver.Binary}}
		l.touch = r.Accessed.Before(day(now)) || ver.Accessed.Before(day(now))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Open decrypts the value Lookup read, and records the day of access.
func (s *Service) Open(ctx context.Context, l *Looked) (*SecretValue, error) {
	if l.err != nil {
		return nil, l.err
	}
	v, err := s.unseal(l.sealed, l.value.ARN, l.value.VersionID, l.value.Value.binary)
	if err != nil {
		return nil, err
	}
	out := l.value
	out.Value = v
	if l.touch {
		// Bookkeeping only: a failure here does not withhold the value.
		_ = s.st.Update(ctx, func(tx store.Tx) error {
			r, err := s.find(tx, out.ARN, l.at, false)
			if err != nil {
				return err
			}
			r.Accessed = day(l.at)
			if i := r.version(out.VersionID); i >= 0 {
				r.Versions[i].Accessed = day(l.at)
			}
			return s.save(tx, r)
		})
	}
	return &out, nil
}

func pickVersion(r *secretRec, versionID, stage string) (int, error) {
	switch {
	case versionID != "":
		i := r.version(versionID)
		if i < 0 {
			return 0, newErr(ErrNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", fault.Printable(versionID, 128))
		}
		if stage != "" && !slices.Contains(r.Versions[i].Stages, stage) {
			return 0, errStageMismatch
		}
		return i, nil
	default:
		if stage == "" {
			stage = StageCurrent
		}
		i := r.holder(stage)
		if i < 0 {
			return 0, newErr(ErrNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", fault.Printable(stage, 128))
		}
		return i, nil
	}
}

// PutInput is the input of PutValue.
type PutInput struct {
	SecretID string
	// VersionID is the ClientRequestToken; empty: PutValue makes one.
	VersionID string
	Value     Value
	// Stages are the labels of the new version; nil means AWSCURRENT.
	Stages []string
	// Master: as in CreateInput.
	Master string
}

// PutValue adds a version to a secret (PutSecretValue). Labels given in
// Stages move to the new version; moving AWSCURRENT moves AWSPREVIOUS to
// the version that had AWSCURRENT. A retry with the same VersionID and
// value changes nothing; with another value it fails with ErrExists.
func (s *Service) PutValue(ctx context.Context, in PutInput) (*Result, error) {
	if in.Value.IsZero() {
		return nil, newErr(ErrInvalidRequest, "You must provide either SecretString or SecretBinary.")
	}
	if err := checkValue(in.Value); err != nil {
		return nil, err
	}
	if in.Stages != nil {
		if len(in.Stages) == 0 || len(in.Stages) > MaxStagesPerVersion {
			return nil, validationf("versionStages", "Member must have length between 1 and %d", MaxStagesPerVersion)
		}
		for _, st := range in.Stages {
			if err := checkStage("versionStages.member", st); err != nil {
				return nil, err
			}
		}
		in.Stages = dedupe(in.Stages)
	}
	if err := s.versionID(&in.VersionID); err != nil {
		return nil, err
	}
	now := s.now()
	var res *Result
	err := s.updateLive(ctx, in.SecretID, now, func(tx store.Tx, r *secretRec) error {
		if err := s.checkDynamic(tx, r, in.Value, in.Master, now); err != nil {
			return err
		}
		i, err := s.addVersion(tx, r, in.VersionID, in.Value, in.Stages, now)
		if err != nil {
			return err
		}
		res = &Result{ARN: r.ARN, Name: r.Name, VersionID: in.VersionID, Stages: slices.Clone(r.Versions[i].Stages)}
		return s.save(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) versionID(id *string) error {
	if *id != "" {
		return CheckVersionID("clientRequestToken", *id)
	}
	v, err := s.NewVersionID()
	*id = v
	return err
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// UpdateInput is the input of Update.
type UpdateInput struct {
	SecretID    string
	Description *string // nil: unchanged
	// Value, if not zero, becomes a new AWSCURRENT version.
	Value     Value
	VersionID string // ClientRequestToken for the new version
	// Master: as in CreateInput.
	Master string
}

// Update changes a secret's description and, given a value, adds a version
// that becomes AWSCURRENT (UpdateSecret). Result.VersionID is empty when no
// version was added.
func (s *Service) Update(ctx context.Context, in UpdateInput) (*Result, error) {
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if err := checkValue(in.Value); err != nil {
		return nil, err
	}
	if !in.Value.IsZero() {
		if err := s.versionID(&in.VersionID); err != nil {
			return nil, err
		}
	}
	now := s.now()
	var res *Result
	err := s.updateLive(ctx, in.SecretID, now, func(tx store.Tx, r *secretRec) error {
		if in.Description != nil {
			r.Description = *in.Description
			r.Changed = now
		}
		var err error
		res, err = s.saveValue(tx, r, in.VersionID, in.Value, in.Master, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// UpdateStage moves or removes a staging label (UpdateSecretVersionStage):
// with moveTo, the label is attached to that version, and if another version
// has it, removeFrom must name that version; without moveTo, the label is
// removed from removeFrom. AWSCURRENT can be moved but not removed; moving
// it moves AWSPREVIOUS to the version it left.
func (s *Service) UpdateStage(ctx context.Context, id, stage, removeFrom, moveTo string) (*Result, error) {
	if err := checkStage("versionStage", stage); err != nil {
		return nil, err
	}
	if removeFrom == "" && moveTo == "" {
		return nil, newErr(ErrInvalidParameter, "You must specify MoveToVersionId, RemoveFromVersionId, or both.")
	}
	for _, v := range []struct{ field, id string }{{"removeFromVersionId", removeFrom}, {"moveToVersionId", moveTo}} {
		if v.id != "" {
			if err := CheckVersionID(v.field, v.id); err != nil {
				return nil, err
			}
		}
	}
	now := s.now()
	var res *Result
	err := s.updateLive(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		res = &Result{ARN: r.ARN, Name: r.Name}
		holder := r.holder(stage)
		from := -1
		if removeFrom != "" {
			if from = r.version(removeFrom); from < 0 {
				return newErr(ErrNotFound, "Secrets Manager can't find the specified secret version: %s", fault.Printable(removeFrom, 128))
			}
			if holder != from {
				return newErr(ErrInvalidParameter, "The staging label %s is not attached to version %s.", fault.Printable(stage, 128), fault.Printable(removeFrom, 128))
			}
		}
		if moveTo == "" {
			if stage == StageCurrent {
				return newErr(ErrInvalidParameter, "You can't remove the staging label AWSCURRENT from a version; move it to another version with MoveToVersionId instead.")
			}
			r.detach(stage, from)
			r.Changed = now
			return s.save(tx, r)
		}
		to := r.version(moveTo)
		if to < 0 {
			return newErr(ErrNotFound, "Secrets Manager can't find the specified secret version: %s", fault.Printable(moveTo, 128))
		}
		if holder == to {
			return nil // already there
		}
		if holder >= 0 && from != holder {
			// AWS's words (removeFrom is empty here: a removeFrom that is
			// not the holder was refused above).
			return newErr(ErrInvalidParameter, "The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", fault.Printable(stage, 128), r.Versions[holder].ID)
		}
		if len(r.Versions[to].Stages) >= MaxStagesPerVersion {
			return newErr(ErrLimitExceeded, "A version can have at most %d staging labels.", MaxStagesPerVersion)
		}
		r.attach(stage, to)
		r.Changed = now
		return s.save(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Delete schedules the secret for deletion at the end of a recovery window
// of windowDays (7 to 30), or, with force, deletes it and all its versions
// at once (a secret already scheduled may be force-deleted). It returns the
// secret as it was, with DeletionDate set.
func (s *Service) Delete(ctx context.Context, id string, windowDays int, force bool) (*Secret, error) {
	if !force && (windowDays < MinRecoveryWindowDays || windowDays > MaxRecoveryWindowDays) {
		return nil, newErr(ErrInvalidParameter, "The RecoveryWindowInDays value must be between %d and %d days (inclusive).", MinRecoveryWindowDays, MaxRecoveryWindowDays)
	}
	now := s.now()
	var out *Secret
	err := s.updateFound(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		if force {
			out = r.secret()
			out.DeletedDate, out.DeletionDate = now, now
			return s.purge(tx, r)
		}
		if r.scheduled() {
			return newErr(ErrInvalidRequest, "You can't perform this operation on the secret because it was already scheduled for deletion.")
		}
		r.Deleted = now
		r.DeleteAt = now.Add(time.Duration(windowDays) * 24 * time.Hour)
		r.Changed = now
		out = r.secret()
		return s.save(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Restore cancels the scheduled deletion of a secret (RestoreSecret); for a
// secret that is not scheduled it does nothing.
func (s *Service) Restore(ctx context.Context, id string) (*Result, error) {
	now := s.now()
	var res *Result
	err := s.updateFound(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		res = &Result{ARN: r.ARN, Name: r.Name}
		if !r.scheduled() {
			return nil
		}
		r.Deleted, r.DeleteAt = time.Time{}, time.Time{}
		r.Changed = now
		return s.save(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// updateFound runs fn in a write transaction on the secret id names (find),
// scheduled for deletion or not. fn saves what it changes.
func (s *Service) updateFound(ctx context.Context, id string, now time.Time, fn func(tx store.Tx, r *secretRec) error) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		r, err := s.find(tx, id, now, true)
		if err != nil {
			return err
		}
		return fn(tx, r)
	})
}

// updateLive is updateFound on a secret that must not be scheduled for
// deletion (errMarkedDeleted).
func (s *Service) updateLive(ctx context.Context, id string, now time.Time, fn func(tx store.Tx, r *secretRec) error) error {
	return s.updateFound(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		if r.scheduled() {
			return errMarkedDeleted
		}
		return fn(tx, r)
	})
}

// updateLiveSecret is updateLive that returns the secret as fn left it.
func (s *Service) updateLiveSecret(ctx context.Context, id string, now time.Time, fn func(tx store.Tx, r *secretRec) error) (*Secret, error) {
	var out *Secret
	err := s.updateLive(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		if err := fn(tx, r); err != nil {
			return err
		}
		out = r.secret()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// modify runs fn on a live secret that is not scheduled for deletion and
// saves it.
func (s *Service) modify(ctx context.Context, id string, fn func(r *secretRec) error) (*Result, error) {
	now := s.now()
	var res *Result
	err := s.updateLive(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		if err := fn(r); err != nil {
			return err
		}
		r.Changed = now
		res = &Result{ARN: r.ARN, Name: r.Name}
		return s.save(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Tag adds tags to a secret, replacing the values of keys it has.
func (s *Service) Tag(ctx context.Context, id string, tags []Tag) error {
	return s.TagWith(ctx, id, tags, "")
}

// TagWith is Tag for a caller authorized on master: tags that make the
// secret dynamic are accepted only if its AWSCURRENT value is a usable
// configuration naming that master (CurrentMaster).
func (s *Service) TagWith(ctx context.Context, id string, tags []Tag, master string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	if err := checkDynamicTags(tags); err != nil {
		return err
	}
	now := s.now()
	return s.updateLive(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		merged := mergeTags(r.Tags, tags)
		if len(merged) > MaxTags {
			return newErr(ErrLimitExceeded, "A secret can have at most %d tags.", MaxTags)
		}
		r.Tags = merged
		r.Tagged = r.Tagged || len(merged) > 0
		v, err := s.currentValue(tx, r)
		if err != nil {
			return err
		}
		if err := s.checkDynamic(tx, r, v, master, now); err != nil {
			return err
		}
		r.Changed = now
		return s.save(tx, r)
	})
}

// Untag removes the tags with the given keys; keys it does not have are
// ignored.
func (s *Service) Untag(ctx context.Context, id string, keys []string) error {
	for _, k := range keys {
		if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLen {
			return validationf("tagKeys.member", "Member must have length between 1 and %d", MaxTagKeyLen)
		}
	}
	_, err := s.modify(ctx, id, func(r *secretRec) error {
		r.Tagged = r.Tagged || len(r.Tags) > 0
		r.Tags = slices.DeleteFunc(r.Tags, func(t Tag) bool { return slices.Contains(keys, t.Key) })
		return nil
	})
	return err
}

// Purge deletes, with all their versions, the secrets whose recovery window
// has ended at now, and returns how many. Secrets past their window are
// already invisible to every operation; Purge reclaims their space.
func (s *Service) Purge(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.st.Update(ctx, func(tx store.Tx) error {
		n = 0
		var dead []*secretRec
		err := scanRecs(tx, func(r *secretRec) {
			if !r.live(now) {
				dead = append(dead, r)
			}
		})
		if err != nil {
			return err
		}
		for _, r := range dead {
			if err := s.purge(tx, r); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, err
}
