package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/bench"
	"github.com/shortfuse/shortfuse/internal/client/awsconf"
	"github.com/shortfuse/shortfuse/internal/client/token"
)

// Shell completion (cobra's shortfuse completion bash|zsh|fish) with the
// values of flags: fixed lists, and secret ids and role ARNs asked from the
// broker with the caller's credentials.

// completionTimeout bounds a lookup at the broker: a shell must not hang on
// a Tab.
const completionTimeout = 2 * time.Second

// maxCompletions bounds the names one lookup offers.
const maxCompletions = 200

// addCompletions registers the value completions on every command of the
// tree that has the flags.
func addCompletions(root *cobra.Command) {
	formats := make([]string, len(token.Formats))
	for i, f := range token.Formats {
		formats[i] = string(f)
	}
	fixed := map[string][]string{
		"format":            formats,
		"op":                {string(bench.GetSecretValue), string(bench.AssumeRole), string(bench.GetSessionToken), string(bench.PutSecretValue), string(bench.Mixed)},
		"child-credentials": {childCredsBoth, childCredsEnv, childCredsEndpoint, childCredsNone},
		"log-level":         {"debug", "info", "warn", "error"},
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for name, values := range fixed {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if c.Flags().Lookup("role") != nil && c.Flags().Lookup("endpoint-url") != nil {
			_ = c.RegisterFlagCompletionFunc("role", completeRoles)
		}
		if c.Flags().Lookup("secret") != nil && c.Flags().Lookup("endpoint-url") != nil {
			_ = c.RegisterFlagCompletionFunc("secret", completeSecretRef)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completionConfig is the command's AWS configuration with short timeouts,
// from the flags typed so far.
func completionConfig(cmd *cobra.Command) (context.Context, context.CancelFunc, *awsconf.Options) {
	o := &awsconf.Options{ConnectTimeout: time.Second, RequestTimeout: completionTimeout}
	o.Profile, _ = cmd.Flags().GetString("profile")
	o.Region, _ = cmd.Flags().GetString("region")
	o.EndpointURL, _ = cmd.Flags().GetString("endpoint-url")
	ctx, cancel := context.WithTimeout(context.Background(), 2*completionTimeout)
	return ctx, cancel, o
}

func completeRoles(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return completeListed(cmd, func(ctx context.Context, cfg aws.Config, add func(string) bool) {
		p := iam.NewListRolesPaginator(iam.NewFromConfig(cfg), &iam.ListRolesInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return
			}
			for _, r := range page.Roles {
				if arn := *r.Arn; strings.HasPrefix(arn, toComplete) && !add(arn) {
					return
				}
			}
		}
	}), cobra.ShellCompDirectiveNoFileComp
}

// completeListed loads the configuration the flags typed so far give and
// collects what list adds, until add reports that maxCompletions are
// there. An error of any kind completes what was collected.
func completeListed(cmd *cobra.Command, list func(ctx context.Context, cfg aws.Config, add func(string) bool)) []string {
	ctx, cancel, o := completionConfig(cmd)
	defer cancel()
	cfg, err := awsconf.Load(ctx, *o)
	if err != nil {
		return nil
	}
	var out []string
	list(ctx, cfg, func(v string) bool {
		out = append(out, v)
		return len(out) < maxCompletions
	})
	return out
}

// completeSecretRef completes VAR=SECRET_ID: once VAR= is typed, with the
// names of the secrets the caller may list.
func completeSecretRef(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	v, prefix, ok := strings.Cut(toComplete, "=")
	if !ok {
		return nil, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	return completeListed(cmd, func(ctx context.Context, cfg aws.Config, add func(string) bool) {
		p := secretsmanager.NewListSecretsPaginator(secretsmanager.NewFromConfig(cfg), &secretsmanager.ListSecretsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return
			}
			for _, s := range page.SecretList {
				if name := *s.Name; strings.HasPrefix(name, prefix) && !add(v+"="+name) {
					return
				}
			}
		}
	}), cobra.ShellCompDirectiveNoFileComp
}
