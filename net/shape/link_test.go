package shape

import (
	"math"
	"testing"
	"time"

	"github.com/strata-player/strata/net/trace"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestReserveFollowsTrace(t *testing.T) {
	// 8 Mbit/s for 1 s, then 0.8 Mbit/s for 1 s, looped.
	tr := &trace.Trace{TimeS: []float64{0, 1, 2}, BandwidthMbps: []float64{8, 8, 0.8}}
	c := &fakeClock{t: time.Unix(100, 0)}
	l := NewLink(tr, 20*time.Millisecond, c.now)
	// 1 MB fills the first second exactly; 50 kB more take half of the slow second.
	if d := l.Since(l.Reserve(1e6)); math.Abs(d-1) > 1e-9 {
		t.Fatalf("1 MB done at %v s, want 1", d)
	}
	if d := l.Since(l.Reserve(50e3)); math.Abs(d-1.5) > 1e-9 {
		t.Fatalf("then 50 kB done at %v s, want 1.5", d)
	}
	// An idle link grants at most 20 ms of credit.
	c.t = c.t.Add(10 * time.Second) // link time 10 s = trace time 0 (fast second)
	d := l.Since(l.Reserve(1e6))
	// The 20 ms of credit fall in the slow second's end (2 kB), the rest in the fast one.
	if want := 10 + (1e6-2e3)/1e6; math.Abs(d-want) > 1e-9 {
		t.Fatalf("after idling: done at %v, want %v", d, want)
	}
	if got := l.CapacityBytes(0, 4); math.Abs(got-2*1.1e6) > 1e-6 {
		t.Fatalf("capacity over two loops %v", got)
	}
	// A huge reservation finishes (whole loops are skipped arithmetically).
	if d := l.Since(l.Reserve(1e12)); math.IsInf(d, 0) || d < 1e6 {
		t.Fatalf("1 TB done at %v", d)
	}
}
