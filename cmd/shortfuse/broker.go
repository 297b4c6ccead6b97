package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

var (
	reAccessKeyID   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	rePrincipalArn  = regexp.MustCompile(`^arn:[\w-]+:(iam|sts)::\d{12}:[\w+=,.@/-]+$`)
	errNoBrokerHint = "point --endpoint-url or AWS_ENDPOINT_URL at a shortfuse broker"
)

// brokerClient loads the configuration and the client for the shortfuse
// service; on AWS itself (no endpoint) it says that AWS has no such
// service.
func brokerClient(ctx context.Context, o awsconf.Options) (*brokerapi.Client, aws.Config, error) {
	return brokerClientFor(ctx, o, "it cannot list or revoke single sessions")
}

// brokerClientFor is brokerClient for a command that says, in why, what
// AWS does instead of the shortfuse service, or cannot do.
func brokerClientFor(ctx context.Context, o awsconf.Options, why string) (*brokerapi.Client, aws.Config, error) {
	cfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return nil, aws.Config{}, configError(err)
	}
	ep := awsconf.BrokerEndpoint(ctx, cfg)
	if ep == "" {
		return nil, cfg, &hintError{err: errors.New("AWS has no shortfuse service: " + why), hint: errNoBrokerHint}
	}
	return brokerapi.New(cfg, ep), cfg, nil
}

// brokerFlags are the AWS flags of a command that calls the shortfuse
// service (addAWSFlags); its input embeds them.
type brokerFlags struct{ aws awsconf.Options }

func (b *brokerFlags) awsFlags() awsconf.Options { return b.aws }

// withBroker is the run of a command that calls the shortfuse service: it
// makes the client for the command's AWS flags (brokerClient), and run
// acts with it and the configuration it was made from.
func withBroker[T interface{ awsFlags() awsconf.Options }](run func(ctx context.Context, in T, d *deps, c *brokerapi.Client, cfg aws.Config) error) func(context.Context, T, *deps) error {
	return func(ctx context.Context, in T, d *deps) error {
		c, cfg, err := brokerClient(ctx, in.awsFlags())
		if err != nil {
			return err
		}
		return run(ctx, in, d, c, cfg)
	}
}

// brokerError adds a hint to an error of the shortfuse service.
func brokerError(ctx context.Context, cfg aws.Config, err error) error {
	if errors.Is(err, brokerapi.ErrUnsupported) {
		return &hintError{err: fmt.Errorf("the endpoint does not offer the shortfuse service (%s)", awsconf.Where(ctx, cfg)), hint: errNoBrokerHint}
	}
	var be *brokerapi.Error
	if errors.As(err, &be) {
		e := errors.New(shortError(err))
		if be.Code == "AccessDeniedException" {
			return &hintError{err: e, hint: "operators need shortfuse:ListSessions, shortfuse:RevokeSession or shortfuse:RevokeSessions in their policy"}
		}
		return e
	}
	return awsError(ctx, cfg, err)
}
