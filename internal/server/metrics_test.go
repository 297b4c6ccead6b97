package server

import (
	"log/slog"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/shortfuse/shortfuse/internal/awsapi"
)

// TestUnknownMembersMetric: members the JSON decoder ignores are counted
// and named at debug level in the server's log, never with their values.
func TestUnknownMembersMetric(t *testing.T) {
	m := NewMetrics()
	t.Cleanup(func() { awsapi.SetUnknownMembersHook(nil) })
	logs := &lockedBuffer{}
	m.log.Store(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	var in struct {
		SecretId *string `json:"SecretId"`
	}
	if err := awsapi.DecodeAWSJSON([]byte(`{"SecretId":"a","PolicyName":"value-xyz","Future":{"x":1}}`), &in); err != nil {
		t.Fatal(err)
	}
	if err := awsapi.DecodeAWSJSON([]byte(`{"SecretId":"a"}`), &in); err != nil {
		t.Fatal(err)
	}
	var c dto.Metric
	if err := m.unknownMembers.Write(&c); err != nil {
		t.Fatal(err)
	}
	if got := c.GetCounter().GetValue(); got != 2 {
		t.Errorf("shortfuse_request_unknown_members_total = %v, want 2", got)
	}
	l := logs.String()
	if !strings.Contains(l, "level=DEBUG") || !strings.Contains(l, "PolicyName") || !strings.Contains(l, "Future") {
		t.Errorf("debug log does not name the members:\n%s", l)
	}
	if strings.Contains(l, "value-xyz") {
		t.Errorf("debug log quotes a value:\n%s", l)
	}
}
