package player

import (
	"context"
	"sync"
	"time"

	"github.com/strata-player/strata/internal/clock"
)

// Clock is the session's notion of time.
type Clock = clock.Clock

// WallClock is the real clock.
type WallClock = clock.Wall

// PausableClock is the wall clock with pauses cut out: while paused, Now stands still and
// Sleep does not progress (the presenter holds its frame, no stall is counted). A viewer's
// pause key drives it; the session goroutines read it.
type PausableClock struct {
	mu      sync.Mutex
	paused  bool
	since   time.Time     // wall time the current pause began
	offset  time.Duration // total paused time before it
	changed chan struct{} // closed (and replaced) at every pause or resume
	now     func() time.Time
}

// NewPausableClock returns a running clock.
func NewPausableClock() *PausableClock {
	return &PausableClock{changed: make(chan struct{}), now: time.Now}
}

// Now implements Clock.
func (c *PausableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return c.since.Add(-c.offset)
	}
	return c.now().Add(-c.offset)
}

// SetPaused pauses or resumes the clock.
func (c *PausableClock) SetPaused(p bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p == c.paused {
		return
	}
	if p {
		c.since = c.now()
	} else {
		c.offset += c.now().Sub(c.since)
	}
	c.paused = p
	close(c.changed)
	c.changed = make(chan struct{})
}

// Paused reports whether the clock is paused.
func (c *PausableClock) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

// Sleep implements Clock: it returns once the clock advanced d (d ≤ 0: at once unless
// paused; while paused it holds until resumed).
func (c *PausableClock) Sleep(ctx context.Context, d time.Duration) error {
	until := c.Now().Add(d)
	for {
		c.mu.Lock()
		paused, changed := c.paused, c.changed
		c.mu.Unlock()
		var t *time.Timer
		var timer <-chan time.Time
		if !paused {
			left := until.Sub(c.Now())
			if left <= 0 {
				return ctx.Err()
			}
			t = time.NewTimer(left)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
