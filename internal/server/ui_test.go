package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/webui"
)

// TestPageSessionIdle: the approval page's session goes through the
// pipeline's session rules, each page shown is its heartbeat, and a page
// left alone shows as abandoned after the page's idle time, instead of an
// hour-long active session.
func TestPageSessionIdle(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	ctx := context.Background()
	svc := b.srv.iam
	if _, err := svc.CreateUser(ctx, iam.CreateUserInput{Name: "dana"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateLoginProfile(ctx, "dana", "a long password of dana", false); err != nil {
		t.Fatal(err)
	}
	dev, err := svc.CreateVirtualMFADevice(ctx, "dana-phone", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	now := b.clock.Now()
	c1, _ := totp.GenerateCodeCustom(dev.Base32StringSeed, now.Add(-60*time.Second), opts)
	c2, _ := totp.GenerateCodeCustom(dev.Base32StringSeed, now.Add(-30*time.Second), opts)
	if err := svc.EnableMFADevice(ctx, "dana", dev.SerialNumber, c1, c2); err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCodeCustom(dev.Base32StringSeed, now, opts)
	ui := &uiBackend{s: b.srv}
	meta := webui.Meta{SourceIP: "127.0.0.1"}
	p, err := ui.SignIn(ctx, "dana", "a long password of dana", code, meta)
	if err != nil {
		t.Fatal(err)
	}
	// A sign-in is a use of the password, as GetUser reports it.
	if status, body := rawCall(t, b, b.admin, "Action=GetUser&UserName=dana&Version=2010-05-08", "iam", "us-east-1", time.Now()); status != 200 ||
		!strings.Contains(body, "</CreateDate><PasswordLastUsed>") {
		t.Errorf("GetUser after sign-in: %d %s", status, body)
	}
	akid := claimsOf(p).AccessKeyID
	state := func() string {
		t.Helper()
		rec, err := b.srv.sessions.Get(ctx, akid)
		if err != nil {
			t.Fatal(err)
		}
		return rec.State(b.clock.Now(), nil)
	}
	if err := ui.Check(ctx, p, meta); err != nil || state() != registry.StateActive {
		t.Fatalf("a page shown after sign-in: %v, state %s", err, state())
	}
	b.clock.Shift(8 * time.Minute)
	if err := ui.Check(ctx, p, meta); err != nil {
		t.Fatalf("a page shown within the idle time: %v", err)
	}
	b.clock.Shift(17 * time.Minute) // 9 minutes after the last page
	if err := ui.Check(ctx, p, meta); err != nil {
		t.Fatalf("a page shown within the idle time of the last one: %v", err)
	}
	b.clock.Shift(28 * time.Minute) // 11 minutes after the last page
	if got := state(); got != registry.StateAbandoned {
		t.Errorf("a page left alone for 11 minutes: session %s, want %s", got, registry.StateAbandoned)
	}
	if err := ui.Check(ctx, p, meta); err == nil {
		t.Errorf("a page shown after the session was abandoned: served")
	}
}
