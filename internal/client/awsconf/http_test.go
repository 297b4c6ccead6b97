package awsconf

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want aws.Ternary
	}{
		{"fail/interrupted-read", &NoAnswerError{Op: "secretsmanager:GetSecretValue", Interrupted: true}, aws.FalseTernary},
		{"fail/request-timeout-read", &NoAnswerError{Op: "secretsmanager:GetSecretValue", Limit: time.Second}, aws.FalseTernary},
		{"fail/reset-mint", &sendError{op: "sts:AssumeRole", sent: true, err: errors.New("connection reset")}, aws.FalseTernary},
		{"fail/unknown-op-sent", &sendError{sent: true, err: errors.New("EOF")}, aws.FalseTernary},
		{"ok/connect-timeout-mint", &NoAnswerError{Op: "sts:GetSessionToken", Connect: true, Limit: time.Second}, aws.UnknownTernary},
		{"ok/refused-mint", &sendError{op: "sts:AssumeRole", sent: false, err: errors.New("connection refused")}, aws.UnknownTernary},
		{"ok/reset-read", &sendError{op: "sts:GetCallerIdentity", sent: true, err: errors.New("connection reset")}, aws.UnknownTernary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryable(tt.err); got != tt.want {
				t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c, r, err := Options{}.Timeouts(getenv)
	if err != nil || c != DefaultConnectTimeout || r != DefaultRequestTimeout {
		t.Fatalf("defaults: %s %s %v", c, r, err)
	}
	env[EnvRequestTimeout] = "3s"
	if _, r, _ = (Options{}).Timeouts(getenv); r != 3*time.Second {
		t.Errorf("env: request %s, want 3s", r)
	}
	if _, r, _ = (Options{RequestTimeout: time.Second}).Timeouts(getenv); r != time.Second {
		t.Errorf("flag over env: request %s, want 1s", r)
	}
	env[EnvConnectTimeout] = "-1s"
	if _, _, err := (Options{}).Timeouts(getenv); err == nil {
		t.Error("a negative timeout was accepted")
	}
}

func TestNoAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	c := &timeoutClient{next: newTransport(time.Second), connect: time.Second, request: 200 * time.Millisecond}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want time.Duration
	}{
		{"fail/request-timeout", context.Background(), 200 * time.Millisecond},
		{"fail/long-poll-adds-its-wait", WithLongPoll(context.Background(), 300*time.Millisecond), 500 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tt.ctx, http.MethodPost, "http://"+ln.Addr().String()+"/", nil)
			req.Header.Set("X-Amz-Target", "shortfuse.GetRequest")
			_, err := c.Do(req)
			var na *NoAnswerError
			if !errors.As(err, &na) {
				t.Fatalf("Do() = %v, want a *NoAnswerError", err)
			}
			if na.Limit != tt.want || na.Op != "shortfuse:GetRequest" || na.Connect || na.Interrupted {
				t.Errorf("Do() = %+v, want limit %s for shortfuse:GetRequest", na, tt.want)
			}
		})
	}
}
