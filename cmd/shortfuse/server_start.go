package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/dbcred"
	mysqlengine "github.com/shortfuse/shortfuse/internal/dbcred/mysql"
	pgengine "github.com/shortfuse/shortfuse/internal/dbcred/postgres"
	"github.com/shortfuse/shortfuse/internal/feed"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/rotation"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/server"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/smapi"
)

// runServer runs the broker until ctx ends, in three steps: listen (the
// address and the certificate, which must fail before anything is
// created), openBroker (the data directory, the store, the keys, the
// services and the audit log) and serve (background work, the control
// socket and the API). What a step opens closes in reverse order.
func runServer(ctx context.Context, in *serverInput, d *deps) error {
	var level slog.Level
	_ = level.UnmarshalText([]byte(in.logLevel))
	logger := slog.New(slog.NewTextHandler(d.stderr, &slog.HandlerOptions{Level: level}))

	ln, tlsConfig, err := listen(in)
	if err != nil {
		return err
	}
	defer ln.Close()
	b, err := openBroker(ctx, in, logger)
	if err != nil {
		b.close()
		return err
	}
	defer b.close()
	return b.serve(ctx, in, ln, tlsConfig)
}

// listen opens the API's listener, with TLS (and its configuration, which
// the HTTP server shares) when a certificate is given.
func listen(in *serverInput) (net.Listener, *tls.Config, error) {
	var tlsConfig *tls.Config
	if in.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(in.tlsCert, in.tlsKey)
		if err != nil {
			return nil, nil, fmt.Errorf("TLS: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", in.listen)
	if err != nil {
		return nil, nil, &hintError{err: err, hint: "is another broker running? pass a free address with --listen (port 0 picks one)"}
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, tlsConfig, nil
}

// broker is an opened broker: its store, keys, services and audit log.
type broker struct {
	logger   *slog.Logger
	closers  []func() // run in reverse by close
	st       *brokerStore
	fd       *feed.Feed
	feedHead uint64 // the feed's position before anything was loaded
	account  string

	sealer   *seal.Sealer
	keyring  *sessiontoken.Keyring
	keys     *keystore.Keys
	rotation keystore.RotatePolicy

	iam     *iam.Service
	secrets *secrets.Service
	reg     *registry.Service

	auditKey    []byte
	auditLog    *audit.Writer
	auditPath   string
	auditHead   string
	auditBreaks prometheus.Counter
}

func (b *broker) onClose(f func()) { b.closers = append(b.closers, f) }

// close closes what the broker opened, last opened first.
func (b *broker) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	b.closers = nil
}

// openBroker opens the store (creating the data directory and, on first
// start, the master key), loads the account, the keys and the services,
// creates the admin on a new store and opens the audit log. On error the
// returned broker holds what was opened, for close.
func openBroker(ctx context.Context, in *serverInput, logger *slog.Logger) (*broker, error) {
	b := &broker{logger: logger}
	// A key given in the environment, or a key file that exists, is checked
	// before anything is created.
	mk, err := masterKeyFromEnv(in.masterKey, in.masterKeyFile)
	if err != nil {
		return b, err
	}
	if mk == nil {
		if mk, err = seal.LoadKeyFile(masterKeyPath(in.masterKeyFile, in.dataDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return b, fmt.Errorf("master key: %w", err)
		}
	}
	if err := os.MkdirAll(in.dataDir, 0o700); err != nil {
		return b, fmt.Errorf("data directory: %w", err)
	}
	if b.st, err = openStore(ctx, in.store, in.dataDir, logger, in.txTimeout); err != nil {
		return b, err
	}
	b.onClose(func() { b.st.Close() })
	if mk == nil {
		if mk, err = createMasterKey(ctx, b.st, masterKeyPath(in.masterKeyFile, in.dataDir), logger); err != nil {
			return b, err
		}
	}
	// The feed position comes first: a change another replica makes while
	// this one loads is then applied after, not missed.
	b.fd = newFeed(b.st, logger, in.syncInterval)
	if b.feedHead, err = b.fd.Head(ctx); err != nil {
		return b, err
	}
	if err := b.loadKeys(ctx, in, mk); err != nil {
		return b, err
	}
	if err := b.openServices(ctx, in); err != nil {
		return b, err
	}
	return b, b.openAudit(ctx, in)
}

// loadKeys loads the account and the keys, and adds a key that is due.
func (b *broker) loadKeys(ctx context.Context, in *serverInput, mk *seal.MasterKey) error {
	var err error
	if b.account, err = keystore.LoadAccount(ctx, b.st, in.accountID, rand.Reader); err != nil {
		return err
	}
	if b.sealer, b.keyring, err = keystore.LoadKeys(ctx, b.st, mk, rand.Reader); err != nil {
		return err
	}
	if b.keys, err = keystore.NewKeys(ctx, b.st, mk, b.sealer, b.keyring, rand.Reader, b.fd); err != nil {
		return err
	}
	b.rotation = keystore.RotatePolicy{SessionKeyEvery: in.rotateSession, DataKeyEvery: in.rotateData}
	rot, err := b.keys.Rotate(ctx, time.Now(), b.rotation)
	if err != nil {
		return fmt.Errorf("key rotation: %w", err)
	}
	logRotation(b.logger, rot)
	return nil
}

// openServices makes the IAM, Secrets Manager and session services, and on
// a new store the admin, whose access key goes to DATA/admin-credentials.
func (b *broker) openServices(ctx context.Context, in *serverInput) error {
	b.iam = iam.New(b.st, b.sealer, b.account, time.Now, rand.Reader)
	b.secrets = secrets.New(b.st, b.sealer, b.account, in.region, time.Now, rand.Reader)
	// Bootstrap is one transaction: of several replicas starting on a new
	// store, exactly one creates the admin and writes its credentials.
	akid, secret, boot, err := b.iam.Bootstrap(ctx, "admin")
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if boot {
		credPath := filepath.Join(in.dataDir, "admin-credentials")
		if err := writeCredentialsFile(credPath, akid, secret, in.region); err != nil {
			return err
		}
		b.logger.Info("created IAM user admin; its access key is in the credentials file", "path", credPath, "account", b.account)
	}
	b.reg, err = registry.New(ctx, b.st, registry.Options{Publisher: b.fd, Current: b.fd.Current, MaxStaleness: in.maxStaleness, StoreTimeout: in.storeTimeout})
	return err
}

// openAudit opens the audit log and checks that it continues the chain
// recorded in the store.
func (b *broker) openAudit(ctx context.Context, in *serverInput) error {
	var err error
	if b.auditKey, err = keystore.LoadAuditKey(ctx, b.st, b.sealer, rand.Reader); err != nil {
		return err
	}
	b.auditPath = in.auditLog
	if b.auditPath == "" {
		b.auditPath = filepath.Join(in.dataDir, "audit.log")
	}
	if b.auditLog, err = audit.Open(b.auditPath, audit.Options{MaxBytes: in.auditMaxBytes}); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	b.onClose(func() { b.auditLog.Close() })
	b.auditBreaks = prometheus.NewCounter(prometheus.CounterOpts{Name: "shortfuse_audit_chain_breaks_total", Help: "Starts at which the audit log did not continue from the chain head recorded in the store."})
	b.auditHead = auditHeadKey(b.auditPath)
	return checkAuditChain(ctx, b.st, b.auditLog, b.auditPath, b.auditHead, in.auditBreakOK, b.auditBreaks, b.logger)
}

// serve starts the background work and the control socket, then serves
// the API on ln until ctx ends. Background work ends, and is waited for,
// before the audit log and the store close.
func (b *broker) serve(ctx context.Context, in *serverInput, ln net.Listener, tlsConfig *tls.Config) error {
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopBG()
		wg.Wait()
	}()
	// MariaDB serves both of the engine names RDS secrets use for it.
	mariadb := &mysqlengine.Engine{TLS: mysqlengine.TLSFromSSLMode(in.dbSSLMode)}
	pg := &pgengine.Engine{SSLMode: in.dbSSLMode}
	dbc := dbcred.New(dbcred.Options{
		Store:  b.st,
		Sealer: b.sealer,
		Engines: map[string]dbcred.Engine{
			dbcred.EnginePostgres: pg,
			dbcred.EngineMariaDB:  mariadb,
			dbcred.EngineMySQL:    mariadb,
		},
		Master:  smapi.MasterReader(b.secrets),
		Live:    b.reg.Live,
		Audit:   smapi.LeaseAuditor(b.auditLog, b.account, in.region),
		Replica: dbcred.Replica{Owner: replicaName(), Logger: b.logger},
	})
	followFeed(bg, &wg, b.st, b.fd, b.feedHead, b.reg, b.keys, b.logger, dbc.Nudge)
	followAuditHead(bg, &wg, b.st, b.auditLog, b.auditHead, b.logger)
	if in.auditKeep > 0 {
		pruneAudit(bg, &wg, b.auditPath, audit.PruneOptions{Keep: in.auditKeep, ShipDir: in.auditShipDir}, b.logger)
	}
	defer b.serveControl(&wg, in.dataDir)()
	approvalsSvc, stopApprovals, err := startApprovals(bg, b.st, in.notifyWebhook, in.publicURL, b.logger)
	if err != nil {
		return err
	}
	defer stopApprovals()
	rotator := rotation.New(rotation.Options{
		Secrets:  b.secrets,
		Rotators: map[string]dbcred.Rotator{dbcred.EnginePostgres: pg, dbcred.EngineMariaDB: mariadb, dbcred.EngineMySQL: mariadb},
		Audit:    smapi.RotationAuditor(b.auditLog, b.account, in.region),
		Replica:  dbcred.Replica{Owner: replicaName(), Logger: b.logger},
	})
	srv := server.New(server.Config{
		Account:            b.account,
		Region:             in.region,
		MaxSessionDuration: in.maxSession,
		Logger:             b.logger,
		Metrics:            b.metrics(approvalsSvc, dbc, rotator),
		Audit:              b.auditLog,
		Redactor:           audit.NewRedactor(b.auditKey),
	}, server.Deps{IAM: b.iam, Keyring: b.keyring, Sessions: b.reg, Secrets: b.secrets, Approvals: approvalsSvc, DBCred: dbc, Rotation: rotator})
	reapLeases(bg, &wg, dbc, in.leaseReaper, b.logger)
	rotateSecrets(bg, &wg, rotator, in.rotateEvery, b.logger)
	every(bg, &wg, time.Minute, func(ctx context.Context) { b.housekeeping(ctx, dbc) })
	if in.pprofListen != "" {
		stop, err := servePprof(in.pprofListen, b.logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	b.logger.Info("listening", "url", scheme+"://"+ln.Addr().String(), "account", b.account, "region", in.region, "data", in.dataDir, "store", b.st.kind)
	return serveAPI(ctx, ln, tlsConfig, srv.Handler(), b.logger)
}

// serveAPI serves the API on ln until ctx ends, then shuts down, letting
// requests in flight finish for up to 15 seconds.
func serveAPI(ctx context.Context, ln net.Listener, tlsConfig *tls.Config, h http.Handler, logger *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
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

// serveControl serves the control socket (backup and key commands while
// the broker runs); it returns what stops it.
func (b *broker) serveControl(wg *sync.WaitGroup, dataDir string) (stop func()) {
	cln, cleanup, err := listenControl(dataDir)
	if err != nil {
		b.logger.Warn("no control socket: backup and keys commands need the broker stopped", "err", err)
		return func() {}
	}
	cs := &http.Server{
		Handler:           controlHandler(controlDeps{st: b.st, keys: b.keys, policy: b.rotation, now: time.Now, log: b.logger}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(b.logger.Handler(), slog.LevelWarn),
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = cs.Serve(cln)
	}()
	return func() {
		cs.Close()
		cleanup()
	}
}

// metrics are the API's metrics with those of the store, the audit log,
// approvals and database credentials.
func (b *broker) metrics(approvalsSvc *approvals.Service, dbc *dbcred.Service, rotator *rotation.Service) *server.Metrics {
	m := server.NewMetrics()
	registerStoreMetrics(m.Registry, b.st, b.fd)
	m.Registry.MustRegister(b.auditBreaks, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortfuse_audit_log_replaced",
		Help: "1 once the audit log file was found removed or replaced while in use: every request is refused until a restart.",
	}, func() float64 {
		if b.auditLog.Stats().Replaced {
			return 1
		}
		return 0
	}))
	m.Registry.MustRegister(approvalsSvc.Collectors()...)
	m.Registry.MustRegister(dbc.Collectors()...)
	m.Registry.MustRegister(rotator.Collectors()...)
	return m
}

// rotateSecrets rotates the secrets due for rotation: a pass at start
// (resuming what a stopped broker left pending), then every interval (30 s
// by default).
func rotateSecrets(bg context.Context, wg *sync.WaitGroup, rotator *rotation.Service, interval time.Duration, logger *slog.Logger) {
	pass := func(ctx context.Context) {
		if _, err := rotator.Pass(ctx); err != nil {
			logger.Warn("rotating secrets due for rotation", "err", err)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		pass(bg)
	}()
	if interval == 0 {
		interval = 30 * time.Second
	}
	every(bg, wg, interval, pass)
}

// reapLeases drops what a broker that stopped left behind, then, every
// interval (500 ms by default) and whenever a session ends here, the
// database credentials of ended sessions.
func reapLeases(bg context.Context, wg *sync.WaitGroup, dbc *dbcred.Service, interval time.Duration, logger *slog.Logger) {
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
	if interval == 0 {
		interval = 500 * time.Millisecond
	}
	everyOr(bg, wg, interval, dbc.Nudged(), func(bg context.Context) {
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		if _, err := dbc.Reap(ctx); err != nil {
			logger.Warn("dropping the database credentials of ended sessions", "err", err)
		}
	})
}

// housekeeping runs every minute: it adds keys when due, trims the change
// feed, forgets sessions and database credentials long ended, and deletes
// secrets whose recovery window ended (they are refused from the moment
// it ends).
func (b *broker) housekeeping(ctx context.Context, dbc *dbcred.Service) {
	if rot, err := b.keys.Rotate(ctx, time.Now(), b.rotation); err != nil {
		b.logger.Error("key rotation", "err", err)
	} else {
		logRotation(b.logger, rot)
	}
	if _, err := b.fd.Prune(ctx); err != nil {
		b.logger.Warn("trimming the change feed", "err", err)
	}
	if n, err := b.reg.Purge(ctx, time.Now(), 24*time.Hour); err != nil {
		b.logger.Warn("purging expired sessions", "err", err)
	} else if n > 0 {
		b.logger.Info("purged expired sessions", "count", n)
	}
	if _, err := dbc.Purge(ctx, time.Now(), 24*time.Hour); err != nil {
		b.logger.Warn("purging ended database credentials", "err", err)
	}
	if n, err := b.secrets.Purge(ctx, time.Now()); err != nil {
		b.logger.Warn("purging deleted secrets", "err", err)
	} else if n > 0 {
		b.logger.Info("purged deleted secrets", "count", n)
	}
}
