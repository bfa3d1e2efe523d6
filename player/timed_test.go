package player

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/net/fetch"
)

// inMemory is an http.RoundTripper that serves requests from a handler in the calling
// goroutine: no sockets, so a synctest bubble's clock only moves when the session waits.
type inMemory struct{ h http.Handler }

func (m inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	m.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// slowDecoder decodes with the Go engine and then takes perSegment of (bubble) time for
// a whole segment, in proportion for a reduced frame rate (an injected decoder speed).
// With costs set, successive calls (over every decoder sharing it) take its durations
// per segment instead, until it runs out.
type slowDecoder struct {
	d          *decoder.SegmentDecoder
	perSegment time.Duration
	costs      *[]time.Duration
}

func (s slowDecoder) Decode(seg *decoder.Segment, k int) ([]*decoder.Frame, error) {
	return s.DecodeRate(seg, k, 0)
}

func (s slowDecoder) DecodeRate(seg *decoder.Segment, k, drop int) ([]*decoder.Frame, error) {
	f, err := s.d.DecodeRate(seg, k, drop)
	cost := s.perSegment
	if s.costs != nil && len(*s.costs) > 0 {
		cost, *s.costs = (*s.costs)[0], (*s.costs)[1:]
	}
	time.Sleep(cost * time.Duration(len(f)) / time.Duration(seg.Frames))
	return f, err
}

// ptsSink records the presentation times it is handed.
type ptsSink struct{ at []time.Duration }

func (s *ptsSink) Present(f *decoder.Frame, pts time.Duration) error {
	s.at = append(s.at, pts)
	return nil
}

// slowSink takes extra (bubble) time presenting frame number at.
type slowSink struct {
	at    int
	extra time.Duration
	n     int
}

func (s *slowSink) Present(f *decoder.Frame, pts time.Duration) error {
	if s.n == s.at {
		time.Sleep(s.extra)
	}
	s.n++
	return nil
}

// TestTimedPlayback plays on the media clock inside a synctest bubble (virtual time, no
// sockets), so stalls, drops, startup and the buffer cap are exact: 6 segments of 4 frames
// at 25 fps (D = 160 ms each).
func TestTimedPlayback(t *testing.T) {
	m, h := layerOrigin(t, 24, 3)
	const D = 160 * time.Millisecond
	var costs *[]time.Duration // per decode call, when set
	play := func(t *testing.T, decodeCost time.Duration, sink Sink, maxBufferS float64, onEvent func(Event)) *Summary {
		var sum *Summary
		synctest.Test(t, func(t *testing.T) {
			var err error
			sum, err = Run(context.Background(), Config{MPD: "http://origin/manifest.mpd",
				Fetcher: &fetch.Fetcher{Client: &http.Client{Transport: inMemory{h}}},
				Model:   m, Policy: fixed{3}, Sink: sink, MaxBufferS: maxBufferS, OnEvent: onEvent,
				NewDecoder: func() (SegmentDecoder, error) {
					return slowDecoder{decoder.NewSegmentDecoder(m, 1), decodeCost, costs}, nil
				}})
			if err != nil {
				t.Fatal(err)
			}
		})
		return sum
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

	t.Run("decoder keeps up", func(t *testing.T) {
		sum := play(t, 100*time.Millisecond, &slowSink{at: -1}, 30, nil)
		if sum.Frames != 24 || sum.Stalls != 0 || sum.DroppedFrames != 0 || !near(sum.StartupMS, 100) {
			t.Fatalf("want 24 frames, no stall, no drop, startup 100 ms: %+v", sum)
		}
	})
	t.Run("decoder at 1.25x the segment duration", func(t *testing.T) {
		// At the full rate segment n+1 would be late by 200 − 160 ms five times. Degrade,
		// never freeze: after the first segment (no deadline: startup), segments decode
		// their frames 0 and 2 only (S = 4 without the deepest level) in 100 ms, each shown
		// for two frame times; the decode window has grown to three segments (the decoder
		// is slow), so each half-rate segment gains 60 ms of lead, and once the lead covers
		// a full decode a segment is decoded whole again. (Costs are chosen so that
		// whether the presenter has shown the frame due at the instant the decoder looks
		// changes no choice between ½ and ¼; the lead may reach a full segment one
		// segment sooner or later.)
		var rates []string
		pts := &ptsSink{}
		sum := play(t, 200*time.Millisecond, pts, 30, func(e Event) {
			if e.Kind == "rate" {
				rates = append(rates, fmt.Sprintf("%d:%s", e.Segment, e.Action))
			}
		})
		if sum.Stalls != 0 || sum.DroppedFrames != 0 || !near(sum.StartupMS, 200) || sum.Frames != 24-sum.ReducedFrames ||
			sum.HalfRateSegments < 2 || sum.QuarterRateSegments != 0 || sum.ReducedFrames != 2*sum.HalfRateSegments || sum.RateWhy == "" {
			t.Fatalf("want no stall, 2 to 5 segments at half rate, none at a quarter, startup 200 ms: %+v", sum)
		}
		if len(rates) == 0 || rates[0] != "1:1/2" {
			t.Fatalf("rate events %q, want the first at segment 1 to 1/2", rates)
		}
		// Each frame is shown at its own time: the half-rate segments' frames 0 and 2 at
		// 0 and 80 ms into the segment, so presentation times stay on the 40 ms grid and
		// move forward by 40 or 80 ms.
		for i := 1; i < len(pts.at); i++ {
			if d := pts.at[i] - pts.at[i-1]; d != 40*time.Millisecond && d != 80*time.Millisecond {
				t.Fatalf("frame %d presented %v after the one before (want 40 or 80 ms): %v", i, d, pts.at)
			}
		}
	})
	t.Run("decoder at 3x the segment duration", func(t *testing.T) {
		// A quarter of the frames (the I-frame of each segment) decode in 120 ms.
		sum := play(t, 480*time.Millisecond, &slowSink{at: -1}, 30, nil)
		// (A lead of 40 ms per segment may let one segment decode at half the rate.)
		if sum.Stalls != 0 || sum.DroppedFrames != 0 || sum.QuarterRateSegments < 4 || sum.HalfRateSegments+sum.QuarterRateSegments != 5 ||
			sum.Frames != 24-sum.ReducedFrames {
			t.Fatalf("want segments 1 to 5 at a quarter (one may be at half) the rate, no stall: %+v", sum)
		}
	})
	t.Run("the full rate returns", func(t *testing.T) {
		// Slow for the first three decodes (1.25×), then quick (20 ms a segment): ½ rate
		// for segments 1 and 2, and for 3 unless the lead the half-rate segments gained
		// already covers a full decode at the remembered 50 ms a frame; the full rate
		// again from segment 3 or 4.
		c := []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
		costs = &c
		defer func() { costs = nil }()
		var rates []string
		sum := play(t, 20*time.Millisecond, &slowSink{at: -1}, 30, func(e Event) {
			if e.Kind == "rate" {
				rates = append(rates, fmt.Sprintf("%d:%s", e.Segment, e.Action))
			}
		})
		if sum.Stalls != 0 || sum.HalfRateSegments < 2 || sum.HalfRateSegments > 3 || sum.QuarterRateSegments != 0 || sum.Frames != 24-sum.ReducedFrames {
			t.Fatalf("want segments 1, 2 (and 3) at half rate, the rest full, no stall: %+v", sum)
		}
		if got := strings.Join(rates, " "); got != "1:1/2 4:1/1" && got != "1:1/2 3:1/1" {
			t.Fatalf("rate events %q, want 1:1/2 then 1/1 from segment 3 or 4", got)
		}
	})
	t.Run("a slow frame drops the next", func(t *testing.T) {
		// Frame 5 takes 100 ms more: frame 6 would be 60 ms late (> 1/25 s) and is dropped,
		// frame 7 is 20 ms late and shown.
		sum := play(t, 0, &slowSink{at: 5, extra: 100 * time.Millisecond}, 30, nil)
		if sum.Frames != 23 || sum.DroppedFrames != 1 || sum.Stalls != 0 {
			t.Fatalf("want one dropped frame: %+v", sum)
		}
	})
	t.Run("buffer cap", func(t *testing.T) {
		// With 320 ms of buffer allowed, segment n is requested once the playhead reaches
		// n·D − 320 ms: the frame presented then is number 4n − 9, at (4n − 9)·40 ms.
		req := map[int]float64{}
		sum := play(t, 0, &slowSink{at: -1}, 0.32, func(e Event) {
			if e.Kind == "transfer" && e.Segment >= 0 && len(e.URL) > 4 && e.URL[len(e.URL)-4:] == ".m4s" {
				if _, ok := req[e.Segment]; !ok {
					req[e.Segment] = e.TRequest
				}
			}
		})
		if sum.Frames != 24 || sum.Stalls != 0 {
			t.Fatalf("summary %+v", sum)
		}
		for n := 0; n < 6; n++ {
			want := math.Max(0, float64(n)*float64(D/time.Millisecond)-360)
			if !near(req[n], want) {
				t.Errorf("segment %d requested at %.3f ms, want %.0f ms (all: %v)", n, req[n], want, req)
			}
		}
	})
}
