package bench

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestParseProcessCPU(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Duration
		ok       bool
	}{
		{"ok/plain", "# HELP x\nprocess_cpu_seconds_total 12.5\n", 12500 * time.Millisecond, true},
		{"ok/exponent", "go_goroutines 7\nprocess_cpu_seconds_total 1.25e+01\n", 12500 * time.Millisecond, true},
		{"ok/first-wins", "process_cpu_seconds_total 1\nprocess_cpu_seconds_total 2\n", time.Second, true},
		{"bad/missing", "go_goroutines 7\n", 0, false},
		{"bad/prefix-only", "process_cpu_seconds_total_other 3\n", 0, false},
		{"bad/not-a-number", "process_cpu_seconds_total x\n", 0, false},
		{"bad/negative", "process_cpu_seconds_total -1\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcessCPU(bufio.NewScanner(strings.NewReader(tc.in)))
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseProcessCPU(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

// The ceiling serves its process's CPU time as the broker does, and the
// probe reads it; an endpoint without /metrics leaves it unmeasured.
func TestMetricsCPU(t *testing.T) {
	c := startCeiling(t)
	probe := MetricsCPU(c.URL, nil)
	d, ok := probe(context.Background())
	if !ok || d <= 0 {
		t.Fatalf("probe of the ceiling = %v, %v; want a positive CPU time", d, ok)
	}
	if d, ok := MetricsCPU(c.URL+"/nothing-here", nil)(context.Background()); ok {
		t.Errorf("probe of an endpoint without metrics = %v, true; want false", d)
	}
}

// The load goes to Config.Endpoint even when the AWS configuration was
// loaded with another endpoint (--endpoint-url), which its sources name for
// every service: the ceiling's load must not reach the endpoint.
func TestEndpointWinsOverLoadedConfig(t *testing.T) {
	var hits [2]atomic.Int64
	h := NewCeilingHandler()
	servers := [2]*httptest.Server{}
	for i := range servers {
		servers[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			h.ServeHTTP(w, r)
		}))
		defer servers[i].Close()
	}
	loaded, err := config.LoadDefaultConfig(context.Background(),
		config.WithBaseEndpoint(servers[0].URL), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")))
	if err != nil {
		t.Fatal(err)
	}
	cfg := quickConfig(servers[1].URL, GetSecretValue)
	cfg.AWS = loaded
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if hits[0].Load() != 0 || hits[1].Load() == 0 {
		t.Errorf("requests: %d to the loaded configuration's endpoint, %d to Config.Endpoint; want 0 and some", hits[0].Load(), hits[1].Load())
	}
}
