package e2e

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// The kill -9 tests: brokers are killed with SIGKILL at random moments
// while SDK clients write; each write the SDK saw succeed (acknowledged)
// must be found afterwards, whole, and nothing found may be half written.

const (
	iamWriters        = 3
	secretWriters     = 3
	versionsPerSecret = 90
)

// target is one broker the writers send to.
type target struct {
	name    string
	b       *broker
	iam     *iam.Client
	sm      *secretsmanager.Client
	errs    atomic.Int64 // writes that failed: no answer, or a server fault
	refused atomic.Int64 // writes refused as a client error (the test's own retries)
	oks     atomic.Int64 // acknowledged writes
	flying  atomic.Int64 // writes in flight

	mu       sync.Mutex
	someErrs []string // the first few errors, for a failure message
}

func (tg *target) failed(err error) {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient &&
		(ae.ErrorCode() == "ResourceExistsException" || ae.ErrorCode() == "ResourceNotFoundException") {
		tg.refused.Add(1)
		return
	}
	tg.errs.Add(1)
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.someErrs) < 5 {
		tg.someErrs = append(tg.someErrs, err.Error())
	}
}

func newTarget(name string, b *broker, c creds) *target {
	cfg := b.sdkConfig(c)
	cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	return &target{name: name, b: b, iam: iam.NewFromConfig(cfg), sm: secretsmanager.NewFromConfig(cfg)}
}

// attempt is one write sent.
type attempt struct {
	seq     int    // per writer, in the order sent
	value   string // secret writes: the value sent
	acked   bool
	ackedAt time.Time
}

// ledger records every write sent and whether it was acknowledged.
type ledger struct {
	mu       sync.Mutex
	users    map[string]*attempt            // user name → attempt
	versions map[string]map[string]*attempt // secret → version id (ClientRequestToken) → attempt
}

func newLedger() *ledger {
	return &ledger{users: map[string]*attempt{}, versions: map[string]map[string]*attempt{}}
}

func acked(a *attempt) bool { return a.acked }

// settle records the answer err to the write a that tg was sent: a
// failure is counted (and the writer pauses), an acknowledgment marked.
func (l *ledger) settle(tg *target, a *attempt, err error) {
	tg.flying.Add(-1)
	if err != nil {
		tg.failed(err)
		time.Sleep(10 * time.Millisecond)
		return
	}
	tg.oks.Add(1)
	l.mu.Lock()
	a.acked, a.ackedAt = true, time.Now()
	l.mu.Unlock()
}

func (l *ledger) counts() (sent, acked int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.users {
		sent++
		if a.acked {
			acked++
		}
	}
	for _, vs := range l.versions {
		for _, a := range vs {
			sent++
			if a.acked {
				acked++
			}
		}
	}
	return sent, acked
}

// runWriters starts the writers; each picks the broker of its next write
// with pick. stop makes them finish the write in flight and end, and
// returns when they have.
func runWriters(ctx context.Context, l *ledger, pick func() *target) (stop func()) {
	var wg sync.WaitGroup
	var stopped atomic.Bool
	for w := range iamWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stopped.Load(); i++ {
				name := fmt.Sprintf("w%d-u%05d", w, i)
				a := &attempt{seq: i}
				l.mu.Lock()
				l.users[name] = a
				l.mu.Unlock()
				tg := pick()
				tg.flying.Add(1)
				_, err := tg.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
				l.settle(tg, a, err)
			}
		}()
	}
	for w := range secretWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			needCreate := false
			for i := 0; !stopped.Load(); i++ {
				// A secret holds at most 100 versions: move on to a new
				// one, made with its first version, every so often.
				secret := fmt.Sprintf("/durability/w%d/%03d", w, i/versionsPerSecret)
				create := needCreate || i%versionsPerSecret == 0
				token := fmt.Sprintf("w%d-%06d-%s", w, i, randHex(12))
				a := &attempt{seq: i, value: "value-" + token}
				l.mu.Lock()
				if l.versions[secret] == nil {
					l.versions[secret] = map[string]*attempt{}
				}
				l.versions[secret][token] = a
				l.mu.Unlock()
				tg := pick()
				tg.flying.Add(1)
				var err error
				if create {
					_, err = tg.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
						Name:               aws.String(secret),
						ClientRequestToken: aws.String(token),
						SecretString:       aws.String(a.value),
					})
					// Exists: an earlier CreateSecret committed although
					// its answer was lost.
					needCreate = err != nil && errCodeOf(err) != "ResourceExistsException"
				} else {
					_, err = tg.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
						SecretId:           aws.String(secret),
						ClientRequestToken: aws.String(token),
						SecretString:       aws.String(a.value),
					})
					// Not found: the CreateSecret whose answer was lost
					// did not commit.
					needCreate = errCodeOf(err) == "ResourceNotFoundException"
				}
				l.settle(tg, a, err)
			}
		}()
	}
	return func() {
		stopped.Store(true)
		wg.Wait()
	}
}

// check reads everything back through tg and compares it with the ledger:
// every write that must be there (required) is, and everything there is
// whole. It returns how many of the required writes it found.
func (l *ledger) check(t *testing.T, tg *target, required func(*attempt) bool) (found int) {
	t.Helper()
	ctx := t.Context()
	l.mu.Lock()
	defer l.mu.Unlock()

	// Users: every acknowledged one exists; every one listed reads whole.
	listed := map[string]bool{}
	p := iam.NewListUsersPaginator(tg.iam, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		for _, u := range page.Users {
			listed[aws.ToString(u.UserName)] = true
		}
	}
	for name, a := range l.users {
		switch {
		case required(a) && !listed[name]:
			t.Errorf("acknowledged CreateUser %s lost", name)
		case required(a):
			found++
		}
	}
	for name := range listed {
		if name == "admin" {
			continue
		}
		if _, ok := l.users[name]; !ok {
			t.Errorf("user %s exists but was never sent", name)
		}
		if _, err := tg.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}); err != nil {
			t.Errorf("user %s is listed but does not read: %v", name, err)
		}
	}

	// Secret versions: every acknowledged one exists with its value; every
	// one listed decrypts to the value sent with its token; exactly one is
	// AWSCURRENT, and it is at least as new as the last acknowledged.
	for secret, sent := range l.versions {
		var ids []smtypes.SecretVersionsListEntry
		var next *string
		for {
			out, err := tg.sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secret), IncludeDeprecated: aws.Bool(true), NextToken: next})
			if errCodeOf(err) == "ResourceNotFoundException" {
				// Never created: no write to it may have been acknowledged.
				break
			}
			if err != nil {
				t.Fatalf("ListSecretVersionIds %s: %v", secret, err)
			}
			ids = append(ids, out.Versions...)
			if next = out.NextToken; next == nil {
				break
			}
		}
		present := map[string]bool{}
		current, lastAcked := -1, -1
		currents := 0
		for _, v := range ids {
			id := aws.ToString(v.VersionId)
			present[id] = true
			a, ok := sent[id]
			if !ok {
				t.Errorf("%s: version %s was never sent", secret, id)
				continue
			}
			if slices.Contains(v.VersionStages, "AWSCURRENT") {
				currents++
				current = a.seq
			}
		}
		if len(ids) > 0 && currents != 1 {
			t.Errorf("%s: %d versions are AWSCURRENT, want 1", secret, currents)
		}
		for id, a := range sent {
			if required(a) {
				lastAcked = max(lastAcked, a.seq)
			}
			if !present[id] {
				if required(a) {
					t.Errorf("%s: acknowledged version %s lost", secret, id)
				}
				continue
			}
			if required(a) {
				found++
			}
		}
		if current < lastAcked {
			t.Errorf("%s: AWSCURRENT is write %d, older than the last acknowledged write %d", secret, current, lastAcked)
		}
		// Versions kept (AWS keeps about 100 and deprecates the rest):
		// each still listed must decrypt to the value sent.
		for id := range present {
			a := sent[id]
			if a == nil {
				continue
			}
			out, err := tg.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret), VersionId: aws.String(id)})
			if err != nil {
				t.Errorf("%s: version %s is listed but does not read: %v", secret, id, err)
				continue
			}
			if aws.ToString(out.SecretString) != a.value {
				t.Errorf("%s: version %s does not hold the value sent with it", secret, id)
			}
		}
	}
	return found
}

// verifyAudit runs shortfuse audit verify over a broker's audit log.
func verifyAudit(t *testing.T, b *broker) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(b.dir, "audit.log*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no audit log in %s: %v", b.dir, err)
	}
	out, err := runBinary(t, append([]string{"audit", "verify"}, files...)...)
	if err != nil || !strings.HasPrefix(out, "ok:") {
		t.Errorf("audit verify of %s: %v\n%s", b.dir, err, out)
	}
}

// kill sends SIGKILL and waits for the process to end.
func (b *broker) kill() {
	b.t.Helper()
	if err := b.cmd.Process.Kill(); err != nil {
		b.t.Fatal(err)
	}
	<-b.done
}

// pinPort makes restarts listen on the port the broker got first, so that
// clients keep their endpoint.
func (b *broker) pinPort() {
	addr := strings.TrimPrefix(b.url, "http://")
	for i, a := range b.args {
		if a == "--listen" {
			b.args[i+1] = addr
		}
	}
}

// killLoop kills b kills times at random moments, restarting it each time
// after a random while. It returns how many kills hit b with writes in
// flight to it.
func killLoop(t *testing.T, b *broker, tg *target, kills int) (midRequest int) {
	t.Helper()
	for range kills {
		time.Sleep(time.Duration(150+mrand.IntN(350)) * time.Millisecond)
		if tg.flying.Load() > 0 {
			midRequest++
		}
		b.kill()
		time.Sleep(time.Duration(mrand.IntN(100)) * time.Millisecond)
		b.start()
	}
	return midRequest
}

func TestDurabilityBolt(t *testing.T) {
	const kills = 15
	b := startBroker(t, "")
	b.pinPort()
	admin := b.adminCreds()
	tg := newTarget("bolt", b, admin)
	l := newLedger()

	stop := runWriters(t.Context(), l, func() *target { return tg })
	mid := killLoop(t, b, tg, kills)
	time.Sleep(300 * time.Millisecond) // some writes after the last restart
	stop()

	// Once more, with no write in flight: the state after recovery is
	// what is checked.
	b.kill()
	b.start()
	found := l.check(t, tg, acked)
	sent, acked := l.counts()
	t.Logf("bolt: %d kills (%d with writes in flight); %d writes sent, %d acknowledged, %d acknowledged found; %d failed while the broker was down or dying, %d refused as retries of writes whose answer was lost",
		kills+1, mid, sent, acked, found, tg.errs.Load(), tg.refused.Load())
	if acked == 0 || found != acked {
		t.Errorf("found %d of %d acknowledged writes", found, acked)
	}
	verifyAudit(t, b)
}

func TestDurabilityPostgres(t *testing.T) {
	const kills = 10
	_, rs := startReplicas(t, 2)
	victim, survivor := rs[0], rs[1]
	victim.pinPort()
	admin := victim.adminCreds()
	tv, ts := newTarget("victim", victim, admin), newTarget("survivor", survivor, admin)
	l := newLedger()

	stop := runWriters(t.Context(), l, func() *target {
		if mrand.IntN(2) == 0 {
			return tv
		}
		return ts
	})
	mid := killLoop(t, victim, tv, kills)
	time.Sleep(300 * time.Millisecond)
	stop()

	// The survivor served every write sent to it while its peer died.
	if n := ts.errs.Load(); n != 0 {
		t.Errorf("%d writes to the surviving replica failed, such as:\n%s", n, strings.Join(ts.someErrs, "\n"))
	}
	found := l.check(t, tv, acked)
	if t.Failed() {
		return
	}
	sent, acked := l.counts()
	t.Logf("postgres: %d kills of one of two replicas (%d with writes in flight to it); %d writes sent, %d acknowledged (%d by the survivor, %d by the killed replica), %d acknowledged found; %d failed on the killed replica",
		kills, mid, sent, acked, ts.oks.Load(), tv.oks.Load(), found, tv.errs.Load()+tv.refused.Load())
	if acked == 0 || found != acked {
		t.Errorf("found %d of %d acknowledged writes", found, acked)
	}
	for _, r := range rs {
		verifyAudit(t, r)
	}
}
