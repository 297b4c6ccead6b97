package bench

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"
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
	c, err := StartCeiling("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	probe := MetricsCPU(c.URL, nil)
	d, ok := probe(context.Background())
	if !ok || d <= 0 {
		t.Fatalf("probe of the ceiling = %v, %v; want a positive CPU time", d, ok)
	}
	if d, ok := MetricsCPU(c.URL+"/nothing-here", nil)(context.Background()); ok {
		t.Errorf("probe of an endpoint without metrics = %v, true; want false", d)
	}
}
