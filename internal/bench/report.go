package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is what `shortfuse bench` prints: the endpoint's measurement and,
// with --ceiling, the ceiling's, measured with the same client in the same
// run.
type Report struct {
	Endpoint *Result `json:"endpoint"`
	Ceiling  *Result `json:"ceiling,omitempty"`
	// Ratio is the endpoint's successful requests/s over the ceiling's;
	// 0 without a ceiling.
	Ratio float64 `json:"ratio,omitempty"`
	// CPURatio is the endpoint server's CPU per request over the ceiling
	// server's, where both were measured; 0 otherwise.
	CPURatio float64 `json:"cpu_ratio,omitempty"`
}

// NewReport puts the two measurements side by side; ceiling may be nil.
func NewReport(endpoint, ceiling *Result) *Report {
	r := &Report{Endpoint: endpoint, Ceiling: ceiling}
	if ceiling != nil && ceiling.RequestsPerSecond > 0 {
		r.Ratio = endpoint.RequestsPerSecond / ceiling.RequestsPerSecond
	}
	if ceiling != nil {
		if e, c := endpoint.ServerCPUPerRequest(), ceiling.ServerCPUPerRequest(); e > 0 && c > 0 {
			r.CPURatio = e / c
		}
	}
	return r
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	e := r.Endpoint
	var b strings.Builder
	fmt.Fprintf(&b, "%s, concurrency %d, %.1fs measured after %.1fs warm-up", e.Op, e.Concurrency, e.Elapsed, e.Warmup)
	if e.Slices > 1 {
		fmt.Fprintf(&b, ", in %d slices alternating with the ceiling", e.Slices)
	}
	if e.PrincipalPolicies > 0 {
		fmt.Fprintf(&b, "; caller with %d managed policies of %d statements (%d statements evaluated per request)",
			e.PrincipalPolicies, e.PolicyStatements, e.PrincipalPolicies*e.PolicyStatements)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\top\trequests\terrors\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	row := func(res *Result, op Op, s Stats) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t\n",
			res.Target, op, s.Requests, s.Errors, s.RequestsPerSecond, s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.Max)
	}
	for _, res := range []*Result{r.Endpoint, r.Ceiling} {
		if res == nil {
			continue
		}
		row(res, res.Op, res.Stats)
		for _, o := range res.ByOp {
			row(res, o.Op, o.Stats)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Ceiling != nil {
		fmt.Fprintf(&b, "endpoint/ceiling requests/s: %.2f\n", r.Ratio)
	}
	if e.ProcessCPU > 0 && e.Requests > 0 {
		fmt.Fprintf(&b, "client CPU: %.0f µs per request (%.2f cores)\n", e.ProcessCPU/float64(e.Requests)*1e6, e.ProcessCPU/e.Elapsed)
	}
	for _, res := range []*Result{r.Endpoint, r.Ceiling} {
		if res != nil && res.ServerCPUPerRequest() > 0 {
			fmt.Fprintf(&b, "%s server CPU: %.1f µs per request (%.2f cores)\n", res.Target, res.ServerCPUPerRequest()*1e6, res.ServerCPU/res.Elapsed)
		}
	}
	if r.CPURatio > 0 {
		fmt.Fprintf(&b, "endpoint/ceiling server CPU per request: %.2f\n", r.CPURatio)
	}
	for _, res := range []*Result{r.Endpoint, r.Ceiling} {
		if res == nil {
			continue
		}
		codes := make([]string, 0, len(res.ErrorsByCode))
		for code := range res.ErrorsByCode {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		for _, code := range codes {
			fmt.Fprintf(&b, "%s errors %s: %d (first: %s)\n", res.Target, code, res.ErrorsByCode[code], oneLine(res.ErrorSamples[code]))
		}
		for _, warn := range res.Warnings {
			fmt.Fprintf(&b, "%s warning: %s\n", res.Target, oneLine(warn))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ServerCPUPerRequest is the server's CPU seconds per measured request, 0
// where the server's CPU was not measured.
func (r *Result) ServerCPUPerRequest() float64 {
	if r.ServerCPU <= 0 || r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / float64(r.Requests)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
