package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/server"
	"github.com/shortfuse/shortfuse/internal/sessions"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

type serverInput struct {
	listen        string
	dataDir       string
	masterKeyFile string
	accountID     string
	region        string
	maxSession    time.Duration
	logLevel      string
	tlsCert       string
	tlsKey        string
	insecureHTTP  bool
	auditLog      string
	auditMaxBytes int64
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
	switch in.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", in.logLevel)
	}
	return nil
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
to DIR/admin-credentials (an AWS shared-credentials file). Every flag has a SHORTFUSE_* variable.`,
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
	f.StringVar(&in.dataDir, "data", envDefault(getenv, "SHORTFUSE_DATA", "shortfuse-data"), "data directory")
	f.StringVar(&in.masterKeyFile, "master-key-file", envDefault(getenv, "SHORTFUSE_MASTER_KEY_FILE", ""), "master key file (default DATA/master.key; created on first start)")
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
	f.StringVar(&in.logLevel, "log-level", envDefault(getenv, "SHORTFUSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	return cmd
}

func runServer(ctx context.Context, in *serverInput, stderr io.Writer) error {
	var level slog.Level
	_ = level.UnmarshalText([]byte(in.logLevel))
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(in.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	keyFile := in.masterKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(in.dataDir, "master.key")
	}
	mk, created, err := seal.LoadOrCreateKeyFile(keyFile, rand.Reader)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	if created {
		logger.Info("created master key file", "path", keyFile)
	}

	st, err := bolt.Open(filepath.Join(in.dataDir, "shortfuse.db"), bolt.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	account, err := server.LoadAccount(ctx, st, in.accountID, rand.Reader)
	if err != nil {
		return err
	}
	sealer, keyring, err := server.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		return err
	}
	iamSvc := iam.New(st, sealer, account, time.Now, rand.Reader)
	secretsSvc := secrets.New(st, sealer, account, in.region, time.Now, rand.Reader)
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

	reg, err := sessions.New(ctx, st)
	if err != nil {
		return err
	}
	auditKey, err := server.LoadAuditKey(ctx, st, sealer, rand.Reader)
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
	metrics := server.NewMetrics()
	srv := server.New(server.Config{
		Account:            account,
		Region:             in.region,
		MaxSessionDuration: in.maxSession,
		Logger:             logger,
		Metrics:            metrics,
		Audit:              auditLog,
		Redactor:           audit.NewRedactor(auditKey),
	}, server.Deps{IAM: iamSvc, Keyring: keyring, Sessions: reg, Secrets: secretsSvc})

	ln, err := net.Listen("tcp", in.listen)
	if err != nil {
		return err
	}
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
	if in.tlsCert != "" {
		scheme = "https"
		cert, err := tls.LoadX509KeyPair(in.tlsCert, in.tlsKey)
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	logger.Info("listening", "url", scheme+"://"+ln.Addr().String(), "account", account, "region", in.region, "data", in.dataDir)

	// Housekeeping: forget sessions long expired, purge deleted secrets.
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := reg.Purge(ctx, time.Now(), 24*time.Hour); err != nil {
					logger.Warn("purging expired sessions", "err", err)
				} else if n > 0 {
					logger.Info("purged expired sessions", "count", n)
				}
				// Secrets whose recovery window ended are deleted for good
				// (they are also refused from the moment the window ends).
				if n, err := secretsSvc.Purge(ctx, time.Now()); err != nil {
					logger.Warn("purging deleted secrets", "err", err)
				} else if n > 0 {
					logger.Info("purged deleted secrets", "count", n)
				}
			}
		}
	}()

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
