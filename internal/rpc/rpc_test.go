package rpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/policy"
)

func TestPageTokenDecodesWhatItEncodesAndRefusesOthers(t *testing.T) {
	bad := awsapi.Errorf(awsapi.CodeValidation, "bad token")
	a, b := PageToken{Prefix: "a1:", Bad: bad}, PageToken{Prefix: "b1:", Bad: bad}
	if n, err := a.Decode(a.Encode(42)); n != 42 || err != nil {
		t.Fatalf("Decode(Encode(42)) = %d, %v", n, err)
	}
	for _, tok := range []string{b.Encode(1), "not base64!", ""} {
		if _, err := a.Decode(tok); err != bad {
			t.Errorf("Decode(%q) = %v, want the token's Bad error", tok, err)
		}
	}
}

func TestCutPageEndsAtTheLastItem(t *testing.T) {
	items := []int{0, 1, 2, 3, 4}
	if page, next := CutPage(items, 0, 2); fmt.Sprint(page) != "[0 1]" || next != 2 {
		t.Errorf("first page = %v, next %d", page, next)
	}
	if page, next := CutPage(items, 4, 2); fmt.Sprint(page) != "[4]" || next != -1 {
		t.Errorf("last page = %v, next %d", page, next)
	}
	if page, next := CutPage(items, 9, 2); len(page) != 0 || next != -1 {
		t.Errorf("past the end = %v, next %d", page, next)
	}
}

func TestFaultCodesMapOnlyTheirKinds(t *testing.T) {
	kind, other := errors.New("no such thing"), errors.New("other")
	codes := FaultCodes{{Kind: kind, Code: awsapi.CodeNoSuchEntity}}
	w, ok := codes.ToWire(fmt.Errorf("ctx: %w", fault.New(kind, "The thing %s cannot be found.", "x")))
	if !ok || w.Code != awsapi.CodeNoSuchEntity || w.Message != "The thing x cannot be found." {
		t.Fatalf("ToWire = %v, %v", w, ok)
	}
	for _, err := range []error{fault.New(other, "m"), kind, errors.New("plain")} {
		if _, ok := codes.ToWire(err); ok {
			t.Errorf("ToWire(%v) mapped an error not of the table", err)
		}
	}
}

func TestCheckRecordsDecisionsAndRefusesWithAWSWords(t *testing.T) {
	r := &Request{Caller: &Caller{ARN: "arn:aws:iam::123456789012:user/bob"}}
	r.Authorizer = func(_ context.Context, _ *Request, a *Authz) (policy.Result, error) {
		if a.Action == "iam:GetUser" {
			return policy.Result{Decision: policy.Allow}, nil
		}
		return policy.Result{Decision: policy.ExplicitDeny}, nil
	}
	ctx := context.Background()
	if err := r.Authorize(ctx, "iam:GetUser", "arn:aws:iam::123456789012:user/bob", nil); err != nil {
		t.Fatalf("an allowed action: %v", err)
	}
	err := r.Authorize(ctx, "iam:DeleteUser", "arn:aws:iam::123456789012:user/bob", nil)
	var we *awsapi.Error
	want := "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:DeleteUser on resource: arn:aws:iam::123456789012:user/bob with an explicit deny"
	if !errors.As(err, &we) || we.Code != awsapi.CodeAccessDenied || we.Message != want {
		t.Fatalf("a denied action: %v", err)
	}
	if r.Allowed(ctx, "iam:DeleteUser", "*") || len(r.Decisions) != 2 {
		t.Errorf("Allowed or the record of decisions: %d decisions, want 2 (Allowed is not recorded)", len(r.Decisions))
	}
}
