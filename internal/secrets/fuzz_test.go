package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzSecretID: any SecretId a client sends resolves to a secret or to
// "not found", never to another error or a panic, and a secret is found
// only by its name, its full ARN or its partial ARN.
func FuzzSecretID(f *testing.F) {
	fx := newFixtureTB(f)
	res, err := fx.svc.Create(context.Background(), CreateInput{Name: "/prod/app-x", Value: StringValue("v")})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"/prod/app-x", res.ARN, testPrefix + "/prod/app-x", testPrefix, "arn:", "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/app-x-",
		res.ARN[:len(res.ARN)-1], "/prod/app-x\x00", strings.Repeat("a", 600), "", "|", "/prod/app-x|",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		sec, err := fx.svc.Describe(context.Background(), id)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrNotFound) {
				t.Fatalf("Describe(%q) = %v, want found or not found", id, err)
			}
		} else if id != "/prod/app-x" && id != res.ARN && id != testPrefix+"/prod/app-x" {
			t.Fatalf("Describe(%q) found %s", id, sec.ARN)
		}
		if w := fx.svc.WouldBeARN(id); !strings.HasPrefix(w, "arn:") {
			t.Fatalf("WouldBeARN(%q) = %q", id, w)
		}
	})
}
