package secrets

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/store"
)

// IsDynamic reports whether a secret's value is the configuration of
// per-session database credentials (tag shortfuse:dynamic=true).
func IsDynamic(tags []Tag) bool {
	for _, t := range tags {
		if t.Key == dbcred.TagDynamic {
			return t.Value == "true"
		}
	}
	return false
}

// DynamicMaster returns the master ARN that value names if a secret with
// tags and value would be dynamic, "" otherwise; an unusable configuration
// is an ErrInvalidParameter error. The server authorizes the caller on
// that master before the write, and the write checks (in its transaction)
// that it is still the one the configuration names.
func DynamicMaster(tags []Tag, v Value) (string, error) {
	if err := checkDynamicTags(tags); err != nil {
		return "", err
	}
	if !IsDynamic(tags) || v.IsZero() {
		return "", nil
	}
	if v.IsBinary() {
		return "", newErr(ErrInvalidParameter, "A dynamic secret (tag %s=true) holds its configuration in SecretString, not SecretBinary.", dbcred.TagDynamic)
	}
	cfg, err := dbcred.ParseDynamic(v.Reveal())
	if err != nil {
		return "", configErr(err)
	}
	return cfg.MasterARN, nil
}

func configErr(err error) error {
	var ce *dbcred.ConfigError
	if errors.As(err, &ce) {
		return newErr(ErrInvalidParameter, "The dynamic secret's configuration is not valid: %s.", ce.Msg)
	}
	return err
}

// checkDynamicTags checks the values of the tags the broker reads.
func checkDynamicTags(tags []Tag) error {
	for _, t := range tags {
		switch t.Key {
		case dbcred.TagDynamic:
			if t.Value != "true" && t.Value != "false" {
				return newErr(ErrInvalidParameter, "The tag %s must be true or false.", dbcred.TagDynamic)
			}
		case dbcred.TagLeaseSeconds:
			if _, err := dbcred.ParseLeaseSeconds(t.Value); err != nil {
				return newErr(ErrInvalidParameter, "%s.", err.Error())
			}
		}
	}
	return nil
}

// checkDynamic vets, inside a write's transaction, a secret as the write
// leaves it: if it is dynamic, v (the value written, or AWSCURRENT's when
// only tags change) must be a configuration whose master exists as a
// secret this broker can read, holds a master credential of the same
// engine, and is the master the caller was authorized on (authorized).
// A refusal leaves everything as it was: the transaction rolls back.
func (s *Service) checkDynamic(tx store.Tx, r *secretRec, v Value, authorized string, now time.Time) error {
	if err := checkDynamicTags(r.Tags); err != nil {
		return err
	}
	if !IsDynamic(r.Tags) || v.IsZero() {
		return nil
	}
	masterARN, err := DynamicMaster(r.Tags, v)
	if err != nil {
		return err
	}
	cfg, err := dbcred.ParseDynamic(v.Reveal())
	if err != nil {
		return configErr(err)
	}
	if masterARN != authorized {
		return newErr(ErrInvalidParameter, "The dynamic secret's configuration changed while the request ran; retry.")
	}
	m, err := s.find(tx, cfg.MasterARN, now, false)
	if errors.Is(err, ErrNotFound) {
		return newErr(ErrInvalidParameter, "The dynamic secret's masterarn names no secret: create the master secret first.")
	}
	if err != nil {
		return err
	}
	if m.ARN != cfg.MasterARN {
		return newErr(ErrInvalidParameter, "The dynamic secret's masterarn must be the master secret's full ARN (%s).", m.ARN)
	}
	if m.scheduled() {
		return newErr(ErrInvalidParameter, "The dynamic secret's master secret is scheduled for deletion.")
	}
	if IsDynamic(m.Tags) || m.ARN == r.ARN {
		return newErr(ErrInvalidParameter, "The dynamic secret's master secret must hold a master credential, not another dynamic configuration.")
	}
	i := m.holder(StageCurrent)
	if i < 0 {
		return newErr(ErrInvalidParameter, "The dynamic secret's master secret has no AWSCURRENT value.")
	}
	mv, err := s.openValue(tx, m, i)
	if err != nil {
		return newErr(ErrInvalidParameter, "The dynamic secret's master secret cannot be read by the broker.")
	}
	if mv.IsBinary() {
		return newErr(ErrInvalidParameter, "The dynamic secret's master secret must be a SecretString in the RDS shape.")
	}
	master, err := dbcred.ParseMaster(mv.Reveal())
	if err != nil {
		var ce *dbcred.ConfigError
		if errors.As(err, &ce) {
			return newErr(ErrInvalidParameter, "The dynamic secret's master secret is not usable: %s.", ce.Msg)
		}
		return err
	}
	if err := cfg.Resolve(master); err != nil {
		return configErr(err)
	}
	return nil
}

// currentValue is AWSCURRENT's value, or the zero Value.
func (s *Service) currentValue(tx store.Tx, r *secretRec) (Value, error) {
	i := r.holder(StageCurrent)
	if i < 0 {
		return Value{}, nil
	}
	return s.openValue(tx, r, i)
}

// CurrentMaster returns the master ARN the secret's AWSCURRENT value
// would name were the secret tagged with tags added: what the server
// authorizes the caller on before TagResource makes a secret dynamic.
func (s *Service) CurrentMaster(ctx context.Context, id string, add []Tag) (string, error) {
	var out string
	err := s.st.View(ctx, func(tx store.Tx) error {
		r, err := s.find(tx, id, s.now(), false)
		if err != nil {
			return err
		}
		v, err := s.currentValue(tx, r)
		if err != nil {
			return err
		}
		out, err = DynamicMaster(mergeTags(slices.Clone(r.Tags), add), v)
		return err
	})
	return out, err
}
