package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestIdentityProofJSON is the identity proof of EKS-style tokens
// (aws-iam-authenticator) and of Vault's and OpenBao's aws auth method,
// against the real binary: a GetCallerIdentity presigned by the holder of
// session credentials, with x-k8s-aws-id signed in, which the verifier
// sends with Accept: application/json and reads as AWS's JSON envelope.
func TestIdentityProofJSON(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	ctx := context.Background()
	session := sessionCreds(t, b, b.adminCreds()).awsCredentials()

	req, err := http.NewRequest("GET", b.url+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-k8s-aws-id", "ci-cluster")
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	url, signed, err := v4.NewSigner().PresignHTTP(ctx, session, req, emptySHA256, "sts", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	get := func(accept string) (int, string, string) {
		t.Helper()
		vr, _ := http.NewRequest("GET", url, nil)
		for k, v := range signed {
			vr.Header[k] = v
		}
		vr.Header.Set("Accept", accept)
		status, h, body := doHTTP(t, b.client, vr)
		return status, h.Get("Content-Type"), body
	}

	status, ct, body := get("application/json")
	var doc struct {
		GetCallerIdentityResponse struct {
			GetCallerIdentityResult struct{ Account, Arn, UserId string }
			ResponseMetadata        struct{ RequestId string }
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); status != 200 || ct != "application/json" || err != nil {
		t.Fatalf("verifier's request: %d %q %v\n%s", status, ct, err, body)
	}
	r := doc.GetCallerIdentityResponse
	if !strings.HasSuffix(r.GetCallerIdentityResult.Arn, ":user/admin") || len(r.GetCallerIdentityResult.Account) != 12 ||
		!strings.HasPrefix(r.GetCallerIdentityResult.UserId, "AIDA") || r.ResponseMetadata.RequestId == "" {
		t.Errorf("JSON envelope %s", body)
	}

	// Without the header the answer is XML, as before.
	if status, ct, body := get("*/*"); status != 200 || ct != "text/xml" || !strings.Contains(body, "<GetCallerIdentityResult>") {
		t.Errorf("XML answer: %d %q %s", status, ct, body)
	}

	// A tampered URL is refused, in the verifier's format.
	url = strings.Replace(url, "X-Amz-Expires=60", "X-Amz-Expires=61", 1)
	status, ct, body = get("application/json")
	var e struct {
		Error struct{ Code, Message, Type string }
	}
	if err := json.Unmarshal([]byte(body), &e); status != 403 || ct != "application/json" || err != nil || e.Error.Code != "SignatureDoesNotMatch" || e.Error.Type != "Sender" {
		t.Errorf("tampered URL: %d %q %v\n%s", status, ct, err, body)
	}
}
