package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/oidc"
)

// shortfuse oidc-provider set-jwks: store an OpenID Connect provider's key
// set with the provider on the broker, for brokers that cannot reach the
// issuer. The call is the broker's shortfuse.SetOpenIDConnectProviderJWKS,
// signed with SigV4 like every other call (docs/OIDC.md).

var reOIDCProviderARN = regexp.MustCompile(`^arn:[\w-]+:iam::\d{12}:oidc-provider/[\x21-\x7e]{1,255}$`)

type oidcSetJWKSInput struct {
	aws   awsconf.Options
	arn   string
	file  string
	clear bool

	stdin io.Reader
	now   func() time.Time
}

func (in *oidcSetJWKSInput) validate() error {
	if !reOIDCProviderARN.MatchString(in.arn) {
		return &hintError{err: fmt.Errorf("--arn %q is not an OpenID Connect provider ARN", in.arn), hint: "aws iam list-open-id-connect-providers lists them: arn:aws:iam::ACCOUNT:oidc-provider/HOST[/PATH]"}
	}
	if in.clear == (in.file != "") {
		return errors.New("give --file JWKS.json (or --file - for stdin) to store a key set, or --clear to remove the stored one")
	}
	return nil
}

func newOIDCProviderCommand(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "oidc-provider",
		Short: "Manage the broker's OpenID Connect providers beyond what IAM offers",
		Long: "Manage the broker's OpenID Connect providers beyond what IAM offers.\n" +
			"Create and inspect providers with the aws CLI (aws iam create-open-id-connect-provider ...).",
	}
	in := &oidcSetJWKSInput{stdin: d.stdin, now: d.now}
	set := &cobra.Command{
		Use:   "set-jwks --arn ARN (--file JWKS.json | --clear)",
		Short: "Store a provider's key set (JWKS) on the broker, for issuers the broker cannot reach",
		Long: "Store a provider's key set (a JWKS document) with the provider on the broker. Tokens of the\n" +
			"provider are then verified with these keys only, and the broker never contacts the issuer:\n" +
			"for brokers without a route to the CI server. --clear removes the stored set. The caller needs\n" +
			"iam:UpdateOpenIDConnectProviderThumbprint on the provider. The document is checked here first:\n" +
			"a key set that holds private key material is refused before it leaves this machine.",
		Args: cobra.NoArgs,
		RunE: validated(in, d, runOIDCSetJWKS),
	}
	f := set.Flags()
	f.StringVar(&in.arn, "arn", "", "ARN of the OpenID Connect provider")
	f.StringVar(&in.file, "file", "", "JWKS document to store (- for stdin)")
	f.BoolVar(&in.clear, "clear", false, "remove the stored key set; keys come from the issuer again")
	addAWSFlags(f, &in.aws)
	cmd.AddCommand(set)
	return cmd
}

// readJWKS reads and checks the key set the user gave.
func readJWKS(in *oidcSetJWKSInput) ([]byte, []string, error) {
	var r io.Reader = in.stdin
	if in.file != "-" {
		f, err := os.Open(in.file)
		if err != nil {
			return nil, nil, fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, oidc.MaxKeySetBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("--file %s: %w", in.file, err)
	}
	ks, err := oidc.ParseKeySet(bytes.TrimSpace(data))
	if err != nil {
		return nil, nil, &hintError{err: fmt.Errorf("--file %s: %v", in.file, err), hint: "the issuer publishes its key set at the jwks_uri of ISSUER/.well-known/openid-configuration (Jenkins: JENKINS_URL/oidc/jwks)"}
	}
	return bytes.TrimSpace(data), ks.KeyIDs(), nil
}

func runOIDCSetJWKS(ctx context.Context, in *oidcSetJWKSInput, d *deps) error {
	var jwks []byte
	if !in.clear {
		var err error
		if jwks, _, err = readJWKS(in); err != nil {
			return err
		}
	}
	bc, _, err := brokerClientFor(ctx, in.aws, "it fetches providers' keys itself")
	if err != nil {
		return err
	}
	if in.now != nil {
		bc.Now = in.now
	}
	keyIDs, err := bc.SetOpenIDConnectProviderJWKS(ctx, in.arn, string(jwks))
	if err != nil {
		return err
	}
	if in.clear {
		fmt.Fprintf(d.stdout, "%s: stored key set removed; keys come from the issuer\n", in.arn)
		return nil
	}
	fmt.Fprintf(d.stdout, "%s: stored %d key(s): %s\n", in.arn, len(keyIDs), strings.Join(keyIDs, ", "))
	return nil
}
