package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/token"
)

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

func newRevokeCommand(d *deps) *cobra.Command {
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
		RunE: validatedWith(in, d, func(_ *cobra.Command, args []string) { in.keys = args }, runRevoke),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.principal, "principal", "", "revoke every session of this user or role `ARN`")
	f.StringVar(&in.before, "before", "", "with --principal: only sessions issued before this RFC 3339 `TIME` (default now)")
	f.BoolVar(&in.self, "self", false, "revoke the caller's own session")
	return cmd
}

func runRevoke(ctx context.Context, in *revokeInput, d *deps) error {
	o := in.aws
	if in.self {
		if v := d.getenv("SHORTFUSE_TOKEN"); v != "" {
			c, _, err := token.Parse([]byte(v))
			if err != nil {
				return fmt.Errorf("the token in SHORTFUSE_TOKEN is not usable: %v", err)
			}
			o.Credentials = staticCredentials(c)
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
				fmt.Fprintln(d.stderr, "shortfuse: the session had already ended")
				return nil
			}
			return brokerError(ctx, cfg, err)
		}
		fmt.Fprintln(d.stderr, "shortfuse: revoked the caller's session")
	case in.principal != "":
		n, err := c.RevokeSessions(ctx, in.principal, in.beforeT)
		if err != nil {
			return brokerError(ctx, cfg, err)
		}
		fmt.Fprintln(d.stdout, n)
		fmt.Fprintf(d.stderr, "shortfuse: revoked %d session(s) of %s\n", n, in.principal)
	default:
		for _, k := range in.keys {
			if err := c.RevokeSession(ctx, k); err != nil {
				return fmt.Errorf("%s: %w", k, brokerError(ctx, cfg, err))
			}
			fmt.Fprintf(d.stderr, "shortfuse: revoked session %s\n", k)
		}
	}
	return nil
}
