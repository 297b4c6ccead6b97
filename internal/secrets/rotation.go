package secrets

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/store"
)

// Rotation is a secret's rotation configuration (RotateSecret,
// CancelRotateSecret) and the scheduler's state, kept in the secret's
// record: it is copied, backed up and deleted with the secret, and every
// change to it is one store transaction on that record (the compare and
// swap by which one replica claims a rotation).
type Rotation struct {
	Enabled bool `json:"enabled"`
	// RotationRules, as given.
	AfterDays int64  `json:"days,omitempty"`
	Schedule  string `json:"schedule,omitempty"`
	Duration  string `json:"duration,omitempty"`
	// LastRotated: the last rotation that finished. Next: when the next
	// one is due (or retried, after a failure).
	LastRotated time.Time `json:"last,omitzero"`
	Next        time.Time `json:"next,omitzero"`
	// ClaimedBy and ClaimedAt: the replica rotating the secret now, and
	// since when; empty when none is.
	ClaimedBy string    `json:"claimedBy,omitempty"`
	ClaimedAt time.Time `json:"claimedAt,omitzero"`
	// Failures: rotations failed in a row (the backoff's exponent).
	Failures int `json:"failures,omitempty"`
}

func (r *Rotation) normalize() {
	for _, t := range []*time.Time{&r.LastRotated, &r.Next, &r.ClaimedAt} {
		*t = t.Round(0).UTC()
	}
}

func (r *secretRec) appendRotation(b []byte) []byte {
	if r.Rotation == nil {
		return b
	}
	j, err := json.Marshal(r.Rotation)
	if err != nil {
		panic(err) // plain fields only: cannot fail
	}
	return append(append(b, `,"rotation":`...), j...)
}

// UpdateRotation runs fn, in one write transaction on the live secret id
// that is not scheduled for deletion, on the secret as it is and a copy
// of its rotation state (the zero Rotation when it has none), and stores
// the copy if fn changed it and returned nil. The secret's LastChangedDate
// is left alone: the scheduler's claims are not changes of the secret.
func (s *Service) UpdateRotation(ctx context.Context, id string, fn func(sec *Secret, rot *Rotation) error) (*Secret, error) {
	return s.updateLiveSecret(ctx, id, s.now(), func(tx store.Tx, r *secretRec) error {
		var rot, before Rotation
		if r.Rotation != nil {
			rot = *r.Rotation
			rot.normalize()
			before = rot
		}
		if err := fn(r.secret(), &rot); err != nil {
			return err
		}
		rot.normalize()
		if rot != before || r.Rotation == nil && rot != (Rotation{}) {
			r.Rotation = &rot
			return s.save(tx, r)
		}
		return nil
	})
}

// FinishRotation is a rotation's last step, in one transaction: the
// version versionID (which must carry AWSPENDING, or AWSCURRENT when no
// version is pending: a finish repeated)
// becomes AWSCURRENT, the version that was AWSCURRENT becomes AWSPREVIOUS,
// AWSPENDING is removed, and the rotation state records the rotation at
// now, the next one due at next, and no claim or failure.
func (s *Service) FinishRotation(ctx context.Context, id, versionID string, next time.Time) (*Secret, error) {
	now := s.now()
	return s.updateLiveSecret(ctx, id, now, func(tx store.Tx, r *secretRec) error {
		i := r.version(versionID)
		if i < 0 {
			return newErr(ErrNotFound, "Secrets Manager can't find the specified secret version: %s", fault.Printable(versionID, 128))
		}
		pending := r.holder(StagePending)
		if pending != i && (pending >= 0 || !slices.Contains(r.Versions[i].Stages, StageCurrent)) {
			return newErr(ErrInvalidRequest, "The version %s is not the pending version of a rotation.", fault.Printable(versionID, 128))
		}
		r.attach(StageCurrent, i)
		if p := r.holder(StagePending); p >= 0 {
			r.detach(StagePending, p)
		}
		rot := Rotation{}
		if r.Rotation != nil {
			rot = *r.Rotation
		}
		rot.LastRotated, rot.Next = now, next
		rot.ClaimedBy, rot.ClaimedAt, rot.Failures = "", time.Time{}, 0
		rot.normalize()
		r.Rotation = &rot
		r.Changed = now
		return s.save(tx, r)
	})
}
