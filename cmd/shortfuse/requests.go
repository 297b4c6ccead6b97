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

type requestsInput struct {
	brokerFlags
	status string
	json   bool
}

func (in *requestsInput) validate() error {
	switch in.status {
	case "pending", "approved", "redeemed", "denied", "expired", "all":
		return nil
	}
	return fmt.Errorf("--status %q: want pending, approved, redeemed, denied, expired or all", in.status)
}

func newRequestsCommand(d *deps) *cobra.Command {
	in := &requestsInput{}
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "List the approval requests you may decide on (pending by default)",
		Long: `List approval requests: those you made, those for roles you may assume yourself (which you
could approve), and all of them with shortfuse:ListRequests.`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, withBroker(runRequests)),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.status, "status", "pending", "pending, approved, redeemed, denied, expired or all")
	f.BoolVar(&in.json, "json", false, "print JSON")
	return cmd
}

func runRequests(ctx context.Context, in *requestsInput, d *deps, c *brokerapi.Client, cfg aws.Config) error {
	list, err := c.ListRequests(ctx, in.status)
	if err != nil {
		return approveError(ctx, cfg, err)
	}
	const header = "CODE\tSTATUS\tROLE\tREQUESTER\tDURATION\tAPPROVALS\tEXPIRES\tBUILD"
	return printList(d.stdout, in.json, "Requests", list, header, func(tw io.Writer, r brokerapi.ApprovalRequest) {
		build := r.Build.URL
		if build == "" {
			build = r.Build.Job
		}
		if build == "" {
			build = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", clean(r.Code), clean(r.Status), shortARN(r.RoleArn), shortARN(r.Requester),
			time.Duration(r.DurationSeconds)*time.Second, len(r.Approvals), r.ApprovalsRequired, fmtTime(r.ExpiresAt.Time), clean(build))
	})
}
