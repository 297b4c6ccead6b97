package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

type sessionsInput struct {
	brokerFlags
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

func newSessionsCommand(d *deps) *cobra.Command {
	in := &sessionsInput{}
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List the broker's sessions (operators)",
		Long: `List the sessions the broker has issued: active ones by default, with --all also those that
were revoked, expired, used up or abandoned (their heartbeats stopped). Needs
shortfuse:ListSessions. Secrets are never shown.`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, withBroker(runSessions)),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.principal, "principal", "", "only the sessions of this user or role `ARN`")
	f.BoolVar(&in.all, "all", false, "include sessions that are no longer active")
	f.BoolVar(&in.json, "json", false, "print JSON (the service's Session shape)")
	return cmd
}

func runSessions(ctx context.Context, in *sessionsInput, d *deps, c *brokerapi.Client, cfg aws.Config) error {
	sessions, err := c.ListAllSessions(ctx, brokerapi.ListSessionsInput{PrincipalArn: in.principal, IncludeInactive: in.all})
	if err != nil {
		return brokerError(ctx, cfg, err)
	}
	const header = "ACCESS KEY ID\tSTATE\tPRINCIPAL\tISSUED\tEXPIRES\tUSES\tLAST HEARTBEAT"
	return printList(d.stdout, in.json, "Sessions", sessions, header, func(tw io.Writer, s brokerapi.Session) {
		uses := fmt.Sprint(s.Uses)
		if s.MaxUses > 0 {
			uses += fmt.Sprintf("/%d", s.MaxUses)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.AccessKeyID, s.State, s.PrincipalArn,
			fmtTime(s.IssuedAt.Time), fmtTime(s.Expiration.Time), uses, fmtTime(s.LastHeartbeat.Time))
		for _, d := range s.DatabaseCredentials {
			fmt.Fprintf(tw, "  database role %s\t%s\t%s\t\t%s\t\t\n", d.RoleName, d.State, d.Database, fmtTime(d.ValidUntil.Time))
		}
	})
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
