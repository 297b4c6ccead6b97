package chartcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The image's environment (Containerfile ENV), under the pod's.
var imageEnv = map[string]string{
	"SHORTFUSE_DATA":   "/data",
	"SHORTFUSE_LISTEN": "0.0.0.0:7575",
}

var (
	brokerOnce sync.Once
	brokerBin  string
	brokerErr  error
)

// broker builds the broker from the repository this chart belongs to.
func broker(t *testing.T) string {
	t.Helper()
	brokerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chartcheck-broker-")
		if err != nil {
			brokerErr = err
			return
		}
		brokerBin = filepath.Join(dir, "shortfuse")
		// As scripts/release.sh builds the image's binary.
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", brokerBin, "./cmd/shortfuse")
		cmd.Dir = "../../.."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			brokerErr = fmt.Errorf("go build ./cmd/shortfuse: %v\n%s", err, out)
		}
	})
	if brokerErr != nil {
		t.Fatal(brokerErr)
	}
	return brokerBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if brokerBin != "" {
		os.RemoveAll(filepath.Dir(brokerBin))
	}
	os.Exit(code)
}

// pod is one replica started as the kubelet would start the rendered
// container: the image's entrypoint with the container's args, the image's
// environment overridden by the container's (Secrets resolved from secrets),
// each volume mount a directory of its own, and the probes asked as the
// kubelet asks them (HTTPS without verifying the certificate).
type pod struct {
	cmd    *exec.Cmd
	port   int
	mounts map[string]string // mount path -> directory
	c      corev1.Container
	done   chan error
	log    *strings.Builder
}

func startPod(t *testing.T, spec corev1.PodSpec, secrets map[string]string, fill map[string]func(dir string)) *pod {
	t.Helper()
	c := *container(spec, "shortfuse")
	port := freePort(t)
	p := &pod{port: port, mounts: map[string]string{}, c: c, done: make(chan error, 1), log: &strings.Builder{}}
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(t.TempDir(), m.Name)
		if err := os.MkdirAll(dir, 0o775); err != nil {
			t.Fatal(err)
		}
		if f := fill[m.Name]; f != nil {
			f(dir)
		}
		p.mounts[m.MountPath] = dir
	}
	env := map[string]string{}
	for k, v := range imageEnv {
		env[k] = v
	}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			ref := e.ValueFrom.SecretKeyRef
			if ref == nil {
				t.Fatalf("%s: only Secret references are resolved here", e.Name)
			}
			s, ok := secrets[ref.Name+"/"+ref.Key]
			if !ok {
				t.Fatalf("%s: no Secret %s key %s", e.Name, ref.Name, ref.Key)
			}
			v = s
		}
		env[e.Name] = v
	}
	// The same addresses and paths, moved: the port to a free one, mount
	// paths to their directories.
	for k, v := range env {
		v = strings.Replace(v, fmt.Sprintf(":%d", c.Ports[0].ContainerPort), fmt.Sprintf(":%d", port), 1)
		for mp, dir := range p.mounts {
			if v == mp || strings.HasPrefix(v, mp+"/") {
				v = dir + strings.TrimPrefix(v, mp)
			}
		}
		env[k] = v
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)
	args := append(append([]string{}, c.Command...), c.Args...)
	p.cmd = exec.Command(broker(t), args...)
	p.cmd.Env = envList
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("broker log:\n%s", p.log.String())
		}
	})
	return p
}

// probe asks a probe once, as the kubelet does.
func (p *pod) probe(pr *corev1.Probe) error {
	g := pr.HTTPGet
	if g.Port.Type != intstr.String || g.Port.StrVal != p.c.Ports[0].Name {
		return fmt.Errorf("probe port %s is not the container's port %s", g.Port.String(), p.c.Ports[0].Name)
	}
	url := fmt.Sprintf("%s://127.0.0.1:%d%s", strings.ToLower(string(g.Scheme)), p.port, g.Path)
	timeout := time.Duration(pr.TimeoutSeconds) * time.Second
	if timeout == 0 {
		timeout = time.Second
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// started waits for the startup probe, within what the probe allows.
func (p *pod) started(t *testing.T) {
	t.Helper()
	sp := p.c.StartupProbe
	deadline := time.Now().Add(time.Duration(sp.PeriodSeconds*sp.FailureThreshold) * time.Second)
	for {
		err := p.probe(sp)
		if err == nil {
			return
		}
		select {
		case werr := <-p.done:
			p.done <- werr
			t.Fatalf("the broker exited (%v) before its startup probe passed:\n%s", werr, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("startup probe: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM, as the kubelet does, and wants an exit within the
// grace period.
func (p *pod) stop(t *testing.T, grace int64) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("the broker exited with %v after SIGTERM", err)
		}
	case <-time.After(time.Duration(grace) * time.Second):
		t.Errorf("the broker did not stop within terminationGracePeriodSeconds (%d s)", grace)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func masterKeyText(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	// As `kubectl create secret --from-file` of the documented key file holds it.
	return "shortfuse-master-key-v1:" + base64.StdEncoding.EncodeToString(b) + "\n"
}

// writeTLS writes what a kubernetes.io/tls Secret volume holds, with the
// chart's defaultMode.
func writeTLS(t *testing.T) func(dir string) {
	return func(dir string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "shortfuse"},
			DNSNames:     []string{"shortfuse"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		kpem := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
		if err := os.WriteFile(filepath.Join(dir, "tls.crt"), crt, 0o440); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "tls.key"), kpem, 0o440); err != nil {
			t.Fatal(err)
		}
	}
}

// renderValues renders the chart with the values file values.
func renderValues(t *testing.T, values string) []Manifest {
	t.Helper()
	ch, vals := chartWith(t, values)
	docs, _, err := Render(ch, vals, false)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return docs
}

func renderWorkload(t *testing.T, values string) (corev1.PodSpec, int32) {
	t.Helper()
	docs := renderValues(t, values)
	for _, d := range docs {
		obj, err := Validate(d.YAML)
		if err != nil {
			t.Fatal(err)
		}
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			return o.Spec.Template.Spec, *o.Spec.Replicas
		case *appsv1.Deployment:
			return o.Spec.Template.Spec, *o.Spec.Replicas
		}
	}
	t.Fatal("no workload rendered")
	return corev1.PodSpec{}, 0
}

// TestRenderedPodRunsTheBroker starts the broker with the command, the
// environment and the volumes of the rendered pods: with the embedded store
// (TLS and a key made on the volume; plain HTTP behind a proxy and the key
// from a Secret), and, when SHORTFUSE_TEST_POSTGRES names a server and psql
// is on PATH, two replicas over a new PostgreSQL database. Every probe must
// pass, /metrics must answer where the pods are annotated for scraping, and
// SIGTERM must stop the broker within the grace period.
func TestRenderedPodRunsTheBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the broker")
	}
	key := masterKeyText(t)
	secrets := map[string]string{"shortfuse-master-key/master.key": key}

	t.Run("embedded, TLS, key made on the volume", func(t *testing.T) {
		spec, n := renderWorkload(t, `tls: {existingSecret: shortfuse-tls}`)
		if n != 1 {
			t.Fatalf("replicas %d", n)
		}
		p := startPod(t, spec, secrets, map[string]func(string){"tls": writeTLS(t)})
		checkRunning(t, p, spec)
		if _, err := os.Stat(filepath.Join(p.mounts["/data"], "master.key")); err != nil {
			t.Errorf("no master.key on the volume: %v", err)
		}
	})
	t.Run("embedded, behind a TLS proxy, key from a Secret", func(t *testing.T) {
		spec, _ := renderWorkload(t, `{insecureHTTP: true, masterKey: {existingSecret: shortfuse-master-key}, metrics: {enabled: false}}`)
		p := startPod(t, spec, secrets, nil)
		checkRunning(t, p, spec)
		if _, err := os.Stat(filepath.Join(p.mounts["/data"], "master.key")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("master.key written on the volume although the key came from the Secret (%v)", err)
		}
	})
	t.Run("two replicas over PostgreSQL", func(t *testing.T) {
		dsn := newDatabase(t)
		secrets := map[string]string{
			"shortfuse-master-key/master.key": key,
			"shortfuse-store/url":             dsn,
		}
		spec, n := renderWorkload(t, `
store: {type: postgres, postgres: {existingSecret: shortfuse-store}}
replicaCount: 2
masterKey: {existingSecret: shortfuse-master-key}
tls: {existingSecret: shortfuse-tls}
`)
		var pods []*pod
		for range n {
			pods = append(pods, startPod(t, spec, secrets, map[string]func(string){"tls": writeTLS(t)}))
		}
		for _, p := range pods {
			checkRunning(t, p, spec)
		}
		admins := 0
		for _, p := range pods {
			if _, err := os.Stat(filepath.Join(p.mounts["/data"], "admin-credentials")); err == nil {
				admins++
			}
		}
		if admins != 1 {
			t.Errorf("admin-credentials written by %d replicas, want 1", admins)
		}
	})
}

func checkRunning(t *testing.T, p *pod, spec corev1.PodSpec) {
	t.Helper()
	p.started(t)
	if err := p.probe(p.c.LivenessProbe); err != nil {
		t.Errorf("liveness probe: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.probe(p.c.ReadinessProbe)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("readiness probe: %v", err)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	metrics := *p.c.LivenessProbe
	metrics.HTTPGet = p.c.LivenessProbe.HTTPGet.DeepCopy()
	metrics.HTTPGet.Path = "/metrics"
	if err := p.probe(&metrics); err != nil {
		t.Errorf("/metrics: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.mounts["/data"], "audit.log")); err != nil {
		t.Errorf("no audit log in the data volume: %v", err)
	}
	p.stop(t, *spec.TerminationGracePeriodSeconds)
}

// newDatabase makes an empty database on the server SHORTFUSE_TEST_POSTGRES
// names (.ci/run starts one), with psql, and drops it at the end.
func newDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SHORTFUSE_TEST_POSTGRES")
	if base == "" {
		t.Skip("SHORTFUSE_TEST_POSTGRES is not set")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("no psql on PATH")
	}
	name := fmt.Sprintf("chartcheck_%d", time.Now().UnixNano())
	psql := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-c", sql).CombinedOutput()
		if err != nil {
			return fmt.Errorf("psql %q: %v\n%s", sql, err, out)
		}
		return nil
	}
	if err := psql(`CREATE DATABASE ` + name + ` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := psql(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Log(err)
		}
	})
	return withDatabase(t, base, name)
}

// withDatabase returns the URL base with its database replaced by name.
func withDatabase(t *testing.T, base, name string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		t.Skipf("SHORTFUSE_TEST_POSTGRES is not a postgres:// URL")
	}
	rest := base[strings.Index(base, "://")+3:]
	query := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i:]
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return base[:strings.Index(base, "://")+3] + rest + "/" + name + query
}
