package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/tty"
)

type approveInput struct {
	brokerFlags
	code       string
	duration   time.Duration
	policyFile string
	mfaSerial  string
	mfaCode    string
	json       bool

	prompter tty.Prompter
	now      func() time.Time
}

func (in *approveInput) validate() error {
	if err := parseCodeArg(&in.code); err != nil {
		return err
	}
	if in.duration != 0 && (in.duration%time.Second != 0 || in.duration < time.Minute || in.duration > 12*time.Hour) {
		return fmt.Errorf("--duration %s: want 1m to 12h in whole seconds, at most what the job asked for", in.duration)
	}
	return checkMFAFlags(in.mfaSerial, in.mfaCode)
}

// parseCodeArg checks the CODE argument of approve and deny, an approval
// code, and writes it in its canonical form (XXXX-XXXX).
func parseCodeArg(code *string) error {
	c, err := approvals.ParseCode(*code)
	if err != nil {
		return fmt.Errorf("%q: %v", *code, err)
	}
	*code = c
	return nil
}

func newApproveCommand(d *deps) *cobra.Command {
	in := &approveInput{prompter: d.prompter, now: d.now}
	cmd := &cobra.Command{
		Use:   "approve CODE",
		Short: "Approve a build's request for a role session (with MFA)",
		Long: `Approve a request that a build made with shortfuse request: the command shows who asks, for
which role, how long, why, and which build and commit; typing the MFA code approves it.

You lend your own line of sight: you must be allowed sts:AssumeRole on the role yourself, and the
role's trust policy must trust you; the role's tags may require several approvers from a group.
You cannot approve a request you made. --duration shortens the session, --policy attaches a
session policy that narrows it. The session goes to the waiting build, once, never to you.`,
		Example: `  shortfuse approve K7QF-2M9X
  shortfuse approve K7QF-2M9X --duration 5m --policy read-only.json`,
		Args: cobra.ExactArgs(1),
		RunE: validatedWith(in, d, func(_ *cobra.Command, args []string) { in.code = args[0] }, withBroker(runApprove)),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.DurationVar(&in.duration, "duration", 0, "shorten the session to this (default: what the job asked for)")
	f.StringVar(&in.policyFile, "policy", "", "session policy `FILE` (JSON) narrowing the role's permissions")
	f.StringVar(&in.mfaSerial, "mfa-serial", "", "MFA device ARN (default: try each of your devices)")
	f.StringVar(&in.mfaCode, "mfa-code", "", "MFA code (instead of the terminal prompt)")
	f.BoolVar(&in.json, "json", false, "print the request as JSON on stdout afterwards")
	return cmd
}

func runApprove(ctx context.Context, in *approveInput, d *deps, c *brokerapi.Client, cfg aws.Config) error {
	var policy string
	if in.policyFile != "" {
		data, err := readLimited(in.policyFile, 2048)
		if err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		if !json.Valid(data) {
			return fmt.Errorf("--policy %s: not valid JSON", in.policyFile)
		}
		policy = string(data)
	}
	req, err := c.GetRequest(ctx, in.code, 0)
	if err != nil {
		return approveError(ctx, cfg, err)
	}
	describeRequest(d.stderr, req, in.now())
	if req.Status != brokerapi.RequestPending {
		return fmt.Errorf("request %s is %s; only pending requests can be approved", req.Code, req.Status)
	}
	if in.duration > time.Duration(req.DurationSeconds)*time.Second {
		return fmt.Errorf("--duration %s is longer than the %s the job asked for", in.duration, time.Duration(req.DurationSeconds)*time.Second)
	}
	code := in.mfaCode
	if code == "" {
		who := "your MFA device"
		if in.mfaSerial != "" {
			who = in.mfaSerial
		}
		code, err = askMFACode(ctx, in.prompter, "MFA code from "+who+" to approve (Ctrl-C to stop): ", "approving needs an MFA code and there is no terminal to ask")
		if err != nil {
			return err
		}
	}
	out, err := c.ApproveRequest(ctx, brokerapi.ApproveRequestInput{
		Code: req.Code, DurationSeconds: int64(in.duration / time.Second), Policy: policy,
		SerialNumber: in.mfaSerial, TokenCode: code,
	})
	if err != nil {
		return approveError(ctx, cfg, err)
	}
	switch out.Status {
	case brokerapi.RequestApproved:
		fmt.Fprintf(d.stderr, "shortfuse: approved %s: the session (%s, expires %s) waits for the build, which takes it once\n",
			out.Code, out.SessionAccessKeyID, fmtTime(out.SessionExpiration.Time))
	default:
		fmt.Fprintf(d.stderr, "shortfuse: approval recorded for %s: %d of %d approvals\n", out.Code, len(out.Approvals), out.ApprovalsRequired)
	}
	if in.json {
		return writeJSON(d.stdout, out)
	}
	return nil
}

// describeRequest shows a request to a human deciding on it.
func describeRequest(w io.Writer, r *brokerapi.ApprovalRequest, now time.Time) {
	field := func(label, value string) { fmt.Fprintf(w, "  %-10s %s\n", label, value) }
	state := r.Status
	if r.Status == brokerapi.RequestPending {
		state += ", expires in " + r.ExpiresAt.Sub(now).Round(time.Second).String()
	}
	fmt.Fprintf(w, "Request %s (%s)\n", clean(r.Code), clean(state))
	who := clean(r.Requester)
	if r.SourceIP != "" {
		who += " from " + clean(r.SourceIP)
	}
	field("requester", who)
	field("role", clean(r.RoleArn))
	field("duration", (time.Duration(r.DurationSeconds) * time.Second).String())
	if r.Reason != "" {
		field("reason", clean(r.Reason))
	}
	b := r.Build
	if b.URL != "" {
		field("build", clean(b.URL))
	}
	if b.Job != "" || b.Number != "" {
		job := clean(b.Job)
		if b.Number != "" {
			job += " #" + clean(b.Number)
		}
		if b.System != "" {
			job += " (" + clean(b.System) + ")"
		}
		field("job", strings.TrimSpace(job))
	}
	if b.Commit != "" {
		field("commit", clean(b.Commit))
	}
	if b.ParametersHash != "" {
		field("parameters", clean(b.ParametersHash))
	}
	if b == (brokerapi.Build{}) {
		field("build", "(none given: the request is not bound to a CI build)")
	}
	approvers := make([]string, 0, len(r.Approvals))
	for _, a := range r.Approvals {
		approvers = append(approvers, clean(a.UserName))
	}
	line := fmt.Sprintf("%d of %d", len(r.Approvals), r.ApprovalsRequired)
	if r.ApproversGroup != "" {
		line += " from group " + clean(r.ApproversGroup)
	}
	if len(approvers) > 0 {
		line += " (" + strings.Join(approvers, ", ") + ")"
	}
	field("approvals", line)
	if r.SessionPolicy != "" {
		field("policy", clean(oneLine(r.SessionPolicy)))
	}
	if r.DeniedBy != "" {
		field("denied by", shortARN(r.DeniedBy)+" "+clean(r.DenyReason))
	}
}

// approveError adds hints to approver-side errors.
func approveError(ctx context.Context, cfg aws.Config, err error) error {
	var be *brokerapi.Error
	if errors.As(err, &be) {
		e := errors.New(shortError(err))
		switch {
		case be.Code == "ResourceNotFoundException":
			return &hintError{err: e, hint: "check the code; you see only requests for roles you may assume yourself"}
		case be.Code == "AccessDeniedException" && strings.Contains(be.Message, "MultiFactorAuthentication"):
			return &hintError{err: e, hint: "the code was wrong or already used; wait for the next one"}
		case be.Code == "AccessDeniedException" && strings.Contains(be.Message, "sts:AssumeRole"):
			return &hintError{err: e, hint: "approvers lend their own access: you need sts:AssumeRole on the role, and its trust policy must trust you"}
		case be.Code == "AccessDeniedException" && strings.Contains(be.Message, "own request"):
			return &hintError{err: e, hint: "a second person approves: ask someone else who may assume the role, with their own credentials and MFA device"}
		case be.Code == "AccessDeniedException":
			return &hintError{err: e, hint: "approvers are IAM users with an MFA device, sts:AssumeRole on the role, and membership of its approvers group if it names one (docs/APPROVALS.md)"}
		}
	}
	return requestError(ctx, cfg, err)
}
