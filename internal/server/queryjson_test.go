package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// queryCall posts a signed Query request with an Accept header and returns
// the status, the Content-Type and the body.
func queryCall(t *testing.T, b *testBroker, c aws.Credentials, body, service, accept string) (int, string, string) {
	t.Helper()
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	if accept != "" {
		hdr.Set("Accept", accept)
	}
	resp := signedPost(t, b.url, c, body, service, "us-east-1", time.Now(), hdr)
	return resp.status, resp.header.Get("Content-Type"), resp.body
}

// TestQueryAcceptJSON: a Query request that asks for JSON gets AWS's JSON
// envelope, for results and errors; one that does not gets XML.
func TestQueryAcceptJSON(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	gci := "Action=GetCallerIdentity&Version=2011-06-15"
	unknown := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}
	tests := []struct {
		name, body, service, accept string
		creds                       aws.Credentials
		wantStatus                  int
		wantType                    string
		check                       func(t *testing.T, doc map[string]any)
	}{
		{name: "ok/get-caller-identity-json", body: gci, service: "sts", accept: "application/json", creds: b.admin, wantStatus: 200, wantType: "application/json",
			check: func(t *testing.T, doc map[string]any) {
				resp, _ := doc["GetCallerIdentityResponse"].(map[string]any)
				res, _ := resp["GetCallerIdentityResult"].(map[string]any)
				meta, _ := resp["ResponseMetadata"].(map[string]any)
				if res["Account"] != "123456789012" || !strings.HasSuffix(res["Arn"].(string), ":user/admin") || !strings.HasPrefix(res["UserId"].(string), "AIDA") {
					t.Errorf("result %v", res)
				}
				if id, _ := meta["RequestId"].(string); len(id) != 36 {
					t.Errorf("ResponseMetadata %v", meta)
				}
			}},
		{name: "ok/iam-list-users-json", body: "Action=ListUsers&Version=2010-05-08", service: "iam", accept: "application/json", creds: b.admin, wantStatus: 200, wantType: "application/json",
			check: func(t *testing.T, doc map[string]any) {
				res := doc["ListUsersResponse"].(map[string]any)["ListUsersResult"].(map[string]any)
				users, ok := res["Users"].([]any)
				if !ok || len(users) != 1 || res["IsTruncated"] != false {
					t.Fatalf("result %v", res)
				}
				u := users[0].(map[string]any)
				if u["UserName"] != "admin" {
					t.Errorf("user %v", u)
				}
				if _, ok := u["CreateDate"].(float64); !ok {
					t.Errorf("CreateDate %v (%T), want epoch seconds", u["CreateDate"], u["CreateDate"])
				}
			}},
		{name: "ok/xml-by-default", body: gci, service: "sts", creds: b.admin, wantStatus: 200, wantType: "text/xml"},
		{name: "ok/xml-for-any", body: gci, service: "sts", accept: "*/*", creds: b.admin, wantStatus: 200, wantType: "text/xml"},
		{name: "fail/unknown-key-json", body: gci, service: "sts", accept: "application/json", creds: unknown, wantStatus: 403, wantType: "application/json",
			check: func(t *testing.T, doc map[string]any) {
				e, _ := doc["Error"].(map[string]any)
				if e["Code"] != "InvalidClientTokenId" || e["Type"] != "Sender" || e["Message"] == "" {
					t.Errorf("error %v", doc)
				}
				if id, _ := doc["RequestId"].(string); len(id) != 36 {
					t.Errorf("RequestId %v", doc["RequestId"])
				}
			}},
		{name: "fail/unknown-action-json", body: "Action=GetFlag&Version=2011-06-15", service: "sts", accept: "application/json", creds: b.admin, wantStatus: 400, wantType: "application/json",
			check: func(t *testing.T, doc map[string]any) {
				if e, _ := doc["Error"].(map[string]any); e["Code"] != "InvalidAction" {
					t.Errorf("error %v", doc)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ct, body := queryCall(t, b, tt.creds, tt.body, tt.service, tt.accept)
			if status != tt.wantStatus || ct != tt.wantType {
				t.Fatalf("= %d %q, want %d %q\n%s", status, ct, tt.wantStatus, tt.wantType, body)
			}
			if tt.check == nil {
				return
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, body)
			}
			tt.check(t, doc)
		})
	}
}
