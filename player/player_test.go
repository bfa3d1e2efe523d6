package player

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/render"
)

// counting counts the requests per path that reach h.
type counting struct {
	h  http.Handler
	mu sync.Mutex
	n  map[string]int
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

// TestSeekKeepsTheBuffer plays on the media clock in a synctest bubble (12 segments of 4
// frames at 25 fps, everything fetched ahead), seeks forward from segment 1 to segment 6,
// then back from segment 8 to segment 2: every segment and init segment crosses the network
// once, the sessions after the seeks play what was fetched before them (held), and a policy
// switched on the Player carries across the seek. A pause in between freezes the clock.
func TestSeekKeepsTheBuffer(t *testing.T) {
	m, h := layerOrigin(t, 48, 3)
	c := &counting{h: h, n: map[string]int{}}
	const D = 160 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		var p *Player
		var seen []int // segments presented, in order
		phase := 0
		var err error
		p, err = New(Config{MPD: "http://origin/manifest.mpd",
			Fetcher: &fetch.Fetcher{Client: &http.Client{Transport: inMemory{c}}},
			Model:   m, Policy: fixed{3}, Sink: &render.Headless{}, MaxBufferS: 30,
			NewDecoder: func() (SegmentDecoder, error) {
				return slowDecoder{d: decoder.NewSegmentDecoder(m, 1), perSegment: 20 * time.Millisecond}, nil
			},
			OnSegment: func(ss SegmentStats) {
				seen = append(seen, ss.Segment)
				switch {
				case phase == 0 && ss.Segment == 1:
					phase = 1
					p.Seek(6 * D)
				case phase == 1 && ss.Segment == 8:
					phase = 2
					p.SetPolicy(fixed{2})
					p.SeekBy(-6 * D) // from segment 8's frames back to segment 2
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var sum *Summary
		var runErr error
		go func() {
			defer close(done)
			sum, runErr = p.Run(context.Background())
		}()
		// A pause: the media clock stops, no frame is presented while it lasts.
		time.Sleep(2 * D)
		synctest.Wait()
		p.SetPaused(true)
		before := p.Snapshot().Frames
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := p.Snapshot().Frames; got != before || !p.Paused() {
			t.Fatalf("paused: frames %d → %d", before, got)
		}
		p.SetPaused(false)
		<-done
		if runErr != nil {
			t.Fatal(runErr)
		}
		want := []int{0, 1, 6, 7, 8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		if !equalInts(seen, want) {
			t.Fatalf("segments presented %v, want %v", seen, want)
		}
		// The session started by the second seek (at segment 2) held 2..11, fetched before it.
		if sum.HeldSegments != 10 || sum.Frames != 40 || sum.Stalls != 0 || sum.Policy != "fixed" {
			t.Fatalf("session after the second seek: %+v", sum)
		}
		if p.Held() != 12 {
			t.Fatalf("held %d segments, want 12", p.Held())
		}
	})
	media := 0
	for path, n := range c.n {
		if strings.HasSuffix(path, ".m4s") || strings.HasSuffix(path, ".mp4") {
			media++
			if n != 1 {
				t.Errorf("%s fetched %d times", path, n)
			}
		}
	}
	// 12 segments of 3 layers but the first (fetched at abr.DefaultQuality, 2 layers, as
	// Pensieve's first chunk), and 3 init segments.
	if want := 12*3 - 1 + 3; media != want {
		t.Errorf("%d media and init paths fetched, want %d: %v", media, want, c.n)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
