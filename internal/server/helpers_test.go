package server

import (
	"context"
	"testing"
)

// sdkStep is a call of an SDK operation with a fixed input, for tables of
// steps that check only the call's error.
func sdkStep[In, Out, Opt any](ctx context.Context, op func(context.Context, *In, ...func(*Opt)) (*Out, error), in *In) func() error {
	return func() error {
		_, err := op(ctx, in)
		return err
	}
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
