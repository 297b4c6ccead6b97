package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// auditRecords reads the broker's audit log.
func auditRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line is not JSON: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// TestAuditTrail: every request is on record, in the CloudTrail shape, with
// its decision; no secret the test used appears in the log; the chain
// verifies; editing a record breaks it.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	alice := newUser(t, b, admin, "alice", `{"Version":"2012-10-17","Statement":[{"Sid":"ReadProd","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}]}`)
	sess := credsFrom(t, b.mustAWS(alice, "sts", "get-session-token", "--duration-seconds", "900"))
	value := "hunter2-audit-" + strings.Repeat("z", 12)
	b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/db", "--secret-string", "file://"+writeFile(t, "v", value))
	out := b.mustAWS(sess, "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
	if str(t, out, "SecretString") != value {
		t.Fatalf("secret value = %q", str(t, out, "SecretString"))
	}
	b.wantAWSError(sess, "AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", "/staging/db")
	b.wantAWSError(creds{AccessKeyID: alice.AccessKeyID, SecretAccessKey: strings.Repeat("x", 40)}, "SignatureDoesNotMatch", "sts", "get-caller-identity")

	logPath := b.auditLogPath()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{
		"admin secret key": admin.SecretAccessKey, "alice secret key": alice.SecretAccessKey,
		"session secret key": sess.SecretAccessKey, "session token": sess.SessionToken, "secret value": value,
	} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the audit log contains the %s", name)
		}
	}
	recs := auditRecords(t, logPath)
	find := func(event, errCode string) map[string]any {
		for _, r := range recs {
			if r["eventName"] == event && r["phase"] == nil && (r["errorCode"] == nil && errCode == "" || r["errorCode"] == errCode) {
				return r
			}
		}
		t.Fatalf("no %s record with error %q in the audit log", event, errCode)
		return nil
	}
	get := find("GetSecretValue", "")
	if get["eventSource"] != "secretsmanager.amazonaws.com" || get["readOnly"] != true {
		t.Errorf("GetSecretValue record: %v", get)
	}
	id := get["userIdentity"].(map[string]any)
	if id["accessKeyId"] != sess.AccessKeyID || id["arn"] != "arn:aws:iam::111122223333:user/alice" {
		t.Errorf("userIdentity = %v", id)
	}
	decs, _ := get["decisions"].([]any)
	if len(decs) == 0 || decs[0].(map[string]any)["decision"] != "allowed" || decs[0].(map[string]any)["sid"] != "ReadProd" {
		t.Errorf("decisions = %v", get["decisions"])
	}
	denied := find("GetSecretValue", "AccessDeniedException")
	if d, _ := denied["decisions"].([]any); len(d) == 0 || d[0].(map[string]any)["decision"] != "implicitDeny" {
		t.Errorf("denied record decisions = %v", denied["decisions"])
	}
	find("GetCallerIdentity", "SignatureDoesNotMatch")
	// A state-changing request has an intent record before its record.
	intent := false
	for _, r := range recs {
		if r["eventName"] == "CreateSecret" && r["phase"] == "intent" {
			intent = true
		}
	}
	if !intent {
		t.Error("no intent record for CreateSecret")
	}
	gst := find("GetSessionToken", "")
	resp, _ := json.Marshal(gst["responseElements"])
	if !strings.Contains(string(resp), sess.AccessKeyID) || !strings.Contains(string(resp), "hmac-sha256:") {
		t.Errorf("GetSessionToken responseElements = %s", resp)
	}

	// The chain verifies; an edited copy does not.
	if out, err := runBinary(t, "audit", "verify", logPath); err != nil || !strings.Contains(out, "chain whole") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	tampered := filepath.Join(t.TempDir(), "audit.log")
	edited := strings.Replace(string(data), `"eventName":"GetSecretValue"`, `"eventName":"ListSecrets"`, 1)
	if err := os.WriteFile(tampered, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	out2, err := runBinary(t, "audit", "verify", tampered)
	if err == nil || !strings.Contains(out2, "broken at seq") {
		t.Fatalf("audit verify of an edited log: %v\n%s", err, out2)
	}
}

// TestAuditFailClosed: when the audit log's disk is full the broker refuses
// requests with InternalFailure and changes nothing; when space comes back
// it serves again and the chain is whole.
func TestAuditFailClosed(t *testing.T) {
	t.Parallel()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt).CombinedOutput(); err != nil {
		// Filling a real disk is not an option; without the privilege to
		// mount a small one, the audit package's fault-injection tests
		// (ENOSPC, EIO, EROFS) are what covers failing closed.
		t.Skipf("cannot mount a small tmpfs for the full-disk test (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	logPath := filepath.Join(mnt, "audit.log")
	b := startBroker(t, "", "--audit-log", logPath)
	admin := b.adminCreds()
	b.mustAWS(admin, "iam", "create-user", "--user-name", "before")

	// Fill the disk.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for size := 4096; size >= 1; size /= 2 {
		buf := make([]byte, size)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	f.Close()

	b.wantAWSError(admin, "InternalFailure", "iam", "create-user", "--user-name", "during")
	// (Reads go on while the log's reserved space lasts: their records are
	// still durable before their responses leave.)

	// Space comes back: the broker recovers, and "during" was never created.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	out := b.mustAWS(admin, "iam", "list-users")
	names, _ := json.Marshal(out["Users"])
	if strings.Contains(string(names), `"during"`) || !strings.Contains(string(names), `"before"`) {
		t.Errorf("users after the full disk: %s", names)
	}
	if out, err := runBinary(t, "audit", "verify", logPath); err != nil || !strings.Contains(out, "chain whole") {
		t.Fatalf("audit verify after recovery: %v\n%s", err, out)
	}
}
