package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// raw is one hand-made request to the broker.
type raw struct {
	method      string
	body        string
	contentType string
	target      string // X-Amz-Target for JSON requests
	service     string // signing scope
	region      string
	signTime    time.Time
	creds       creds
	mutate      func(*http.Request) // after signing
	unsigned    bool
}

func (b *broker) send(t *testing.T, r raw) (int, string) {
	t.Helper()
	if r.method == "" {
		r.method = "POST"
	}
	if r.contentType == "" {
		r.contentType = "application/x-www-form-urlencoded; charset=utf-8"
		if r.target != "" {
			r.contentType = "application/x-amz-json-1.1"
		}
	}
	if r.region == "" {
		r.region = "us-east-1"
	}
	if r.signTime.IsZero() {
		r.signTime = time.Now()
	}
	req, err := http.NewRequest(r.method, b.url+"/", strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", r.contentType)
	if r.target != "" {
		req.Header.Set("X-Amz-Target", r.target)
	}
	if !r.unsigned {
		h := sha256.Sum256([]byte(r.body))
		if err := v4.NewSigner().SignHTTP(context.Background(), r.creds.awsCredentials(), req, hex.EncodeToString(h[:]), r.service, r.region, r.signTime); err != nil {
			t.Fatal(err)
		}
	}
	if r.mutate != nil {
		r.mutate(req)
	}
	status, _, body := doHTTP(t, b.client, req)
	return status, body
}

// TestAdversarialRequests drives the real server with forged, tampered,
// replayed, mis-scoped and malformed requests. Each gets AWS's error code,
// and none changes what is stored.
func TestAdversarialRequests(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	other := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	ctx := context.Background()
	mySession := sessionCreds(t, b, admin)
	foreign := sessionCreds(t, other, other.adminCreds())

	createUser := "Action=CreateUser&Version=2010-05-08&UserName=mallory"
	gci := "Action=GetCallerIdentity&Version=2011-06-15"
	now := time.Now()
	tests := []struct {
		name string
		req  raw
		code string
	}{
		{"fail/unsigned", raw{body: createUser, service: "iam", unsigned: true}, "MissingAuthenticationToken"},
		{"fail/forged-key", raw{body: createUser, service: "iam", creds: creds{"AKIAFORGEDFORGEDFORG", "forged-secret-forged-secret-forged-secre", ""}}, "InvalidClientTokenId"},
		{"fail/wrong-secret", raw{body: createUser, service: "iam", creds: creds{admin.AccessKeyID, strings.Repeat("x", 40), ""}}, "SignatureDoesNotMatch"},
		{"fail/tampered-body", raw{body: createUser, service: "iam", creds: admin, mutate: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(createUser, "mallory", "malloryy", 1)))
			r.ContentLength++
		}}, "SignatureDoesNotMatch"},
		{"fail/tampered-signature", raw{body: createUser, service: "iam", creds: admin, mutate: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			last := h[len(h)-1]
			repl := byte('0')
			if last == '0' {
				repl = '1'
			}
			r.Header.Set("Authorization", h[:len(h)-1]+string(repl))
		}}, "SignatureDoesNotMatch"},
		{"fail/replayed-outside-skew", raw{body: createUser, service: "iam", creds: admin, signTime: now.Add(-16 * time.Minute)}, "SignatureDoesNotMatch"},
		{"fail/future-outside-skew", raw{body: createUser, service: "iam", creds: admin, signTime: now.Add(16 * time.Minute)}, "SignatureDoesNotMatch"},
		{"fail/wrong-region", raw{body: gci, service: "sts", region: "eu-central-1", creds: admin}, "SignatureDoesNotMatch"},
		{"fail/wrong-service", raw{body: createUser, service: "sts", creds: admin}, "SignatureDoesNotMatch"},
		{"fail/token-from-another-broker", raw{body: createUser, service: "iam", creds: foreign}, "InvalidClientTokenId"},
		{"fail/token-of-another-session", raw{body: gci, service: "sts", creds: creds{mySession.AccessKeyID, mySession.SecretAccessKey, foreign.SessionToken}}, "InvalidClientTokenId"},
		{"fail/session-secret-from-another-broker", raw{body: gci, service: "sts", creds: creds{mySession.AccessKeyID, foreign.SecretAccessKey, mySession.SessionToken}}, "SignatureDoesNotMatch"},
		{"fail/truncated-authorization", raw{body: createUser, service: "iam", creds: admin, mutate: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:strings.Index(h, "Signature=")])
		}}, "IncompleteSignature"},
		{"fail/unknown-algorithm", raw{body: createUser, service: "iam", creds: admin, mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1))
		}}, "IncompleteSignature"},
		{"fail/duplicate-parameter", raw{body: createUser + "&UserName=eve", service: "iam", creds: admin}, "MalformedQueryString"},
		{"fail/unknown-action", raw{body: "Action=CreateUserX&Version=2010-05-08", service: "iam", creds: admin}, "InvalidAction"},
		{"fail/oversized-body", raw{body: createUser + "&Path=" + strings.Repeat("a", 2<<20), service: "iam", creds: admin}, "ValidationError"},
		{"fail/not-a-form", raw{body: "{}", contentType: "application/json", service: "iam", creds: admin}, "InvalidAction"},
		{"fail/json-target-unknown", raw{body: "{}", target: "secretsmanager.Nope", service: "secretsmanager", creds: admin}, "UnknownOperationException"},
		{"fail/json-target-unsigned-header", raw{body: "{}", target: "shortfuse.ListSessions", service: "shortfuse", creds: admin, mutate: func(r *http.Request) {
			// Re-sign without X-Amz-Target among the signed headers.
			tgt := r.Header.Get("X-Amz-Target")
			r.Header.Del("X-Amz-Target")
			r.Header.Del("Authorization")
			h := sha256.Sum256([]byte("{}"))
			_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey}, r, hex.EncodeToString(h[:]), "shortfuse", "us-east-1", time.Now())
			r.Header.Set("X-Amz-Target", tgt)
		}}, "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := b.send(t, tt.req)
			if status == 200 {
				t.Fatalf("status 200, want %s:\n%s", tt.code, body)
			}
			if !strings.Contains(body, "<Code>"+tt.code+"</Code>") && !strings.Contains(body, `"__type":"`+tt.code+`"`) {
				t.Fatalf("status %d, want code %s:\n%s", status, tt.code, body)
			}
			for _, secret := range []string{admin.SecretAccessKey, mySession.SecretAccessKey, foreign.SecretAccessKey} {
				if strings.Contains(body, secret) {
					t.Fatal("error response contains a secret")
				}
			}
		})
	}
	// Nothing was created by any of them.
	users, err := b.iamClient(admin).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Users) != 1 {
		t.Errorf("users after the attacks: %d, want only admin", len(users.Users))
	}
}

// TestConfusingPolicies: policy documents designed to confuse a parser are
// refused with MalformedPolicyDocument and leave the stored policy as it was.
func TestConfusingPolicies(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	admin := b.adminCreds()
	ctx := context.Background()
	ic := b.iamClient(admin)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("target")}); err != nil {
		t.Fatal(err)
	}
	good := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("target"), PolicyName: aws.String("p"), PolicyDocument: aws.String(good)}); err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200)
	docs := map[string]string{
		"duplicate-effect":      `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"duplicate-statement":   `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}],"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"wrong-case-element":    `{"Version":"2012-10-17","Statement":[{"effect":"Allow","Action":"*","Resource":"*"}]}`,
		"conditions-typo":       `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
		"unknown-version":       `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"trailing-data":         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]} {"x":1}`,
		"unknown-operator":      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}]}`,
		"bad-resource":          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arm:aws:iam::1:user/x"}]}`,
		"deep-nesting":          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + deep + `}]}`,
		"huge":                  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Sid":"` + strings.Repeat("A", 200000) + `"}]}`,
		"fullwidth-effect":      `{"Version":"2012-10-17","Statement":[{"Effect":"Ａllow","Action":"*","Resource":"*"}]}`,
		"nul-in-action":         "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:*\\u0000\",\"Resource\":\"*\"}]}",
		"principal-in-identity": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`,
		"empty-statement-list":  `{"Version":"2012-10-17","Statement":[]}`,
		"action-no-service":     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetUser","Resource":"*"}]}`,
	}
	for name, doc := range docs {
		t.Run("fail/"+name, func(t *testing.T) {
			_, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("target"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			code := errCodeOf(err)
			if code != "MalformedPolicyDocument" && code != "ValidationError" && code != "LimitExceeded" {
				t.Fatalf("PutUserPolicy: %v, want MalformedPolicyDocument", err)
			}
		})
	}
	out, err := ic.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("target"), PolicyName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if stored != good {
		t.Errorf("stored policy changed to %q", stored)
	}
}

// TestSecretIDTricks: path and name tricks in secret ids neither reach
// another secret nor change anything; each gets an AWS error code.
func TestSecretIDTricks(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	reader := newUser(t, b, admin, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/*"}]}`)
	b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/db", "--secret-string", "prod-value-1")
	b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/staging/db", "--secret-string", "staging-value-1")
	for _, id := range []string{
		"/prod/../staging/db",
		"/prod/./db/../../staging/db",
		"/prod/%2e%2e/staging/db",
		"/prod/db/",
		"/PROD/db",
		"/prod/ｄb",
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:/staging/db",
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/../staging/db",
		"arn:aws:secretsmanager:us-east-1:999999999999:secret:/prod/db",
		"*",
		"/prod/*",
		strings.Repeat("a", 2049),
	} {
		r := b.aws(reader, "secretsmanager", "get-secret-value", "--secret-id", id)
		if r.Code == 0 {
			t.Errorf("secret id %q: read succeeded: %s", id, r.Stdout)
			continue
		}
		if strings.Contains(r.Stdout+r.Stderr, "staging-value-1") || strings.Contains(r.Stdout+r.Stderr, "prod-value-1") {
			t.Errorf("secret id %q: a secret value leaked", id)
		}
		ok := false
		for _, code := range []string{"AccessDeniedException", "ResourceNotFoundException", "ValidationException", "InvalidParameterException", "InvalidRequestException"} {
			if strings.Contains(r.Stderr, "("+code+")") {
				ok = true
			}
		}
		if !ok && !strings.Contains(r.Stderr, "Parameter validation failed") {
			t.Errorf("secret id %q: no AWS error code:\n%s", id, r.Stderr)
		}
	}
	// A NUL cannot travel in argv: send it with the SDK.
	_, err := secretsmanager.NewFromConfig(b.sdkConfig(reader)).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/db\x00/../../staging/db")})
	if code := errCodeOf(err); code != "AccessDeniedException" && code != "ValidationException" && code != "ResourceNotFoundException" {
		t.Errorf("secret id with NUL: %v", err)
	}
	// Nothing changed: exactly the two secrets, with their values.
	list := b.mustAWS(admin, "secretsmanager", "list-secrets")
	if n := len(list["SecretList"].([]any)); n != 2 {
		t.Errorf("%d secrets after the tricks, want 2", n)
	}
	if v := str(t, b.mustAWS(admin, "secretsmanager", "get-secret-value", "--secret-id", "/staging/db"), "SecretString"); v != "staging-value-1" {
		t.Errorf("staging value = %q", v)
	}
	if v := str(t, b.mustAWS(reader, "secretsmanager", "get-secret-value", "--secret-id", "/prod/db"), "SecretString"); v != "prod-value-1" {
		t.Errorf("prod value = %q", v)
	}
}
