package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jsSDKDir holds the node script and, once .ci/run has installed them
// (npm install, never committed), the AWS SDK for JavaScript v3 clients.
const jsSDKDir = "testdata/jssdk"

// TestJSSDK drives the broker with a second SDK family, the AWS SDK for
// JavaScript v3 (@aws-sdk/client-sts, client-iam, client-secrets-manager):
// testdata/jssdk/sdk.mjs checks what that SDK reads of the broker's answers
// (error names, messages and statuses; absent versus empty members; AWS
// managed policies as attachments and session policies).
//
// Without node or the installed clients the test is skipped, saying how to
// install them; under CI (.ci/run installs them) it fails instead.
func TestJSSDK(t *testing.T) {
	t.Parallel()
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on PATH"
	} else {
		for _, pkg := range []string{"client-sts", "client-iam", "client-secrets-manager"} {
			if _, err := os.Stat(filepath.Join(jsSDKDir, "node_modules", "@aws-sdk", pkg, "package.json")); err != nil {
				missing = "@aws-sdk/" + pkg + " is not installed in " + jsSDKDir + " (npm install --prefix " + jsSDKDir +
					" @aws-sdk/client-sts @aws-sdk/client-iam @aws-sdk/client-secrets-manager; .ci/run does it)"
				break
			}
		}
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s", missing)
		}
		t.Skip(missing)
	}
	b := startBroker(t, "")
	admin := b.adminCreds()
	script, err := filepath.Abs(filepath.Join(jsSDKDir, "sdk.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = b.cliEnv(admin)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "jssdk: ok") {
		t.Fatalf("sdk.mjs: %v\n%s", err, out)
	}
	// The member the script adds was ignored, and counted.
	var counted float64
	if m := regexp.MustCompile(`(?m)^shortfuse_request_unknown_members_total ([0-9.e+]+)$`).FindStringSubmatch(metricsText(t, b)); m != nil {
		counted, _ = strconv.ParseFloat(m[1], 64)
	}
	if counted < 1 {
		t.Errorf("shortfuse_request_unknown_members_total = %v, want at least 1", counted)
	}
	for _, v := range []string{"js-value-1", "js-value-2", "js-value-3", "js-value-4"} {
		if strings.Contains(b.logs.String(), v) || strings.Contains(string(out), v) {
			t.Errorf("secret value %q in the broker's log or the script's output", v)
		}
	}
}
