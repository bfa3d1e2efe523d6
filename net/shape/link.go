// Package shape emulates a network bottleneck whose capacity follows a bandwidth trace
// (looped), shared by every connection of a server: writers reserve bytes on the link and
// wait until the link has delivered them. A token bucket of Depth lets an idle link send a
// short burst, without which request gaps would waste capacity.
package shape

import (
	"math"
	"sync"
	"time"

	"github.com/strata-player/strata/net/trace"
)

// Link is a trace-driven shared bottleneck. Its clock is injected.
type Link struct {
	// mu serialises reservations: every connection's writer books time on the one link.
	mu    sync.Mutex
	tr    *trace.Trace
	now   func() time.Time
	start time.Time
	depth float64 // seconds of credit an idle link accumulates
	next  float64 // link time (s since start) at which the link is free
}

// DefaultDepth is the token-bucket depth: 20 ms of capacity.
const DefaultDepth = 20 * time.Millisecond

// NewLink starts a link on tr at now(); depth <= 0 means DefaultDepth.
func NewLink(tr *trace.Trace, depth time.Duration, now func() time.Time) *Link {
	if depth <= 0 {
		depth = DefaultDepth
	}
	return &Link{tr: tr, now: now, start: now(), depth: depth.Seconds()}
}

// Reserve books n bytes on the link and returns when they have been delivered.
func (l *Link) Reserve(n int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now().Sub(l.start).Seconds()
	s := math.Max(l.next, t-l.depth)
	l.next = l.finish(s, float64(n))
	return l.start.Add(time.Duration(l.next * float64(time.Second)))
}

// period is the loop length of the trace: it runs from 0 to its last sample time.
func (l *Link) period() float64 { return l.tr.TimeS[len(l.tr.TimeS)-1] }

// interval returns the index i of the trace interval (t[i-1], t[i]] containing trace time p
// (0 ≤ p < period), with t[-1] taken as 0 for the first interval.
func (l *Link) interval(p float64) int {
	t := l.tr.TimeS
	lo, hi := 1, len(t)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if t[mid] <= p {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// finish is the link time at which n bytes starting at link time s are delivered.
func (l *Link) finish(s, n float64) float64 {
	P := l.period()
	t, bw := l.tr.TimeS, l.tr.BandwidthMbps
	cap := l.CapacityBytes(0, P)
	if cap <= 0 {
		return math.Inf(1)
	}
	// Whole loops first, so a huge reservation costs O(trace length).
	if loops := math.Floor(n/cap) - 1; loops > 0 {
		s += loops * P
		n -= loops * cap
	}
	for n > 0 {
		p := math.Mod(s, P)
		i := l.interval(p)
		end := t[i]
		if end > P {
			end = P
		}
		dt := end - p
		if dt <= 0 {
			s += 1e-9
			continue
		}
		rate := bw[i] * 1e6 / 8
		if rate*dt >= n {
			return s + n/rate
		}
		n -= rate * dt
		s += dt
	}
	return s
}

// CapacityBytes is what the trace can carry between link times a and b (a ≤ b).
func (l *Link) CapacityBytes(a, b float64) float64 {
	P := l.period()
	t, bw := l.tr.TimeS, l.tr.BandwidthMbps
	total := 0.0
	for a < b {
		p := math.Mod(a, P)
		i := l.interval(p)
		end := math.Min(t[i], P)
		dt := math.Min(end-p, b-a)
		if dt <= 0 {
			a += 1e-9
			continue
		}
		total += bw[i] * 1e6 / 8 * dt
		a += dt
	}
	return total
}

// Since is the link time of t.
func (l *Link) Since(t time.Time) float64 { return t.Sub(l.start).Seconds() }
