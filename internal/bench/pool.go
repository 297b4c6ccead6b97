package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// putsPerSecret is how many times put-secret-value writes one secret before
// it moves to a fresh one. A secret holds at most 100 versions made within
// 24 hours (in AWS, and in the broker); 1 + 90 leaves room.
const putsPerSecret = 90

// secretPool supplies the secrets that put-secret-value writes. Each worker
// takes a secret, writes it putsPerSecret times, and takes the next; a
// background goroutine creates secrets ahead of use (one CreateSecret per
// putsPerSecret writes, about 1 % more requests on the endpoint), so that
// writes never pile versions onto one secret and workers never contend for
// one.
type secretPool struct {
	sm     *secretsmanager.Client
	prefix string
	value  string
	ready  chan string
	wait   time.Duration // the longest a worker waits for a fresh secret

	mu      sync.Mutex
	made    []string // ARNs (names when the ARN is missing), for cleanup
	next    int
	lastErr error

	stop context.CancelFunc
	done chan struct{}
}

func newSecretPool(sm *secretsmanager.Client, prefix, value string, capacity int) *secretPool {
	return &secretPool{sm: sm, prefix: prefix, value: value, ready: make(chan string, capacity), wait: requestTimeout}
}

// create makes one secret for writes and returns its name.
func (p *secretPool) create(ctx context.Context) (string, error) {
	p.mu.Lock()
	name := fmt.Sprintf("%s/w%d", p.prefix, p.next)
	p.next++
	p.mu.Unlock()
	out, err := p.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		Description:  aws.String("shortfuse bench fixture; deleted when the run ends"),
		SecretString: aws.String(p.value),
	})
	if err != nil {
		return "", fmt.Errorf("fixture: create secret %s: %w", name, err)
	}
	id := aws.ToString(out.ARN)
	if id == "" {
		id = name
	}
	p.mu.Lock()
	p.made = append(p.made, id)
	p.mu.Unlock()
	return name, nil
}

// first returns the ARN (or name) of the first secret the pool made, or "".
func (p *secretPool) first() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.made) == 0 {
		return ""
	}
	return p.made[0]
}

// fill creates secrets until the pool is full, a few at a time.
func (p *secretPool) fill(ctx context.Context) error {
	n := cap(p.ready) - len(p.ready)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name, err := p.create(ctx)
			if err != nil {
				errs <- err
				return
			}
			p.ready <- name
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs // the first error, or nil
}

// start runs the background creation until stopBackground.
func (p *secretPool) start(ctx context.Context) {
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		for ctx.Err() == nil {
			name, err := p.create(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				p.mu.Lock()
				p.lastErr = err
				p.mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			select {
			case p.ready <- name:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// stopBackground stops the background creation and waits for it.
func (p *secretPool) stopBackground() {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
}

// take returns the next secret to write, waiting at most p.wait (the wait
// counts in the request's latency).
func (p *secretPool) take(ctx context.Context) (string, error) {
	select {
	case name := <-p.ready:
		return name, nil
	default:
	}
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case name := <-p.ready:
		return name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.C:
		p.mu.Lock()
		err := p.lastErr
		p.mu.Unlock()
		return "", &poolExhaustedError{wait: p.wait, cause: err}
	}
}

// poolExhaustedError is counted as error code PoolExhausted.
type poolExhaustedError struct {
	wait  time.Duration
	cause error
}

func (e *poolExhaustedError) Error() string {
	return fmt.Sprintf("no fresh secret to write after %s; last error creating one: %v", e.wait, e.cause)
}

// cleanup force-deletes every secret the pool made, a few at a time, and
// returns what it could not delete.
func (p *secretPool) cleanup(ctx context.Context) []string {
	p.stopBackground()
	p.mu.Lock()
	ids := append([]string(nil), p.made...)
	p.mu.Unlock()
	var mu sync.Mutex
	var warnings []string
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := p.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
			if err != nil {
				mu.Lock()
				warnings = append(warnings, fmt.Sprintf("could not delete fixture secret %s: %v", id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return warnings
}
