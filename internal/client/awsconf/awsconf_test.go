package awsconf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// isolate points the SDK at empty config files and clears the variables
// these tests set.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SHORTFUSE", "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
}

func TestBrokerEndpoint(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opt  Options
		want string
	}{
		{"ok/none-is-aws", nil, Options{Region: "us-east-1"}, ""},
		{"ok/general", map[string]string{"AWS_ENDPOINT_URL": "http://g:1"}, Options{Region: "us-east-1"}, "http://g:1"},
		{"ok/flag-wins-over-env", map[string]string{"AWS_ENDPOINT_URL": "http://g:1"}, Options{Region: "us-east-1", EndpointURL: "http://flag:2"}, "http://flag:2"},
		{"ok/service-specific", map[string]string{"AWS_ENDPOINT_URL": "http://g:1", "AWS_ENDPOINT_URL_SHORTFUSE": "http://sf:3"}, Options{Region: "us-east-1"}, "http://sf:3"},
		{"ok/sts-only", map[string]string{"AWS_ENDPOINT_URL_STS": "http://sts:4"}, Options{Region: "us-east-1"}, "http://sts:4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tc.opt.Credentials = credentials.NewStaticCredentialsProvider("AKIAEXAMPLE7Q4ZKXYZW", "x", "")
			cfg, err := Load(context.Background(), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := BrokerEndpoint(context.Background(), cfg); got != tc.want {
				t.Errorf("BrokerEndpoint() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	isolate(t)
	if _, err := Load(context.Background(), Options{}); !errors.Is(err, ErrNoRegion) {
		t.Errorf("Load() without region = %v, want ErrNoRegion", err)
	}
	if _, err := Load(context.Background(), Options{Region: "us-east-1", EndpointURL: "broker:7575"}); err == nil {
		t.Error("Load() with a schemeless endpoint succeeded")
	}
	t.Setenv("AWS_REGION", "eu-west-3")
	cfg, err := Load(context.Background(), Options{})
	if err != nil || cfg.Region != "eu-west-3" {
		t.Errorf("Load() = %v, %v; want region from AWS_REGION", cfg.Region, err)
	}
	if got := Where(context.Background(), cfg); got != "region eu-west-3 at AWS" {
		t.Errorf("Where() = %q", got)
	}
}
