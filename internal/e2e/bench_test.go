package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/shortfuse/shortfuse/internal/bench"
)

// benchEnv is the environment of `shortfuse bench`: the admin's credentials
// file and nothing else of the machine's AWS configuration.
func (b *broker) benchEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.t.TempDir(),
		"AWS_SHARED_CREDENTIALS_FILE=" + b.adminCredentialsFile(),
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// runBench runs `shortfuse bench` against the broker.
func (b *broker) runBench(env []string, args ...string) cliResult {
	b.t.Helper()
	r, err := runCmd(2*time.Minute, env, nil, mustBinary(b.t), append([]string{"bench"}, args...)...)
	if err != nil {
		b.t.Fatalf("shortfuse bench: %v", err)
	}
	return r
}

// checkSaneStats checks what any measurement of a healthy broker shows.
func checkSaneStats(t *testing.T, what string, s bench.Stats) {
	t.Helper()
	l := s.Latency
	if s.Requests == 0 || s.RequestsPerSecond <= 0 {
		t.Errorf("%s: %d requests at %v/s, want some", what, s.Requests, s.RequestsPerSecond)
	}
	if s.Errors != 0 {
		t.Errorf("%s: %d errors %v, want none", what, s.Errors, s.ErrorsByCode)
	}
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("%s: latencies not 0 < p50 ≤ p90 ≤ p99 ≤ max: %+v", what, l)
	}
}

// namesOf returns the name of each of xs.
func namesOf[T any](xs []T, name func(T) *string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, aws.ToString(name(x)))
	}
	return out
}

// TestBench runs `shortfuse bench` briefly against the real broker for
// every operation and checks that it reports sane numbers, zero errors,
// JSON that parses, and that it leaves no fixture behind.
func TestBench(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	env := b.benchEnv()
	for _, op := range bench.Ops() {
		t.Run("ok/"+string(op), func(t *testing.T) {
			res := b.runBench(env, "--endpoint-url", b.url, "--op", string(op),
				"--concurrency", "4", "--duration", "2s", "--warmup", "500ms", "--json")
			if res.Code != 0 {
				t.Fatalf("shortfuse bench: exit %d\nstderr: %s", res.Code, res.Stderr)
			}
			var r bench.Report
			dec := json.NewDecoder(strings.NewReader(res.Stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s", err, res.Stdout)
			}
			if r.Endpoint == nil || r.Ceiling != nil {
				t.Fatalf("report %+v, want the endpoint alone", r)
			}
			e := r.Endpoint
			if e.Op != op || e.Concurrency != 4 || e.Endpoint != b.url || e.Elapsed < 2 {
				t.Errorf("report labels: op %q concurrency %d endpoint %q elapsed %v", e.Op, e.Concurrency, e.Endpoint, e.Elapsed)
			}
			checkSaneStats(t, string(op), e.Stats)
			for _, o := range e.ByOp {
				checkSaneStats(t, string(op)+"/"+string(o.Op), o.Stats)
			}
			if op == bench.Mixed && len(e.ByOp) != 4 {
				t.Errorf("mixed: %d operations in the breakdown, want 4", len(e.ByOp))
			}
			if len(e.Warnings) != 0 {
				t.Errorf("warnings: %v", e.Warnings)
			}
		})
	}

	t.Run("ok/text-with-ceiling", func(t *testing.T) {
		res := b.runBench(env, "--endpoint-url", b.url, "--op", "assume-role",
			"--concurrency", "2", "--duration", "1s", "--warmup", "200ms", "--ceiling", "--rounds", "2")
		if res.Code != 0 {
			t.Fatalf("exit %d\nstderr: %s", res.Code, res.Stderr)
		}
		for _, want := range []string{"assume-role, concurrency 2", "in 2 slices alternating with the ceiling", "endpoint", "ceiling", "p99 ms", "endpoint/ceiling requests/s:", "client CPU:", "endpoint server CPU:"} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, res.Stdout)
			}
		}
	})

	// The load as a user whose permissions come from 12 managed policies: 10 on the
	// user, 2 through a group, every statement evaluated.
	t.Run("ok/principal-policies", func(t *testing.T) {
		res := b.runBench(env, "--endpoint", b.url, "--op", "get-secret-value",
			"--principal-policies", "12", "--policy-statements", "10",
			"--concurrency", "4", "--duration", "2s", "--warmup", "500ms", "--json")
		if res.Code != 0 {
			t.Fatalf("shortfuse bench: exit %d\nstderr: %s", res.Code, res.Stderr)
		}
		var r bench.Report
		if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil || r.Endpoint == nil {
			t.Fatalf("--json output does not parse: %v\n%s", err, res.Stdout)
		}
		if e := r.Endpoint; e.PrincipalPolicies != 12 || e.PolicyStatements != 10 {
			t.Errorf("report: %d policies of %d statements, want 12 of 10", e.PrincipalPolicies, e.PolicyStatements)
		}
		checkSaneStats(t, "principal-policies", r.Endpoint.Stats)
	})

	t.Run("ok/no-fixture-left-behind", func(t *testing.T) {
		ctx := context.Background()
		cl := b.iamClient(b.adminCreds())
		roles, errRoles := cl.ListRoles(ctx, &iam.ListRolesInput{})
		users, errUsers := cl.ListUsers(ctx, &iam.ListUsersInput{})
		groups, errGroups := cl.ListGroups(ctx, &iam.ListGroupsInput{})
		policies, errPolicies := cl.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
		if err := errors.Join(errRoles, errUsers, errGroups, errPolicies); err != nil {
			t.Fatal(err)
		}
		for kind, names := range map[string][]string{
			"role":   namesOf(roles.Roles, func(r iamtypes.Role) *string { return r.RoleName }),
			"user":   namesOf(users.Users, func(u iamtypes.User) *string { return u.UserName }),
			"group":  namesOf(groups.Groups, func(g iamtypes.Group) *string { return g.GroupName }),
			"policy": namesOf(policies.Policies, func(p iamtypes.Policy) *string { return p.PolicyName }),
		} {
			for _, name := range names {
				if strings.HasPrefix(name, "shortfuse-bench-") {
					t.Errorf("%s %s left behind", kind, name)
				}
			}
		}
		sm := secretsmanager.NewFromConfig(b.sdkConfig(b.adminCreds()))
		p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.SecretList {
				if strings.HasPrefix(*s.Name, "shortfuse-bench/") {
					t.Errorf("secret %s left behind", *s.Name)
				}
			}
		}
	})

	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"fail/unknown-op", env, []string{"--op", "get-everything"}, []string{"shortfuse: error: --op: unknown operation"}},
		{"fail/zero-concurrency", env, []string{"--concurrency", "0"}, []string{"--concurrency must be between 1 and 10000"}},
		{"fail/too-many-policies", env, []string{"--op", "get-secret-value", "--principal-policies", "111"}, []string{"shortfuse: error: --principal-policies must be at most 110"}},
		{"fail/slices-too-short", env, []string{"--ceiling", "--duration", "1s", "--rounds", "20"}, []string{"leaves slices under 100ms"}},
		{"fail/no-credentials", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true"},
			nil, []string{"shortfuse: error: no AWS credentials found", "shortfuse: hint: "}},
		{"fail/unreachable-endpoint", env, []string{"--endpoint", "http://127.0.0.1:1", "--duration", "1s"}, []string{"shortfuse: error: http://127.0.0.1:1: fixture"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--endpoint-url", b.url}, tt.args...)
			res := b.runBench(tt.env, args...)
			if res.Code != 1 {
				t.Errorf("exit %d, want 1", res.Code)
			}
			for _, want := range tt.want {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
				}
			}
		})
	}
}
