package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type serverInput struct {
	listen        string
	dataDir       string
	masterKeyFile string
	masterKey     string // SHORTFUSE_MASTER_KEY: the key itself, instead of a file
	accountID     string
	region        string
	maxSession    time.Duration
	logLevel      string
	tlsCert       string
	tlsKey        string
	insecureHTTP  bool
	auditLog      string
	auditMaxBytes int64
	auditBreakOK  bool
	auditKeep     int    // rotated audit files kept (0: all)
	auditShipDir  string // where rotated audit files are delivered before they are pruned

	store         string        // "" for the embedded store, or a postgres:// URL
	rotateSession time.Duration // 0: never
	rotateData    time.Duration // 0: never
	syncInterval  time.Duration // fallback poll of the replicas' change feed
	maxStaleness  time.Duration // how stale the view of revocations may be before a session is checked in the store
	storeTimeout  time.Duration // deadline of the store accesses of a session's admission
	txTimeout     time.Duration // deadline of every PostgreSQL transaction that has none

	notifyWebhook string // approval notifications (approve.go)
	publicURL     string // the broker's URL as approvers reach it

	dbSSLMode   string        // sslmode of the connections to the databases of dynamic secrets
	leaseReaper time.Duration // how often the leases of ended sessions are dropped
	rotateEvery time.Duration // how often secrets due for rotation are looked for

	pprofListen string // loopback address of the profiling endpoints; "" for none
}

func (in *serverInput) validate() error {
	if _, _, err := net.SplitHostPort(in.listen); err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT", in.listen)
	}
	if in.dataDir == "" {
		return errors.New("--data must not be empty")
	}
	if in.maxSession <= 0 {
		return fmt.Errorf("--max-session-duration must be positive, got %s", in.maxSession)
	}
	if in.region == "" {
		return errors.New("--region must not be empty")
	}
	if (in.tlsCert == "") != (in.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if in.tlsCert == "" && !in.insecureHTTP && !isLoopback(in.listen) {
		return &hintError{
			err:  fmt.Errorf("refusing to serve plain HTTP on %s, which is not a loopback address: credentials would cross the network in clear", in.listen),
			hint: "pass --tls-cert and --tls-key, or --insecure-http if a TLS proxy in front of the broker terminates TLS",
		}
	}
	if _, err := storeKind(in.store); err != nil {
		return err
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--rotate-session-key-every", in.rotateSession}, {"--rotate-data-key-every", in.rotateData}} {
		if d.v < 0 || (d.v > 0 && d.v < time.Minute) {
			return fmt.Errorf("%s: want a duration of at least 1m, or 0 for never", d.flag)
		}
	}
	if in.syncInterval < 10*time.Millisecond || in.syncInterval > time.Second {
		return fmt.Errorf("--sync-interval: want a duration from 10ms to 1s")
	}
	if in.maxStaleness < 2*in.syncInterval || in.maxStaleness > time.Minute {
		return fmt.Errorf("--max-staleness: want a duration from twice --sync-interval to 1m")
	}
	if in.storeTimeout < 100*time.Millisecond || in.storeTimeout > 30*time.Second {
		return fmt.Errorf("--store-timeout: want a duration from 100ms to 30s")
	}
	if in.auditKeep < 0 {
		return fmt.Errorf("--audit-keep %d: want a number of rotated files, or 0 to keep all", in.auditKeep)
	}
	if in.auditShipDir != "" && in.auditKeep == 0 {
		return errors.New("--audit-ship-dir needs --audit-keep: files are shipped when they are pruned")
	}
	if in.txTimeout < in.storeTimeout || in.txTimeout > 5*time.Minute {
		return fmt.Errorf("--db-timeout: want a duration from --store-timeout to 5m")
	}
	if in.pprofListen != "" && !isLoopback(in.pprofListen) {
		return fmt.Errorf("--pprof-listen %q: want a loopback HOST:PORT (the profiles show the process's memory)", in.pprofListen)
	}
	switch in.dbSSLMode {
	case "", "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
	default:
		return fmt.Errorf("--db-sslmode %q: want disable, allow, prefer, require, verify-ca or verify-full", in.dbSSLMode)
	}
	if in.leaseReaper != 0 && (in.leaseReaper < 100*time.Millisecond || in.leaseReaper > time.Minute) {
		return fmt.Errorf("--lease-reaper-interval: want a duration from 100ms to 1m")
	}
	if in.rotateEvery != 0 && (in.rotateEvery < time.Second || in.rotateEvery > time.Hour) {
		return fmt.Errorf("--rotation-interval: want a duration from 1s to 1h")
	}
	switch in.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", in.logLevel)
	}
	return nil
}

// envDuration returns the SHORTFUSE_* environment value as a duration, or
// def; -1 when the value does not parse, for validate to report.
func envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	return envParsed(getenv, name, def, time.ParseDuration)
}

// envInt returns the SHORTFUSE_* environment value as a number, or def; -1
// when the value does not parse, for validate to report.
func envInt(getenv func(string) string, name string, def int) int {
	return envParsed(getenv, name, def, strconv.Atoi)
}

// envParsed returns the SHORTFUSE_* environment value as parse reads it,
// or def; -1 when the value does not parse.
func envParsed[T time.Duration | int](getenv func(string) string, name string, def T, parse func(string) (T, error)) T {
	v := getenv(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		return -1
	}
	return x
}

// envDefault returns the SHORTFUSE_* environment value, or def.
func envDefault(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func newServerCommand(d *deps) *cobra.Command {
	in := &serverInput{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the credential broker",
		Long: `Run the credential broker: the AWS APIs of STS, IAM and Secrets Manager, signed with SigV4.

On first start in an empty data directory it creates the encrypted store, a master key file
(0600), an account id and the IAM user "admin" with full rights, whose access key it writes once
to DIR/admin-credentials (an AWS shared-credentials file). Every flag but --audit-accept-break
(for one start only) has a SHORTFUSE_* variable: --max-staleness is SHORTFUSE_MAX_STALENESS.

The store is embedded (DIR/shortfuse.db) unless --store names a PostgreSQL database, which
several replicas may share: each keeps its own data directory (audit log, control socket) and
all use the same master key file (or the same key in SHORTFUSE_MASTER_KEY, the text of a key
file, where secrets come as environment variables). Revocations and key changes made on one replica are enforced
by all within a second. See docs/OPERATIONS.md.`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, runServer),
	}
	f := cmd.Flags()
	f.StringVar(&in.listen, "listen", envDefault(d.getenv, "SHORTFUSE_LISTEN", "127.0.0.1:7575"), "address to listen on (HOST:PORT; port 0 picks a free one)")
	addDataFlag(f, &in.dataDir, d.getenv, "data directory")
	addMasterKeyFileFlag(f, &in.masterKeyFile, d.getenv, "master key file (default DATA/master.key; created on first start)")
	in.masterKey = d.getenv(masterKeyEnv)
	f.StringVar(&in.accountID, "account-id", envDefault(d.getenv, "SHORTFUSE_ACCOUNT_ID", ""), "12-digit account id for a new data directory (default: random)")
	f.StringVar(&in.region, "region", envDefault(d.getenv, "SHORTFUSE_REGION", "us-east-1"), "the region the broker serves")
	f.DurationVar(&in.maxSession, "max-session-duration", envDuration(d.getenv, "SHORTFUSE_MAX_SESSION_DURATION", time.Hour), "cap on every session's lifetime (may be below AWS's 900 s minimum)")
	f.StringVar(&in.tlsCert, "tls-cert", envDefault(d.getenv, "SHORTFUSE_TLS_CERT", ""), "TLS certificate file (PEM); serve HTTPS")
	f.StringVar(&in.tlsKey, "tls-key", envDefault(d.getenv, "SHORTFUSE_TLS_KEY", ""), "TLS private key file (PEM)")
	f.BoolVar(&in.insecureHTTP, "insecure-http", d.getenv("SHORTFUSE_INSECURE_HTTP") == "true", "allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy)")
	f.StringVar(&in.auditLog, "audit-log", envDefault(d.getenv, "SHORTFUSE_AUDIT_LOG", ""), "audit log file (default DATA/audit.log); rotated files are PATH.<first>-<last>")
	f.Int64Var(&in.auditMaxBytes, "audit-max-bytes", int64(envInt(d.getenv, "SHORTFUSE_AUDIT_MAX_BYTES", 64<<20)), "rotate the audit log when it reaches this size")
	f.IntVar(&in.auditKeep, "audit-keep", envInt(d.getenv, "SHORTFUSE_AUDIT_KEEP", 0), "keep this many rotated audit files and prune older ones, each only once it verifies (and was delivered to --audit-ship-dir); 0 keeps all")
	f.StringVar(&in.auditShipDir, "audit-ship-dir", envDefault(d.getenv, "SHORTFUSE_AUDIT_SHIP_DIR", ""), "a directory an external shipper watches: rotated audit files are copied there before --audit-keep prunes them")
	f.BoolVar(&in.auditBreakOK, "audit-accept-break", false, "start although the audit log does not continue from the chain head recorded in the store (the break is recorded in the log, and `audit verify` reports it)")
	addStoreFlag(f, &in.store, d.getenv, "the store: a postgres:// URL for several replicas, or nothing for the embedded store in the data directory (prefer SHORTFUSE_STORE: a password in the URL shows in the process list)")
	f.DurationVar(&in.rotateSession, "rotate-session-key-every", envDuration(d.getenv, "SHORTFUSE_ROTATE_SESSION_KEY_EVERY", 24*time.Hour), "add a new session key this often (0: never); replaced keys keep opening their sessions until these expire")
	f.DurationVar(&in.rotateData, "rotate-data-key-every", envDuration(d.getenv, "SHORTFUSE_ROTATE_DATA_KEY_EVERY", 30*24*time.Hour), "add a new data key for new records this often (0: never); old keys stay to open old records")
	f.DurationVar(&in.syncInterval, "sync-interval", envDuration(d.getenv, "SHORTFUSE_SYNC_INTERVAL", 500*time.Millisecond), "how often a replica checks the store for other replicas' changes when no notification comes")
	_ = f.MarkHidden("sync-interval")
	f.DurationVar(&in.maxStaleness, "max-staleness", envDuration(d.getenv, "SHORTFUSE_MAX_STALENESS", time.Second), "how stale this replica's view of revocations may be; past it, a session is checked in the store, and refused (ServiceUnavailable, retryable) if the store does not answer")
	f.DurationVar(&in.txTimeout, "db-timeout", envDuration(d.getenv, "SHORTFUSE_DB_TIMEOUT", 10*time.Second), "deadline of every PostgreSQL transaction (a request's store work gives up after it instead of hanging on a database that stopped answering)")
	f.DurationVar(&in.storeTimeout, "store-timeout", envDuration(d.getenv, "SHORTFUSE_STORE_TIMEOUT", 3*time.Second), "deadline of the store accesses made to admit a session")
	f.StringVar(&in.notifyWebhook, "notify-webhook", envDefault(d.getenv, "SHORTFUSE_NOTIFY_WEBHOOK", ""), "post approval requests and decisions to this `URL` as Slack-compatible JSON")
	f.StringVar(&in.publicURL, "public-url", envDefault(d.getenv, "SHORTFUSE_PUBLIC_URL", ""), "the broker's `URL` as approvers reach it, for links in notifications")
	f.StringVar(&in.pprofListen, "pprof-listen", envDefault(d.getenv, "SHORTFUSE_PPROF_LISTEN", ""), "serve Go's profiling endpoints (/debug/pprof/) on this loopback HOST:PORT; off by default")
	f.StringVar(&in.dbSSLMode, "db-sslmode", envDefault(d.getenv, "SHORTFUSE_DB_SSLMODE", "prefer"), "libpq sslmode of the broker's connections to the databases of dynamic secrets, MariaDB's too (verify-full in production)")
	f.DurationVar(&in.leaseReaper, "lease-reaper-interval", envDuration(d.getenv, "SHORTFUSE_LEASE_REAPER_INTERVAL", 500*time.Millisecond), "how often the database credentials of ended sessions are looked for and dropped")
	f.DurationVar(&in.rotateEvery, "rotation-interval", envDuration(d.getenv, "SHORTFUSE_ROTATION_INTERVAL", 30*time.Second), "how often secrets due for rotation (RotateSecret's schedules) are looked for and rotated")
	f.StringVar(&in.logLevel, "log-level", envDefault(d.getenv, "SHORTFUSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	return cmd
}

// isLoopback reports whether a listen address is on the loopback interface.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeCredentialsFile writes the admin's access key once, as an AWS
// shared-credentials file readable by its owner only.
func writeCredentialsFile(path, akid, secret, region string) error {
	var b strings.Builder
	b.WriteString("[default]\n")
	b.WriteString("aws_access_key_id = " + akid + "\n")
	b.WriteString("aws_secret_access_key = " + secret + "\n")
	b.WriteString("region = " + region + "\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("admin credentials file: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("admin credentials file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("admin credentials file: %w", err)
	}
	return f.Close()
}

// replicaName names this broker process in the claims it makes on shared
// records (a database credential being dropped): host and process id.
func replicaName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}
