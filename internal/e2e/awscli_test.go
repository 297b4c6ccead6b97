package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The aws CLI of the tests. Each command runs the aws command. With
// SHORTFUSE_E2E_AWS_DRIVER=1, a command runs instead in a long-lived Python
// process that holds the aws CLI's modules (testdata/awsdriver.py), when
// that process reports the same version as the aws command on PATH: it
// saves the second of CPU that Python's start and the imports cost every
// command. It is not the default: the CLI keeps state in its process that
// one command can leave to the next (its credential cache, under the HOME
// the process started with, served one test the web identity credentials
// of another test's broker), which a command of its own never sees.

var awsCLI = func() func(t *testing.T) string {
	var once sync.Once
	var path string
	return func(t *testing.T) string {
		t.Helper()
		once.Do(func() { path, _ = exec.LookPath("aws") })
		if path == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("the aws CLI is not on PATH; .ci/run installs it")
			}
			t.Skip("the aws CLI is not on PATH")
		}
		return path
	}
}()

// runAWS runs one aws CLI command with env.
func runAWS(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	path := awsCLI(t)
	if pool := awsDrivers(path); pool != nil {
		res, err := pool.run(env, args, 60*time.Second)
		if err != nil {
			t.Fatalf("aws %v: %v", args, err)
		}
		return res
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("aws %v: %v", args, err)
		}
		res.Code = ee.ExitCode()
	}
	return res
}

// driverPool holds idle driver processes; a command takes one, or starts
// one when none is idle, and gives it back after.
type driverPool struct {
	mu   sync.Mutex
	idle []*awsDriver
}

type awsDriver struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

var awsDrivers = func() func(awsPath string) *driverPool {
	var once sync.Once
	var pool *driverPool
	return func(awsPath string) *driverPool {
		once.Do(func() {
			if os.Getenv("SHORTFUSE_E2E_AWS_DRIVER") != "1" {
				return
			}
			p := &driverPool{}
			want, err := exec.Command(awsPath, "--version").CombinedOutput()
			if err != nil {
				return
			}
			env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
			if v := os.Getenv("PYENV_ROOT"); v != "" {
				env = append(env, "PYENV_ROOT="+v)
			}
			got, err := p.run(env, []string{"--version"}, time.Minute)
			if err != nil || strings.TrimSpace(got.Stdout+got.Stderr) != strings.TrimSpace(string(want)) {
				return // another aws CLI than python3's: run the command
			}
			pool = p
		})
		return pool
	}
}()

func (p *driverPool) run(env, args []string, timeout time.Duration) (cliResult, error) {
	p.mu.Lock()
	var d *awsDriver
	if n := len(p.idle); n > 0 {
		d, p.idle = p.idle[n-1], p.idle[:n-1]
	}
	p.mu.Unlock()
	if d == nil {
		var err error
		if d, err = startAWSDriver(); err != nil {
			return cliResult{}, err
		}
	}
	res, err := d.run(env, args, timeout)
	if err != nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
		return res, err
	}
	p.mu.Lock()
	p.idle = append(p.idle, d)
	p.mu.Unlock()
	return res, nil
}

// startAWSDriver starts a driver process. It ends when its input closes,
// which the end of the test process does.
func startAWSDriver() (*awsDriver, error) {
	script, err := filepath.Abs(filepath.Join("testdata", "awsdriver.py"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("python3", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	if v := os.Getenv("PYENV_ROOT"); v != "" {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+v)
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &awsDriver{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}, nil
}

func (d *awsDriver) run(env, args []string, timeout time.Duration) (cliResult, error) {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	req, err := json.Marshal(struct {
		Args []string          `json:"args"`
		Env  map[string]string `json:"env"`
	}{args, m})
	if err != nil {
		return cliResult{}, err
	}
	type answer struct {
		res cliResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		if _, err := d.in.Write(append(req, '\n')); err != nil {
			done <- answer{err: err}
			return
		}
		line, err := d.out.ReadBytes('\n')
		if err != nil {
			done <- answer{err: fmt.Errorf("the aws CLI driver ended: %v", err)}
			return
		}
		var a struct {
			Code   int    `json:"code"`
			Stdout string `json:"stdout"`
			Stderr string `json:"stderr"`
		}
		if err := json.Unmarshal(line, &a); err != nil {
			done <- answer{err: fmt.Errorf("the aws CLI driver answered %q: %v", line, err)}
			return
		}
		done <- answer{res: cliResult{Code: a.Code, Stdout: a.Stdout, Stderr: a.Stderr}}
	}()
	select {
	case a := <-done:
		return a.res, a.err
	case <-time.After(timeout):
		return cliResult{}, fmt.Errorf("no answer in %s", timeout)
	}
}
