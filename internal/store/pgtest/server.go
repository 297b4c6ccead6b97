package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// Where Debian and Ubuntu install the server binaries, one directory per
// major version; PATH is searched after them.
const debianGlob = "/usr/lib/postgresql/*/bin"

const (
	startTimeout = time.Minute
	stopTimeout  = 30 * time.Second
	startTries   = 3 // a free port may be taken before the server binds it
)

// findBinaries returns the directory holding initdb and postgres.
func findBinaries() (string, error) {
	dirs, _ := filepath.Glob(debianGlob)
	// Highest major version first.
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb and postgres in %s or PATH (Debian: apt-get install postgresql)", debianGlob)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// server is a throwaway cluster: its own directory, a postgres process
// listening on a loopback port and on a unix socket in that directory.
type server struct {
	dir    string
	dsn    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the postgres process has exited
	log    string
}

// runAs returns the credential to run the server with: PostgreSQL refuses to
// run as root, so root runs it as the user postgres, or else nobody.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root, and there is no user postgres or nobody to run the server as")
}

// mkdirFor creates dir with mode 0700, owned by cred's user.
func mkdirFor(dir string, cred *syscall.Credential) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if cred != nil {
		return os.Chown(dir, int(cred.Uid), int(cred.Gid))
	}
	return nil
}

// dirPattern names the directories of throwaway clusters; each holds an
// ownerFile with the process ID of the test process that made it.
const (
	dirPattern = "shortfuse-pgtest-"
	ownerFile  = "owner.pid"
)

func startServer(bin string) (*server, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	sweep()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	s, err := initServer(bin, dir, cred)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func initServer(bin, dir string, cred *syscall.Credential) (*server, error) {
	password := randomHex(16)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "--pwfile="+pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C")
	initdb.Dir = dir
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, tail(out))
	}
	os.Remove(pwfile)
	sock := filepath.Join(dir, "sock")
	if err := mkdirFor(sock, cred); err != nil {
		return nil, err
	}

	var errs []error
	for range startTries {
		port, err := testutil.FreePort()
		if err != nil {
			return nil, err
		}
		s := &server{
			dir: dir,
			dsn: fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password, port),
			log: filepath.Join(dir, "postgres.log"),
		}
		err = s.start(bin, data, sock, port, cred)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// start runs postgres and waits until it accepts connections.
func (s *server) start(bin, data, sock string, port int, cred *syscall.Credential) error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(port),
		"-k", sock,
		"-c", "listen_addresses=127.0.0.1",
		// Durable like production, so that tests see real commit costs.
		"-c", "fsync=on",
		"-c", "synchronous_commit=on",
		"-c", "max_connections=300",
		"-c", "logging_collector=off",
	)
	s.cmd.Dir = s.dir
	s.cmd.Env = append(os.Environ(), "LC_ALL=C")
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	// If the test process dies without Main's cleanup, the server dies
	// with it rather than running on. Pdeathsig fires when the thread that
	// started the child exits, so that thread is locked to a goroutine
	// that lives as long as the server.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	s.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		started <- nil
		_ = s.cmd.Wait()
		close(s.exited)
		// The thread stays locked and ends with the goroutine.
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(cctx, s.dsn)
		ccancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited during start-up:\n%s", s.logTail())
		case <-ctx.Done():
			s.kill()
			return fmt.Errorf("postgres did not accept connections within %s:\n%s", startTimeout, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the server down (fast shutdown: SIGINT) and removes its
// directory.
func (s *server) stop() error {
	var err error
	if s.cmd.Process.Signal(syscall.SIGINT) == nil {
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			s.kill()
			err = fmt.Errorf("postgres did not stop within %s; killed", stopTimeout)
		}
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// sweep removes the directories left by test processes that were killed
// before Main could clean up (their server died with them: see Pdeathsig).
// A directory whose owner is alive, or unknown, stays.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		// Signal 0 checks that the process exists; EPERM means it does.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	return tail(b)
}

// tail returns the last lines of a log, enough to explain a failure.
func tail(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.TrimSpace([]byte(strings.Join(lines, "\n"))))
}
