package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/client/token"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/keystore"
)

type recoverInput struct {
	keysInput
	auditLog      string
	region        string
	user          string
	deactivateOld bool
}

func (in *recoverInput) validate() error {
	if err := in.keysInput.validate(); err != nil {
		return err
	}
	if in.user == "" {
		return errors.New("--user must not be empty")
	}
	return nil
}

func newAdminCommand(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Break-glass administration of a stopped broker's data directory",
	}
	cmd.AddCommand(newAdminRecoverCommand(d))
	return cmd
}

func newAdminRecoverCommand(d *deps) *cobra.Command {
	in := &recoverInput{}
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Write a fresh admin-credentials file when the old one is lost (break-glass)",
		Long: `Write a fresh DATA/admin-credentials with a new access key of the IAM user admin, when the
file is lost or corrupted. It needs what only the broker's operator has: the data directory
(or --store) and the master key. The broker must be stopped: the command refuses while a
broker answers on the data directory's control socket, and the embedded store and the audit
log are locked by a running broker anyway.

With --deactivate-old every other access key of the user is made inactive: do that when the
old file may have been copied. A user has at most two keys; when it has two, --deactivate-old
is needed and the older of them is deleted to make room. The recovery is recorded in the audit
log (eventName RecoverAdminCredentials), with the key ids by their last 4 characters.`,
		Example: `  shortfuse admin recover --data /var/lib/shortfuse --deactivate-old`,
		Args:    cobra.NoArgs,
		RunE:    validated(in, d, runRecover),
	}
	in.flags(cmd, d.getenv)
	f := cmd.Flags()
	f.StringVar(&in.auditLog, "audit-log", envDefault(d.getenv, "SHORTFUSE_AUDIT_LOG", ""), "audit log file (default DATA/audit.log)")
	f.StringVar(&in.region, "region", envDefault(d.getenv, "SHORTFUSE_REGION", "us-east-1"), "region written to the credentials file")
	f.StringVar(&in.user, "user", "admin", "the IAM user to recover")
	f.BoolVar(&in.deactivateOld, "deactivate-old", false, "make every other access key of the user inactive")
	return cmd
}

func runRecover(ctx context.Context, in *recoverInput, d *deps) error {
	if _, err := controlClient(ctx, in.dataDir); err == nil {
		return &hintError{err: fmt.Errorf("a broker runs on %s (its control socket answers)", in.dataDir), hint: "stop it first; recovery works on a stopped broker's data"}
	}
	if in.store == "" {
		// Never create an empty store where a broker's data should be.
		if _, err := os.Stat(filepath.Join(in.dataDir, boltFile)); err != nil {
			return &hintError{err: fmt.Errorf("no broker data in %s: %v", in.dataDir, err), hint: "pass the broker's --data (or --store for PostgreSQL)"}
		}
	}
	auditPath := in.auditLog
	if auditPath == "" {
		auditPath = filepath.Join(in.dataDir, "audit.log")
	}
	// The audit log first: it is locked by a running broker too, and a
	// recovery that cannot be recorded does not happen.
	alog, err := audit.Open(auditPath, audit.Options{})
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer alog.Close()
	st, mk, err := in.openStoreKey(ctx, "master key")
	if err != nil {
		return err
	}
	defer st.Close()
	sealer, _, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		return err
	}
	account, err := keystore.LoadAccount(ctx, st, "", rand.Reader)
	if err != nil {
		return err
	}
	svc := iam.New(st, sealer, account, time.Now, rand.Reader)
	k, deactivated, deleted, err := newRecoveryKey(ctx, svc, in.user, in.deactivateOld)
	if err != nil {
		return err
	}
	rec := &audit.Record{
		EventSource:        audit.SourceShortfuse,
		EventName:          "RecoverAdminCredentials",
		AWSRegion:          in.region,
		SourceIPAddress:    "local",
		UserAgent:          "shortfuse admin recover " + currentBuild().Version,
		UserIdentity:       &audit.UserIdentity{Type: audit.IdentityUnknown},
		RequestParameters:  map[string]any{"userName": in.user, "deactivateOld": in.deactivateOld},
		ResponseElements:   map[string]any{"accessKeyId": token.KeyHint(k.ID), "deactivated": deactivated, "deleted": deleted},
		RecipientAccountID: account,
	}
	if err := alog.Append(ctx, rec); err != nil {
		// The key exists but is unrecorded: take it back.
		_ = svc.DeleteAccessKey(context.WithoutCancel(ctx), in.user, k.ID)
		return fmt.Errorf("audit log: %w", err)
	}
	credPath := filepath.Join(in.dataDir, "admin-credentials")
	tmp := credPath + ".new"
	_ = os.Remove(tmp)
	if err := writeCredentialsFile(tmp, k.ID, k.Secret, in.region); err != nil {
		return err
	}
	if err := os.Rename(tmp, credPath); err != nil {
		return fmt.Errorf("admin credentials file: %w", err)
	}
	fmt.Fprintf(d.stderr, "shortfuse: wrote %s with a new access key %s of %s", credPath, token.KeyHint(k.ID), in.user)
	if len(deactivated) > 0 {
		fmt.Fprintf(d.stderr, "; deactivated %s", strings.Join(deactivated, ", "))
	}
	if len(deleted) > 0 {
		fmt.Fprintf(d.stderr, "; deleted %s", strings.Join(deleted, ", "))
	}
	fmt.Fprintln(d.stderr)
	fmt.Fprintln(d.stdout, credPath)
	return nil
}

// newRecoveryKey creates a new access key for user. With deactivateOld
// every other active key is made inactive first, and when the user has two
// keys already the older is deleted to make room; without it, two keys are
// an error. The lists name the keys touched, by hint.
func newRecoveryKey(ctx context.Context, svc *iam.Service, user string, deactivateOld bool) (k *iam.AccessKey, deactivated, deleted []string, err error) {
	old, err := svc.ListAccessKeys(ctx, user)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("user %s: %w", user, err)
	}
	if len(old) >= 2 && !deactivateOld {
		return nil, nil, nil, &hintError{err: fmt.Errorf("user %s has two access keys already", user), hint: "pass --deactivate-old: the older key is then deleted to make room"}
	}
	if deactivateOld {
		for _, k := range old {
			if k.Status == iam.StatusActive {
				if err := svc.UpdateAccessKey(ctx, user, k.ID, iam.StatusInactive); err != nil {
					return nil, nil, nil, err
				}
				deactivated = append(deactivated, token.KeyHint(k.ID))
			}
		}
	}
	if len(old) >= 2 {
		if err := svc.DeleteAccessKey(ctx, user, old[0].ID); err != nil {
			return nil, nil, nil, err
		}
		deleted = append(deleted, token.KeyHint(old[0].ID))
	}
	k, err = svc.CreateAccessKey(ctx, user)
	return k, deactivated, deleted, err
}
