package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/client/awsconf"
)

type denyInput struct {
	aws    awsconf.Options
	code   string
	reason string
}

func (in *denyInput) validate() error {
	code, err := approvals.ParseCode(in.code)
	if err != nil {
		return fmt.Errorf("%q: %v", in.code, err)
	}
	in.code = code
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
		RunE: func(cmd *cobra.Command, args []string) error {
			in.code = args[0]
			if err := in.validate(); err != nil {
				return err
			}
			c, cfg, err := brokerClient(cmd.Context(), in.aws)
			if err != nil {
				return err
			}
			out, err := c.DenyRequest(cmd.Context(), in.code, in.reason)
			if err != nil {
				return approveError(cmd.Context(), cfg, err)
			}
			fmt.Fprintf(d.stderr, "shortfuse: denied %s\n", out.Code)
			return nil
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.reason, "reason", "", "why, shown to the build")
	return cmd
}
