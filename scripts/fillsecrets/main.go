// Command fillsecrets adds secrets straight to the store of a stopped broker,
// for the scaling runs of scripts/bench.sh (GetSecretValue with 1,000 and
// with 1,000,000 secrets stored). It goes through the secrets service, so
// the records are those CreateSecret makes (sealed values, same layout),
// but not through HTTP, authentication or the audit log: filling a million
// secrets that way would take most of an hour and a million audit records.
//
//	go run ./scripts/fillsecrets --data DIR --count 1000000
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("fillsecrets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory of a stopped broker (made by `shortfuse server` once)")
	count := fs.Int("count", 1000, "number of secrets to add")
	workers := fs.Int("concurrency", 256, "concurrent creates (the store batches them into one commit)")
	region := fs.String("region", "us-east-1", "the broker's region")
	prefix := fs.String("prefix", "scale/", "name prefix of the secrets")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := fill(ctx, *data, *region, *prefix, *count, *workers, stderr); err != nil {
		fmt.Fprintf(stderr, "fillsecrets: error: %v\n", err)
		return 1
	}
	return 0
}

func fill(ctx context.Context, dir, region, prefix string, count, workers int, stderr io.Writer) error {
	if dir == "" {
		return errors.New("--data is required")
	}
	if count < 0 || workers < 1 {
		return errors.New("--count must be ≥ 0 and --concurrency ≥ 1")
	}
	mk, created, err := seal.LoadOrCreateKeyFile(filepath.Join(dir, "master.key"), rand.Reader)
	if err != nil {
		return err
	}
	if created {
		return errors.New("no master key in the data directory: start `shortfuse server --data DIR` once first")
	}
	st, err := bolt.Open(filepath.Join(dir, "shortfuse.db"), bolt.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	account, err := keystore.LoadAccount(ctx, st, "", rand.Reader)
	if err != nil {
		return err
	}
	sealer, _, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		return err
	}
	svc := secrets.New(st, sealer, account, region, time.Now, rand.Reader)

	var next atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v [32]byte
			for {
				i := next.Add(1) - 1
				if i >= int64(count) {
					return
				}
				if _, err := io.ReadFull(rand.Reader, v[:]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				_, err := svc.Create(ctx, secrets.CreateInput{
					Name:  fmt.Sprintf("%s%07d", prefix, i),
					Value: secrets.StringValue(hex.EncodeToString(v[:])),
				})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if i > 0 && i%100000 == 0 {
					fmt.Fprintf(stderr, "fillsecrets: %d secrets after %s\n", i, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(stderr, "fillsecrets: %d secrets in %s\n", count, time.Since(start).Round(time.Millisecond))
	return nil
}
