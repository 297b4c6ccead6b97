package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/token"
)

var (
	reAccessKeyID   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	rePrincipalArn  = regexp.MustCompile(`^arn:[\w-]+:(iam|sts)::\d{12}:[\w+=,.@/-]+$`)
	errNoBrokerHint = "point --endpoint-url or AWS_ENDPOINT_URL at a shortfuse broker"
)

// brokerClient loads the configuration and the client for the shortfuse
// service; on AWS itself (no endpoint) it says that AWS has no such
// service.
func brokerClient(ctx context.Context, o awsconf.Options) (*brokerapi.Client, aws.Config, error) {
	cfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return nil, aws.Config{}, configError(err)
	}
	ep := awsconf.BrokerEndpoint(ctx, cfg)
	if ep == "" {
		return nil, cfg, &hintError{err: errors.New("AWS has no shortfuse service: it cannot list or revoke single sessions"), hint: errNoBrokerHint}
	}
	return brokerapi.New(cfg, ep), cfg, nil
}

// brokerError adds a hint to an error of the shortfuse service.
func brokerError(ctx context.Context, cfg aws.Config, err error) error {
	if errors.Is(err, brokerapi.ErrUnsupported) {
		return &hintError{err: fmt.Errorf("the endpoint does not offer the shortfuse service (%s)", awsconf.Where(ctx, cfg)), hint: errNoBrokerHint}
	}
	var be *brokerapi.Error
	if errors.As(err, &be) {
		e := errors.New(shortError(err))
		if be.Code == "AccessDeniedException" {
			return &hintError{err: e, hint: "operators need shortfuse:ListSessions, shortfuse:RevokeSession or shortfuse:RevokeSessions in their policy"}
		}
		return e
	}
	return awsError(ctx, cfg, err)
}

type sessionsInput struct {
	aws       awsconf.Options
	principal string
	all       bool
	json      bool
}

func (in *sessionsInput) validate() error {
	if in.principal != "" && !rePrincipalArn.MatchString(in.principal) {
		return fmt.Errorf("--principal %q: want an IAM user or role ARN", in.principal)
	}
	return nil
}

func newSessionsCommand(stdout io.Writer) *cobra.Command {
	in := &sessionsInput{}
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List the broker's sessions (operators)",
		Long: `List the sessions the broker has issued: active ones by default, with --all also those that
were revoked, expired, used up or abandoned (their heartbeats stopped). Needs
shortfuse:ListSessions. Secrets are never shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := in.validate(); err != nil {
				return err
			}
			return runSessions(cmd.Context(), in, stdout)
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.principal, "principal", "", "only the sessions of this user or role `ARN`")
	f.BoolVar(&in.all, "all", false, "include sessions that are no longer active")
	f.BoolVar(&in.json, "json", false, "print JSON (the service's Session shape)")
	return cmd
}

func runSessions(ctx context.Context, in *sessionsInput, stdout io.Writer) error {
	c, cfg, err := brokerClient(ctx, in.aws)
	if err != nil {
		return err
	}
	sessions, err := c.ListAllSessions(ctx, brokerapi.ListSessionsInput{PrincipalArn: in.principal, IncludeInactive: in.all})
	if err != nil {
		return brokerError(ctx, cfg, err)
	}
	if in.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if sessions == nil {
			sessions = []brokerapi.Session{}
		}
		return enc.Encode(struct {
			Sessions []brokerapi.Session `json:"Sessions"`
		}{sessions})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tSTATE\tPRINCIPAL\tISSUED\tEXPIRES\tUSES\tLAST HEARTBEAT")
	for _, s := range sessions {
		uses := fmt.Sprint(s.Uses)
		if s.MaxUses > 0 {
			uses += fmt.Sprintf("/%d", s.MaxUses)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.AccessKeyID, s.State, s.PrincipalArn,
			fmtTime(s.IssuedAt.Time), fmtTime(s.Expiration.Time), uses, fmtTime(s.LastHeartbeat.Time))
		for _, d := range s.DatabaseCredentials {
			fmt.Fprintf(tw, "  database role %s\t%s\t%s\t\t%s\t\t\n", d.RoleName, d.State, d.Database, fmtTime(d.ValidUntil.Time))
		}
	}
	return tw.Flush()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

type revokeInput struct {
	aws       awsconf.Options
	keys      []string
	principal string
	before    string
	beforeT   time.Time
	self      bool
}

func (in *revokeInput) validate() error {
	modes := 0
	for _, on := range []bool{len(in.keys) > 0, in.principal != "", in.self} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return errors.New("say what to revoke: ACCESS_KEY_ID..., --principal ARN, or --self")
	}
	for _, k := range in.keys {
		if !reAccessKeyID.MatchString(k) {
			return fmt.Errorf("%q is not an access key id", k)
		}
	}
	if in.principal != "" && !rePrincipalArn.MatchString(in.principal) {
		return fmt.Errorf("--principal %q: want an IAM user or role ARN", in.principal)
	}
	if in.before != "" {
		if in.principal == "" {
			return errors.New("--before needs --principal")
		}
		t, err := time.Parse(time.RFC3339, in.before)
		if err != nil {
			return fmt.Errorf("--before %q: want an RFC 3339 time such as 2026-11-25T10:00:00Z", in.before)
		}
		in.beforeT = t
	}
	return nil
}

func newRevokeCommand(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	in := &revokeInput{}
	cmd := &cobra.Command{
		Use:   "revoke [ACCESS_KEY_ID...]",
		Short: "Revoke sessions on the broker: by access key id, all of a principal, or your own",
		Long: `Revoke sessions on the broker; a revoked session is refused everywhere from its next request.

  shortfuse revoke ASIA...              one session (needs shortfuse:RevokeSession)
  shortfuse revoke --principal ARN      every session of a user or role issued before now, or
                                        before --before (needs shortfuse:RevokeSessions)
  shortfuse revoke --self               the session in SHORTFUSE_TOKEN, or of the AWS
                                        credentials (always allowed)

AWS itself cannot revoke one session; against AWS this command says so and fails.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in.keys = args
			if err := in.validate(); err != nil {
				return err
			}
			return runRevoke(cmd.Context(), in, getenv, stdout, stderr)
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.principal, "principal", "", "revoke every session of this user or role `ARN`")
	f.StringVar(&in.before, "before", "", "with --principal: only sessions issued before this RFC 3339 `TIME` (default now)")
	f.BoolVar(&in.self, "self", false, "revoke the caller's own session")
	return cmd
}

func runRevoke(ctx context.Context, in *revokeInput, getenv func(string) string, stdout, stderr io.Writer) error {
	o := in.aws
	if in.self {
		if v := getenv("SHORTFUSE_TOKEN"); v != "" {
			c, _, err := token.Parse([]byte(v))
			if err != nil {
				return fmt.Errorf("the token in SHORTFUSE_TOKEN is not usable: %v", err)
			}
			o.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		}
	}
	c, cfg, err := brokerClient(ctx, o)
	if err != nil {
		return err
	}
	switch {
	case in.self:
		if err := c.RevokeSession(ctx, ""); err != nil {
			if brokerapi.IsSessionRefused(err) {
				fmt.Fprintln(stderr, "shortfuse: the session had already ended")
				return nil
			}
			return brokerError(ctx, cfg, err)
		}
		fmt.Fprintln(stderr, "shortfuse: revoked the caller's session")
	case in.principal != "":
		n, err := c.RevokeSessions(ctx, in.principal, in.beforeT)
		if err != nil {
			return brokerError(ctx, cfg, err)
		}
		fmt.Fprintln(stdout, n)
		fmt.Fprintf(stderr, "shortfuse: revoked %d session(s) of %s\n", n, in.principal)
	default:
		for _, k := range in.keys {
			if err := c.RevokeSession(ctx, k); err != nil {
				return fmt.Errorf("%s: %w", k, brokerError(ctx, cfg, err))
			}
			fmt.Fprintf(stderr, "shortfuse: revoked session %s\n", k)
		}
	}
	return nil
}
