package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/tty"
)

// maxSecretValue is Secrets Manager's limit on a value.
const maxSecretValue = 65536

type secretPutInput struct {
	aws         awsconf.Options
	name        string
	fromFile    string
	description string
	keepNewline bool

	prompter   tty.Prompter
	isTerminal func(io.Reader) bool
}

// Secret names as Secrets Manager accepts them, or an ARN.
var reSecretName = regexp.MustCompile(`^([A-Za-z0-9/_+=.@-]{1,512}|arn:[\w-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512})$`)

func (in *secretPutInput) validate() error {
	if !reSecretName.MatchString(in.name) {
		return fmt.Errorf("secret name %q: want 1-512 of letters, digits and /_+=.@- (or a secret ARN)", in.name)
	}
	return nil
}

func newSecretCommand(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Write secrets to Secrets Manager without shell history",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSecretPutCommand(d))
	return cmd
}

func newSecretPutCommand(d *deps) *cobra.Command {
	in := &secretPutInput{prompter: d.prompter, isTerminal: tty.IsTerminal}
	cmd := &cobra.Command{
		Use:   "put NAME",
		Short: "Store a new value of secret NAME (created if missing) and print its version id",
		Long: `Store a new value of the secret NAME, creating the secret if it does not exist, and print
the new version id (never the value).

The value never comes from the command line, so it never lands in shell history or in the
process list. It comes from --from-file, or from stdin when stdin is a pipe, or else from the
terminal, asked twice without echo. One trailing newline is removed from a file or pipe
(echo adds one) unless --keep-trailing-newline is given. A value that is not UTF-8 text is
stored as SecretBinary.`,
		Example: `  shortfuse secret put /prod/exampleCredential
  pass show prod/db | shortfuse secret put /prod/db
  shortfuse secret put /prod/tls-key --from-file key.pem --keep-trailing-newline`,
		Args: cobra.ExactArgs(1),
		RunE: validatedWith(in, d, func(_ *cobra.Command, args []string) { in.name = args[0] }, runSecretPut),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.fromFile, "from-file", "", "read the value from `FILE` (a FIFO works too)")
	f.StringVar(&in.description, "description", "", "description, used when the secret is created")
	f.BoolVar(&in.keepNewline, "keep-trailing-newline", false, "keep a trailing newline of a file or pipe")
	return cmd
}

// readSecretValue gets the value from the file, the pipe or the terminal.
func readSecretValue(ctx context.Context, in *secretPutInput, stdin io.Reader) ([]byte, error) {
	var (
		v   []byte
		err error
	)
	switch {
	case in.fromFile != "":
		v, err = readLimited(in.fromFile, maxSecretValue)
		if err != nil {
			return nil, fmt.Errorf("--from-file: %w", err)
		}
	case stdin != nil && !in.isTerminal(stdin):
		v, err = io.ReadAll(io.LimitReader(stdin, maxSecretValue+1))
		if err != nil {
			return nil, fmt.Errorf("reading the value from stdin: %w", err)
		}
		if len(v) > maxSecretValue {
			return nil, fmt.Errorf("the value is larger than %d bytes", maxSecretValue)
		}
	default:
		v, err = in.prompter.ReadSecret(ctx, "Value for "+in.name+": ")
		if errors.Is(err, tty.ErrNoTerminal) {
			return nil, &hintError{err: errors.New("no value: stdin is empty and there is no terminal to ask"), hint: "pipe the value in, or pass --from-file"}
		}
		if err != nil {
			return nil, err
		}
		again, err := in.prompter.ReadSecret(ctx, "Again: ")
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(v, again) != 1 {
			return nil, errors.New("the two values differ; nothing stored")
		}
		if len(v) > maxSecretValue {
			return nil, fmt.Errorf("the value is larger than %d bytes", maxSecretValue)
		}
		return v, checkNotEmpty(v)
	}
	if !in.keepNewline {
		if !bytes.HasSuffix(v, []byte("\r\n")) {
			v = bytes.TrimSuffix(v, []byte("\n"))
		} else {
			v = v[:len(v)-2]
		}
	}
	return v, checkNotEmpty(v)
}

func checkNotEmpty(v []byte) error {
	if len(v) == 0 {
		return errors.New("the value is empty; nothing stored")
	}
	return nil
}

func runSecretPut(ctx context.Context, in *secretPutInput, d *deps) error {
	cfg, err := awsconf.Load(ctx, in.aws)
	if err != nil {
		return configError(err)
	}
	value, err := readSecretValue(ctx, in, d.stdin)
	if err != nil {
		return err
	}
	sm := secretsmanager.NewFromConfig(cfg)
	put := &secretsmanager.PutSecretValueInput{SecretId: aws.String(in.name)}
	create := &secretsmanager.CreateSecretInput{Name: aws.String(in.name)}
	if utf8.Valid(value) {
		put.SecretString, create.SecretString = aws.String(string(value)), aws.String(string(value))
	} else {
		put.SecretBinary, create.SecretBinary = value, value
	}
	if in.description != "" {
		create.Description = aws.String(in.description)
	}
	var version string
	out, err := sm.PutSecretValue(ctx, put)
	var ae smithy.APIError
	switch {
	case err == nil:
		version = aws.ToString(out.VersionId)
	case errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException":
		cout, err := sm.CreateSecret(ctx, create)
		if err != nil {
			return awsError(ctx, cfg, err)
		}
		version = aws.ToString(cout.VersionId)
		fmt.Fprintf(d.stderr, "shortfuse: created secret %s\n", aws.ToString(cout.ARN))
	default:
		return awsError(ctx, cfg, err)
	}
	_, err = fmt.Fprintln(d.stdout, version)
	return err
}
