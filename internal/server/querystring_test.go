package server

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestQueryParametersInURL: the Query protocol's parameters may be in the
// URL's query string, for a GET and for a POST (whose body then carries
// the rest, or nothing), as AWS's Query endpoints take them; the signature
// covers the query string, so a parameter changed after signing is refused.
func TestQueryParametersInURL(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	tests := []struct {
		name, method, query, body string
		hdr                       http.Header
		tamper                    string // replaces the query string after signing
		wantStatus                int
		want                      string // in the body
	}{
		{name: "ok/post-action-in-query-empty-body", method: "POST", query: "Action=GetCallerIdentity&Version=2011-06-15",
			wantStatus: 200, want: "<Arn>arn:aws:iam::123456789012:user/admin</Arn>"},
		{name: "ok/post-action-in-query-empty-form", method: "POST", query: "Action=GetCallerIdentity&Version=2011-06-15", hdr: form,
			wantStatus: 200, want: "<GetCallerIdentityResult>"},
		{name: "ok/post-action-in-query-rest-in-body", method: "POST", query: "Action=GetUser&Version=2010-05-08", body: "UserName=admin", hdr: form,
			wantStatus: 200, want: "<UserName>admin</UserName>"},
		{name: "ok/post-version-in-body", method: "POST", query: "Action=GetSessionToken", body: "Version=2011-06-15&DurationSeconds=900", hdr: form,
			wantStatus: 200, want: "<GetSessionTokenResult>"},
		{name: "ok/get-sts", method: "GET", query: "Action=GetCallerIdentity&Version=2011-06-15",
			wantStatus: 200, want: "<GetCallerIdentityResult>"},
		{name: "ok/get-iam", method: "GET", query: "Action=ListUsers&Version=2010-05-08",
			wantStatus: 200, want: "<ListUsersResult>"},
		{name: "fail/same-parameter-in-query-and-body", method: "POST", query: "Action=GetCallerIdentity&Version=2011-06-15", body: "Action=GetSessionToken", hdr: form,
			wantStatus: 400, want: "<Code>MalformedQueryString</Code>"},
		{name: "fail/body-not-form", method: "POST", query: "Action=GetCallerIdentity&Version=2011-06-15", body: "{}", hdr: http.Header{"Content-Type": {"application/json"}},
			wantStatus: 400, want: "<Code>InvalidAction</Code>"},
		{name: "fail/get-query-changed-after-signing", method: "GET", query: "Action=GetUser&Version=2010-05-08&UserName=admin", tamper: "Action=GetUser&Version=2010-05-08&UserName=other",
			wantStatus: 403, want: "<Code>SignatureDoesNotMatch</Code>"},
		{name: "fail/post-query-changed-after-signing", method: "POST", query: "Action=GetCallerIdentity&Version=2011-06-15", tamper: "Action=GetSessionToken&Version=2011-06-15",
			wantStatus: 403, want: "<Code>SignatureDoesNotMatch</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			service := "sts"
			if strings.Contains(tt.query, "2010-05-08") {
				service = "iam"
			}
			req := signedRequest(t, tt.method, b.url+"/?"+tt.query, b.admin, tt.body, service, "us-east-1", time.Now(), tt.hdr)
			if tt.tamper != "" {
				req.URL.RawQuery = tt.tamper
			}
			if resp := send(t, req); resp.status != tt.wantStatus || !strings.Contains(resp.body, tt.want) {
				t.Errorf("%s ?%s: %d %s\nwant %d with %s", tt.method, tt.query, resp.status, resp.body, tt.wantStatus, tt.want)
			}
		})
	}
}
