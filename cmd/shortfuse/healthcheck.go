package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCommand asks a broker's /healthz, for container health
// checks: an image FROM scratch has no shell and no curl.
func newHealthcheckCommand(getenv func(string) string, stdout io.Writer) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the broker's /healthz answers 200 (for container health checks)",
		Example: `  shortfuse healthcheck --url http://127.0.0.1:7575
  HEALTHCHECK CMD ["/shortfuse", "healthcheck"]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
			if err != nil {
				return fmt.Errorf("--url %q: %v", url, err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("%s/healthz: no answer within %s", url, timeout)
				}
				return fmt.Errorf("%s/healthz: %v", url, innermost(err))
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s/healthz: HTTP %d", url, resp.StatusCode)
			}
			_, err = fmt.Fprintln(stdout, "ok")
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", envDefault(getenv, "SHORTFUSE_HEALTHCHECK_URL", "http://127.0.0.1:7575"), "the broker's base URL (SHORTFUSE_HEALTHCHECK_URL)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}
