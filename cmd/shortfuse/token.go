package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/token"
	"github.com/shortfuse/shortfuse/internal/client/tty"
)

// MaxUsesTag is the session tag the broker reads as a use limit.
const maxUsesTag = "shortfuse:max-uses"

// cacheMinRemaining: a cached credential_process session is reused while
// it has at least this long to live.
const cacheMinRemaining = 2 * time.Minute

type tokenInput struct {
	aws               awsconf.Options
	role              string
	sessionName       string
	externalID        string
	duration          time.Duration
	policyFile        string
	maxUses           int
	mfaSerial         string
	mfaCode           string
	format            string
	credentialProcess bool
	noCache           bool

	prompter tty.Prompter
	now      func() time.Time
	cacheDir func() (string, error)
}

var (
	reSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	reMFASerial   = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	reMFACode     = regexp.MustCompile(`^\d{6}$`)
	reRoleArn     = regexp.MustCompile(`^arn:[\w-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
)

func (in *tokenInput) validate() error {
	if in.credentialProcess {
		if in.format != "" && in.format != string(token.FormatJSON) {
			return fmt.Errorf("--credential-process writes the json format; drop --format %s", in.format)
		}
		in.format = string(token.FormatJSON)
	}
	if err := checkFormatFlag(&in.format); err != nil {
		return err
	}
	if in.noCache && !in.credentialProcess {
		return errors.New("--no-cache only applies with --credential-process")
	}
	if in.duration%time.Second != 0 {
		return fmt.Errorf("--duration %s: want whole seconds", in.duration)
	}
	maxDur := 36 * time.Hour // GetSessionToken
	if in.role != "" {
		maxDur = 12 * time.Hour // AssumeRole
	}
	if in.duration < 15*time.Minute || in.duration > maxDur {
		return fmt.Errorf("--duration %s: AWS accepts 15m to %s here (the broker may cap it lower)", in.duration, maxDur)
	}
	if in.role != "" {
		if err := checkRoleFlag(in.role); err != nil {
			return err
		}
	}
	if in.role == "" {
		for _, f := range []struct{ name, val string }{{"--session-name", in.sessionName}, {"--external-id", in.externalID}, {"--policy", in.policyFile}} {
			if f.val != "" {
				return fmt.Errorf("%s needs --role (GetSessionToken takes no %s)", f.name, strings.TrimPrefix(f.name, "--"))
			}
		}
	}
	if in.maxUses < 0 {
		return fmt.Errorf("--max-uses %d: want a positive number of calls", in.maxUses)
	}
	if in.sessionName != "" && !reSessionName.MatchString(in.sessionName) {
		return fmt.Errorf("--session-name %q: want 2-64 of letters, digits and +=,.@_-", in.sessionName)
	}
	if in.mfaCode != "" && in.mfaSerial == "" {
		return errors.New("--mfa-code needs --mfa-serial")
	}
	return checkMFAFlags(in.mfaSerial, in.mfaCode)
}

// checkFormatFlag checks --format, the jenkins format when not given.
func checkFormatFlag(format *string) error {
	if *format == "" {
		*format = string(token.FormatJenkins)
	}
	if _, err := token.ParseFormat(*format); err != nil {
		return fmt.Errorf("--format: %v", err)
	}
	return nil
}

// checkRoleFlag checks --role, a role's ARN.
func checkRoleFlag(role string) error {
	if !reRoleArn.MatchString(role) {
		return fmt.Errorf("--role %q: want a role ARN, arn:aws:iam::ACCOUNT:role/NAME", role)
	}
	return nil
}

// checkMFAFlags checks --mfa-serial and --mfa-code, each if given.
func checkMFAFlags(serial, code string) error {
	if serial != "" && !reMFASerial.MatchString(serial) {
		return fmt.Errorf("--mfa-serial %q: want the MFA device ARN or serial number", serial)
	}
	if code != "" && !reMFACode.MatchString(code) {
		return errors.New("--mfa-code: want the 6 digits the device shows")
	}
	return nil
}

func newTokenCommand(d *deps) *cobra.Command {
	in := &tokenInput{prompter: d.prompter, now: d.now, cacheDir: d.cacheDir}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Get an exploding token for a job (GetSessionToken, or AssumeRole with --role)",
		Long: `Get an exploding token for a job: short-lived session credentials from GetSessionToken,
or from AssumeRole with --role, narrowed by a session policy (--policy) and a use limit
(--max-uses). It uses the standard AWS configuration (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL, ~/.aws/config, ...), so it works against a shortfuse broker and against AWS.

The token goes to stdout in the chosen --format; its expiry goes to stderr:
  jenkins  SessionToken:AccessKeyId:SecretAccessKey (paste into a Jenkins password parameter,
           or set SHORTFUSE_TOKEN for shortfuse exec)
  env      export lines for a POSIX shell
  json     credential_process output (Version 1)
  aws      the JSON of aws sts get-session-token

With --credential-process it serves as a credential_process in ~/.aws/config, keeping the
session in a 0600 file under the user's cache directory until shortly before it expires:
  [profile job]
  credential_process = shortfuse token --credential-process --role arn:aws:iam::111122223333:role/deploy`,
		Example: `  shortfuse token --role arn:aws:iam::111122223333:role/deploy --max-uses 20
  shortfuse token --mfa-serial arn:aws:iam::111122223333:mfa/alice --format env`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, runToken),
	}
	f := cmd.Flags()
	addAWSFlags(f, &in.aws)
	f.StringVar(&in.role, "role", "", "role ARN to assume (AssumeRole); without it, GetSessionToken")
	f.StringVar(&in.sessionName, "session-name", "", "role session name (default shortfuse-$USER)")
	f.StringVar(&in.externalID, "external-id", "", "external id the role's trust policy asks for")
	f.DurationVar(&in.duration, "duration", 15*time.Minute, "lifetime of the token")
	f.StringVar(&in.policyFile, "policy", "", "session policy `FILE` (JSON) narrowing the role's permissions")
	f.IntVar(&in.maxUses, "max-uses", 0, "refuse the token after `N` signed calls (broker only)")
	f.StringVar(&in.mfaSerial, "mfa-serial", "", "MFA device ARN; the code is asked on the terminal")
	f.StringVar(&in.mfaCode, "mfa-code", "", "MFA code (instead of the terminal prompt)")
	f.StringVar(&in.format, "format", "", "output format: jenkins, env, json, aws (default jenkins)")
	f.BoolVar(&in.credentialProcess, "credential-process", false, "act as an AWS credential_process (json format, cached)")
	f.BoolVar(&in.noCache, "no-cache", false, "with --credential-process: always get a new session")
	return cmd
}

// runToken gets a session (from the cache, with --credential-process) and
// writes it in the chosen format, its expiry on stderr.
func runToken(ctx context.Context, in *tokenInput, d *deps) error {
	cfg, err := awsconf.Load(ctx, in.aws)
	if err != nil {
		return configError(err)
	}
	policy, err := readSessionPolicy(in.policyFile)
	if err != nil {
		return err
	}
	var (
		cache *token.Cache
		key   string
	)
	if in.credentialProcess && !in.noCache {
		var c *token.Credentials
		if cache, key, c, err = cachedToken(ctx, in, cfg, policy); err != nil || c != nil {
			if err == nil {
				err = writeToken(d.stdout, token.FormatJSON, *c)
			}
			return err
		}
	}
	code, err := mfaCode(ctx, in)
	if err != nil {
		return err
	}
	var creds *ststypes.Credentials
	var who string
	if in.role == "" {
		creds, err = getSessionToken(ctx, in, cfg, code)
	} else {
		sessionName := in.sessionName
		if sessionName == "" {
			sessionName = defaultSessionName(loginName(d.getenv), in.now())
		}
		creds, who, err = assumeRole(ctx, in, cfg, sessionName, policy, code)
	}
	if err != nil {
		return err
	}
	if creds == nil {
		return errors.New("STS answered without credentials")
	}
	c := token.Credentials{
		AccessKeyID:     aws.ToString(creds.AccessKeyId),
		SecretAccessKey: aws.ToString(creds.SecretAccessKey),
		SessionToken:    aws.ToString(creds.SessionToken),
		Expiration:      aws.ToTime(creds.Expiration),
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("STS answered with unusable credentials: %v", err)
	}
	format, _ := token.ParseFormat(in.format)
	if err := writeToken(d.stdout, format, c); err != nil {
		return err
	}
	if cache != nil {
		if err := cache.Store(key, c); err != nil {
			fmt.Fprintf(d.stderr, "shortfuse: warning: %v\n", err)
		}
	}
	msg := "token " + token.KeyHint(c.AccessKeyID)
	if who != "" {
		msg += " for " + who
	}
	if in.maxUses > 0 {
		msg += fmt.Sprintf(", good for %d calls,", in.maxUses)
	}
	fmt.Fprintf(d.stderr, "shortfuse: %s %s\n", msg, expiresAt(c.Expiration, in.now()))
	return nil
}

// expiresAt says when a token expires, and how long from now that is.
func expiresAt(t, now time.Time) string {
	return fmt.Sprintf("expires at %s (in %s)", t.UTC().Format("2006-01-02 15:04:05 UTC"), t.Sub(now).Round(time.Second))
}

// readSessionPolicy reads --policy: JSON of at most 64 KiB, or "" without
// the flag.
func readSessionPolicy(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	data, err := readLimited(file, 64<<10)
	if err != nil {
		return "", fmt.Errorf("--policy: %w", err)
	}
	if !json.Valid(data) {
		return "", fmt.Errorf("--policy %s: not valid JSON", file)
	}
	return string(data), nil
}

// cachedToken opens the credential_process cache and looks up a session
// for the same caller and request; c is nil when none is cached with
// enough time left.
func cachedToken(ctx context.Context, in *tokenInput, cfg aws.Config, policy string) (cache *token.Cache, key string, c *token.Credentials, err error) {
	dir, err := in.cacheDir()
	if err != nil {
		return nil, "", nil, fmt.Errorf("cache directory: %w", err)
	}
	cache = &token.Cache{Dir: filepath.Join(dir, "shortfuse", "credentials")}
	base, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, "", nil, awsError(ctx, cfg, err)
	}
	sum := sha256.Sum256([]byte(policy))
	key = token.Key(base.AccessKeyID, in.aws.Profile, cfg.Region, awsconf.BrokerEndpoint(ctx, cfg),
		in.role, in.sessionName, in.externalID, in.duration.String(), hex.EncodeToString(sum[:]),
		strconv.Itoa(in.maxUses), in.mfaSerial)
	cached, ok, err := cache.Load(key, in.now(), cacheMinRemaining)
	if err != nil || !ok {
		return cache, key, nil, err
	}
	return cache, key, &cached, nil
}

// mfaCode is --mfa-code, or the code asked on the terminal when
// --mfa-serial is given without it.
func mfaCode(ctx context.Context, in *tokenInput) (string, error) {
	if in.mfaSerial == "" || in.mfaCode != "" {
		return in.mfaCode, nil
	}
	return askMFACode(ctx, in.prompter, "MFA code for "+in.mfaSerial+": ", "--mfa-serial needs a code and there is no terminal to ask")
}

// askMFACode asks the terminal for an MFA code with prompt; with no
// terminal, it fails with the message noTerminal and a hint at --mfa-code.
func askMFACode(ctx context.Context, p tty.Prompter, prompt, noTerminal string) (string, error) {
	b, err := p.ReadSecret(ctx, prompt)
	if errors.Is(err, tty.ErrNoTerminal) {
		return "", &hintError{err: errors.New(noTerminal), hint: "pass --mfa-code"}
	}
	if err != nil {
		return "", err
	}
	code := strings.TrimSpace(string(b))
	if !reMFACode.MatchString(code) {
		return "", errors.New("the MFA code must be the 6 digits the device shows")
	}
	return code, nil
}

// getSessionToken calls GetSessionToken; with --max-uses (broker only) the
// new session narrows itself before it is handed out.
func getSessionToken(ctx context.Context, in *tokenInput, cfg aws.Config, code string) (*ststypes.Credentials, error) {
	input := &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(int32(in.duration / time.Second))}
	if in.mfaSerial != "" {
		input.SerialNumber, input.TokenCode = aws.String(in.mfaSerial), aws.String(code)
	}
	ep := awsconf.BrokerEndpoint(ctx, cfg)
	if in.maxUses > 0 && ep == "" {
		return nil, &hintError{
			err:  errors.New("--max-uses without --role needs a shortfuse broker: AWS's GetSessionToken sessions cannot be use-limited"),
			hint: "set AWS_ENDPOINT_URL to the broker, or pass --role with a role whose trust policy allows sts:TagSession",
		}
	}
	out, err := sts.NewFromConfig(cfg).GetSessionToken(ctx, input)
	if err != nil {
		return nil, awsError(ctx, cfg, err)
	}
	if in.maxUses > 0 && out.Credentials != nil {
		// A GetSessionToken session carries no session tags: it limits
		// itself, before anyone else has it, through the one call that
		// can only narrow a session.
		if err := narrowNewSession(ctx, cfg, ep, out.Credentials, in.maxUses); err != nil {
			return nil, err
		}
	}
	return out.Credentials, nil
}

// assumeRole calls AssumeRole; --max-uses is a session tag. who is the
// assumed role session's ARN.
func assumeRole(ctx context.Context, in *tokenInput, cfg aws.Config, sessionName, policy, code string) (creds *ststypes.Credentials, who string, err error) {
	input := &sts.AssumeRoleInput{RoleArn: aws.String(in.role), RoleSessionName: aws.String(sessionName), DurationSeconds: aws.Int32(int32(in.duration / time.Second))}
	if policy != "" {
		input.Policy = aws.String(policy)
	}
	if in.externalID != "" {
		input.ExternalId = aws.String(in.externalID)
	}
	if in.maxUses > 0 {
		input.Tags = []ststypes.Tag{{Key: aws.String(maxUsesTag), Value: aws.String(strconv.Itoa(in.maxUses))}}
	}
	if in.mfaSerial != "" {
		input.SerialNumber, input.TokenCode = aws.String(in.mfaSerial), aws.String(code)
	}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, input)
	if err != nil {
		if in.maxUses > 0 && strings.Contains(err.Error(), "sts:TagSession") {
			return nil, "", &hintError{err: errors.New(shortError(err)), hint: "--max-uses is a session tag: the role's trust policy must allow sts:TagSession as well as sts:AssumeRole"}
		}
		return nil, "", awsError(ctx, cfg, err)
	}
	if out.AssumedRoleUser != nil {
		who = aws.ToString(out.AssumedRoleUser.Arn)
	}
	return out.Credentials, who, nil
}

// narrowNewSession limits a session just minted to maxUses calls, signed
// with its own credentials. If that fails, the session is revoked and never
// handed out.
func narrowNewSession(ctx context.Context, cfg aws.Config, endpoint string, creds *ststypes.Credentials, maxUses int) error {
	scfg := cfg.Copy()
	scfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken))
	bc := brokerapi.New(scfg, endpoint)
	if _, err := bc.NarrowSession(ctx, brokerapi.NarrowSessionInput{MaxUses: maxUses}); err != nil {
		if rerr := bc.RevokeSession(ctx, ""); rerr != nil {
			return fmt.Errorf("--max-uses: the new session could not be limited (%v), nor revoked (%v): revoke %s", shortError(err), shortError(rerr), token.KeyHint(aws.ToString(creds.AccessKeyId)))
		}
		return fmt.Errorf("--max-uses: the new session could not be limited, and was revoked: %v", shortError(err))
	}
	return nil
}

func writeToken(w io.Writer, f token.Format, c token.Credentials) error {
	data, err := token.Encode(f, c)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// loginName is USER, else LOGNAME, else the name of the account the
// process runs as: CI agents often set neither variable.
func loginName(getenv func(string) string) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// defaultSessionName is shortfuse-USER, or shortfuse-UNIXTIME when the user
// name does not fit AWS's pattern.
func defaultSessionName(user string, now time.Time) string {
	if name := "shortfuse-" + user; user != "" && reSessionName.MatchString(name) {
		return name
	}
	return "shortfuse-" + strconv.FormatInt(now.Unix(), 10)
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// configError adds the hint for a configuration that cannot be loaded.
func configError(err error) error {
	if errors.Is(err, awsconf.ErrNoRegion) {
		return &hintError{err: err, hint: "set AWS_REGION or pass --region"}
	}
	return err
}

// awsError turns an SDK error into one line with a hint: "sts:AssumeRole:
// AccessDenied: ..." rather than the SDK's long chain.
func awsError(ctx context.Context, cfg aws.Config, err error) error {
	if errors.As(err, new(*awsconf.NoAnswerError)) {
		return err // run says it in one line, and exits 124
	}
	where := awsconf.Where(ctx, cfg)
	var op *smithy.OperationError
	prefix := ""
	if errors.As(err, &op) {
		prefix = strings.ToLower(strings.ReplaceAll(op.ServiceID, " ", "")) + ":" + op.OperationName + ": "
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := fmt.Errorf("%s%s: %s", prefix, ae.ErrorCode(), ae.ErrorMessage())
		switch {
		case brokerapi.IsSessionRefused(err):
			return &hintError{err: e, hint: "the token has expired, was revoked or is used up; get a new one with shortfuse token"}
		case ae.ErrorCode() == "InvalidClientTokenId" || ae.ErrorCode() == "UnrecognizedClientException":
			return &hintError{err: e, hint: "the access key is unknown at " + where + "; check the credentials and --endpoint-url"}
		case ae.ErrorCode() == "SignatureDoesNotMatch" || ae.ErrorCode() == "InvalidSignatureException":
			return &hintError{err: e, hint: "the secret access key does not match the access key id, or the clocks differ"}
		}
		return e
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return &hintError{err: fmt.Errorf("%scannot reach the endpoint: %v", prefix, innermost(err)), hint: "looked in " + where + "; pass --region or --endpoint-url"}
	}
	msg := err.Error()
	if strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "failed to refresh cached credentials") {
		return &hintError{err: errors.New(prefix + "no AWS credentials found"), hint: "set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a broker's admin-credentials file works as AWS_SHARED_CREDENTIALS_FILE)"}
	}
	return err
}

// innermost returns the deepest wrapped error, for a short message.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
