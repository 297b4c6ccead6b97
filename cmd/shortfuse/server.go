package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/dbcred"
	pgengine "github.com/shortfuse/shortfuse/internal/dbcred/postgres"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/server"
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
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}

// envInt returns the SHORTFUSE_* environment value as a number, or def; -1
// when the value does not parse, for validate to report.
func envInt(getenv func(string) string, name string, def int) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// envDefault returns the SHORTFUSE_* environment value, or def.
func envDefault(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func newServerCommand(getenv func(string) string, stderr io.Writer) *cobra.Command {
	in := &serverInput{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the credential broker",
		Long: `Run the credential broker: the AWS APIs of STS, IAM and Secrets Manager, signed with SigV4.

On first start in an empty data directory it creates the encrypted store, a master key file
(0600), an account id and the IAM user "admin" with full rights, whose access key it writes once
to DIR/admin-credentials (an AWS shared-credentials file). Every flag has a SHORTFUSE_* variable.

The store is embedded (DIR/shortfuse.db) unless --store names a PostgreSQL database, which
several replicas may share: each keeps its own data directory (audit log, control socket) and
all use the same master key file (or the same key in SHORTFUSE_MASTER_KEY, the text of a key
file, where secrets come as environment variables). Revocations and key changes made on one replica are enforced
by all within a second. See docs/OPERATIONS.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := in.validate(); err != nil {
				return err
			}
			return runServer(cmd.Context(), in, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.listen, "listen", envDefault(getenv, "SHORTFUSE_LISTEN", "127.0.0.1:7575"), "address to listen on (HOST:PORT; port 0 picks a free one)")
	addDataFlag(f, &in.dataDir, getenv, "data directory")
	addMasterKeyFileFlag(f, &in.masterKeyFile, getenv, "master key file (default DATA/master.key; created on first start)")
	in.masterKey = getenv(masterKeyEnv)
	f.StringVar(&in.accountID, "account-id", envDefault(getenv, "SHORTFUSE_ACCOUNT_ID", ""), "12-digit account id for a new data directory (default: random)")
	f.StringVar(&in.region, "region", envDefault(getenv, "SHORTFUSE_REGION", "us-east-1"), "the region the broker serves")
	maxSession := envDefault(getenv, "SHORTFUSE_MAX_SESSION_DURATION", "1h")
	d, err := time.ParseDuration(maxSession)
	if err != nil {
		d = -1 // reported by validate
	}
	f.DurationVar(&in.maxSession, "max-session-duration", d, "cap on every session's lifetime (may be below AWS's 900 s minimum)")
	f.StringVar(&in.tlsCert, "tls-cert", envDefault(getenv, "SHORTFUSE_TLS_CERT", ""), "TLS certificate file (PEM); serve HTTPS")
	f.StringVar(&in.tlsKey, "tls-key", envDefault(getenv, "SHORTFUSE_TLS_KEY", ""), "TLS private key file (PEM)")
	f.BoolVar(&in.insecureHTTP, "insecure-http", getenv("SHORTFUSE_INSECURE_HTTP") == "true", "allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy)")
	f.StringVar(&in.auditLog, "audit-log", envDefault(getenv, "SHORTFUSE_AUDIT_LOG", ""), "audit log file (default DATA/audit.log); rotated files are PATH.<first>-<last>")
	f.Int64Var(&in.auditMaxBytes, "audit-max-bytes", 64<<20, "rotate the audit log when it reaches this size")
	f.IntVar(&in.auditKeep, "audit-keep", envInt(getenv, "SHORTFUSE_AUDIT_KEEP", 0), "keep this many rotated audit files and prune older ones, each only once it verifies (and was delivered to --audit-ship-dir); 0 keeps all")
	f.StringVar(&in.auditShipDir, "audit-ship-dir", envDefault(getenv, "SHORTFUSE_AUDIT_SHIP_DIR", ""), "a directory an external shipper watches: rotated audit files are copied there before --audit-keep prunes them")
	f.BoolVar(&in.auditBreakOK, "audit-accept-break", false, "start although the audit log does not continue from the chain head recorded in the store (the break is recorded in the log, and `audit verify` reports it)")
	addStoreFlag(f, &in.store, getenv, "the store: a postgres:// URL for several replicas, or nothing for the embedded store in the data directory (prefer SHORTFUSE_STORE: a password in the URL shows in the process list)")
	f.DurationVar(&in.rotateSession, "rotate-session-key-every", envDuration(getenv, "SHORTFUSE_ROTATE_SESSION_KEY_EVERY", 24*time.Hour), "add a new session key this often (0: never); replaced keys keep opening their sessions until these expire")
	f.DurationVar(&in.rotateData, "rotate-data-key-every", envDuration(getenv, "SHORTFUSE_ROTATE_DATA_KEY_EVERY", 30*24*time.Hour), "add a new data key for new records this often (0: never); old keys stay to open old records")
	f.DurationVar(&in.syncInterval, "sync-interval", envDuration(getenv, "SHORTFUSE_SYNC_INTERVAL", 500*time.Millisecond), "how often a replica checks the store for other replicas' changes when no notification comes")
	_ = f.MarkHidden("sync-interval")
	f.DurationVar(&in.maxStaleness, "max-staleness", envDuration(getenv, "SHORTFUSE_MAX_STALENESS", time.Second), "how stale this replica's view of revocations may be; past it, a session is checked in the store, and refused (ServiceUnavailable, retryable) if the store does not answer")
	f.DurationVar(&in.txTimeout, "db-timeout", envDuration(getenv, "SHORTFUSE_DB_TIMEOUT", 10*time.Second), "deadline of every PostgreSQL transaction (a request's store work gives up after it instead of hanging on a database that stopped answering)")
	f.DurationVar(&in.storeTimeout, "store-timeout", envDuration(getenv, "SHORTFUSE_STORE_TIMEOUT", 3*time.Second), "deadline of the store accesses made to admit a session")
	f.StringVar(&in.notifyWebhook, "notify-webhook", envDefault(getenv, "SHORTFUSE_NOTIFY_WEBHOOK", ""), "post approval requests and decisions to this `URL` as Slack-compatible JSON")
	f.StringVar(&in.publicURL, "public-url", envDefault(getenv, "SHORTFUSE_PUBLIC_URL", ""), "the broker's `URL` as approvers reach it, for links in notifications")
	f.StringVar(&in.pprofListen, "pprof-listen", envDefault(getenv, "SHORTFUSE_PPROF_LISTEN", ""), "serve Go's profiling endpoints (/debug/pprof/) on this loopback HOST:PORT; off by default")
	f.StringVar(&in.dbSSLMode, "db-sslmode", envDefault(getenv, "SHORTFUSE_DB_SSLMODE", "prefer"), "libpq sslmode of the broker's connections to the databases of dynamic secrets (verify-full in production)")
	f.DurationVar(&in.leaseReaper, "lease-reaper-interval", envDuration(getenv, "SHORTFUSE_LEASE_REAPER_INTERVAL", 500*time.Millisecond), "how often the database credentials of ended sessions are looked for and dropped")
	f.StringVar(&in.logLevel, "log-level", envDefault(getenv, "SHORTFUSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	return cmd
}

func runServer(ctx context.Context, in *serverInput, stderr io.Writer) error {
	var level slog.Level
	_ = level.UnmarshalText([]byte(in.logLevel))
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The address and the certificate first: a port in use or a bad
	// certificate must fail before a data directory is created.
	var tlsConfig *tls.Config
	if in.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(in.tlsCert, in.tlsKey)
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", in.listen)
	if err != nil {
		return &hintError{err: err, hint: "is another broker running? pass a free address with --listen (port 0 picks one)"}
	}
	defer ln.Close()

	// A key given in the environment, or a key file that exists, is checked
	// before anything is created.
	mk, err := masterKeyFromEnv(in.masterKey, in.masterKeyFile)
	if err != nil {
		return err
	}
	if mk == nil {
		if mk, err = seal.LoadKeyFile(masterKeyPath(in.masterKeyFile, in.dataDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("master key: %w", err)
		}
	}
	if err := os.MkdirAll(in.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := openStore(ctx, in.store, in.dataDir, logger, in.txTimeout)
	if err != nil {
		return err
	}
	defer st.Close()
	if mk == nil {
		mk, err = createMasterKey(ctx, st, masterKeyPath(in.masterKeyFile, in.dataDir), logger)
		if err != nil {
			return err
		}
	}
	// The feed position comes first: a change another replica makes while
	// this one loads is then applied after, not missed.
	fd := newFeed(st, logger, in.syncInterval)
	feedHead, err := fd.Head(ctx)
	if err != nil {
		return err
	}

	account, err := keystore.LoadAccount(ctx, st, in.accountID, rand.Reader)
	if err != nil {
		return err
	}
	sealer, keyring, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		return err
	}
	keys, err := keystore.NewKeys(ctx, st, mk, sealer, keyring, rand.Reader, fd)
	if err != nil {
		return err
	}
	rotation := keystore.RotatePolicy{SessionKeyEvery: in.rotateSession, DataKeyEvery: in.rotateData}
	rot, err := keys.Rotate(ctx, time.Now(), rotation)
	if err != nil {
		return fmt.Errorf("key rotation: %w", err)
	}
	logRotation(logger, rot)
	iamSvc := iam.New(st, sealer, account, time.Now, rand.Reader)
	secretsSvc := secrets.New(st, sealer, account, in.region, time.Now, rand.Reader)
	// Bootstrap is one transaction: of several replicas starting on a new
	// store, exactly one creates the admin and writes its credentials.
	akid, secret, boot, err := iamSvc.Bootstrap(ctx, "admin")
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	credPath := filepath.Join(in.dataDir, "admin-credentials")
	if boot {
		if err := writeCredentialsFile(credPath, akid, secret, in.region); err != nil {
			return err
		}
		logger.Info("created IAM user admin; its access key is in the credentials file", "path", credPath, "account", account)
	}

	reg, err := registry.New(ctx, st, registry.Options{Publisher: fd, Current: fd.Current, MaxStaleness: in.maxStaleness, StoreTimeout: in.storeTimeout})
	if err != nil {
		return err
	}
	auditKey, err := keystore.LoadAuditKey(ctx, st, sealer, rand.Reader)
	if err != nil {
		return err
	}
	auditPath := in.auditLog
	if auditPath == "" {
		auditPath = filepath.Join(in.dataDir, "audit.log")
	}
	auditLog, err := audit.Open(auditPath, audit.Options{MaxBytes: in.auditMaxBytes})
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer auditLog.Close()
	auditBreaks := prometheus.NewCounter(prometheus.CounterOpts{Name: "shortfuse_audit_chain_breaks_total", Help: "Starts at which the audit log did not continue from the chain head recorded in the store."})
	auditHead := auditHeadKey(auditPath)
	if err := checkAuditChain(ctx, st, auditLog, auditPath, auditHead, in.auditBreakOK, auditBreaks, logger); err != nil {
		return err
	}
	// Background work ends, and is waited for, before the audit log and the
	// store close.
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopBG()
		wg.Wait()
	}()
	dbc := dbcred.New(dbcred.Options{
		Store:   st,
		Sealer:  sealer,
		Engines: map[string]dbcred.Engine{dbcred.EnginePostgres: &pgengine.Engine{SSLMode: in.dbSSLMode}},
		Master:  server.MasterReader(secretsSvc),
		Live:    reg.Live,
		Audit:   server.LeaseAuditor(auditLog, account, in.region),
		Owner:   replicaName(),
		Logger:  logger,
	})
	followFeed(bg, &wg, st, fd, feedHead, reg, keys, logger, dbc.Nudge)
	followAuditHead(bg, &wg, st, auditLog, auditHead, logger)
	if in.auditKeep > 0 {
		pruneAudit(bg, &wg, auditPath, audit.PruneOptions{Keep: in.auditKeep, ShipDir: in.auditShipDir}, logger)
	}
	if cln, cleanup, err := listenControl(in.dataDir); err != nil {
		logger.Warn("no control socket: backup and keys commands need the broker stopped", "err", err)
	} else {
		cs := &http.Server{
			Handler:           controlHandler(controlDeps{st: st, keys: keys, policy: rotation, now: time.Now, log: logger}),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = cs.Serve(cln)
		}()
		defer func() {
			cs.Close()
			cleanup()
		}()
	}

	metrics := server.NewMetrics()
	registerStoreMetrics(metrics.Registry, st, fd)
	metrics.Registry.MustRegister(auditBreaks, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortfuse_audit_log_replaced",
		Help: "1 once the audit log file was found removed or replaced while in use: every request is refused until a restart.",
	}, func() float64 {
		if auditLog.Stats().Replaced {
			return 1
		}
		return 0
	}))
	approvalsSvc, stopApprovals, err := startApprovals(bg, st, in.notifyWebhook, in.publicURL, logger)
	if err != nil {
		return err
	}
	defer stopApprovals()
	metrics.Registry.MustRegister(approvalsSvc.Collectors()...)
	metrics.Registry.MustRegister(dbc.Collectors()...)
	srv := server.New(server.Config{
		Account:            account,
		Region:             in.region,
		MaxSessionDuration: in.maxSession,
		Logger:             logger,
		Metrics:            metrics,
		Audit:              auditLog,
		Redactor:           audit.NewRedactor(auditKey),
	}, server.Deps{IAM: iamSvc, Keyring: keyring, Sessions: reg, Secrets: secretsSvc, Approvals: approvalsSvc, DBCred: dbc})

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		hs.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	logger.Info("listening", "url", scheme+"://"+ln.Addr().String(), "account", account, "region", in.region, "data", in.dataDir, "store", st.kind)

	// Database credentials: drop what a broker that stopped left behind,
	// then, every half second, the credentials of ended sessions.
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		if n, err := dbc.Sweep(ctx); err != nil {
			logger.Warn("dropping leftover database roles", "err", err)
		} else if n > 0 {
			logger.Info("dropped leftover database roles", "count", n)
		}
	}()
	reapEvery := in.leaseReaper
	if reapEvery == 0 {
		reapEvery = 500 * time.Millisecond
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(reapEvery)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
			case <-dbc.Nudged():
			}
			ctx, cancel := context.WithTimeout(bg, 30*time.Second)
			if _, err := dbc.Reap(ctx); err != nil {
				logger.Warn("dropping the database credentials of ended sessions", "err", err)
			}
			cancel()
		}
	}()

	// Housekeeping: forget sessions long expired, purge deleted secrets,
	// rotate keys when due, trim the change feed.
	every(bg, &wg, time.Minute, func(ctx context.Context) {
		if rot, err := keys.Rotate(ctx, time.Now(), rotation); err != nil {
			logger.Error("key rotation", "err", err)
		} else {
			logRotation(logger, rot)
		}
		if _, err := fd.Prune(ctx); err != nil {
			logger.Warn("trimming the change feed", "err", err)
		}
		if n, err := reg.Purge(ctx, time.Now(), 24*time.Hour); err != nil {
			logger.Warn("purging expired sessions", "err", err)
		} else if n > 0 {
			logger.Info("purged expired sessions", "count", n)
		}
		if _, err := dbc.Purge(ctx, time.Now(), 24*time.Hour); err != nil {
			logger.Warn("purging ended database credentials", "err", err)
		}
		// Secrets whose recovery window ended are deleted for good
		// (they are also refused from the moment the window ends).
		if n, err := secretsSvc.Purge(ctx, time.Now()); err != nil {
			logger.Warn("purging deleted secrets", "err", err)
		} else if n > 0 {
			logger.Info("purged deleted secrets", "count", n)
		}
	})

	if in.pprofListen != "" {
		stop, err := servePprof(in.pprofListen, logger)
		if err != nil {
			return err
		}
		defer stop()
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
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
