package brokerapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/shortfuse/shortfuse/internal/sigv4"
)

const (
	testAKID   = "ASIAEXAMPLE7Q4ZKXYZW"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "sfs1.token"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// fakeBroker verifies each request's signature with the broker's own
// verifier, then answers from a table keyed by operation.
func fakeBroker(t *testing.T, answers map[string]func(body map[string]any) (int, string)) *Client {
	t.Helper()
	v := sigv4.NewVerifier()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a, err := sigv4.Parse(r)
		if err != nil {
			t.Errorf("request not signed: %v", err)
			w.WriteHeader(400)
			return
		}
		if err := v.Verify(r, a, testSecret, sigv4.Options{Region: "eu-west-1", Service: "shortfuse", Now: testNow, MaxSkew: time.Minute, Body: body}); err != nil {
			t.Errorf("signature: %v", err)
		}
		if !a.IsSigned("x-amz-target") || a.SecurityToken != testToken {
			t.Errorf("X-Amz-Target signed %v, token %q", a.IsSigned("x-amz-target"), a.SecurityToken)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			t.Errorf("Content-Type %q", ct)
		}
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "shortfuse.")
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		answer := answers[op]
		if !ok || answer == nil {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"UnknownOperationException","message":"Unrecognized operation"}`)
			return
		}
		code, out := answer(in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(code)
		io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	return &Client{
		Endpoint:    srv.URL,
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(testAKID, testSecret, testToken),
		HTTP:        srv.Client(),
		Now:         func() time.Time { return testNow },
	}
}

func TestOperations(t *testing.T) {
	var got map[string]any
	record := func(code int, out string) func(map[string]any) (int, string) {
		return func(in map[string]any) (int, string) { got = in; return code, out }
	}
	c := fakeBroker(t, map[string]func(map[string]any) (int, string){
		"RevokeSession":  record(200, `{}`),
		"RevokeSessions": record(200, `{"Revoked":3}`),
		"Heartbeat":      record(200, `{"Expiration":1795601700,"Deadline":1795600860.5}`),
		"ListSessions": func(in map[string]any) (int, string) {
			if in["NextToken"] == nil {
				return 200, `{"Sessions":[{"AccessKeyId":"ASIA1","PrincipalArn":"arn:aws:iam::1:user/a","State":"active","IssuedAt":1795600000,"Expiration":1795600900,"Uses":2,"MaxUses":5}],"NextToken":"p2"}`
			}
			return 200, `{"Sessions":[{"AccessKeyId":"ASIA2","PrincipalArn":"arn:aws:iam::1:user/b","State":"revoked","IssuedAt":1795600000,"Expiration":1795600900,"Uses":0}]}`
		},
	})
	ctx := context.Background()

	if err := c.RevokeSession(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("RevokeSession(own) = %v, sent %v", err, got)
	}
	if err := c.RevokeSession(ctx, "ASIAOTHER"); err != nil || got["AccessKeyId"] != "ASIAOTHER" {
		t.Errorf("RevokeSession(other) = %v, sent %v", err, got)
	}
	n, err := c.RevokeSessions(ctx, "arn:aws:iam::1:user/a", time.Unix(1764100000, 0))
	if err != nil || n != 3 || got["PrincipalArn"] != "arn:aws:iam::1:user/a" || got["IssuedBefore"] != float64(1764100000) {
		t.Errorf("RevokeSessions() = %d, %v, sent %v", n, err, got)
	}
	if _, err := c.RevokeSessions(ctx, "arn:x", time.Time{}); err != nil || got["IssuedBefore"] != nil {
		t.Errorf("RevokeSessions(now) sent %v", got)
	}
	hb, err := c.Heartbeat(ctx, 60*time.Second)
	if err != nil || got["GraceSeconds"] != float64(60) {
		t.Fatalf("Heartbeat() = %v, sent %v", err, got)
	}
	if !hb.Expiration.Equal(time.Unix(1795601700, 0)) || !hb.Deadline.Equal(time.Unix(1795600860, 5e8)) {
		t.Errorf("Heartbeat() = %+v", hb)
	}
	all, err := c.ListAllSessions(ctx, ListSessionsInput{IncludeInactive: true})
	if err != nil || len(all) != 2 || all[0].AccessKeyID != "ASIA1" || all[1].State != "revoked" || all[0].MaxUses != 5 {
		t.Errorf("ListAllSessions() = %+v, %v", all, err)
	}
	if !all[0].IssuedAt.Equal(time.Unix(1795600000, 0)) || !all[0].LastHeartbeat.IsZero() {
		t.Errorf("session times %+v", all[0])
	}
}

func TestErrors(t *testing.T) {
	c := fakeBroker(t, map[string]func(map[string]any) (int, string){
		"RevokeSession": func(map[string]any) (int, string) {
			return 400, `{"__type":"com.amazonaws#ExpiredTokenException","message":"the session was revoked"}`
		},
		"RevokeSessions": func(map[string]any) (int, string) {
			return 400, `{"__type":"AccessDeniedException","Message":"not allowed"}`
		},
		"ListSessions": func(map[string]any) (int, string) { return 500, `<html>oops</html>` },
	})
	ctx := context.Background()

	err := c.RevokeSession(ctx, "")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ExpiredTokenException" || ae.ErrorMessage() != "the session was revoked" {
		t.Errorf("RevokeSession() = %v", err)
	}
	if !IsSessionRefused(err) || errors.Is(err, ErrUnsupported) {
		t.Errorf("IsSessionRefused(%v) = false or matches ErrUnsupported", err)
	}
	_, err = c.RevokeSessions(ctx, "arn:x", time.Time{})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != "not allowed" || IsSessionRefused(err) {
		t.Errorf("RevokeSessions() = %v", err)
	}
	_, err = c.ListSessions(ctx, ListSessionsInput{})
	var be *Error
	if !errors.As(err, &be) || be.StatusCode != 500 || be.ErrorFault() != smithy.FaultServer {
		t.Errorf("ListSessions() = %v", err)
	}
	if _, err := c.Heartbeat(ctx, time.Minute); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Heartbeat() on a broker without it = %v, want ErrUnsupported", err)
	}
}

func TestUnsupportedWithoutEndpoint(t *testing.T) {
	c := New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(testAKID, testSecret, testToken)}, "")
	if err := c.RevokeSession(context.Background(), ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RevokeSession() without endpoint = %v, want ErrUnsupported", err)
	}
}

func TestNotFoundIsUnsupported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(testAKID, testSecret, testToken)}, srv.URL)
	if _, err := c.Heartbeat(context.Background(), time.Minute); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Heartbeat() against a 404 = %v, want ErrUnsupported", err)
	}
}

func TestErrorsDoNotCarrySecrets(t *testing.T) {
	c := fakeBroker(t, nil)
	err := c.RevokeSession(context.Background(), "")
	for _, s := range []string{testSecret, testToken} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}
