package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
)

// The flags that several commands share are declared here, once each, with
// their environment variables and defaults.

// addAWSFlags registers the flags that override the standard AWS
// configuration; every client command has them.
func addAWSFlags(f *pflag.FlagSet, o *awsconf.Options) {
	f.StringVar(&o.Profile, "profile", "", "AWS profile (default: AWS_PROFILE, else default)")
	f.StringVar(&o.Region, "region", "", "AWS region (default: AWS_REGION, else the profile's)")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "broker URL (default: AWS_ENDPOINT_URL, else the profile's; none means AWS)")
	f.DurationVar(&o.ConnectTimeout, "connect-timeout", 0, fmt.Sprintf("give up connecting after this long (default %s, or %s)", awsconf.DefaultConnectTimeout, awsconf.EnvConnectTimeout))
	f.DurationVar(&o.RequestTimeout, "request-timeout", 0, fmt.Sprintf("give up waiting for an answer after this long (default %s, or %s)", awsconf.DefaultRequestTimeout, awsconf.EnvRequestTimeout))
}

// addDataFlag declares --data (SHORTFUSE_DATA): the broker's data directory.
func addDataFlag(f *pflag.FlagSet, p *string, getenv func(string) string, usage string) {
	f.StringVar(p, "data", envDefault(getenv, "SHORTFUSE_DATA", "shortfuse-data"), usage)
}

// addStoreFlag declares --store (SHORTFUSE_STORE): a postgres:// URL, or
// nothing for the embedded store in the data directory.
func addStoreFlag(f *pflag.FlagSet, p *string, getenv func(string) string, usage string) {
	f.StringVar(p, "store", envDefault(getenv, "SHORTFUSE_STORE", ""), usage)
}

// addMasterKeyFileFlag declares --master-key-file (SHORTFUSE_MASTER_KEY_FILE),
// by default DATA/master.key.
func addMasterKeyFileFlag(f *pflag.FlagSet, p *string, getenv func(string) string, usage string) {
	f.StringVar(p, "master-key-file", envDefault(getenv, "SHORTFUSE_MASTER_KEY_FILE", ""), usage)
}
