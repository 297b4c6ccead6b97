package iam

import (
	"context"
	"time"
)

const metaBootstrapped = "bootstrapped"

// Bootstrap prepares a new account: it writes the AWS managed policies the
// broker knows, then, the first time only, creates the user adminName with
// AdministratorAccess attached and one access key, whose id and secret it
// returns with created = true. Later calls only refresh the AWS managed
// policies and return created = false with empty akid and secret.
func (s *Service) Bootstrap(ctx context.Context, adminName string) (akid, secret string, created bool, err error) {
	if err := checkName(adminName, "userName", maxUserName); err != nil {
		return "", "", false, err
	}
	userID, err := s.newID("AIDA")
	if err != nil {
		return "", "", false, err
	}
	keyID, keySecret, sealed, err := s.mintKey()
	if err != nil {
		return "", "", false, err
	}
	now := s.timestamp()
	err = s.update(ctx, func(t *txn) error {
		created = false
		for i := range awsManaged {
			if err := t.seedPolicy(&awsManaged[i]); err != nil {
				return err
			}
		}
		if _, err := t.Get(bucketMeta, metaBootstrapped); err == nil {
			return nil
		}
		u := &userRec{entity: entity{Name: adminName, ID: userID, Path: "/", Created: now}}
		if err := t.insertUser(u); err != nil {
			return err
		}
		if err := t.addKey(u, &keyRec{ID: keyID, Secret: sealed, Status: StatusActive, Created: now}); err != nil {
			return err
		}
		rec, key, err := t.policy(s, AdministratorAccessARN)
		if err != nil {
			return err
		}
		u.Attached = append(u.Attached, rec.ARN)
		rec.Attachments = append(rec.Attachments, attachRef{Kind: KindUser, Key: nameKey(u.Name)})
		if err := t.put(bucketUsers, nameKey(u.Name), u); err != nil {
			return err
		}
		if err := t.put(bucketPolicies, key, rec); err != nil {
			return err
		}
		created = true
		return t.put(bucketMeta, metaBootstrapped, []byte(now.Format(time.RFC3339)))
	})
	if err != nil || !created {
		return "", "", false, err
	}
	return keyID, keySecret, true, nil
}

// seedPolicy writes an AWS managed policy, keeping the attachments of the
// stored copy.
func (t *txn) seedPolicy(p *policyRec) error {
	key := policyKey(awsAccount, p.Name)
	existing := new(policyRec)
	ok, err := t.get(bucketPolicies, key, existing)
	if err != nil {
		return err
	}
	rec := *p
	rec.Attachments = nil
	if ok {
		if existing.Default == p.Default && existing.defaultDocument() == p.defaultDocument() {
			return nil
		}
		rec.Attachments = existing.Attachments
	}
	return t.put(bucketPolicies, key, &rec)
}
