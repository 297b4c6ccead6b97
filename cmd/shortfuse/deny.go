package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

type denyInput struct {
	brokerFlags
	code   string
	reason string
}

func (in *denyInput) validate() error {
	if err := parseCodeArg(&in.code); err != nil {
		return err
	}
	if err := approvals.CheckReason(in.reason); err != nil {
		return fmt.Errorf("--reason: %v", err)
	}
	return nil
}

func newDenyCommand(d *deps) *cobra.Command {
	in := &denyInput{}
	cmd := &cobra.Command{
		Use:   "deny CODE",
		Short: "Deny a build's request for a role session",
		Long: `Deny a pending request: the waiting build gets no session and fails. Anyone who could approve
the request may deny it (no MFA needed to say no); the requester may withdraw its own.`,
		Args: cobra.ExactArgs(1),
		RunE: validatedWith(in, d, func(_ *cobra.Command, args []string) { in.code = args[0] }, withBroker(runDeny)),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.reason, "reason", "", "why, shown to the build")
	return cmd
}

func runDeny(ctx context.Context, in *denyInput, d *deps, c *brokerapi.Client, cfg aws.Config) error {
	out, err := c.DenyRequest(ctx, in.code, in.reason)
	if err != nil {
		return approveError(ctx, cfg, err)
	}
	fmt.Fprintf(d.stderr, "shortfuse: denied %s\n", out.Code)
	return nil
}
