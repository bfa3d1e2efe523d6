package player

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestPausableClock: a pause freezes Now and holds a sleeper until resumed (in a synctest
// bubble: the durations are exact).
func TestPausableClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewPausableClock()
		c.SetPaused(true)
		t0 := c.Now()
		time.Sleep(30 * time.Millisecond)
		if got := c.Now(); !got.Equal(t0) {
			t.Fatalf("paused clock moved by %v", got.Sub(t0))
		}
		done := make(chan time.Time, 1)
		go func() {
			c.Sleep(context.Background(), 10*time.Millisecond)
			done <- time.Now()
		}()
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Sleep returned while paused")
		default:
		}
		resumed := time.Now()
		c.SetPaused(false)
		if woke := <-done; woke.Sub(resumed) != 10*time.Millisecond {
			t.Fatalf("Sleep returned %v after resume, want 10 ms of running clock", woke.Sub(resumed))
		}
		if d := c.Now().Sub(t0); d != 10*time.Millisecond {
			t.Fatalf("clock advanced %v since the pause began, want the 10 ms it ran", d)
		}
		ctx, cancel := context.WithCancel(context.Background())
		c.SetPaused(true)
		cancel()
		if err := c.Sleep(ctx, time.Hour); err == nil {
			t.Fatal("Sleep ignored its context")
		}
	})
}
