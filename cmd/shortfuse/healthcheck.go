package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCommand asks a broker's /healthz, for container health
// checks: an image FROM scratch has no shell and no curl.
func newHealthcheckCommand(d *deps) *cobra.Command {
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
			client, err := healthClient(url, d.getenv)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
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
			_, err = fmt.Fprintln(d.stdout, "ok")
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", envDefault(d.getenv, "SHORTFUSE_HEALTHCHECK_URL", defaultHealthURL(d.getenv)), "the broker's base URL (SHORTFUSE_HEALTHCHECK_URL; default: loopback at the port of SHORTFUSE_LISTEN, https when SHORTFUSE_TLS_CERT is set)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

// defaultHealthURL is the broker's own address as its settings in the
// environment give it, for a check run beside it (a container's
// HEALTHCHECK): loopback, the port of SHORTFUSE_LISTEN (7575 without it),
// https when SHORTFUSE_TLS_CERT is set.
func defaultHealthURL(getenv func(string) string) string {
	port := "7575"
	if _, p, err := net.SplitHostPort(getenv("SHORTFUSE_LISTEN")); err == nil && p != "" && p != "0" {
		port = p
	}
	scheme := "http"
	if getenv("SHORTFUSE_TLS_CERT") != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort("127.0.0.1", port)
}

// healthClient is the HTTP client of the check. Over https with the
// broker's certificate file at hand (SHORTFUSE_TLS_CERT), it accepts exactly
// that certificate, whatever names it carries: the check dials loopback,
// which a certificate for the broker's public name does not cover.
// Otherwise the system's roots verify it as usual.
func healthClient(url string, getenv func(string) string) (*http.Client, error) {
	certFile := getenv("SHORTFUSE_TLS_CERT")
	if !strings.HasPrefix(url, "https://") || certFile == "" {
		return http.DefaultClient, nil
	}
	pair, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("SHORTFUSE_TLS_CERT: %w", err)
	}
	block, _ := pem.Decode(pair)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("SHORTFUSE_TLS_CERT %s: no PEM certificate", certFile)
	}
	leaf := block.Bytes
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) > 0 && bytes.Equal(raw[0], leaf) {
				return nil
			}
			return errors.New("the server's certificate is not the one in SHORTFUSE_TLS_CERT")
		},
	}
	return &http.Client{Transport: tr}, nil
}
