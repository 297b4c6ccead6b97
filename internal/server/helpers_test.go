package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// sdkConfig configures an SDK client of the broker at url that signs with
// c and does not retry, so that each call is one request.
func sdkConfig(url string, c aws.Credentials) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.StaticCredentialsProvider{Value: c},
		RetryMaxAttempts: 1,
	}
}

// accessKeyCreds are the credentials of an access key IAM created.
func accessKeyCreds(k *iamtypes.AccessKey) aws.Credentials {
	return aws.Credentials{AccessKeyID: *k.AccessKeyId, SecretAccessKey: *k.SecretAccessKey}
}

// sessionCreds are the credentials of a session STS issued.
func sessionCreds(c *ststypes.Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
}

// must stops the test when a set-up step (what) fails.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// errCode is the AWS error code of an SDK call's error ("" for none).
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

// wantCode checks the error code of an SDK call.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Errorf("%s: error %q (%v), want %q", what, got, err, code)
	}
}

// sdkStep is a call of an SDK operation with a fixed input, for tables of
// steps that check only the call's error.
func sdkStep[In, Out, Opt any](ctx context.Context, op func(context.Context, *In, ...func(*Opt)) (*Out, error), in *In) func() error {
	return func() error {
		_, err := op(ctx, in)
		return err
	}
}

// wantCodeMessage checks the error code of an SDK call, which must match
// for the test to go on, and that its message contains contains (when
// given).
func wantCodeMessage(t *testing.T, err error, code, contains string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("code = %q (%v), want %q", got, err, code)
	}
	var ae smithy.APIError
	if contains != "" && (!errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), contains)) {
		t.Errorf("message %v does not contain %q", err, contains)
	}
}

// allPages collects the items of every page a paginator serves (its
// HasMorePages and NextPage); a page that fails stops the test.
func allPages[Out, Item, Opt any](t *testing.T, what string, more func() bool, next func(context.Context, ...func(*Opt)) (*Out, error), items func(*Out) []Item) []Item {
	t.Helper()
	var all []Item
	for more() {
		page, err := next(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		all = append(all, items(page)...)
	}
	return all
}

// codeStep is one row of a table of calls: the call, named by its outcome,
// and the error code it must return ("" for success).
type codeStep struct {
	name string
	call func() error
	want string
}

// runCodeSteps runs the calls in order, each as a subtest, and reports
// whether every one returned its code.
func runCodeSteps(t *testing.T, steps []codeStep) bool {
	t.Helper()
	ok := true
	for _, st := range steps {
		ok = t.Run(st.name, func(t *testing.T) { wantCode(t, "call", st.call(), st.want) }) && ok
	}
	return ok
}
