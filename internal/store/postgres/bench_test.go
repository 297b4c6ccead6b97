package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
	"github.com/shortfuse/shortfuse/internal/store/storetest"
)

// benchStore opens a Store on a fresh database with a pool large enough for
// RunParallel, holding keys "k/0000"… with 256-byte values.
func benchStore(b *testing.B, keys int) *postgres.Store {
	b.Helper()
	u, err := url.Parse(pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "16")
	u.RawQuery = q.Encode()
	s := mustOpen(b, u.String(), postgres.Options{})
	storetest.Fill(b, s, "bench", "k/%04d", keys, benchValue)
	return s
}

const benchKeys = 1000

func benchGet(b *testing.B, s *postgres.Store, i int) {
	err := s.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.Get("bench", fmt.Sprintf("k/%04d", i%benchKeys))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

func benchPut(b *testing.B, s *postgres.Store, i int) {
	err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.Put("bench", fmt.Sprintf("k/%04d", i%benchKeys), benchValue)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchValue is the 256-byte value benchPut writes; Put copies it.
var benchValue = make([]byte, 256)

// runBench measures op, called with a running count i, on a store from
// benchStore: in one goroutine, or if parallel in 8 per GOMAXPROCS, as
// many as a busy server's requests. It returns the store.
func runBench(b *testing.B, parallel bool, op func(b *testing.B, s *postgres.Store, i int)) *postgres.Store {
	s := benchStore(b, benchKeys)
	b.ReportAllocs()
	if !parallel {
		i := 0
		for b.Loop() {
			op(b, s, i)
			i++
		}
		return s
	}
	b.SetParallelism(8)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op(b, s, int(n.Add(1)))
		}
	})
	return s
}

func BenchmarkGet(b *testing.B) { runBench(b, false, benchGet) }

func BenchmarkGetParallel(b *testing.B) { runBench(b, true, benchGet) }

// Put is one Update per key: each commit waits for the WAL flush
// (synchronous_commit on), which sets the serial rate.
func BenchmarkPut(b *testing.B) { runBench(b, false, benchPut) }

// PutParallel writes distinct keys from many goroutines: PostgreSQL groups
// their WAL flushes, and few transactions conflict.
func BenchmarkPutParallel(b *testing.B) {
	s := runBench(b, true, benchPut)
	b.ReportMetric(float64(s.Stats().Retries)/float64(b.N), "retries/op")
}

func BenchmarkScan1000(b *testing.B) {
	s := benchStore(b, benchKeys)
	b.ReportAllocs()
	for b.Loop() {
		err := s.View(context.Background(), func(tx store.Tx) error {
			n := 0
			err := tx.Scan("bench", "k/", "", func(string, []byte) (bool, error) { n++; return true, nil })
			if err == nil && n != benchKeys {
				err = fmt.Errorf("scanned %d keys", n)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
