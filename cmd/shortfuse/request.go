package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/token"
)

type requestInput struct {
	brokerFlags
	role     string
	duration time.Duration
	reason   string
	format   string
	timeout  time.Duration
	buildURL string
	job      string
	commit   string

	now  func() time.Time
	rand io.Reader
	// poll is the long-poll of one GetRequest call.
	poll time.Duration
}

func (in *requestInput) validate() error {
	if in.role == "" {
		return errors.New("--role is required: the role whose session the job asks for")
	}
	if err := checkRoleFlag(in.role); err != nil {
		return err
	}
	if in.duration%time.Second != 0 || in.duration < time.Minute || in.duration > 12*time.Hour {
		return fmt.Errorf("--duration %s: want 1m to 12h in whole seconds (the role's rules may allow less)", in.duration)
	}
	if err := approvals.CheckReason(in.reason); err != nil {
		return fmt.Errorf("--reason: %v", err)
	}
	if err := checkFormatFlag(&in.format); err != nil {
		return err
	}
	if in.timeout < 0 {
		return fmt.Errorf("--timeout %s: want a positive duration, or 0 to wait as long as the request lives", in.timeout)
	}
	b := approvals.Build{URL: in.buildURL, Job: in.job, Commit: in.commit}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("--build-url/--job/--commit: %v", err)
	}
	return nil
}

func newRequestCommand(d *deps) *cobra.Command {
	in := &requestInput{now: d.now, rand: d.rand, poll: 20 * time.Second}
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Ask a human to approve a role session for this build, wait, and print the token",
		Long: `Ask for a role session bound to this build and wait for a human to approve it.

The request carries the build's identity, read from the standard Jenkins, GitHub Actions and
GitLab CI variables (build URL, job, number, commit, and a hash of the build parameters passed
in SHORTFUSE_BUILD_PARAMS as a JSON object); --build-url, --job and --commit override them. The
command prints an approval code and a link on stderr, then waits. An approver runs
shortfuse approve CODE, or opens the link. The session is handed to this process only, once: it
generates a one-time redemption key that never leaves it, and the broker seals the session to
that key. The token goes to stdout in --format (as shortfuse token writes it).

The credentials this command signs with need only shortfuse:CreateRequest on the role. If the
command is stopped while it waits, it withdraws the request.`,
		Example: `  shortfuse request --role arn:aws:iam::111122223333:role/deploy --reason "release 1.4"
  TOKEN=$(shortfuse request --role arn:aws:iam::111122223333:role/deploy --duration 10m)`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, withBroker(runRequest)),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.role, "role", "", "role `ARN` to ask a session of")
	f.DurationVar(&in.duration, "duration", 15*time.Minute, "lifetime of the session asked for (approvers may shorten it)")
	f.StringVar(&in.reason, "reason", "", "why the build needs the role, shown to approvers")
	f.StringVar(&in.format, "format", "", "output format: jenkins, env, json, aws (default jenkins)")
	f.DurationVar(&in.timeout, "timeout", 0, "give up after this long (default: when the request expires)")
	f.StringVar(&in.buildURL, "build-url", "", "the build's URL (default: from the CI variables)")
	f.StringVar(&in.job, "job", "", "the job's name (default: from the CI variables)")
	f.StringVar(&in.commit, "commit", "", "the commit being built (default: from the CI variables)")
	return cmd
}

func runRequest(ctx context.Context, in *requestInput, d *deps, c *brokerapi.Client, cfg aws.Config) error {
	key, err := approvals.NewRedemptionKey(in.rand)
	if err != nil {
		return err
	}
	created, err := c.CreateRequest(ctx, createRequestInput(in, key, d.getenv))
	if err != nil {
		return requestError(ctx, cfg, err)
	}
	code := created.Code
	link := strings.TrimSuffix(c.Endpoint, "/") + created.ApprovalPath
	needs := "1 approval"
	if created.ApprovalsRequired > 1 {
		needs = fmt.Sprintf("%d approvals", created.ApprovalsRequired)
	}
	fmt.Fprintf(d.stderr, "shortfuse: approval code %s: a session of %s for %s, needs %s\n", code, in.role, in.duration, needs)
	fmt.Fprintf(d.stderr, "shortfuse: approve with: shortfuse approve %s\n", code)
	fmt.Fprintf(d.stderr, "shortfuse: or open: %s\n", link)
	fmt.Fprintf(d.stderr, "shortfuse: waiting for a decision until %s\n", created.ExpiresAt.UTC().Format("15:04:05 UTC"))
	// A few seconds past the request's end, so that the broker's answer
	// (expired) comes before the command gives up on its own.
	deadline := created.ExpiresAt.Add(5 * time.Second)
	if in.timeout > 0 && in.now().Add(in.timeout).Before(deadline) {
		deadline = in.now().Add(in.timeout)
	}

	req, err := waitForDecision(ctx, c, code, deadline, in.now, in.poll, d.stderr)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, errGaveUp) {
			withdraw(c, code, "the job stopped waiting", d.stderr)
		}
		return requestError(ctx, cfg, err)
	}
	switch req.Status {
	case brokerapi.RequestApproved:
	case brokerapi.RequestDenied:
		msg := fmt.Sprintf("request %s was denied by %s", code, shortARN(req.DeniedBy))
		if req.DenyReason != "" {
			msg += ": " + oneLine(clean(req.DenyReason))
		}
		return errors.New(msg)
	case brokerapi.RequestExpired:
		return &hintError{err: fmt.Errorf("request %s expired before it was approved", code), hint: "ask again, and ask an approver to watch for it (the role's shortfuse:approval-window tag sets how long a request waits)"}
	default:
		return fmt.Errorf("request %s is %s; it cannot be redeemed", code, req.Status)
	}

	red, err := c.RedeemRequest(ctx, code, key.Proof(code))
	if err != nil {
		return requestError(ctx, cfg, err)
	}
	creds, role, err := openRedeemed(code, key, red.SealedCredentials)
	if err != nil {
		return err
	}
	format, _ := token.ParseFormat(in.format)
	if err := writeToken(d.stdout, format, creds); err != nil {
		return err
	}
	names := make([]string, 0, len(req.Approvals))
	for _, a := range req.Approvals {
		names = append(names, clean(a.UserName))
	}
	fmt.Fprintf(d.stderr, "shortfuse: approved by %s; token %s for %s %s\n", strings.Join(names, ", "),
		token.KeyHint(creds.AccessKeyID), clean(role), expiresAt(creds.Expiration, in.now()))
	return nil
}

// createRequestInput is the request for --role, with the build it is bound to:
// from the CI variables, overridden by --build-url, --job and --commit.
func createRequestInput(in *requestInput, key *approvals.RedemptionKey, getenv func(string) string) brokerapi.CreateRequestInput {
	build := approvals.BuildFromEnv(getenv, os.ReadFile)
	if in.buildURL != "" {
		build.URL = in.buildURL
	}
	if in.job != "" {
		build.Job = in.job
	}
	if in.commit != "" {
		build.Commit = in.commit
	}
	if build.System == "" && (build.URL != "" || build.Job != "" || build.Commit != "") {
		build.System = "other"
	}
	input := brokerapi.CreateRequestInput{
		RoleArn: in.role, DurationSeconds: int64(in.duration / time.Second), Reason: in.reason,
		VerifyKey: key.VerifyKey(), WrapKey: key.WrapKey(),
	}
	if build != (approvals.Build{}) {
		input.Build = &brokerapi.Build{System: build.System, URL: build.URL, Job: build.Job, Number: build.Number, Commit: build.Commit, ParametersHash: build.ParamsHash}
	}
	return input
}

// openRedeemed opens the credentials the broker sealed to the key that made
// the request. role is the assumed role session's ARN.
func openRedeemed(code string, key *approvals.RedemptionKey, sealed []byte) (creds token.Credentials, role string, err error) {
	plain, err := key.Unwrap(code, sealed)
	if err != nil {
		return creds, "", err
	}
	var w struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
		SessionToken    string `json:"SessionToken"`
		Expiration      string `json:"Expiration"`
		AssumedRoleArn  string `json:"AssumedRoleArn"`
	}
	err = json.Unmarshal(plain, &w)
	clear(plain)
	if err != nil {
		return creds, "", errors.New("the broker sealed something that is not credentials")
	}
	exp, err := time.Parse(time.RFC3339, w.Expiration)
	if err != nil {
		return creds, "", errors.New("the sealed credentials have no valid expiry")
	}
	creds = token.Credentials{AccessKeyID: w.AccessKeyID, SecretAccessKey: w.SecretAccessKey, SessionToken: w.SessionToken, Expiration: exp}
	if err := creds.Validate(); err != nil {
		return creds, "", fmt.Errorf("the broker sealed unusable credentials: %v", err)
	}
	return creds, w.AssumedRoleArn, nil
}

var errGaveUp = errors.New("gave up waiting")

// waitForDecision long-polls the broker until the request is decided or
// the deadline passes. Network errors are retried until the deadline.
func waitForDecision(ctx context.Context, c *brokerapi.Client, code string, deadline time.Time, now func() time.Time, poll time.Duration, stderr io.Writer) (*brokerapi.ApprovalRequest, error) {
	backoff := time.Second
	lastApprovals := 0
	for {
		left := deadline.Sub(now())
		if left <= 0 {
			return nil, fmt.Errorf("%w: no decision on request %s by %s", errGaveUp, code, deadline.UTC().Format("15:04:05 UTC"))
		}
		wait := min(poll, left.Truncate(time.Second))
		req, err := c.GetRequest(ctx, code, wait)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ne net.Error
			if !errors.As(err, &ne) {
				return nil, err
			}
			fmt.Fprintf(stderr, "shortfuse: warning: cannot reach the broker (%v); retrying\n", innermost(err))
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 15*time.Second)
			continue
		}
		backoff = time.Second
		if n := len(req.Approvals); n > lastApprovals && req.Status == brokerapi.RequestPending {
			fmt.Fprintf(stderr, "shortfuse: %d of %d approvals\n", n, req.ApprovalsRequired)
			lastApprovals = n
		}
		if req.Status != brokerapi.RequestPending {
			return req, nil
		}
		if wait < time.Second {
			// The broker answers at once when there is under a second
			// left; do not spin.
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
}

// withdraw denies the caller's own request, best effort, after the
// command was stopped: an approver should not lend a session that nobody
// waits for.
func withdraw(c *brokerapi.Client, code, reason string, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.DenyRequest(ctx, code, reason); err != nil {
		fmt.Fprintf(stderr, "shortfuse: warning: request %s not withdrawn: %s\n", code, oneLine(err.Error()))
		return
	}
	fmt.Fprintf(stderr, "shortfuse: withdrew request %s\n", code)
}

// requestError adds hints to the errors of the approval operations.
func requestError(ctx context.Context, cfg aws.Config, err error) error {
	var be *brokerapi.Error
	if errors.As(err, &be) {
		e := errors.New(shortError(err))
		switch {
		case be.Code == "AccessDeniedException" && strings.Contains(be.Message, "shortfuse:CreateRequest"):
			return &hintError{err: e, hint: "the job's credentials need shortfuse:CreateRequest on the role"}
		case be.Code == "AccessDeniedException" && strings.Contains(be.Message, "misconfigured"):
			return &hintError{err: e, hint: "fix the role's shortfuse:approv* tags (docs/APPROVALS.md); until then no session is issued"}
		}
	}
	return brokerError(ctx, cfg, err)
}

// clean keeps text from the broker printable before it reaches a
// terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return '?'
		}
		return r
	}, s)
}

// shortARN is the user or role/session part of an ARN.
func shortARN(arn string) string {
	for _, sep := range []string{":user/", ":assumed-role/", ":role/"} {
		if _, rest, ok := strings.Cut(arn, sep); ok {
			return clean(rest)
		}
	}
	return clean(arn)
}
