package testutil

import (
	"sync"
	"testing"
	"time"
)

func TestClockStandsUntilMoved(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want %v", got, t0)
	}
	c.Add(time.Minute)
	c.Add(time.Second)
	if got, want := c.Now(), t0.Add(time.Minute+time.Second); !got.Equal(want) {
		t.Fatalf("after Add: Now = %v, want %v", got, want)
	}
	t1 := t0.Add(time.Hour)
	c.Set(t1)
	if got := c.Now(); !got.Equal(t1) {
		t.Fatalf("after Set: Now = %v, want %v (Set clears the offset)", got, t1)
	}
}

func TestZeroClockFollowsRealTimeShifted(t *testing.T) {
	var c Clock
	c.Shift(time.Hour)
	c.Shift(2 * time.Hour)
	got := c.Now()
	if d := time.Until(got); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
		t.Fatalf("Now is %v from real time, want about 2h (Shift replaces the offset)", d)
	}
}

func TestBufferKeepsConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { b.Write([]byte("x")) })
	}
	wg.Wait()
	if got := b.String(); got != "xxxxxxxx" {
		t.Fatalf("String = %q, want 8 x", got)
	}
}
