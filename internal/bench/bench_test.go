package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// quickConfig is a short run against url.
func quickConfig(url string, op Op) Config {
	return Config{
		AWS:            testAWS(),
		Endpoint:       url,
		Op:             op,
		Concurrency:    2,
		Duration:       time.Second, // long enough for a request to complete on a loaded CI machine
		Warmup:         100 * time.Millisecond,
		Rand:           rand.Reader,
		Now:            time.Now,
		FixtureTimeout: 5 * time.Second,
	}
}

// checkSane checks the invariants of any measurement.
func checkSane(t *testing.T, name string, s Stats) {
	t.Helper()
	l := s.Latency
	if s.Requests == 0 {
		t.Errorf("%s: no requests measured", name)
	}
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("%s: latencies out of order: %+v", name, l)
	}
	if s.Errors > s.Requests {
		t.Errorf("%s: %d errors of %d requests", name, s.Errors, s.Requests)
	}
}

// startCeiling starts a ceiling on a free loopback port until t ends.
func startCeiling(t *testing.T) *Ceiling {
	t.Helper()
	c, err := StartCeiling("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// runClean runs cfg, named name in failures, and fails t unless the run
// succeeds with sane figures, no errors and no warnings.
func runClean(t *testing.T, name string, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	checkSane(t, name, res.Stats)
	if res.Errors != 0 || len(res.Warnings) != 0 {
		t.Errorf("errors %v (%v), warnings %v; want none", res.ErrorsByCode, res.ErrorSamples, res.Warnings)
	}
	return res
}

func TestRunAgainstCeiling(t *testing.T) {
	c := startCeiling(t)
	for _, op := range Ops() {
		t.Run("ok/"+string(op), func(t *testing.T) {
			res := runClean(t, string(op), quickConfig(c.URL, op))
			if runtime.GOOS != "windows" && res.ProcessCPU <= 0 {
				t.Errorf("ProcessCPU = %v, want > 0", res.ProcessCPU)
			}
			if res.RequestsPerSecond <= 0 || res.Elapsed < 0.3 {
				t.Errorf("req/s %v over %vs, want > 0 over ≥ 0.3s", res.RequestsPerSecond, res.Elapsed)
			}
			if res.Target != "endpoint" || res.Op != op || res.Concurrency != 2 || res.Endpoint != c.URL {
				t.Errorf("result labels %q %q %d %q", res.Target, res.Op, res.Concurrency, res.Endpoint)
			}
			if op != Mixed {
				if len(res.ByOp) != 0 {
					t.Errorf("ByOp = %v, want none for a single operation", res.ByOp)
				}
				return
			}
			var ops []Op
			var sum uint64
			for _, o := range res.ByOp {
				ops = append(ops, o.Op)
				sum += o.Requests
				checkSane(t, string(o.Op), o.Stats)
			}
			slices.Sort(ops)
			want := []Op{AssumeRole, GetSecretValue, GetSessionToken, PutSecretValue}
			if !slices.Equal(ops, want) {
				t.Errorf("ByOp ops = %v, want %v", ops, want)
			}
			if sum != res.Requests {
				t.Errorf("ByOp requests add up to %d, want %d", sum, res.Requests)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	base := quickConfig("http://127.0.0.1:1", GetSecretValue)
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"fail/op", func(c *Config) { c.Op = "get-everything" }, "unknown operation"},
		{"fail/concurrency-zero", func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{"fail/concurrency-huge", func(c *Config) { c.Concurrency = 10001 }, "concurrency"},
		{"fail/duration", func(c *Config) { c.Duration = 0 }, "duration"},
		{"fail/warmup", func(c *Config) { c.Warmup = -time.Second }, "warm-up"},
		{"fail/no-rand", func(c *Config) { c.Rand = nil }, "randomness"},
		{"fail/no-clock", func(c *Config) { c.Now = nil }, "clock"},
		{"fail/no-credentials", func(c *Config) { c.AWS.Credentials = nil }, "credentials"},
		{"fail/principal-policies-negative", func(c *Config) { c.PrincipalPolicies = -1 }, "must not be negative"},
		{"fail/principal-policies-over-quota", func(c *Config) { c.PrincipalPolicies = 111 }, "at most 110 (IAM quotas"},
		{"fail/principal-policies-other-op", func(c *Config) { c.Op, c.PrincipalPolicies = AssumeRole, 1 }, "apply to get-secret-value, put-secret-value and mixed, not assume-role"},
		{"fail/principal-policies-session-token", func(c *Config) { c.Op, c.PrincipalPolicies = GetSessionToken, 3 }, "not get-session-token"},
		{"fail/policy-statements-negative", func(c *Config) { c.PrincipalPolicies, c.PolicyStatements = 1, -1 }, "policy statements must be between 1 and"},
		{"fail/policy-statements-too-many", func(c *Config) { c.PrincipalPolicies, c.PolicyStatements = 1, MaxPolicyStatements()+1 }, "6144 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.modify(&cfg)
			_, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run() = %v, want an error about %s", err, tt.want)
			}
		})
	}
	t.Run("ok/defaults", func(t *testing.T) {
		cfg := base
		cfg.AWS.Region = ""
		cfg.FixtureTimeout = 0
		if err := cfg.validate(); err != nil {
			t.Fatal(err)
		}
		if cfg.Target != "endpoint" || cfg.AWS.Region != "us-east-1" || cfg.FixtureTimeout != 60*time.Second {
			t.Errorf("defaults: target %q region %q fixture timeout %v", cfg.Target, cfg.AWS.Region, cfg.FixtureTimeout)
		}
		if cfg.PrincipalPolicies != 0 || cfg.PolicyStatements != 0 {
			t.Errorf("defaults: principal policies %d, policy statements %d; want 0, 0", cfg.PrincipalPolicies, cfg.PolicyStatements)
		}
	})
	for _, op := range []Op{GetSecretValue, PutSecretValue, Mixed} {
		t.Run("ok/principal-policies-"+string(op), func(t *testing.T) {
			cfg := base
			cfg.Op, cfg.PrincipalPolicies = op, MaxPrincipalPolicies
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			if cfg.PolicyStatements != DefaultPolicyStatements {
				t.Errorf("policy statements %d, want the default %d", cfg.PolicyStatements, DefaultPolicyStatements)
			}
			cfg.PolicyStatements = MaxPolicyStatements()
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("ok/policy-statements-ignored-without-policies", func(t *testing.T) {
		cfg := base
		cfg.Op, cfg.PolicyStatements = AssumeRole, 1000
		if err := cfg.validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseOp(t *testing.T) {
	for _, op := range Ops() {
		if got, err := ParseOp(string(op)); err != nil || got != op {
			t.Errorf("ParseOp(%q) = %q, %v", op, got, err)
		}
	}
	if _, err := ParseOp("GetSecretValue"); err == nil {
		t.Error("ParseOp(GetSecretValue) accepted the API name; want the CLI spelling")
	}
}

// faultyServer wraps the ceiling: it records every operation and answers
// the ones in fail with an error instead.
type faultyServer struct {
	mu    sync.Mutex
	ops   []string
	calls map[string]int
	fail  map[string]fault
	next  http.Handler
}

// fault fails the calls of an operation after the first after, times of
// them (0: all the rest).
type fault struct {
	code   string
	status int
	after  int
	times  int
}

func newFaultyServer(t *testing.T, fail map[string]fault) (*faultyServer, string) {
	fs := &faultyServer{fail: fail, calls: map[string]int{}, next: NewCeilingHandler()}
	hs := httptest.NewServer(fs)
	t.Cleanup(hs.Close)
	return fs, hs.URL
}

func (fs *faultyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := queryAction(body)
	isJSON := false
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		_, op, _ = strings.Cut(target, ".")
		isJSON = true
	}
	fs.mu.Lock()
	fs.ops = append(fs.ops, op)
	fs.calls[op]++
	n := fs.calls[op]
	f, failing := fs.fail[op]
	fs.mu.Unlock()
	if failing && n > f.after && (f.times == 0 || n <= f.after+f.times) {
		w.WriteHeader(f.status)
		if isJSON {
			fmt.Fprintf(w, `{"__type":%q,"message":"injected"}`, f.code)
			return
		}
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>injected</Message></Error><RequestId>x</RequestId></ErrorResponse>`, f.code)
		return
	}
	fs.next.ServeHTTP(w, r)
}

func (fs *faultyServer) seen(op string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Contains(fs.ops, op)
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name       string
		op         Op
		pp         int // Config.PrincipalPolicies
		fail       map[string]fault
		wantErr    string   // "" for a measurement
		wantCodes  []string // error codes counted during the load
		wantWarn   string
		wantSeen   []string
		wantUnseen []string
	}{
		{
			name:      "ok/load-errors-counted-by-code",
			op:        GetSecretValue,
			fail:      map[string]fault{"GetSecretValue": {code: "ThrottlingException", status: 400, after: 1}},
			wantCodes: []string{"ThrottlingException"},
			wantSeen:  []string{"CreateSecret", "DeleteSecret"},
		},
		{
			name:      "ok/http-status-without-code",
			op:        AssumeRole,
			fail:      map[string]fault{"AssumeRole": {code: "", status: 503, after: 1}},
			wantCodes: []string{"HTTP503"},
		},
		{
			name:     "ok/not-yet-consistent-key-waited-out",
			op:       GetSessionToken,
			fail:     map[string]fault{"GetSessionToken": {code: "InvalidClientTokenId", status: 403, times: 2}},
			wantSeen: []string{"CreateUser", "CreateAccessKey", "DeleteAccessKey", "DeleteUser"},
		},
		{
			name:     "ok/cleanup-failure-is-a-warning",
			op:       AssumeRole,
			fail:     map[string]fault{"DeleteRole": {code: "DeleteConflict", status: 409}},
			wantWarn: "could not delete fixture role",
		},
		{
			name:     "fail/readiness-non-transient",
			op:       GetSecretValue,
			fail:     map[string]fault{"GetSecretValue": {code: "ThrottlingException", status: 400}},
			wantErr:  "ThrottlingException",
			wantSeen: []string{"DeleteSecret"},
		},
		{
			name:       "fail/fixture-made-ones-cleaned-up",
			op:         Mixed,
			fail:       map[string]fault{"CreateRole": {code: "AccessDenied", status: 403}},
			wantErr:    "create role",
			wantSeen:   []string{"CreateSecret", "DeleteSecret"},
			wantUnseen: []string{"DeleteRole", "CreateUser", "AssumeRole"},
		},
		{
			name:       "fail/secrets-manager-missing",
			op:         PutSecretValue,
			fail:       map[string]fault{"CreateSecret": {code: "UnknownOperationException", status: 400}},
			wantErr:    "UnknownOperationException",
			wantUnseen: []string{"DeleteSecret", "PutSecretValue"},
		},
		{
			name:     "ok/principal-policies-already-gone-not-warned",
			op:       GetSecretValue,
			pp:       12,
			fail:     map[string]fault{"DetachGroupPolicy": {code: "NoSuchEntity", status: 404}, "DeletePolicy": {code: "NoSuchEntity", status: 404, times: 1}},
			wantSeen: []string{"RemoveUserFromGroup", "DeleteGroup", "DetachUserPolicy", "DeleteAccessKey", "DeleteUser"},
		},
		{
			name:     "ok/principal-policies-cleanup-failure-is-a-warning",
			op:       PutSecretValue,
			pp:       11,
			fail:     map[string]fault{"DeleteGroup": {code: "DeleteConflict", status: 409}},
			wantWarn: "could not delete fixture group shortfuse-bench-",
			wantSeen: []string{"DeletePolicy", "DeleteUser"},
		},
		{
			name:       "fail/principal-policies-made-ones-cleaned-up",
			op:         GetSecretValue,
			pp:         12,
			fail:       map[string]fault{"AttachGroupPolicy": {code: "LimitExceeded", status: 409}},
			wantErr:    "attach policy shortfuse-bench-",
			wantSeen:   []string{"DetachUserPolicy", "DeletePolicy", "RemoveUserFromGroup", "DeleteGroup", "DeleteAccessKey", "DeleteUser", "DeleteSecret"},
			wantUnseen: []string{"DetachGroupPolicy"},
		},
		{
			name:       "fail/principal-policies-no-caller-identity",
			op:         Mixed,
			pp:         1,
			fail:       map[string]fault{"GetCallerIdentity": {code: "AccessDenied", status: 403, after: 1}},
			wantErr:    "GetCallerIdentity",
			wantSeen:   []string{"DeleteRole", "DeleteUser", "DeleteSecret"},
			wantUnseen: []string{"CreatePolicy"},
		},
		{
			name:     "fail/cleanup-failure-reported-with-error",
			op:       Mixed,
			fail:     map[string]fault{"CreateUser": {code: "LimitExceeded", status: 409}, "DeleteRole": {code: "DeleteConflict", status: 409}},
			wantErr:  "could not delete fixture role",
			wantSeen: []string{"DeleteSecret"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, url := newFaultyServer(t, tt.fail)
			cfg := quickConfig(url, tt.op)
			cfg.PrincipalPolicies = tt.pp
			res, err := Run(context.Background(), cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run() = %v, want an error containing %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatalf("Run() = %v", err)
				}
				checkSane(t, tt.name, res.Stats)
				var codes []string
				var sum uint64
				for code, n := range res.ErrorsByCode {
					codes = append(codes, code)
					sum += n
					if res.ErrorSamples[code] == "" {
						t.Errorf("no sample message for %s", code)
					}
				}
				slices.Sort(codes)
				if !slices.Equal(codes, tt.wantCodes) || sum != res.Errors {
					t.Errorf("errors by code %v (total %d), want codes %v", res.ErrorsByCode, res.Errors, tt.wantCodes)
				}
				if len(tt.wantCodes) > 0 && (res.Errors != res.Requests || res.RequestsPerSecond != 0) {
					t.Errorf("%d errors of %d requests at %v/s; want every one failed and 0/s", res.Errors, res.Requests, res.RequestsPerSecond)
				}
				joined := strings.Join(res.Warnings, "\n")
				if (tt.wantWarn == "") != (joined == "") || !strings.Contains(joined, tt.wantWarn) {
					t.Errorf("warnings %q, want %q", joined, tt.wantWarn)
				}
			}
			for _, op := range tt.wantSeen {
				if !fs.seen(op) {
					t.Errorf("%s was not called", op)
				}
			}
			for _, op := range tt.wantUnseen {
				if fs.seen(op) {
					t.Errorf("%s was called", op)
				}
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	fs, url := newFaultyServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := quickConfig(url, AssumeRole)
	cfg.Duration = time.Minute
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Run() took %v after the cancel", d)
	}
	if !fs.seen("DeleteRole") {
		t.Error("the role was not deleted after the interruption")
	}
}

func TestTrustPrincipal(t *testing.T) {
	tests := []struct {
		name, arn, want string
	}{
		{"ok/user", "arn:aws:iam::123456789012:user/ops/alice", "arn:aws:iam::123456789012:user/ops/alice"},
		{"ok/root", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"},
		{"ok/assumed-role-becomes-account", "arn:aws:sts::123456789012:assumed-role/Admin/bob", "arn:aws:iam::123456789012:root"},
		{"ok/other-partition", "arn:aws-cn:sts::123456789012:assumed-role/Admin/bob", "arn:aws-cn:iam::123456789012:root"},
		{"ok/federated-user", "arn:aws:sts::123456789012:federated-user/carol", "arn:aws:iam::123456789012:root"},
		{"ok/garbage", "not-an-arn", "arn:aws:iam::123456789012:root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trustPrincipal(tt.arn, "123456789012"); got != tt.want {
				t.Errorf("trustPrincipal(%q) = %q, want %q", tt.arn, got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ok/http-status", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 502}}, Err: errors.New("bad gateway")}, "HTTP502"},
		{"ok/timeout", fmt.Errorf("send: %w", timeoutErr{}), "Timeout"},
		{"ok/deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), "Timeout"},
		{"ok/connection", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "ConnectionError"},
		{"ok/other", errors.New("deserialization failed"), "ClientError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, msg := classify(tt.err); got != tt.want || msg == "" {
				t.Errorf("classify(%v) = %q, %q; want %q", tt.err, got, msg, tt.want)
			}
		})
	}
	long := errors.New(strings.Repeat("x", 1000))
	if _, msg := classify(long); len(msg) > 310 {
		t.Errorf("classify kept a %d-byte message", len(msg))
	}
}

func TestReport(t *testing.T) {
	c := startCeiling(t)
	cfg := quickConfig(c.URL, Mixed)
	a, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target = "ceiling"
	b, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.ErrorsByCode = map[string]uint64{"ThrottlingException": 3}
	a.ErrorSamples = map[string]string{"ThrottlingException": "rate\nexceeded"}
	r := NewReport(a, b)
	if want := a.RequestsPerSecond / b.RequestsPerSecond; r.Ratio != want {
		t.Errorf("Ratio = %v, want %v", r.Ratio, want)
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	dec := json.NewDecoder(&js)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("the JSON report does not decode into Report: %v", err)
	}
	if back.Endpoint.Requests != a.Requests || back.Ceiling.Target != "ceiling" || len(back.Endpoint.ByOp) != 4 || back.Ratio != r.Ratio {
		t.Errorf("JSON round trip lost data: %+v", back)
	}

	var txt bytes.Buffer
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	out := txt.String()
	for _, want := range []string{"mixed, concurrency 2", "endpoint", "ceiling", "get-secret-value", "p99 ms", "endpoint/ceiling requests/s:", "endpoint errors ThrottlingException: 3 (first: rate exceeded)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}

	if r := NewReport(a, nil); r.Ratio != 0 || r.Ceiling != nil {
		t.Errorf("report without ceiling: %+v", r)
	}
}

func TestCompare(t *testing.T) {
	var mu sync.Mutex
	var timeline []string // which server answered, in order
	serve := func(name string) string {
		h := NewCeilingHandler()
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if n := len(timeline); n == 0 || timeline[n-1] != name {
				timeline = append(timeline, name)
			}
			mu.Unlock()
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(hs.Close)
		return hs.URL
	}
	a := quickConfig(serve("a"), GetSessionToken)
	a.Duration = 600 * time.Millisecond
	b := a
	b.Endpoint, b.Target = serve("b"), "ceiling"
	r, err := Compare(context.Background(), a, b, 3)
	if err != nil {
		t.Fatalf("Compare() = %v", err)
	}
	for _, res := range []*Result{r.Endpoint, r.Ceiling} {
		checkSane(t, res.Target, res.Stats)
		if res.Slices != 3 || res.Elapsed < 0.6 {
			t.Errorf("%s: %d slices over %vs, want 3 over ≥ 0.6s", res.Target, res.Slices, res.Elapsed)
		}
	}
	if r.Endpoint.Target != "endpoint" || r.Ceiling.Target != "ceiling" || r.Ratio <= 0 {
		t.Errorf("report %q/%q ratio %v", r.Endpoint.Target, r.Ceiling.Target, r.Ratio)
	}
	// Fixtures a, b; slices a b b a a b; cleanup a, b: at least a b a b a b.
	mu.Lock()
	defer mu.Unlock()
	if len(timeline) < 6 {
		t.Errorf("servers answered in runs %v, want the slices to alternate", timeline)
	}

	if _, err := Compare(context.Background(), a, b, 0); err == nil {
		t.Error("Compare() with 0 rounds succeeded")
	}
	bad := b
	bad.Endpoint = "http://127.0.0.1:1"
	fs, url := newFaultyServer(t, nil)
	a.Endpoint = url
	if _, err := Compare(context.Background(), a, bad, 2); err == nil || !strings.Contains(err.Error(), "ceiling") {
		t.Errorf("Compare() with an unreachable ceiling = %v, want an error naming the ceiling", err)
	}
	if !fs.seen("DeleteAccessKey") || !fs.seen("DeleteUser") {
		t.Error("the endpoint's fixtures were not deleted when the ceiling failed")
	}
}

// TestPrincipalPoliciesAgainstCeiling runs the secrets operations as a
// user with 12 policies (10 on the user, 2 on a group) and checks the
// fixture operations sent, made and undone.
func TestPrincipalPoliciesAgainstCeiling(t *testing.T) {
	for _, op := range []Op{GetSecretValue, PutSecretValue, Mixed} {
		t.Run("ok/"+string(op), func(t *testing.T) {
			fs, url := newFaultyServer(t, nil)
			cfg := quickConfig(url, op)
			cfg.PrincipalPolicies = 12
			res := runClean(t, string(op), cfg)
			if res.PrincipalPolicies != 12 || res.PolicyStatements != DefaultPolicyStatements {
				t.Errorf("result records %d policies of %d statements, want 12 of %d", res.PrincipalPolicies, res.PolicyStatements, DefaultPolicyStatements)
			}
			want := map[string]int{
				"CreatePolicy": 12, "DeletePolicy": 12,
				"AttachUserPolicy": 10, "DetachUserPolicy": 10,
				"AttachGroupPolicy": 2, "DetachGroupPolicy": 2,
				"CreateGroup": 1, "DeleteGroup": 1,
				"AddUserToGroup": 1, "RemoveUserFromGroup": 1,
			}
			fs.mu.Lock()
			defer fs.mu.Unlock()
			for action, n := range want {
				if fs.calls[action] != n {
					t.Errorf("%s called %d times, want %d", action, fs.calls[action], n)
				}
			}
			// Newest first: each policy is detached, then deleted, from
			// the last to the first; the user leaves the group, then the
			// group goes, between the group's policies and the user's.
			var got []string
			for _, op := range fs.ops {
				switch op {
				case "DetachUserPolicy", "DetachGroupPolicy", "DeletePolicy", "RemoveUserFromGroup", "DeleteGroup":
					got = append(got, op)
				}
			}
			wantOrder := []string{"DetachGroupPolicy", "DeletePolicy", "DetachGroupPolicy", "DeletePolicy", "RemoveUserFromGroup", "DeleteGroup"}
			for range 10 {
				wantOrder = append(wantOrder, "DetachUserPolicy", "DeletePolicy")
			}
			if !slices.Equal(got, wantOrder) {
				t.Errorf("cleanup order %v, want %v", got, wantOrder)
			}
		})
	}
}

func TestPrincipalPoliciesReport(t *testing.T) {
	res := &Result{Target: "endpoint", Op: GetSecretValue, Concurrency: 32, PrincipalPolicies: 110, PolicyStatements: 10}
	var txt, js bytes.Buffer
	r := NewReport(res, nil)
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if want := "caller with 110 managed policies of 10 statements (1100 statements evaluated per request)"; !strings.Contains(txt.String(), want) {
		t.Errorf("text report lacks %q:\n%s", want, txt.String())
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"principal_policies": 110`, `"policy_statements": 10`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON report lacks %s:\n%s", want, js.String())
		}
	}
	res.PrincipalPolicies, res.PolicyStatements = 0, 0
	txt.Reset()
	js.Reset()
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(txt.String(), "policies") || strings.Contains(js.String(), "polic") {
		t.Errorf("a run as the caller mentions policies:\n%s\n%s", txt.String(), js.String())
	}
}

// TestPolicyDocuments checks the fixture policies: within IAM's size
// quota up to MaxPolicyStatements, and only the last statement of the last
// policy names the run's secrets.
func TestPolicyDocuments(t *testing.T) {
	worst := policyScope{partition: "aws-us-gov", region: "us-isob-east-1", account: "123456789012", id: "ffffffffffff"}
	s := MaxPolicyStatements()
	if s < DefaultPolicyStatements || s > 100 {
		t.Fatalf("MaxPolicyStatements() = %d", s)
	}
	for _, op := range []Op{GetSecretValue, PutSecretValue, Mixed} {
		for i := range MaxPrincipalPolicies {
			if n := len(worst.document(op, i, MaxPrincipalPolicies, s)); n > policySizeQuota {
				t.Errorf("%s: policy %d of %d statements is %d characters", op, i, s, n)
			}
		}
	}
	if n := len(worst.document(Mixed, MaxPrincipalPolicies-1, MaxPrincipalPolicies, s+1)); n <= policySizeQuota {
		t.Errorf("%d statements make %d characters: MaxPolicyStatements() could be larger", s+1, n)
	}

	sc := policyScope{partition: "aws", region: "us-east-1", account: "123456789012", id: "0123456789ab"}
	own := `"Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:shortfuse-bench/0123456789ab*"`
	const n, stmts = 4, 7
	kinds := map[string]int{}
	for i := range n {
		doc := sc.document(GetSecretValue, i, n, stmts)
		var parsed struct {
			Version   string
			Statement []statement
		}
		if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
			t.Fatalf("policy %d does not parse: %v", i, err)
		}
		if parsed.Version != "2012-10-17" || len(parsed.Statement) != stmts {
			t.Errorf("policy %d: version %q, %d statements", i, parsed.Version, len(parsed.Statement))
		}
		grants := strings.Count(doc, own)
		if (i == n-1) != (grants == 1) || grants > 1 {
			t.Errorf("policy %d names the run's secrets %d times", i, grants)
		}
		for j, st := range parsed.Statement {
			if i == n-1 && j == stmts-1 {
				if st.Effect != "Allow" || st.Condition != nil || !slices.Equal(st.Action, []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}) {
					t.Errorf("allowing statement %+v", st)
				}
				continue
			}
			if !strings.Contains(st.Resource, ":secret:shortfuse-bench-decoy/0123456789ab/") || len(st.Condition) != 1 {
				t.Errorf("policy %d statement %d is not a decoy: %+v", i, j, st)
			}
			for k := range st.Condition {
				kinds[st.Effect+" "+k]++
			}
		}
	}
	for _, k := range []string{"Allow StringEquals", "Deny Bool", "Allow IpAddress"} {
		if kinds[k] == 0 {
			t.Errorf("no decoy %s among %v", k, kinds)
		}
	}
}
