package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

type requestsInput struct {
	aws    awsconf.Options
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := in.validate(); err != nil {
				return err
			}
			c, cfg, err := brokerClient(cmd.Context(), in.aws)
			if err != nil {
				return err
			}
			list, err := c.ListRequests(cmd.Context(), in.status)
			if err != nil {
				return approveError(cmd.Context(), cfg, err)
			}
			if in.json {
				if list == nil {
					list = []brokerapi.ApprovalRequest{}
				}
				return writeJSON(d.stdout, struct {
					Requests []brokerapi.ApprovalRequest `json:"Requests"`
				}{list})
			}
			tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tSTATUS\tROLE\tREQUESTER\tDURATION\tAPPROVALS\tEXPIRES\tBUILD")
			for _, r := range list {
				build := r.Build.URL
				if build == "" {
					build = r.Build.Job
				}
				if build == "" {
					build = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", clean(r.Code), clean(r.Status), shortARN(r.RoleArn), shortARN(r.Requester),
					time.Duration(r.DurationSeconds)*time.Second, len(r.Approvals), r.ApprovalsRequired, fmtTime(r.ExpiresAt.Time), clean(build))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.status, "status", "pending", "pending, approved, redeemed, denied, expired or all")
	f.BoolVar(&in.json, "json", false, "print JSON")
	return cmd
}
