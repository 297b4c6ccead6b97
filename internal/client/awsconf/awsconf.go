package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// Options override the standard configuration; zero fields keep it.
type Options struct {
	Profile     string
	Region      string
	EndpointURL string
	// Credentials replaces the credential chain (for a token given to
	// shortfuse exec).
	Credentials aws.CredentialsProvider
	// ConnectTimeout and RequestTimeout bound each attempt; zero means
	// SHORTFUSE_CONNECT_TIMEOUT and SHORTFUSE_REQUEST_TIMEOUT, else the
	// defaults.
	ConnectTimeout time.Duration
	RequestTimeout time.Duration
}

// Timeouts resolves the timeouts of o: the flags, else the environment,
// else the defaults.
func (o Options) Timeouts(getenv func(string) string) (connect, request time.Duration, err error) {
	connect, err = timeout(o.ConnectTimeout, "--connect-timeout", EnvConnectTimeout, DefaultConnectTimeout, getenv)
	if err != nil {
		return 0, 0, err
	}
	request, err = timeout(o.RequestTimeout, "--request-timeout", EnvRequestTimeout, DefaultRequestTimeout, getenv)
	return connect, request, err
}

func timeout(flag time.Duration, name, env string, def time.Duration, getenv func(string) string) (time.Duration, error) {
	d, from := flag, name
	if d == 0 {
		v := getenv(env)
		if v == "" {
			return def, nil
		}
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%s=%q: want a duration such as 10s", env, v)
		}
		from = env
	}
	if d <= 0 || d > time.Hour {
		return 0, fmt.Errorf("%s %s: want more than 0 and at most 1h", from, d)
	}
	return d, nil
}

// ErrNoRegion is returned when no region is configured anywhere.
var ErrNoRegion = errors.New("no AWS region configured")

// Load returns the standard configuration with o applied.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	// The SDK's own log lines (an IMDS fallback, retries) would mix with the
	// command's output; errors still come back as errors.
	connect, request, err := o.Timeouts(os.Getenv)
	if err != nil {
		return aws.Config{}, err
	}
	opts := []func(*config.LoadOptions) error{
		config.WithLogger(logging.Nop{}),
		config.WithHTTPClient(newTransport(connect)),
		config.WithRetryer(newRetryer),
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		if err := checkURL(o.EndpointURL); err != nil {
			return aws.Config{}, err
		}
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	// Wrapped after loading: the SDK adds AWS_CA_BUNDLE to its own client
	// type only.
	cfg.HTTPClient = &timeoutClient{next: cfg.HTTPClient, connect: connect, request: request}
	return cfg, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--endpoint-url %q: want http(s)://HOST[:PORT]", s)
	}
	return nil
}

// serviceEndpointSource is what the SDK's environment and shared-config
// sources implement for AWS_ENDPOINT_URL_<SERVICE> and the [services]
// section of ~/.aws/config.
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// ServiceEndpoint returns the endpoint configured for one service (by SDK
// id, e.g. "STS", "Secrets Manager"), or the general one, or "".
func ServiceEndpoint(ctx context.Context, cfg aws.Config, sdkID string) string {
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(serviceEndpointSource); ok {
			if v, found, err := s.GetServiceBaseEndpoint(ctx, sdkID); err == nil && found && v != "" {
				return v
			}
		}
	}
	if cfg.BaseEndpoint != nil {
		return *cfg.BaseEndpoint
	}
	return ""
}

// BrokerEndpoint returns where the shortfuse service lives: the endpoint
// configured for the "shortfuse" service (AWS_ENDPOINT_URL_SHORTFUSE), else
// the general one (AWS_ENDPOINT_URL, --endpoint-url, endpoint_url in the
// profile), else the one for STS (a broker serves every API on one URL).
// It returns "" when none is configured: that is AWS itself.
func BrokerEndpoint(ctx context.Context, cfg aws.Config) string {
	if e := ServiceEndpoint(ctx, cfg, "shortfuse"); e != "" {
		return e
	}
	return ServiceEndpoint(ctx, cfg, "STS")
}

// Where describes the region and endpoint for hints: "region us-east-1 at
// https://broker:7575" or "region us-east-1 at AWS".
func Where(ctx context.Context, cfg aws.Config) string {
	e := BrokerEndpoint(ctx, cfg)
	if e == "" {
		e = "AWS"
	}
	return fmt.Sprintf("region %s at %s", cfg.Region, e)
}
