package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/bench"
	"github.com/shortfuse/shortfuse/internal/client/awsconf"
)

type benchInput struct {
	aws         awsconf.Options
	endpoint    string // resolved from aws (flag, AWS_ENDPOINT_URL, the profile); "" is AWS
	op          string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	ceiling     bool
	rounds      int
	json        bool

	principalPolicies   int
	policyStatements    int
	policyStatementsSet bool // --policy-statements was given
}

func (in *benchInput) validate() error {
	op, err := bench.ParseOp(in.op)
	if err != nil {
		return fmt.Errorf("--op: %w", err)
	}
	if in.concurrency < 1 || in.concurrency > 10000 {
		return fmt.Errorf("--concurrency must be between 1 and 10000, got %d", in.concurrency)
	}
	if in.duration <= 0 {
		return fmt.Errorf("--duration must be positive, got %s", in.duration)
	}
	if in.warmup < 0 {
		return fmt.Errorf("--warmup must not be negative, got %s", in.warmup)
	}
	if in.rounds < 1 || in.rounds > 1000 {
		return fmt.Errorf("--rounds must be between 1 and 1000, got %d", in.rounds)
	}
	if in.rounds > 1 && in.duration/time.Duration(in.rounds) < 100*time.Millisecond {
		return fmt.Errorf("--duration %s in %d rounds leaves slices under 100ms; use fewer rounds", in.duration, in.rounds)
	}
	if in.principalPolicies < 0 {
		return fmt.Errorf("--principal-policies must not be negative, got %d", in.principalPolicies)
	}
	if in.principalPolicies > bench.MaxPrincipalPolicies {
		return fmt.Errorf("--principal-policies must be at most %d (%s), got %d", bench.MaxPrincipalPolicies, bench.PrincipalPoliciesQuota, in.principalPolicies)
	}
	if in.principalPolicies > 0 && !op.PrincipalPoliciesApply() {
		return fmt.Errorf("--principal-policies applies to get-secret-value, put-secret-value and mixed, not %s", op)
	}
	if in.policyStatementsSet && in.principalPolicies == 0 {
		return errors.New("--policy-statements needs --principal-policies")
	}
	if in.principalPolicies > 0 && (in.policyStatements < 1 || in.policyStatements > bench.MaxPolicyStatements()) {
		return fmt.Errorf("--policy-statements must be between 1 and %d (a managed policy holds at most 6144 characters), got %d", bench.MaxPolicyStatements(), in.policyStatements)
	}
	return nil
}

func newBenchCommand(d *deps) *cobra.Command {
	in := &benchInput{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure an AWS-compatible endpoint: requests/s and latency",
		Long: `Measure an AWS-compatible endpoint (the broker, another implementation, or real AWS) with
aws-sdk-go-v2 clients: --concurrency workers send --op back to back for --warmup (not recorded),
then for --duration; the report gives requests/s, errors by code and latency p50/p90/p99/max.

Fixtures are made with the credentials of the standard AWS chain (environment, shared files,
AWS_PROFILE; region from the chain, default us-east-1) and deleted at the end: a secret
shortfuse-bench/ID to read; secrets shortfuse-bench/ID/wN to write, a fresh one every 90
writes (a secret keeps at most 100 versions a day); a role shortfuse-bench-ID trusting the
caller; an IAM user shortfuse-bench-ID with an access key (get-session-token uses it). Errors
are counted by code, never retried. mixed repeats 7 get-secret-value, 1 assume-role,
1 get-session-token and 1 put-secret-value.

--ceiling also measures, with the same client in the same run, a server that answers every
operation with a canned response and does no work, run as a process of its own; the ratio
endpoint/ceiling is the figure to compare on a shared machine. The measured time of each is cut
into --rounds slices run alternately (endpoint, ceiling, ceiling, endpoint, …), so that a
change in the machine's load during the run weighs on both alike.

Where the endpoint serves Prometheus metrics at /metrics (the broker does), the report also
gives the server's CPU per request, read from process_cpu_seconds_total before and after each
slice, and, with --ceiling, the ratio of the endpoint's to the ceiling's.

--principal-policies N (get-secret-value, put-secret-value, mixed) measures how the cost of a
Secrets Manager request grows with the caller's policies: the load's secrets requests are sent
as a fixture user shortfuse-bench-ID-pp with N customer managed policies of --policy-statements
statements each, 10 attached to the user and 10 to each of its groups shortfuse-bench-ID-pp-gK
(IAM quotas: at most 110). Every statement but the last of the last policy is a decoy that
names other secrets, with a condition; that last one allows the request, so each decision
evaluates N × statements statements.`,
		Example: `  AWS_SHARED_CREDENTIALS_FILE=shortfuse-data/admin-credentials \
    shortfuse bench --endpoint-url http://127.0.0.1:7575 --op get-secret-value --concurrency 32 --duration 10s --ceiling
  shortfuse bench --op get-secret-value --principal-policies 110 --policy-statements 10 --ceiling`,
		Args: cobra.NoArgs,
		RunE: validatedWith(in, d, func(cmd *cobra.Command, _ []string) {
			in.policyStatementsSet = cmd.Flags().Changed("policy-statements")
		}, runBench),
	}
	cmd.AddCommand(newBenchCeilingCommand(d))
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	// --endpoint is the flag's former name.
	f.StringVar(&in.aws.EndpointURL, "endpoint", "", "the same as --endpoint-url")
	_ = f.MarkHidden("endpoint")
	f.StringVar(&in.op, "op", string(bench.GetSecretValue), "operation: get-secret-value, assume-role, get-session-token, put-secret-value or mixed")
	f.IntVar(&in.concurrency, "concurrency", 8, "number of workers, each with one request in flight")
	f.DurationVar(&in.duration, "duration", 10*time.Second, "measured time")
	f.DurationVar(&in.warmup, "warmup", 2*time.Second, "time spent sending before measuring")
	f.BoolVar(&in.ceiling, "ceiling", false, "also measure a do-nothing in-process server with the same client")
	f.IntVar(&in.rounds, "rounds", 5, "with --ceiling: alternate the endpoint and the ceiling in this many slices each")
	f.BoolVar(&in.json, "json", false, "print the report as JSON")
	f.IntVar(&in.principalPolicies, "principal-policies", 0, fmt.Sprintf("send the secrets requests as a user with this many managed policies, 0 to %d (0: as the caller)", bench.MaxPrincipalPolicies))
	f.IntVar(&in.policyStatements, "policy-statements", bench.DefaultPolicyStatements, fmt.Sprintf("with --principal-policies: statements per policy, 1 to %d", bench.MaxPolicyStatements()))
	return cmd
}

func runBench(ctx context.Context, in *benchInput, d *deps) error {
	awsCfg, err := awsconf.Load(ctx, in.aws)
	if errors.Is(err, awsconf.ErrNoRegion) {
		// Fixtures and load go to one region; without one, AWS's first.
		o := in.aws
		o.Region = "us-east-1"
		awsCfg, err = awsconf.Load(ctx, o)
	}
	if err != nil {
		return configError(err)
	}
	in.endpoint = awsconf.BrokerEndpoint(ctx, awsCfg)
	// Resolve the credentials once, up front, with a deadline: a missing
	// configuration otherwise ends in a slow probe of the instance
	// metadata service, and a confusing error much later.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = awsCfg.Credentials.Retrieve(cctx)
	cancel()
	if err != nil {
		return &hintError{
			err:  errors.New("no AWS credentials found"),
			hint: "set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_SHARED_CREDENTIALS_FILE=DATA/admin-credentials for a local broker",
		}
	}
	awsCfg.Credentials = aws.NewCredentialsCache(awsCfg.Credentials)

	op, _ := bench.ParseOp(in.op)
	cfg := bench.Config{
		AWS:         awsCfg,
		Endpoint:    in.endpoint,
		Target:      "endpoint",
		Op:          op,
		Concurrency: in.concurrency,
		Duration:    in.duration,
		Warmup:      in.warmup,
		Rand:        d.rand,
		Now:         d.now,
	}
	if in.principalPolicies > 0 {
		cfg.PrincipalPolicies, cfg.PolicyStatements = in.principalPolicies, in.policyStatements
	}
	if in.endpoint != "" {
		// The broker's /metrics gives its CPU time; other endpoints
		// leave it unmeasured.
		cfg.ServerCPU = bench.MetricsCPU(in.endpoint, nil)
	}
	var report *bench.Report
	if !in.ceiling {
		if !in.json {
			fmt.Fprintf(d.stderr, "shortfuse: measuring %s at %s…\n", op, endpointName(in.endpoint))
		}
		res, err := bench.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", endpointName(in.endpoint), err)
		}
		report = bench.NewReport(res, nil)
	} else {
		ceilURL, stop, err := startCeilingProcess(ctx)
		if err != nil {
			return err
		}
		defer stop()
		ceil := cfg
		ceil.Endpoint = ceilURL
		ceil.Target = "ceiling"
		ceil.ServerCPU = bench.MetricsCPU(ceilURL, nil)
		if !in.json {
			fmt.Fprintf(d.stderr, "shortfuse: measuring %s at %s and at the ceiling %s, in %d rounds…\n", op, endpointName(in.endpoint), ceilURL, in.rounds)
		}
		report, err = bench.Compare(ctx, cfg, ceil, in.rounds)
		if err != nil {
			return fmt.Errorf("%s: %w", endpointName(in.endpoint), err)
		}
	}
	if in.json {
		return report.WriteJSON(d.stdout)
	}
	return report.WriteText(d.stdout)
}

// startCeilingProcess runs the ceiling in a process of its own (this
// binary's hidden `bench ceiling`), so that its CPU is measured apart from
// the client's, as the broker's is. It returns the ceiling's URL and a
// function that stops it.
func startCeilingProcess(ctx context.Context) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("ceiling: %w", err)
	}
	cmd := exec.Command(self, "bench", "ceiling", "--listen", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, fmt.Errorf("ceiling: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("ceiling: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u, ok := <-line:
		if ok && strings.HasPrefix(u, "http://") {
			return u, stop, nil
		}
		stop()
		return "", nil, errors.New("ceiling: the ceiling process did not start")
	case <-time.After(10 * time.Second):
		stop()
		return "", nil, errors.New("ceiling: the ceiling process did not start within 10s")
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
}

// newBenchCeilingCommand is `bench ceiling`, hidden: the ceiling server in a
// process of its own. It prints its URL on the first line of stdout and
// serves until interrupted.
func newBenchCeilingCommand(d *deps) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:    "ceiling",
		Short:  "serve the do-nothing ceiling (used by bench --ceiling)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isLoopback(listen) {
				return fmt.Errorf("--listen %q: want a loopback HOST:PORT", listen)
			}
			c, err := bench.StartCeiling(listen)
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintln(d.stdout, c.URL)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address to listen on")
	return cmd
}

func endpointName(endpoint string) string {
	if endpoint == "" {
		return "AWS"
	}
	return endpoint
}
