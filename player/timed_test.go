package player

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
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

// slowDecoder decodes with the Go engine and then takes perSegment of (bubble) time.
type slowDecoder struct {
	d          *decoder.SegmentDecoder
	perSegment time.Duration
}

func (s slowDecoder) Decode(seg *decoder.Segment, k int) ([]*decoder.Frame, error) {
	f, err := s.d.Decode(seg, k)
	time.Sleep(s.perSegment)
	return f, err
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
	play := func(t *testing.T, decodeCost time.Duration, sink Sink, maxBufferS float64, onEvent func(Event)) *Summary {
		var sum *Summary
		synctest.Test(t, func(t *testing.T) {
			var err error
			sum, err = Run(context.Background(), Config{MPD: "http://origin/manifest.mpd",
				Fetcher: &fetch.Fetcher{Client: &http.Client{Transport: inMemory{h}}},
				Model:   m, Policy: fixed{3}, Sink: sink, MaxBufferS: maxBufferS, OnEvent: onEvent,
				NewDecoder: func() (SegmentDecoder, error) {
					return slowDecoder{decoder.NewSegmentDecoder(m, 1), decodeCost}, nil
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
	t.Run("decoder at 1.5x the segment duration", func(t *testing.T) {
		// Segment n+1 decodes while n plays: it is late by 240 − 160 ms, five times.
		sum := play(t, 240*time.Millisecond, &slowSink{at: -1}, 30, nil)
		if sum.Frames != 24 || sum.Stalls != 5 || !near(sum.StallS, 0.4) || sum.DroppedFrames != 0 || !near(sum.StartupMS, 240) {
			t.Fatalf("want 5 stalls of 80 ms, startup 240 ms: %+v", sum)
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
