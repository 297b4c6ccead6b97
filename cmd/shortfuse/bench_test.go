package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/bench"
)

func TestBenchInputValidate(t *testing.T) {
	base := benchInput{op: "get-secret-value", concurrency: 8, duration: 10 * time.Second, warmup: 2 * time.Second, rounds: 5, policyStatements: 10}
	tests := []struct {
		name   string
		modify func(*benchInput)
		err    string
	}{
		{"ok/defaults", func(in *benchInput) {}, ""},
		{"ok/principal-policies-get", func(in *benchInput) { in.principalPolicies = 1 }, ""},
		{"ok/principal-policies-put-max", func(in *benchInput) { in.op, in.principalPolicies = "put-secret-value", 110 }, ""},
		{"ok/principal-policies-mixed-statements", func(in *benchInput) {
			in.op, in.principalPolicies, in.policyStatements, in.policyStatementsSet = "mixed", 25, 1, true
		}, ""},
		{"ok/policy-statements-max", func(in *benchInput) {
			in.principalPolicies, in.policyStatements, in.policyStatementsSet = 12, bench.MaxPolicyStatements(), true
		}, ""},
		{"ok/default-statements-other-op", func(in *benchInput) { in.op = "assume-role" }, ""},
		{"fail/op", func(in *benchInput) { in.op = "get-everything" }, "--op: unknown operation"},
		{"fail/concurrency", func(in *benchInput) { in.concurrency = 0 }, "--concurrency must be between 1 and 10000"},
		{"fail/slices", func(in *benchInput) { in.duration, in.rounds = time.Second, 20 }, "leaves slices under 100ms"},
		{"fail/principal-policies-negative", func(in *benchInput) { in.principalPolicies = -1 }, "--principal-policies must not be negative, got -1"},
		{"fail/principal-policies-over-quota", func(in *benchInput) { in.principalPolicies = 111 }, "--principal-policies must be at most 110 (IAM quotas: 10 managed policies attached to a user, 10 groups per user, 10 managed policies attached to a group), got 111"},
		{"fail/principal-policies-assume-role", func(in *benchInput) { in.op, in.principalPolicies = "assume-role", 1 }, "--principal-policies applies to get-secret-value, put-secret-value and mixed"},
		{"fail/principal-policies-session-token", func(in *benchInput) { in.op, in.principalPolicies = "get-session-token", 10 }, "--principal-policies applies to get-secret-value, put-secret-value and mixed"},
		{"fail/policy-statements-alone", func(in *benchInput) { in.policyStatements, in.policyStatementsSet = 5, true }, "--policy-statements needs --principal-policies"},
		{"fail/policy-statements-zero", func(in *benchInput) { in.principalPolicies, in.policyStatements, in.policyStatementsSet = 1, 0, true }, fmt.Sprintf("--policy-statements must be between 1 and %d (a managed policy", bench.MaxPolicyStatements())},
		{"fail/policy-statements-too-many", func(in *benchInput) {
			in.principalPolicies, in.policyStatements, in.policyStatementsSet = 1, bench.MaxPolicyStatements()+1, true
		}, fmt.Sprintf("6144 characters), got %d", bench.MaxPolicyStatements()+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.modify(&in)
			err := in.validate()
			checkValidated(t, err, tc.err)
			if err == nil {
				return
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}
}

// TestBenchCommandFlags checks that the flags reach the validation: bad
// values fail before any AWS configuration is looked up.
func TestBenchCommandFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"fail/principal-policies-over-quota", []string{"--principal-policies", "111"}, "--principal-policies must be at most 110"},
		{"fail/principal-policies-other-op", []string{"--op", "assume-role", "--principal-policies", "3"}, "--principal-policies applies to get-secret-value, put-secret-value and mixed"},
		{"fail/policy-statements-alone", []string{"--policy-statements", "10"}, "--policy-statements needs --principal-policies"},
		{"fail/policy-statements-zero", []string{"--principal-policies", "2", "--policy-statements", "0"}, "--policy-statements must be between 1 and"},
		{"fail/not-a-number", []string{"--principal-policies", "many"}, "invalid argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			cmd := newBenchCommand(withStreams(func(string) string { return "" }, strings.NewReader(""), &stdout, io.Discard))
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Execute() = %v, want error containing %q", err, tc.err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
