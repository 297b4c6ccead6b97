package server

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// TestUnknownMembersMetric: members of a Secrets Manager request that the
// broker does not know are ignored, counted in the metric and named at
// debug level in the server's log, never with their values.
func TestUnknownMembersMetric(t *testing.T) {
	core := newTestCore(t, smAccount, nil)
	deps := core.deps()
	deps.Secrets = core.secretsService((&testutil.Clock{}).Now)
	logs, logger := debugLog()
	m := NewMetrics()
	t.Cleanup(func() { awsapi.SetUnknownMembersHook(nil) })
	srv := New(Config{Account: smAccount, Region: "us-east-1", Metrics: m, Logger: logger}, deps)
	b := &smBroker{url: newTestServer(t, srv), admin: core.admin}

	body := `{"Name":"/m","SecretString":"value-xyz","ClientRequestToken":"` + strings.Repeat("a", 36) + `","CrossAccountPrimaryARN":"arn-xyz","Future":{"x":1}}`
	if status, _, out := smRaw(t, b, "CreateSecret", body); status != 200 {
		t.Fatalf("CreateSecret: %d %s", status, out)
	}
	if status, _, out := smRaw(t, b, "DescribeSecret", `{"SecretId":"/m"}`); status != 200 {
		t.Fatalf("DescribeSecret: %d %s", status, out)
	}
	var c dto.Metric
	if err := m.unknownMembers.Write(&c); err != nil {
		t.Fatal(err)
	}
	if got := c.GetCounter().GetValue(); got != 2 {
		t.Errorf("shortfuse_request_unknown_members_total = %v, want 2", got)
	}
	l := logs.String()
	if !strings.Contains(l, "level=DEBUG") || !strings.Contains(l, "CrossAccountPrimaryARN") || !strings.Contains(l, "Future") {
		t.Errorf("debug log does not name the members:\n%s", l)
	}
	if strings.Contains(l, "value-xyz") || strings.Contains(l, "arn-xyz") {
		t.Errorf("the log quotes a value:\n%s", l)
	}
}
