package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

func TestRequestInputValidate(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/deploy"
	testValidate(t, []validateCase[requestInput]{
		{"ok/defaults", requestInput{role: role, duration: 15 * time.Minute}, ""},
		{"ok/everything", requestInput{role: role, duration: time.Hour, reason: "release", format: "env", buildURL: "https://ci/job/1/", job: "deploy", commit: "abcdef1"}, ""},
		{"fail/no-role", requestInput{duration: 15 * time.Minute}, "--role is required"},
		{"fail/not-a-role", requestInput{role: "arn:aws:iam::111122223333:user/x", duration: 15 * time.Minute}, "want a role ARN"},
		{"fail/too-short", requestInput{role: role, duration: 30 * time.Second}, "want 1m to 12h"},
		{"fail/fractional", requestInput{role: role, duration: 90500 * time.Millisecond}, "whole seconds"},
		{"fail/format", requestInput{role: role, duration: 15 * time.Minute, format: "xml"}, "--format"},
		{"fail/reason-newline", requestInput{role: role, duration: 15 * time.Minute, reason: "a\nb"}, "--reason"},
		{"fail/build-url", requestInput{role: role, duration: 15 * time.Minute, buildURL: "javascript:alert(1)"}, "--build-url"},
		{"fail/timeout", requestInput{role: role, duration: 15 * time.Minute, timeout: -time.Second}, "--timeout"},
	})
}

func TestApproveInputValidate(t *testing.T) {
	tests := []struct {
		name string
		in   approveInput
		code string
		want string
	}{
		{"ok/lower-case-code", approveInput{code: "k7qf2m9x"}, "K7QF-2M9X", ""},
		{"ok/narrowed", approveInput{code: "K7QF-2M9X", duration: 5 * time.Minute, mfaCode: "123456"}, "K7QF-2M9X", ""},
		{"fail/code", approveInput{code: "K7QF-2M9"}, "", "XXXX-XXXX"},
		{"fail/duration", approveInput{code: "K7QF-2M9X", duration: 13 * time.Hour}, "", "--duration"},
		{"fail/mfa-code", approveInput{code: "K7QF-2M9X", mfaCode: "12345"}, "", "--mfa-code"},
		{"fail/mfa-serial", approveInput{code: "K7QF-2M9X", mfaSerial: "x y"}, "", "--mfa-serial"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValidated(t, tc.in.validate(), tc.want)
			if tc.want == "" && tc.in.code != tc.code {
				t.Fatalf("code %q, want %q", tc.in.code, tc.code)
			}
		})
	}
	if err := (&denyInput{code: "K7QF-2M9X", reason: "a\x1bb"}).validate(); err == nil {
		t.Error("deny accepted a reason with an escape character")
	}
	if err := (&requestsInput{status: "open"}).validate(); err == nil {
		t.Error("requests accepted --status open")
	}
}

func TestDescribeRequestCleansBrokerText(t *testing.T) {
	var b bytes.Buffer
	describeRequest(&b, &brokerapi.ApprovalRequest{
		Code: "K7QF-2M9X", Status: "pending", Requester: "arn:aws:iam::111122223333:user/jenkins",
		RoleArn: "arn:aws:iam::111122223333:role/deploy", DurationSeconds: 900, Reason: "ship\x1b[2J it\u202e",
		Build: brokerapi.Build{URL: "https://ci/job/1/", Job: "deploy", Number: "7", System: "jenkins"}, ApprovalsRequired: 2,
		Approvals: []brokerapi.Approval{{UserName: "alice"}}, ApproversGroup: "release-managers",
	}, time.Now())
	out := b.String()
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Fatalf("describeRequest passed control characters through:\n%q", out)
	}
	for _, want := range []string{"Request K7QF-2M9X (pending", "  reason     ship?[2J it?", "  job        deploy #7 (jenkins)", "  approvals  1 of 2 from group release-managers (alice)"} {
		if !strings.Contains(out, want) {
			t.Errorf("describeRequest output lacks %q:\n%s", want, out)
		}
	}
	var none bytes.Buffer
	describeRequest(&none, &brokerapi.ApprovalRequest{Code: "K7QF-2M9X", Status: "pending"}, time.Now())
	if !strings.Contains(none.String(), "not bound to a CI build") {
		t.Errorf("a request without a build is not flagged:\n%s", none.String())
	}
}
