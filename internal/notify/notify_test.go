package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/approvals"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func request() approvals.Request {
	return approvals.Request{
		Code:      "ABCD-EFGH",
		RoleARN:   "arn:aws:iam::111122223333:role/deploy",
		Requester: "arn:aws:iam::111122223333:user/jenkins",
		Reason:    "ship <!channel> & <https://evil.example|click>",
		Duration:  15 * time.Minute,
		Build:     approvals.Build{URL: "https://ci.example/job/deploy/42/?a=1&b=2", Job: "deploy|x", Number: "42", Commit: "abcdef1"},
		Rules:     approvals.Rules{Required: 2},
		CreatedAt: t0,
		ExpiresAt: t0.Add(15 * time.Minute),
	}
}

func TestMessage(t *testing.T) {
	r := request()
	tests := []struct {
		name string
		ev   approvals.Event
		want []string
		not  []string
	}{
		{"ok/requested", approvals.Event{Kind: approvals.EventRequested, Actor: r.Requester, Request: r},
			[]string{"jenkins asks for role *deploy* for 15m0s", "*ABCD-EFGH*", "needs 2 approvals", "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;",
				"<https://ci.example/job/deploy/42/?a=1&amp;b=2|deploy/x #42>", "commit abcdef1", "shortfuse approve ABCD-EFGH", "<https://broker.example/ui/requests/ABCD-EFGH|the approval page>"},
			[]string{"<!channel>", "<https://evil.example"}},
		{"ok/approval", approvals.Event{Kind: approvals.EventApproval, Actor: "arn:aws:iam::111122223333:user/alice", Request: withApprovals(r, "alice")},
			[]string{"alice approved request *ABCD-EFGH*", "(1 of 2 approvals)"}, nil},
		{"ok/approved", approvals.Event{Kind: approvals.EventApproved, Actor: "arn:aws:iam::111122223333:user/bob", Request: withApprovals(r, "alice", "bob")},
			[]string{"approved by alice, bob"}, []string{"shortfuse approve"}},
		{"ok/denied", approvals.Event{Kind: approvals.EventDenied, Actor: "arn:aws:iam::111122223333:user/alice", Request: denied(r, "no <b>")},
			[]string{"alice denied request", "Reason: no &lt;b&gt;"}, nil},
		{"ok/withdrawn", approvals.Event{Kind: approvals.EventDenied, Actor: r.Requester, Request: denied(r, "")},
			[]string{"withdrawn by the requester"}, nil},
		{"ok/replay", approvals.Event{Kind: approvals.EventReplay, Actor: r.Requester, Request: r},
			[]string{"ALARM", "second time"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Message(tc.ev, "https://broker.example").Text
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Message() = %q\nwant it to contain %q", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("Message() = %q\nmust not contain %q", got, n)
				}
			}
		})
	}
}

func withApprovals(r approvals.Request, users ...string) approvals.Request {
	for _, u := range users {
		r.Approvals = append(r.Approvals, approvals.Approval{ARN: "arn:aws:iam::111122223333:user/" + u, UserName: u})
	}
	return r
}

func denied(r approvals.Request, reason string) approvals.Request {
	r.Denied, r.DenyReason = true, reason
	return r
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T/B/X", true},
		{"http://127.0.0.1:9000/hook", true},
		{"http://localhost/hook", true},
		{"http://hooks.example/x", false},
		{"ftp://x/", false},
		{"/relative", false},
	}
	for _, tc := range tests {
		if err := CheckURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestWebhookDelivers(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []SlackMessage
		hits int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		if hits == 1 {
			// The first POST fails: the sender retries.
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		data, _ := io.ReadAll(r.Body)
		var m SlackMessage
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Errorf("body %s: %v", data, err)
		}
		got = append(got, m)
	}))
	defer srv.Close()
	w, err := New(srv.URL+"/hook", Options{Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Notify(approvals.Event{Kind: approvals.EventRequested, Request: request()})
	w.Notify(approvals.Event{Kind: approvals.EventDenied, Actor: request().Requester, Request: denied(request(), "")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || !strings.Contains(got[0].Text, "asks for role") || !strings.Contains(got[1].Text, "withdrawn") {
		t.Fatalf("received %+v", got)
	}
	// Notify after Close does nothing and does not block.
	w.Notify(approvals.Event{Kind: approvals.EventRequested, Request: request()})
}

func TestWebhookNeverBlocks(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	w, err := New(srv.URL, Options{QueueSize: 1, Attempts: 1, Client: &http.Client{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for range 50 {
			w.Notify(approvals.Event{Kind: approvals.EventRequested, Request: request()})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a slow receiver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.Close(ctx)
}
