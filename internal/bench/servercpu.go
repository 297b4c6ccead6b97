package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MetricsCPU returns a probe of a server's CPU time read from its
// Prometheus endpoint (base + "/metrics", the process collector's
// process_cpu_seconds_total), for Config.ServerCPU. The broker serves it;
// so does the ceiling run as a process of its own (`shortfuse bench
// --ceiling`). The probe reports false where the endpoint has no such
// metric (real AWS, another implementation).
func MetricsCPU(base string, hc *http.Client) func(context.Context) (time.Duration, bool) {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	url := strings.TrimSuffix(base, "/") + "/metrics"
	return func(ctx context.Context) (time.Duration, bool) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, false
		}
		v, err := parseProcessCPU(bufio.NewScanner(resp.Body))
		if err != nil {
			return 0, false
		}
		return v, true
	}
}

// parseProcessCPU finds process_cpu_seconds_total in Prometheus's text
// format.
func parseProcessCPU(sc *bufio.Scanner) (time.Duration, error) {
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "process_cpu_seconds_total ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("process_cpu_seconds_total %q", rest)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no process_cpu_seconds_total")
}
