package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Op is an operation the load generator sends.
type Op string

// The operations. Mixed interleaves the other four in the proportions of
// [MixedCycle].
const (
	GetSecretValue  Op = "get-secret-value"
	AssumeRole      Op = "assume-role"
	GetSessionToken Op = "get-session-token"
	PutSecretValue  Op = "put-secret-value"
	Mixed           Op = "mixed"
)

// Ops lists every Op, in the order the documentation uses.
func Ops() []Op { return []Op{GetSecretValue, AssumeRole, GetSessionToken, PutSecretValue, Mixed} }

// ParseOp returns the Op named s.
func ParseOp(s string) (Op, error) {
	if slices.Contains(Ops(), Op(s)) {
		return Op(s), nil
	}
	names := make([]string, 0, len(Ops()))
	for _, op := range Ops() {
		names = append(names, string(op))
	}
	return "", fmt.Errorf("unknown operation %q: want one of %s", s, strings.Join(names, ", "))
}

// MixedCycle is the sequence every worker of a Mixed run repeats, each
// worker starting at a different place in it: seven reads of a secret for
// each AssumeRole, GetSessionToken and PutSecretValue, roughly what a CI
// job's start does (one session, several secrets) with the occasional
// write.
var MixedCycle = []Op{
	GetSecretValue, AssumeRole, GetSecretValue, GetSecretValue, GetSessionToken,
	GetSecretValue, GetSecretValue, PutSecretValue, GetSecretValue, GetSecretValue,
}

// needs reports which fixtures an Op uses: the secret it reads, the pool
// of secrets it writes, the role, the user.
func (op Op) needs() (secret, pool, role, user bool) {
	switch op {
	case GetSecretValue:
		return true, false, false, false
	case PutSecretValue:
		return false, true, false, false
	case AssumeRole:
		return false, false, true, false
	case GetSessionToken:
		return false, false, false, true
	case Mixed:
		return true, true, true, true
	}
	return false, false, false, false
}

// Config is one measurement: one Op against one endpoint.
type Config struct {
	// AWS carries the credentials and the region (default us-east-1). Its
	// endpoint, HTTP client and retryer are replaced: every request is
	// sent once, and a failure is counted, not retried.
	AWS aws.Config
	// Endpoint is the base URL of the service under test; "" means the
	// SDK's own endpoint resolution (real AWS, or AWS_ENDPOINT_URL already
	// in AWS).
	Endpoint string
	// Target names the endpoint in reports ("endpoint", "ceiling", …).
	Target      string
	Op          Op
	Concurrency int
	// Duration is the measured time, after Warmup. Requests started during
	// the warm-up are sent but not recorded.
	Duration time.Duration
	Warmup   time.Duration
	// Rand supplies fixture names and the secret's value.
	Rand io.Reader
	// Now is the clock for latencies and the run's schedule; it must carry
	// a monotonic reading (time.Now does).
	Now func() time.Time
	// FixtureTimeout bounds the wait for new fixtures to become usable
	// (real AWS is eventually consistent). Default 60 s.
	FixtureTimeout time.Duration
	// HTTPClient, if set, replaces the client the SDK would use; by default
	// the SDK's transport with an idle pool of twice Concurrency and a 30 s
	// timeout per request.
	HTTPClient aws.HTTPClient
	// PrincipalPolicies, if not 0, sends the load's Secrets Manager
	// requests as a fixture IAM user with that many customer managed
	// policies (at most MaxPrincipalPolicies), of PolicyStatements
	// statements each, of which only the last statement of the last policy
	// allows the requests. For GetSecretValue, PutSecretValue and Mixed.
	PrincipalPolicies int
	// PolicyStatements is the number of statements of each policy, 1 to
	// MaxPolicyStatements(); 0 means DefaultPolicyStatements. Unused
	// without PrincipalPolicies.
	PolicyStatements int
	// ServerCPU, if set, reads the CPU time the server under test has
	// used so far (MetricsCPU); the measurement then reports the server's
	// CPU per request beside the client's. A probe that reports false
	// leaves it unmeasured.
	ServerCPU func(context.Context) (time.Duration, bool)
}

// validate checks the Config and fills in defaults.
func (c *Config) validate() error {
	if _, err := ParseOp(string(c.Op)); err != nil {
		return err
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("concurrency must be at least 1, got %d", c.Concurrency)
	}
	if c.Concurrency > 10000 {
		return fmt.Errorf("concurrency must be at most 10000, got %d", c.Concurrency)
	}
	if c.Duration <= 0 {
		return fmt.Errorf("duration must be positive, got %s", c.Duration)
	}
	if c.Warmup < 0 {
		return fmt.Errorf("warm-up must not be negative, got %s", c.Warmup)
	}
	if c.Rand == nil {
		return errors.New("no source of randomness")
	}
	if c.Now == nil {
		return errors.New("no clock")
	}
	if c.AWS.Credentials == nil {
		return errors.New("no AWS credentials")
	}
	if c.PrincipalPolicies < 0 {
		return fmt.Errorf("principal policies must not be negative, got %d", c.PrincipalPolicies)
	}
	if c.PrincipalPolicies > MaxPrincipalPolicies {
		return fmt.Errorf("principal policies must be at most %d (%s), got %d", MaxPrincipalPolicies, PrincipalPoliciesQuota, c.PrincipalPolicies)
	}
	if c.PrincipalPolicies > 0 {
		if !c.Op.PrincipalPoliciesApply() {
			return fmt.Errorf("principal policies apply to %s, %s and %s, not %s", GetSecretValue, PutSecretValue, Mixed, c.Op)
		}
		if c.PolicyStatements == 0 {
			c.PolicyStatements = DefaultPolicyStatements
		}
		if c.PolicyStatements < 1 || c.PolicyStatements > MaxPolicyStatements() {
			return fmt.Errorf("policy statements must be between 1 and %d (a managed policy holds at most %d characters), got %d", MaxPolicyStatements(), policySizeQuota, c.PolicyStatements)
		}
	}
	if c.Target == "" {
		c.Target = "endpoint"
	}
	if c.AWS.Region == "" {
		c.AWS.Region = "us-east-1"
	}
	if c.FixtureTimeout <= 0 {
		c.FixtureTimeout = 60 * time.Second
	}
	return nil
}

// clients are the SDK clients of one run, all on one HTTP client.
type clients struct {
	sts *sts.Client
	sm  *secretsmanager.Client
	iam *iam.Client
	cfg aws.Config
}

// requestTimeout bounds one request of the load.
const requestTimeout = 30 * time.Second

// newHTTPClient is the SDK's own transport with an idle-connection pool
// large enough that no worker ever waits for, or throws away, a connection.
// A request that takes longer than requestTimeout counts as a Timeout error
// rather than holding its worker forever.
func newHTTPClient(concurrency int) *http.Client {
	tr := awshttp.NewBuildableClient().GetTransport()
	tr.MaxIdleConns = 2 * concurrency
	tr.MaxIdleConnsPerHost = 2 * concurrency
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

func newClients(cfg Config, creds aws.CredentialsProvider) *clients {
	ac := cfg.AWS.Copy()
	ac.Credentials = creds
	ac.HTTPClient = cfg.HTTPClient
	ac.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	ac.RetryMaxAttempts = 1
	var endpoint *string
	if cfg.Endpoint != "" {
		ac.BaseEndpoint = aws.String(cfg.Endpoint)
		endpoint = ac.BaseEndpoint
	}
	// Set on each client's options, last: a configuration loaded with an
	// endpoint (--endpoint-url, AWS_ENDPOINT_URL_*) names it for every
	// service through its sources, which would win over BaseEndpoint and
	// send the ceiling's load to the endpoint.
	return &clients{
		sts: sts.NewFromConfig(ac, func(o *sts.Options) {
			if endpoint != nil {
				o.BaseEndpoint = endpoint
			}
		}),
		sm: secretsmanager.NewFromConfig(ac, func(o *secretsmanager.Options) {
			if endpoint != nil {
				o.BaseEndpoint = endpoint
			}
		}),
		iam: iam.NewFromConfig(ac, func(o *iam.Options) {
			if endpoint != nil {
				o.BaseEndpoint = endpoint
			}
		}),
		cfg: ac,
	}
}

// Latency is a latency summary, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Stats are the counts and latencies of the measured requests.
type Stats struct {
	Requests          uint64            `json:"requests"` // measured requests, including failed ones
	Errors            uint64            `json:"errors"`
	ErrorsByCode      map[string]uint64 `json:"errors_by_code,omitempty"`
	RequestsPerSecond float64           `json:"requests_per_second"` // successful requests per second
	Latency           Latency           `json:"latency"`             // of all measured requests
}

// OpStats are the Stats of one operation of a Mixed run.
type OpStats struct {
	Op Op `json:"op"`
	Stats
}

// Result is the outcome of one Run.
type Result struct {
	Target      string  `json:"target"`
	Endpoint    string  `json:"endpoint"`
	Op          Op      `json:"op"`
	Concurrency int     `json:"concurrency"`
	Warmup      float64 `json:"warmup_seconds"`
	Elapsed     float64 `json:"elapsed_seconds"` // measured wall time
	// Slices is the number of slices the measured time came in (Compare
	// alternates the endpoint and the ceiling).
	Slices int `json:"slices"`
	// ProcessCPU is the CPU time this process used during the measured
	// time: the client's cost (with the ceiling in process, the client's
	// and the ceiling's). 0 where it is not measured.
	ProcessCPU float64 `json:"process_cpu_seconds"`
	// ServerCPU is the CPU time the server used during the measured time,
	// read with Config.ServerCPU; 0 where it is not measured.
	ServerCPU float64 `json:"server_cpu_seconds,omitempty"`
	// PrincipalPolicies and PolicyStatements are the Config's: the caller
	// of the Secrets Manager requests had that many managed policies of
	// that many statements. Both 0 when the load ran as the caller.
	PrincipalPolicies int `json:"principal_policies,omitempty"`
	PolicyStatements  int `json:"policy_statements,omitempty"`
	Stats
	// ByOp breaks a Mixed run down by operation.
	ByOp []OpStats `json:"by_op,omitempty"`
	// ErrorSamples holds the first error message seen for each code, to
	// say what went wrong. Messages come from the SDK and the server's
	// error responses, which carry no secret values.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// Warnings are problems that did not spoil the measurement, such as a
	// fixture that could not be deleted.
	Warnings []string `json:"warnings,omitempty"`
}

// Run prepares the fixtures the Op needs with the configured credentials,
// runs the load (warm-up, then the measured duration), deletes the
// fixtures and returns the measurement. It fails if a fixture cannot be
// made; errors during the load are counted, not returned. Cancelling ctx
// stops the load early and still deletes the fixtures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	t, err := openTarget(ctx, cfg)
	if err != nil {
		return nil, err
	}
	t.slice(ctx, t.cfg.Warmup, t.cfg.Duration)
	res, err := closeTargets(ctx, t)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Compare measures two targets with the same client settings, the
// endpoint and the ceiling, in alternating slices: the measured Duration
// of each is cut into rounds slices, run in the order A B B A A B …, so
// that a machine whose load drifts during the run weighs on both alike.
// Each target's warm-up precedes its first slice. ceiling is endpoint with
// another Endpoint and Target.
func Compare(ctx context.Context, endpoint, ceiling Config, rounds int) (*Report, error) {
	if rounds < 1 {
		return nil, fmt.Errorf("rounds must be at least 1, got %d", rounds)
	}
	a, err := openTarget(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	b, err := openTarget(ctx, ceiling)
	if err != nil {
		_, _ = closeTargets(ctx, a)
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	for r := range rounds {
		order := []*target{a, b}
		if r%2 == 1 {
			order = []*target{b, a}
		}
		for _, t := range order {
			warmup := time.Duration(0)
			if t.slices == 0 {
				warmup = t.cfg.Warmup
			}
			t.slice(ctx, warmup, t.cfg.Duration/time.Duration(rounds))
		}
	}
	res, err := closeTargets(ctx, a, b)
	if err != nil {
		return nil, err
	}
	return NewReport(res[0], res[1]), nil
}

// target is one endpoint under measurement: its clients, its fixtures, and
// what its workers have recorded so far, over one or more slices of load.
type target struct {
	cfg     Config
	cl      *clients
	fx      *fixtures
	hc      *http.Client // the HTTP client Run made, closed at the end; nil if given
	cycle   []Op
	ops     []Op // distinct ops of the cycle, in first-seen order
	workers []*worker
	elapsed time.Duration
	cpu     time.Duration
	srvCPU  time.Duration
	srvOK   bool // every slice's server CPU was read
	slices  int
}

// call sends one request.
type call func(ctx context.Context) error

// worker is one goroutine's state, kept across slices.
type worker struct {
	calls   map[Op]call
	n       int         // position in the cycle
	hist    []Histogram // one per op of target.ops
	errs    []map[string]uint64
	samples map[string]string
}

// openTarget validates cfg and prepares the target's fixtures. On error
// the fixtures made so far are already deleted.
func openTarget(ctx context.Context, cfg Config) (*target, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &target{cfg: cfg}
	if t.cfg.HTTPClient == nil {
		t.hc = newHTTPClient(cfg.Concurrency)
		t.cfg.HTTPClient = t.hc
	}
	t.cl = newClients(t.cfg, cfg.AWS.Credentials)
	fx, err := prepare(ctx, t.cfg, t.cl)
	t.fx = fx
	if err != nil {
		if warnings := t.close(ctx); len(warnings) > 0 {
			err = fmt.Errorf("%w (and cleanup: %s)", err, strings.Join(warnings, "; "))
		}
		return nil, err
	}
	t.cycle = []Op{cfg.Op}
	if cfg.Op == Mixed {
		t.cycle = MixedCycle
	}
	for _, op := range t.cycle {
		if !slices.Contains(t.ops, op) {
			t.ops = append(t.ops, op)
		}
	}
	t.workers = make([]*worker, cfg.Concurrency)
	for i := range t.workers {
		t.workers[i] = &worker{
			calls:   fx.workerCalls(t.cl),
			n:       i, // each worker starts at another place in the cycle
			hist:    make([]Histogram, len(t.ops)),
			errs:    make([]map[string]uint64, len(t.ops)),
			samples: map[string]string{},
		}
	}
	return t, nil
}

// close stops the fixtures' background work, deletes them and closes the
// idle connections. Cleanup runs even when ctx is cancelled (an
// interrupted run must not leave a role behind), with its own deadline.
func (t *target) close(ctx context.Context) []string {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	warnings := t.fx.cleanup(cctx)
	if t.hc != nil {
		t.hc.CloseIdleConnections()
	}
	return warnings
}

// closeTargets closes the targets and returns their results, or the
// interruption with what the cleanup could not delete.
func closeTargets(ctx context.Context, ts ...*target) ([]*Result, error) {
	var warnings [][]string
	for _, t := range ts {
		warnings = append(warnings, t.close(ctx))
	}
	if err := ctx.Err(); err != nil {
		var all []string
		for _, w := range warnings {
			all = append(all, w...)
		}
		err = fmt.Errorf("interrupted: %w", err)
		if len(all) > 0 {
			err = fmt.Errorf("%w (and cleanup: %s)", err, strings.Join(all, "; "))
		}
		return nil, err
	}
	var res []*Result
	for i, t := range ts {
		r := t.result()
		r.Warnings = append(r.Warnings, warnings[i]...)
		res = append(res, r)
	}
	return res, nil
}

// slice runs the workers for warmup (not recorded), then duration.
func (t *target) slice(ctx context.Context, warmup, duration time.Duration) {
	cfg := t.cfg
	start := cfg.Now()
	warmEnd := start.Add(warmup)
	end := warmEnd.Add(duration)
	// The process's CPU time at the end of the warm-up, taken on time by a
	// goroutine of its own.
	cpuStart := make(chan [2]time.Duration, 1)
	srvOK := cfg.ServerCPU != nil
	go func() {
		if d := warmEnd.Sub(cfg.Now()); d > 0 {
			tm := time.NewTimer(d)
			defer tm.Stop()
			select {
			case <-tm.C:
			case <-ctx.Done():
			}
		}
		var srv time.Duration
		if srvOK {
			srv, srvOK = cfg.ServerCPU(ctx)
		}
		cpuStart <- [2]time.Duration{processCPU(), srv}
	}()
	var wg sync.WaitGroup
	for _, w := range t.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ; ; w.n++ {
				op := t.cycle[w.n%len(t.cycle)]
				t0 := cfg.Now()
				if !t0.Before(end) || ctx.Err() != nil {
					return
				}
				err := w.calls[op](ctx)
				d := cfg.Now().Sub(t0)
				if t0.Before(warmEnd) || ctx.Err() != nil {
					continue
				}
				k := slices.Index(t.ops, op)
				w.hist[k].Record(d)
				if err != nil {
					code, msg := classify(err)
					if w.errs[k] == nil {
						w.errs[k] = map[string]uint64{}
					}
					w.errs[k][code]++
					if _, ok := w.samples[code]; !ok {
						w.samples[code] = msg
					}
				}
			}
		}()
	}
	wg.Wait()
	c0 := <-cpuStart
	t.cpu += processCPU() - c0[0]
	if srvOK {
		srv, ok := cfg.ServerCPU(ctx)
		srvOK = ok && srv >= c0[1]
		t.srvCPU += srv - c0[1]
	}
	t.srvOK = srvOK && (t.slices == 0 || t.srvOK)
	// The measured time runs from the end of the warm-up until the last
	// request started before the end has come back.
	elapsed := cfg.Now().Sub(warmEnd)
	if elapsed < duration {
		elapsed = duration
	}
	t.elapsed += elapsed
	t.slices++
}

// result summarises what the workers recorded.
func (t *target) result() *Result {
	cfg := t.cfg
	res := &Result{
		Target:       cfg.Target,
		Endpoint:     cfg.Endpoint,
		Op:           cfg.Op,
		Concurrency:  cfg.Concurrency,
		Warmup:       cfg.Warmup.Seconds(),
		Elapsed:      t.elapsed.Seconds(),
		Slices:       t.slices,
		ProcessCPU:   t.cpu.Seconds(),
		ErrorSamples: map[string]string{},
	}
	if t.srvOK {
		res.ServerCPU = t.srvCPU.Seconds()
	}
	if cfg.PrincipalPolicies > 0 {
		res.PrincipalPolicies, res.PolicyStatements = cfg.PrincipalPolicies, cfg.PolicyStatements
	}
	var all Histogram
	allErrs := map[string]uint64{}
	for k, op := range t.ops {
		var h Histogram
		errs := map[string]uint64{}
		for _, w := range t.workers {
			h.Merge(&w.hist[k])
			for code, n := range w.errs[k] {
				errs[code] += n
				allErrs[code] += n
			}
		}
		all.Merge(&h)
		if cfg.Op == Mixed {
			res.ByOp = append(res.ByOp, OpStats{Op: op, Stats: summarise(&h, errs, t.elapsed)})
		}
	}
	for _, w := range t.workers {
		for code, msg := range w.samples {
			if _, ok := res.ErrorSamples[code]; !ok {
				res.ErrorSamples[code] = msg
			}
		}
	}
	res.Stats = summarise(&all, allErrs, t.elapsed)
	if len(res.ErrorSamples) == 0 {
		res.ErrorSamples = nil
	}
	return res
}

func summarise(h *Histogram, errs map[string]uint64, elapsed time.Duration) Stats {
	var nerr uint64
	for _, n := range errs {
		nerr += n
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s := Stats{
		Requests: h.Count(),
		Errors:   nerr,
		Latency: Latency{
			P50:  ms(h.Quantile(0.50)),
			P90:  ms(h.Quantile(0.90)),
			P99:  ms(h.Quantile(0.99)),
			Max:  ms(h.Max()),
			Mean: ms(h.Mean()),
		},
	}
	if len(errs) > 0 {
		s.ErrorsByCode = errs
	}
	if elapsed > 0 {
		s.RequestsPerSecond = float64(h.Count()-nerr) / elapsed.Seconds()
	}
	return s
}

// classify names an error by its AWS error code, or by the HTTP status or
// the kind of transport failure when the response carried no code.
func classify(err error) (code, msg string) {
	msg = err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	// The SDK names a response without an error code UnknownError; its
	// HTTP status says more.
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" && ae.ErrorCode() != "UnknownError" {
		return ae.ErrorCode(), msg
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP%d", re.HTTPStatusCode()), msg
	}
	if ae != nil {
		return ae.ErrorCode(), msg
	}
	var pe *poolExhaustedError
	if errors.As(err, &pe) {
		return "PoolExhausted", msg
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "Timeout", msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timeout", msg
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "ConnectionError", msg
	}
	return "ClientError", msg
}
