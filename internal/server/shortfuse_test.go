package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/shortfuse/shortfuse/internal/iam"
)

// callShortfuse sends a signed JSON 1.1 request to the shortfuse service.
func callShortfuse(t *testing.T, b *testBroker, c aws.Credentials, op, body string) (int, map[string]any) {
	t.Helper()
	resp := signedPost(t, b.url, c, body, "shortfuse", "us-east-1", time.Now(), http.Header{
		"Content-Type": {"application/x-amz-json-1.1"},
		"X-Amz-Target": {"shortfuse." + op},
	})
	data := resp.body
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatalf("%s: response is not JSON: %s", op, data)
	}
	return resp.status, m
}

func mustShortfuse(t *testing.T, b *testBroker, c aws.Credentials, op, body string) map[string]any {
	t.Helper()
	status, m := callShortfuse(t, b, c, op, body)
	if status != 200 {
		t.Fatalf("%s: status %d: %v", op, status, m)
	}
	return m
}

func wantShortfuseError(t *testing.T, b *testBroker, c aws.Credentials, op, body, code string) {
	t.Helper()
	status, m := callShortfuse(t, b, c, op, body)
	if status == 200 || m["__type"] != code {
		t.Fatalf("%s: status %d %v, want %s", op, status, m, code)
	}
}

func (b *testBroker) sessionToken(t *testing.T) aws.Credentials {
	t.Helper()
	out, err := b.sts(b.admin).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	return sessionCreds(out.Credentials)
}

func wantCallerCode(t *testing.T, b *testBroker, c aws.Credentials, want string) {
	t.Helper()
	_, err := b.sts(c).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if got := errCode(err); got != want {
		t.Fatalf("GetCallerIdentity() code = %q (%v), want %q", got, err, want)
	}
}

func TestRevokeOwnSession(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	sess := b.sessionToken(t)
	other := b.sessionToken(t)
	wantCallerCode(t, b, sess, "")

	// Sessions are listed for operators, without secrets.
	list := mustShortfuse(t, b, b.admin, "ListSessions", `{}`)
	raw, _ := json.Marshal(list)
	if !strings.Contains(string(raw), sess.AccessKeyID) || strings.Contains(string(raw), sess.SecretAccessKey) || strings.Contains(string(raw), sess.SessionToken) {
		t.Fatalf("ListSessions: %s", raw)
	}

	mustShortfuse(t, b, sess, "RevokeSession", `{}`)
	wantCallerCode(t, b, sess, "ExpiredToken")
	wantCallerCode(t, b, other, "")
	// A revoked session is refused everywhere, session control included; a
	// long-term key has no session of its own to revoke.
	wantShortfuseError(t, b, sess, "RevokeSession", `{}`, "ExpiredTokenException")
	wantShortfuseError(t, b, b.admin, "RevokeSession", `{}`, "InvalidRequestException")

	// The admin (allowed everything) may revoke another session by id.
	mustShortfuse(t, b, b.admin, "RevokeSession", `{"AccessKeyId":"`+other.AccessKeyID+`"}`)
	wantCallerCode(t, b, other, "ExpiredToken")
	wantShortfuseError(t, b, b.admin, "RevokeSession", `{"AccessKeyId":"ASIAAAAAAAAAAAAAAAAA"}`, "ResourceNotFoundException")

	// Strict decoding.
	for _, body := range []string{`{"Bogus":"x"}`, `{"principalArn":"x"}`, `{"MaxResults":1,"MaxResults":2}`, `{} {}`, `{"MaxResults":"1"}`} {
		status, m := callShortfuse(t, b, b.admin, "ListSessions", body)
		if status == 200 || (m["__type"] != "SerializationException" && m["__type"] != "ValidationException") {
			t.Errorf("ListSessions %s: status %d %v, want a decoding error", body, status, m)
		}
	}
}

func TestRevokeSessionsOfPrincipal(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	s1 := b.sessionToken(t)
	s2 := b.sessionToken(t)
	out := mustShortfuse(t, b, b.admin, "RevokeSessions", `{"PrincipalArn":"arn:aws:iam::123456789012:user/admin"}`)
	if out["Revoked"] != float64(2) {
		t.Errorf("Revoked = %v, want 2", out["Revoked"])
	}
	wantCallerCode(t, b, s1, "ExpiredToken")
	wantCallerCode(t, b, s2, "ExpiredToken")
	// The long-term key itself is not a session and keeps working; a
	// session issued after the cut works.
	wantCallerCode(t, b, b.admin, "")
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)) + 50*time.Millisecond)
	s3 := b.sessionToken(t)
	wantCallerCode(t, b, s3, "")

	wantShortfuseError(t, b, b.admin, "RevokeSessions", `{"PrincipalArn":"not-an-arn"}`, "InvalidParameterException")
	wantShortfuseError(t, b, b.admin, "RevokeSessions", `{"PrincipalArn":"arn:aws:iam::123456789012:user/admin","IssuedBefore":`+itoa(time.Now().Add(time.Hour).Unix())+`}`, "InvalidParameterException")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestMaxUses(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	ctx := context.Background()
	role := createTrustingRole(t, b, "limited")
	out, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("three"),
		Tags: []ststypes.Tag{{Key: aws.String("shortfuse:max-uses"), Value: aws.String("3")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := sessionCreds(out.Credentials)
	for i := range 3 {
		if _, err := b.sts(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	// A used-up session is refused everything, session control too,
	// except revoking itself.
	wantCallerCode(t, b, c, "ExpiredToken")
	for op, body := range map[string]string{"Heartbeat": `{"GraceSeconds":60}`, "ListSessions": `{}`, "NarrowSession": `{"MaxUses":1}`, "RevokeSessions": `{"PrincipalArn":"arn:aws:iam::123456789012:user/admin"}`} {
		wantShortfuseError(t, b, c, op, body, "ExpiredTokenException")
	}
	mustShortfuse(t, b, c, "RevokeSession", `{}`)
	list := mustShortfuse(t, b, b.admin, "ListSessions", `{"IncludeInactive":true}`)
	raw, _ := json.Marshal(list)
	if !strings.Contains(string(raw), `"State":"revoked"`) || !strings.Contains(string(raw), `"Uses":3`) {
		t.Errorf("ListSessions does not show the used-up session revoked: %s", raw)
	}

	for _, bad := range []string{"0", "-1", "x", "1.5"} {
		_, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("bad"),
			Tags: []ststypes.Tag{{Key: aws.String("shortfuse:max-uses"), Value: aws.String(bad)}},
		})
		if got := errCode(err); got != "InvalidParameterValue" {
			t.Errorf("max-uses %q: code %q, want InvalidParameterValue", bad, got)
		}
	}
}

// createTrustingRole creates a role that trusts the admin user and may do
// anything, and returns its ARN.
func createTrustingRole(t *testing.T, b *testBroker, name string) string {
	t.Helper()
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	if _, err := b.srv.iam.CreateRole(ctx, iam.CreateRoleInput{Name: name, AssumeRolePolicyDocument: trust}); err != nil {
		t.Fatal(err)
	}
	return "arn:aws:iam::123456789012:role/" + name
}

func TestDeadManSwitch(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	sess := b.sessionToken(t)
	out := mustShortfuse(t, b, sess, "Heartbeat", `{"GraceSeconds":10}`)
	if out["Deadline"] == nil || out["Expiration"] == nil {
		t.Fatalf("Heartbeat: %v", out)
	}
	b.clock.Shift(9 * time.Second)
	wantCallerCode(t, b, sess, "")
	mustShortfuse(t, b, sess, "Heartbeat", `{"GraceSeconds":10}`) // re-armed at +9 s
	b.clock.Shift(18 * time.Second)
	wantCallerCode(t, b, sess, "")
	b.clock.Shift(20 * time.Second)
	wantCallerCode(t, b, sess, "ExpiredToken")
	wantShortfuseError(t, b, sess, "Heartbeat", `{"GraceSeconds":10}`, "ExpiredTokenException")
	b.clock.Shift(0)
	wantShortfuseError(t, b, b.sessionToken(t), "Heartbeat", `{"GraceSeconds":5}`, "InvalidParameterException")
}
