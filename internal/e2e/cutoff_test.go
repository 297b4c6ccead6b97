package e2e

import (
	"context"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

// pgProxy stands between one replica and PostgreSQL: it passes traffic,
// holds it (bytes read are not forwarded until released, as a network that
// drops packets without a reset), or refuses it (connections closed, new
// ones too).
type pgProxy struct {
	t       *testing.T
	ln      net.Listener
	network string
	target  string
	dsn     string // the DSN that reaches PostgreSQL through the proxy

	mu       sync.Mutex
	cond     *sync.Cond
	held     bool
	refusing bool
	conns    []net.Conn
}

func newPGProxy(t *testing.T, dsn string) *pgProxy {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{t: t, network: "tcp", target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network, p.target = "unix", cfg.Host+"/.s.PGSQL."+strconv.Itoa(int(cfg.Port))
	}
	p.cond = sync.NewCond(&p.mu)
	if p.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := p.ln.Addr().(*net.TCPAddr)
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = addr.String()
		p.dsn = u.String()
	} else {
		p.dsn = dsn + " host=127.0.0.1 port=" + strconv.Itoa(addr.Port)
	}
	go p.serve()
	t.Cleanup(func() {
		p.ln.Close()
		p.pass()
		p.dropAll()
	})
	return p
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refusing := p.refusing
		if !refusing {
			p.conns = append(p.conns, c)
		}
		p.mu.Unlock()
		if refusing {
			c.Close()
			continue
		}
		go func() {
			up, err := net.Dial(p.network, p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			p.pipe(c, up)
		}()
	}
}

// pipe copies src to dst, waiting while traffic is held.
func (p *pgProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.held {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

func (p *pgProxy) hold() {
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
}

func (p *pgProxy) pass() {
	p.mu.Lock()
	p.held, p.refusing = false, false
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *pgProxy) refuse() {
	p.mu.Lock()
	p.refusing = true
	p.mu.Unlock()
	p.dropAll()
}

func (p *pgProxy) dropAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// TestReplicaCutOffFailsClosed: replica A reaches PostgreSQL through a
// proxy that holds its traffic; a session revoked on replica B is refused
// by A within the staleness bound, no request to A hangs past the store
// deadlines, /readyz says A is not ready, and after the link comes back A
// never serves the revoked session, not even before its feed catches up.
// With the link refused outright, A fails promptly too.
func TestReplicaCutOffFailsClosed(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	px := newPGProxy(t, dsn)
	b := startBroker(t, "", "--store", dsn, "--account-id", lineageAccount)
	a := startBroker(t, "", "--store", px.dsn, "--master-key-file", b.dir+"/master.key",
		"--max-staleness", "1s", "--store-timeout", "1s", "--db-timeout", "2s")
	w := newLineageWorld(t, b)
	wa := &lineageWorld{b: a, admin: w.admin, ci: w.ci}
	root := w.assume(t, w.ci, "job", "cutoff")
	live := w.assume(t, w.ci, "job", "cutoff-live")
	if code := wa.readSecret(root); code != "" {
		t.Fatalf("A before the cut: %s", code)
	}
	read := func(c creds) (string, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		start := time.Now()
		_, err := secretsmanager.NewFromConfig(a.sdkConfig(c)).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/db")})
		return errCodeOf(err), time.Since(start)
	}

	px.hold()
	if err := b.shortfuse(root).RevokeSession(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	var lastServed, slowest time.Duration
	for time.Since(revoked) < 4*time.Second {
		code, took := read(root)
		if code == "" {
			lastServed = time.Since(revoked)
		}
		slowest = max(slowest, took)
		if code == "" && time.Since(revoked) > 1500*time.Millisecond {
			t.Errorf("A served the revoked session %v after its revocation, while cut off", time.Since(revoked).Round(time.Millisecond))
		}
		if took > 4*time.Second {
			t.Errorf("a request to the cut-off replica took %v (store timeouts 1s and 2s)", took.Round(time.Millisecond))
		}
	}
	t.Logf("cut off: the revoked session was last served %v after its revocation; the slowest answer took %v",
		lastServed.Round(time.Millisecond), slowest.Round(time.Millisecond))
	if code, body := getURL(t, a.url+"/readyz"); code != 503 {
		t.Errorf("/readyz of the cut-off replica: %d %s", code, body)
	}
	if _, metrics := getURL(t, a.url+"/metrics"); !strings.Contains(metrics, "shortfuse_store_timeouts_total") || strings.Contains(metrics, "shortfuse_store_timeouts_total 0\n") {
		t.Errorf("/metrics of the cut-off replica does not count store timeouts:\n%s", grepLines(metrics, "shortfuse_store"))
	}

	px.pass()
	back := time.Now()
	refused := ""
	for time.Since(back) < 3*time.Second {
		code, _ := read(root)
		if code == "" {
			t.Fatalf("A served the revoked session %v after the link came back", time.Since(back).Round(time.Millisecond))
		}
		refused = code
	}
	if refused != "ExpiredTokenException" {
		t.Errorf("after the link came back, the revoked session is refused as %q, want ExpiredTokenException", refused)
	}
	if code := wa.readSecret(live); code != "" {
		t.Errorf("a live session on A after the link came back: %s", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := getURL(t, a.url+"/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the link came back: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Refused outright: prompt failures, never a secret for a session A
	// cannot confirm.
	px.refuse()
	time.Sleep(1500 * time.Millisecond) // past the staleness bound
	code, took := read(live)
	if code == "" || took > 4*time.Second {
		t.Errorf("a request to a replica whose database refuses connections: %q after %v", code, took.Round(time.Millisecond))
	}
	px.pass()
}
