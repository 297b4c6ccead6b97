package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminRecover loses the admin-credentials file and recovers it the
// break-glass way: refused while the broker runs, then a new key in a new
// file, the old key deactivated, the recovery on the audit chain.
func TestAdminRecover(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	lost := b.adminCreds()

	mustFail(t, "a broker runs on "+b.dir, "admin", "recover", "--data", b.dir)

	b.stop()
	if err := os.Remove(b.adminCredentialsFile()); err != nil {
		t.Fatal(err)
	}
	// A wrong master key does not get past the store's keys.
	other := startBroker(t, "")
	other.stop()
	wrongKey := filepath.Join(other.dir, "master.key")
	mustFail(t, "does not open with this master key", "admin", "recover", "--data", b.dir, "--master-key-file", wrongKey)
	mustFail(t, "does not open with this master key", "keys", "list", "--data", b.dir, "--master-key-file", wrongKey)
	if fileExists(b.adminCredentialsFile()) {
		t.Fatal("a failed recovery wrote admin-credentials")
	}
	mustFail(t, "no broker data in", "admin", "recover", "--data", filepath.Join(t.TempDir(), "nothing"))

	out := mustRun(t, "deactivated AKIA…"+lost.AccessKeyID[len(lost.AccessKeyID)-4:], "admin", "recover", "--data", b.dir, "--deactivate-old")
	if strings.Contains(out, lost.SecretAccessKey) {
		t.Fatal("the output shows a secret")
	}
	st, err := os.Stat(b.adminCredentialsFile())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin-credentials: %v %v", st, err)
	}

	b.start()
	fresh := b.adminCreds()
	if fresh.AccessKeyID == lost.AccessKeyID {
		t.Fatal("the same key again")
	}
	id := b.mustAWS(fresh, "sts", "get-caller-identity")
	if arn, _ := id["Arn"].(string); !strings.HasSuffix(arn, ":user/admin") {
		t.Errorf("recovered key is %v, want the admin", id["Arn"])
	}
	if r := b.aws(lost, "sts", "get-caller-identity"); r.Code == 0 || !strings.Contains(r.Stderr, "InvalidClientTokenId") {
		t.Errorf("the lost key still works: exit %d %s", r.Code, r.Stderr)
	}
	b.mustAWS(fresh, "iam", "create-user", "--user-name", "after-recovery")

	// The recovery is on the chain, and the broker's records follow it.
	log := b.auditLogPath()
	mustRun(t, "", "audit", "verify", log)
	var names []string
	for _, r := range auditRecords(t, log) {
		names = append(names, r["eventName"].(string))
	}
	joined := strings.Join(names, " ")
	if !strings.Contains(joined, "RecoverAdminCredentials") || !strings.Contains(joined[strings.Index(joined, "RecoverAdminCredentials"):], "CreateUser") {
		t.Errorf("audit events %v: want RecoverAdminCredentials, then the broker's CreateUser", names)
	}
}
