package iam

import (
	"context"
	"time"
)

// bucketPasswordUse holds, per user unique id, when the user's password was
// last used to sign in (GetUser's and ListUsers' PasswordLastUsed). It
// outlives the login profile, as IAM's does: a user who had a password
// keeps the date of its last use.
const bucketPasswordUse = "iam.passworduse"

type passwordUseRec struct {
	Date time.Time `json:"date"`
}

// RecordPasswordUse notes that the user signed in with their password now.
func (s *Service) RecordPasswordUse(ctx context.Context, userName string) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	now := s.timestamp()
	return s.update(ctx, func(t *txn) error {
		u, err := t.user(userName)
		if err != nil {
			return err
		}
		return t.put(bucketPasswordUse, u.ID, &passwordUseRec{Date: now})
	})
}

// passwordLastUsed is when the user with unique id userID last signed in
// with a password; zero if never.
func (t *txn) passwordLastUsed(userID string) (time.Time, error) {
	var use passwordUseRec
	_, err := t.get(bucketPasswordUse, userID, &use)
	return use.Date, err
}
