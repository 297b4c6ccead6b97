package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/execjob"
	"github.com/shortfuse/shortfuse/internal/client/mask"
	"github.com/shortfuse/shortfuse/internal/client/secretref"
	"github.com/shortfuse/shortfuse/internal/client/token"
	"github.com/shortfuse/shortfuse/internal/client/tty"
)

// revokeTimeout bounds the revocation at exit, whatever --request-timeout
// says: a job must not hang on a dead broker.
const revokeTimeout = 5 * time.Second

// Child credential modes (--child-credentials).
const (
	childCredsBoth     = "both"
	childCredsEnv      = "env"
	childCredsEndpoint = "endpoint"
	childCredsNone     = "none"
)

type execInput struct {
	aws        awsconf.Options
	secretArgs []string
	refs       []secretref.Ref
	tokenStdin bool
	// Keyless CI: trade the CI system's OIDC token for a session.
	webIdentityFile string
	role            string
	roleSession     string
	duration        time.Duration
	keepSession     bool
	grace           time.Duration
	graceSet        bool
	minTTL          time.Duration
	childCreds      string
	flushAfter      time.Duration
	debug           bool
	args            []string

	environ func() []string
	now     func() time.Time
	random  io.Reader
}

func (in *execInput) validate() error {
	if len(in.args) == 0 {
		return errors.New("missing COMMAND: shortfuse exec [flags] -- COMMAND [ARGS...]")
	}
	refs, err := secretref.ParseAll(in.secretArgs)
	if err != nil {
		return err
	}
	in.refs = refs
	if in.keepSession && !in.graceSet {
		// A kept session must outlive this process, so it gets no dead-man
		// switch unless one is asked for.
		in.grace = 0
	}
	if in.grace != 0 && (in.grace < 10*time.Second || in.grace > time.Hour || in.grace%time.Second != 0) {
		return fmt.Errorf("--grace %s: want whole seconds from 10s to 1h, or 0 for no dead-man switch", in.grace)
	}
	if in.minTTL < 0 {
		return fmt.Errorf("--min-ttl %s: want 0 or more", in.minTTL)
	}
	if in.flushAfter <= 0 || in.flushAfter > 10*time.Second {
		return fmt.Errorf("--flush-after %s: want more than 0 and at most 10s", in.flushAfter)
	}
	if (in.webIdentityFile == "") != (in.role == "") {
		return errors.New("--web-identity-token-file and --role go together")
	}
	if in.webIdentityFile != "" && in.tokenStdin {
		return errors.New("--web-identity-token-file and --token-stdin are two token sources: give one")
	}
	if in.duration != 0 && (in.duration < 15*time.Minute || in.duration > 12*time.Hour) {
		return fmt.Errorf("--duration %s: want 15m to 12h (the broker may cap it lower)", in.duration)
	}
	switch in.childCreds {
	case childCredsBoth, childCredsEnv, childCredsEndpoint, childCredsNone:
	default:
		return fmt.Errorf("--child-credentials %q: want both, env, endpoint or none", in.childCreds)
	}
	return nil
}

func newExecCommand(d *deps) *cobra.Command {
	in := &execInput{environ: d.environ, now: d.now, random: d.rand}
	cmd := &cobra.Command{
		Use:   "exec [flags] -- COMMAND [ARGS...]",
		Short: "Run a command with secrets in its environment, masked in its output, and revoke the token after",
		Long: `Run COMMAND with an exploding token and secrets, the safe way for a CI job:

  - the token comes from SHORTFUSE_TOKEN (the output of shortfuse token), from stdin with
    --token-stdin, or from the standard AWS variables and profile; a token that has expired,
    or expires within --min-ttl, is refused before COMMAND starts;
  - each --secret VAR=SECRET_ID[#JSON_KEY] is fetched from Secrets Manager and put in the
    environment of COMMAND (never in its arguments, never on disk);
  - COMMAND gets the token as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN and on a
    loopback container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), and none of
    the AWS_* variables or the SHORTFUSE_TOKEN of the caller;
  - every secret value and every part of the token is replaced by **** in COMMAND's stdout and
    stderr, also when split across writes, line by line, and in base64, URL, JSON and shell
    forms (best effort: see docs/client.md);
  - SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on; a second one kills COMMAND;
  - while COMMAND runs, a heartbeat every --grace/3 keeps the session alive on the broker: if
    this process dies, the broker revokes the session after --grace;
  - when COMMAND ends, the session is revoked (unless --keep-session), and shortfuse exits
    with COMMAND's exit code (128+N when signal N ended it).`,
		Example: `  SHORTFUSE_TOKEN=... shortfuse exec --secret DB_PASSWORD=/prod/db#password -- ./deploy.sh
  shortfuse token --role arn:aws:iam::111122223333:role/ci | shortfuse exec --token-stdin -- make release`,
		Args: cobra.ArbitraryArgs,
		RunE: validatedWith(in, d, func(cmd *cobra.Command, args []string) {
			in.args = args
			in.graceSet = cmd.Flags().Changed("grace")
		}, runExec),
	}
	f := cmd.Flags()
	// Flags end at COMMAND: shortfuse exec -- ls -l, or shortfuse exec ls -l.
	f.SetInterspersed(false)
	addAWSFlags(f, &in.aws)
	f.StringArrayVar(&in.secretArgs, "secret", nil, "put a secret in COMMAND's environment: `VAR=SECRET_ID[#JSON_KEY]` (repeatable)")
	f.BoolVar(&in.tokenStdin, "token-stdin", false, "read the token from stdin (COMMAND then gets an empty stdin)")
	f.StringVar(&in.webIdentityFile, "web-identity-token-file", "", "keyless CI: the CI system's OIDC token `FILE`, traded for a session of --role (AssumeRoleWithWebIdentity); AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN work too")
	f.StringVar(&in.role, "role", "", "with --web-identity-token-file: the role `ARN` to assume")
	f.StringVar(&in.roleSession, "role-session-name", "", "with --web-identity-token-file: the session name (default from the CI job id)")
	f.DurationVar(&in.duration, "duration", 15*time.Minute, "with --web-identity-token-file: the session's lifetime")
	f.BoolVar(&in.keepSession, "keep-session", false, "do not revoke the session when COMMAND ends (and send no heartbeats unless --grace is given)")
	f.DurationVar(&in.grace, "grace", 60*time.Second, "dead-man switch: the broker revokes the session this long after the last heartbeat (0: off)")
	f.DurationVar(&in.minTTL, "min-ttl", 30*time.Second, "refuse a token with less than this left")
	f.StringVar(&in.childCreds, "child-credentials", childCredsBoth, "how COMMAND gets the token: both, env, endpoint or none")
	f.DurationVar(&in.flushAfter, "flush-after", 100*time.Millisecond, "pass on a partial line after this much quiet")
	f.BoolVar(&in.debug, "debug", false, "log what shortfuse does to stderr (never secrets)")
	return cmd
}

// execRun is one run of shortfuse exec, from a loaded token to the
// revocation.
type execRun struct {
	in     *execInput
	stderr io.Writer
	log    *slog.Logger
	creds  token.Credentials
	cfg    aws.Config
	broker *brokerapi.Client
	// dead is set once the session is refused (by the broker, or by us
	// before use): nothing to revoke.
	dead atomic.Bool
}

func runExec(ctx context.Context, in *execInput, d *deps) error {
	if execjob.Nested(d.getenv) {
		return &hintError{
			err:  errors.New("already running inside shortfuse exec"),
			hint: "run the command directly: it already has the session and its secrets, and an inner exec would revoke the outer session",
		}
	}
	// SIGINT and SIGTERM already end ctx (main); so do SIGHUP and SIGQUIT
	// while secrets are fetched, so that the revocation still runs.
	ctx, stop := notifyContext(ctx, syscall.SIGHUP, syscall.SIGQUIT)
	defer stop()

	// The child's masked stderr, our notes and the heartbeat reports share
	// one writer, one write at a time.
	stderr := &lockedWriter{w: d.stderr}
	r := &execRun{in: in, stderr: stderr, log: slog.New(slog.DiscardHandler)}
	if in.debug {
		r.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := r.loadToken(ctx, d.getenv, d.stdin); err != nil {
		return err
	}
	r.broker = brokerapi.New(r.cfg, awsconf.BrokerEndpoint(ctx, r.cfg))
	r.log.Debug("token loaded", "credentials", r.creds, "region", r.cfg.Region, "broker", r.broker.Endpoint)
	defer r.revoke(ctx)
	return r.run(ctx, d.stdin, d.stdout)
}

// loadToken reads the token and builds the AWS configuration around it.
func (r *execRun) loadToken(ctx context.Context, getenv func(string) string, stdin io.Reader) error {
	in := r.in
	var data []byte
	source := ""
	switch {
	case in.tokenStdin:
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<10+1))
		if err != nil {
			return fmt.Errorf("reading the token from stdin: %w", err)
		}
		data, source = b, "stdin"
	case getenv("SHORTFUSE_TOKEN") != "":
		data, source = []byte(getenv("SHORTFUSE_TOKEN")), "SHORTFUSE_TOKEN"
	}
	// The standard variables of keyless CI, when no other token is given.
	if in.webIdentityFile == "" && source == "" && getenv("AWS_WEB_IDENTITY_TOKEN_FILE") != "" && getenv("AWS_ROLE_ARN") != "" {
		in.webIdentityFile, in.role = getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), getenv("AWS_ROLE_ARN")
		if in.roleSession == "" {
			in.roleSession = getenv("AWS_ROLE_SESSION_NAME")
		}
	}
	if in.webIdentityFile != "" {
		return r.loadWebIdentity(ctx, getenv)
	}
	if source != "" {
		c, format, err := token.Parse(data)
		if err != nil {
			return &hintError{err: fmt.Errorf("the token in %s is not usable: %v", source, err), hint: "give the output of shortfuse token (jenkins format: SessionToken:AccessKeyId:SecretAccessKey)"}
		}
		r.log.Debug("token read", "source", source, "format", format)
		o := in.aws
		o.Credentials = staticCredentials(c)
		cfg, err := awsconf.Load(ctx, o)
		if err != nil {
			return configError(err)
		}
		r.creds, r.cfg = c, cfg
	} else {
		cfg, err := awsconf.Load(ctx, in.aws)
		if err != nil {
			return configError(err)
		}
		v, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return &hintError{err: errors.New("no token: SHORTFUSE_TOKEN is not set and the AWS credential chain found nothing"), hint: "set SHORTFUSE_TOKEN to the output of shortfuse token, or pass --token-stdin"}
		}
		c := tokenCredentials(v)
		if !c.IsSession() {
			return &hintError{
				err:  fmt.Errorf("the AWS credentials (%s) are a long-lived access key, not an exploding token", token.KeyHint(c.AccessKeyID)),
				hint: "get a session with shortfuse token and pass it in SHORTFUSE_TOKEN",
			}
		}
		r.log.Debug("token read", "source", "AWS credential chain", "provider", v.Source)
		r.pin(cfg, c)
	}
	return r.checkRemaining(in.now())
}

// loadWebIdentity trades the CI system's OIDC token for a session of the
// role (AssumeRoleWithWebIdentity, unsigned, at the configured endpoint).
// The token file is read by the SDK; its content is never printed.
func (r *execRun) loadWebIdentity(ctx context.Context, getenv func(string) string) error {
	in := r.in
	o := in.aws
	o.Credentials = aws.AnonymousCredentials{}
	cfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return configError(err)
	}
	name := in.roleSession
	if name == "" {
		name = ciSessionName(getenv)
	}
	p := stscreds.NewWebIdentityRoleProvider(sts.NewFromConfig(cfg), in.role, stscreds.IdentityTokenFile(in.webIdentityFile), func(wo *stscreds.WebIdentityRoleOptions) {
		wo.RoleSessionName = name
		wo.Duration = in.duration
	})
	v, err := p.Retrieve(ctx)
	if err != nil {
		return &hintError{
			err:  fmt.Errorf("AssumeRoleWithWebIdentity for %s: %s", in.role, shortError(err)),
			hint: "check that the token file holds the CI system's current OIDC token, that an OpenID Connect provider exists for its issuer and audience, and that the role's trust policy names that provider and the token's subject",
		}
	}
	r.pin(cfg, tokenCredentials(v))
	r.log.Debug("token read", "source", "web identity", "role", in.role, "session", name)
	return r.checkRemaining(in.now())
}

// pin makes c, with cfg, the session of the run: the child and the
// revocation use exactly it, whatever the credential chain would find.
func (r *execRun) pin(cfg aws.Config, c token.Credentials) {
	cfg.Credentials = staticCredentials(c)
	r.creds, r.cfg = c, cfg
}

// tokenCredentials are credentials the SDK retrieved, as a token holds them.
func tokenCredentials(v aws.Credentials) token.Credentials {
	c := token.Credentials{AccessKeyID: v.AccessKeyID, SecretAccessKey: v.SecretAccessKey, SessionToken: v.SessionToken}
	if v.CanExpire {
		c.Expiration = v.Expires
	}
	return c
}

// staticCredentials provides a token's credentials to the SDK.
func staticCredentials(c token.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// ciSessionName names a web-identity session after the CI job.
func ciSessionName(getenv func(string) string) string {
	for _, k := range []string{"GITHUB_RUN_ID", "CI_JOB_ID", "BUILD_TAG"} {
		if v := getenv(k); v != "" {
			var b strings.Builder
			for _, r := range "ci-" + v {
				if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-", r)) {
					b.WriteRune(r)
				} else {
					b.WriteByte('-')
				}
			}
			name := b.String()
			if len(name) > 64 {
				name = name[:64]
			}
			return name
		}
	}
	return "shortfuse-exec"
}

// checkRemaining refuses a token that has expired or is about to, in one
// line.
func (r *execRun) checkRemaining(now time.Time) error {
	d, ok := r.creds.Remaining(now)
	if !ok {
		return nil
	}
	at := r.creds.Expiration.UTC().Format("15:04:05 UTC")
	if d <= 0 {
		r.dead.Store(true)
		return fmt.Errorf("the token expired %s ago (at %s); get a new one with shortfuse token", (-d).Round(time.Second), at)
	}
	if d < r.in.minTTL {
		// Refused unused: it expires soon anyway, and the caller may still
		// want it with a lower --min-ttl.
		r.dead.Store(true)
		return fmt.Errorf("the token expires in %s (at %s), less than --min-ttl %s; get a new one with shortfuse token", d.Round(time.Second), at, r.in.minTTL)
	}
	return nil
}

// refused reports a session the broker (or AWS) no longer accepts.
func (r *execRun) refused(err error) error {
	r.dead.Store(true)
	why := "it has expired or was revoked"
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		why = ae.ErrorMessage()
	}
	return fmt.Errorf("the token was refused (%s); get a new one with shortfuse token", oneLine(why))
}

func (r *execRun) notef(format string, args ...any) {
	fmt.Fprintf(r.stderr, "shortfuse: "+format+"\n", args...)
}

// run checks the token, fetches the secrets, and runs COMMAND with them
// in its environment and masked in its output, with heartbeats while it
// runs. Nothing starts COMMAND before the token is known to work.
func (r *execRun) run(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	grace, validated, err := r.firstHeartbeat(ctx)
	if err != nil {
		return err
	}
	values, err := r.fetchSecrets(ctx)
	if err != nil {
		return err
	}
	if !validated && len(values) == 0 {
		// Nothing has shown yet that the token works; ask who it is.
		if _, err := sts.NewFromConfig(r.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			if brokerapi.IsSessionRefused(err) {
				return r.refused(err)
			}
			return awsError(ctx, r.cfg, err)
		}
	}
	env, secrets, closeEnv, err := r.childEnv(values)
	if err != nil {
		return err
	}
	defer closeEnv()
	childIn := stdin
	if r.in.tokenStdin {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		defer devnull.Close()
		childIn = devnull
	}
	if err := ctx.Err(); err != nil {
		// A signal came while the secrets were fetched: COMMAND never
		// starts.
		return context.Cause(ctx)
	}
	return r.runChild(ctx, env, mask.Compile(secrets...), childIn, stdout, grace, !r.in.tokenStdin && tty.IsTerminal(stdin))
}

// firstHeartbeat arms the dead-man switch and learns the expiry of a token
// that does not carry it; a refusal stops everything before COMMAND. It
// returns the grace the heartbeats keep (0 without a dead-man switch) and
// whether the broker accepted the token.
func (r *execRun) firstHeartbeat(ctx context.Context) (grace time.Duration, validated bool, err error) {
	grace = r.in.grace
	if grace <= 0 {
		return 0, false, nil
	}
	hb, err := r.broker.Heartbeat(ctx, grace)
	switch {
	case err == nil:
		r.log.Debug("heartbeat", "expiration", hb.Expiration, "deadline", hb.Deadline)
		if r.creds.Expiration.IsZero() && !hb.Expiration.IsZero() {
			r.creds.Expiration = hb.Expiration
			if err := r.checkRemaining(r.in.now()); err != nil {
				return 0, false, err
			}
		}
		return grace, true, nil
	case errors.Is(err, brokerapi.ErrUnsupported):
		r.noDeadManSwitch()
		return 0, false, nil
	case brokerapi.IsSessionRefused(err):
		return 0, false, r.refused(err)
	case ctx.Err() != nil, errors.As(err, new(*awsconf.NoAnswerError)):
		// A broker that does not answer will not give the secrets
		// either; a signal stops everything before COMMAND.
		return 0, false, err
	default:
		r.notef("warning: heartbeat failed: %s; continuing", shortError(err))
		return grace, false, nil
	}
}

// fetchSecrets gets the values of the --secret references.
func (r *execRun) fetchSecrets(ctx context.Context) ([]secretref.Value, error) {
	if len(r.in.refs) == 0 {
		return nil, nil
	}
	values, err := secretref.Fetch(ctx, secretsmanager.NewFromConfig(r.cfg), r.in.refs)
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx) // run says which request the signal cut short
	}
	if err != nil {
		if brokerapi.IsSessionRefused(err) {
			return nil, r.refused(err)
		}
		var fe *secretref.Error
		if errors.As(err, &fe) && errors.As(err, new(*awsconf.NoAnswerError)) {
			return nil, fmt.Errorf("failed to get secret %q for %s: %w", fe.Ref.SecretID, fe.Ref.Var, awsError(ctx, r.cfg, fe.Err))
		}
		if errors.As(err, &fe) {
			return nil, &hintError{
				err:  fmt.Errorf("failed to get secret %q for %s: %s", fe.Ref.SecretID, fe.Ref.Var, shortError(fe.Err)),
				hint: "looked in " + awsconf.Where(ctx, r.cfg),
			}
		}
		return nil, err
	}
	for _, v := range values {
		r.log.Debug("secret fetched", "var", v.Var, "bytes", len(v.Value))
	}
	return values, nil
}

// childEnv is COMMAND's environment: the process's, cleaned of credentials,
// with the secrets, the region and endpoint, and the session as --child-creds
// says (variables, a credentials endpoint, or both). secrets are all that
// must not show in COMMAND's output; closeEnv stops the endpoint.
func (r *execRun) childEnv(values []secretref.Value) (env []string, secrets [][]byte, closeEnv func(), err error) {
	in := r.in
	for _, v := range values {
		if len(v.Value) < mask.MinLen {
			r.notef("warning: the value of %s is shorter than %d bytes and is not masked", v.Var, mask.MinLen)
		}
		secrets = append(secrets, []byte(v.Value))
	}
	for _, p := range r.creds.Parts() {
		secrets = append(secrets, []byte(p))
	}
	set := make([]string, 0, len(values)+12)
	for _, v := range values {
		set = append(set, v.Var+"="+v.Value)
	}
	set = append(set, "AWS_REGION="+r.cfg.Region, "AWS_DEFAULT_REGION="+r.cfg.Region)
	if r.cfg.BaseEndpoint != nil {
		set = append(set, "AWS_ENDPOINT_URL="+*r.cfg.BaseEndpoint)
	}
	for _, kv := range in.environ() {
		// Where to reach the services, not who to be: kept.
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_") || strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			set = append(set, kv)
		}
	}
	if in.childCreds == childCredsBoth || in.childCreds == childCredsEnv {
		set = append(set, "AWS_ACCESS_KEY_ID="+r.creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+r.creds.SecretAccessKey, "AWS_SESSION_TOKEN="+r.creds.SessionToken)
		if !r.creds.Expiration.IsZero() {
			set = append(set, "AWS_CREDENTIAL_EXPIRATION="+r.creds.Expiration.UTC().Format(time.RFC3339))
		}
	}
	closeEnv = func() {}
	if in.childCreds == childCredsBoth || in.childCreds == childCredsEndpoint {
		srv, err := execjob.NewCredentialsServer(r.creds, in.random, in.now)
		if err != nil {
			return nil, nil, nil, err
		}
		closeEnv = func() { srv.Close() }
		set = append(set, srv.Env()...)
		secrets = append(secrets, []byte(srv.AuthToken()))
		if in.childCreds == childCredsEndpoint {
			// Let the SDK reach the endpoint rather than a profile of the
			// machine first.
			set = append(set, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_CONFIG_FILE="+os.DevNull)
		}
	}
	set = append(set, execjob.NestingGuard+"=1")
	return execjob.CleanEnv(in.environ(), set), secrets, closeEnv, nil
}

// runChild runs COMMAND with its output masked, and heartbeats while it
// runs, on a context that SIGINT (which ends ctx) does not stop: the child
// may take a while to finish. COMMAND's exit code becomes ours.
func (r *execRun) runChild(ctx context.Context, env []string, masks *mask.Set, stdin io.Reader, stdout io.Writer, grace time.Duration, foreground bool) error {
	outW := masks.NewWriter(stdout, r.in.flushAfter)
	errW := masks.NewWriter(r.stderr, r.in.flushAfter)
	hbCtx, stopHB := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	if grace > 0 {
		go func() {
			defer close(hbDone)
			execjob.KeepAlive(hbCtx, r.broker.Heartbeat, grace, grace/3, r.onBeat(grace))
		}()
	} else {
		close(hbDone)
	}
	res, err := execjob.Run(ctx, execjob.Config{
		Args:       r.in.args,
		Env:        env,
		Stdin:      stdin,
		Stdout:     outW,
		Stderr:     errW,
		Foreground: foreground,
		WaitDelay:  2 * time.Second,
		Started:    func(pid int) { r.log.Debug("command started", "pid", pid, "patterns_masked", masks.Len()) },
	})
	stopHB()
	<-hbDone
	_ = outW.Close()
	_ = errW.Close()
	if err != nil {
		var se *execjob.StartError
		if errors.As(err, &se) {
			r.notef("error: %s", se.Error())
			return &exitError{code: se.Code}
		}
		return err
	}
	r.log.Debug("command ended", "code", res.Code, "signal", res.Signal)
	if res.Code != 0 {
		return &exitError{code: res.Code}
	}
	return nil
}

func (r *execRun) noDeadManSwitch() {
	if r.broker.Endpoint == "" {
		r.notef("note: AWS has no dead-man switch; if this job dies, the token lives until it expires")
		return
	}
	r.notef("note: the broker at %s has no dead-man switch (shortfuse.Heartbeat); continuing without it", r.broker.Endpoint)
}

// onBeat reports heartbeat events while the child runs.
func (r *execRun) onBeat(grace time.Duration) func(execjob.BeatEvent, error) {
	return func(e execjob.BeatEvent, err error) {
		switch e {
		case execjob.BeatUnsupported:
			r.noDeadManSwitch()
		case execjob.BeatRefused:
			r.dead.Store(true)
			r.notef("warning: the broker no longer accepts the session: %s", shortError(err))
		case execjob.BeatFailing:
			r.notef("warning: heartbeat failed: %s; the broker revokes the session if this lasts %s", shortError(err), grace)
		case execjob.BeatRecovered:
			r.notef("heartbeat recovered")
		}
	}
}

// revoke ends the session on the broker, unless it is to be kept or is
// dead already. It runs on every path once a token is loaded.
func (r *execRun) revoke(ctx context.Context) {
	if r.in.keepSession || r.dead.Load() {
		return
	}
	// Its own short limit: a dead broker must not hold the job at exit.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	err := r.broker.RevokeSession(rctx, "")
	hint := token.KeyHint(r.creds.AccessKeyID)
	until := "until it expires"
	if !r.creds.Expiration.IsZero() {
		until = "until " + r.creds.Expiration.UTC().Format("15:04:05 UTC")
	}
	switch {
	case err == nil:
		r.notef("revoked session %s", hint)
	case errors.Is(err, brokerapi.ErrUnsupported):
		if r.broker.Endpoint == "" {
			r.notef("note: AWS cannot revoke one session; the token stays valid %s", until)
		} else {
			r.notef("note: the broker at %s cannot revoke sessions (shortfuse.RevokeSession); the token stays valid %s", r.broker.Endpoint, until)
		}
	case brokerapi.IsSessionRefused(err):
		r.log.Debug("session already refused by the broker", "err", shortError(err))
	case rctx.Err() != nil:
		r.notef("warning: could not revoke session %s: no answer from %s within %s (the revocation's own limit); it stays valid %s", hint, r.broker.Endpoint, revokeTimeout, until)
	default:
		r.notef("warning: could not revoke session %s: %s; it stays valid %s", hint, shortError(err), until)
	}
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// shortError is "Code: message" for an API error, else the innermost
// cause: the SDK's full chain is too long for one line.
func shortError(err error) string {
	var na *awsconf.NoAnswerError
	if errors.As(err, &na) {
		return na.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ae.ErrorMessage() == "" {
			return ae.ErrorCode()
		}
		return ae.ErrorCode() + ": " + oneLine(ae.ErrorMessage())
	}
	return oneLine(innermost(err).Error())
}
