package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

// handlerTransport answers requests with a handler in memory (no sockets, so the streamer's
// schedule runs on synctest's clock).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func ingestMux(c *Channel) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ingest/", http.StripPrefix("/ingest", c.IngestHandler()))
	return mux
}

func TestStreamerSchedule(t *testing.T) {
	src := testSource(t, 3, 3)
	synctest.Test(t, func(t *testing.T) {
		c, err := NewChannel(Config{Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var reports []Report
		var edges []int
		s := &Streamer{Client: &http.Client{Transport: handlerTransport{ingestMux(c)}}, Ingest: "https://origin/ingest/",
			Token: testToken, Source: src, Segments: 8, OnSegment: func(r Report) {
				reports = append(reports, r)
				edges = append(edges, c.Status().Edge)
			}}
		if err := s.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Segment i is published at its capture time (i+1)·0.16 s, with every layer.
		if len(reports) != 8 || time.Since(start) != 8*160*time.Millisecond {
			t.Fatalf("%d segments in %v", len(reports), time.Since(start))
		}
		for i, r := range reports {
			if r.Layers[0] != 3 || r.Late != 0 || edges[i] != i+1 {
				t.Errorf("segment %d: %+v, edge %d", i, r, edges[i])
			}
		}
		st := c.Status()
		if !st.Ended || st.Edge != 8 || !st.AvailabilityStart.Equal(start) {
			t.Fatalf("channel %+v, started %v", st, start)
		}
		// The source looped: live segment 4 is source segment 1, renumbered.
		if _, err := c.Source("s4-l2/seg-5.m4s"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStreamerDropsLayersTheUplinkCannotCarry(t *testing.T) {
	src := testSource(t, 3, 2)
	v := src.Variants[0]
	// An uplink that carries the base layer and not much more within a segment time.
	base := 0
	for n := range v.Units {
		base = max(base, len(v.Units[n][0]))
	}
	kbps := float64(base) * 8 / 0.16 / 1000 * 2
	synctest.Test(t, func(t *testing.T) {
		c, err := NewChannel(Config{Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		tr := &trace.Trace{TimeS: []float64{0, 1000}, BandwidthMbps: []float64{kbps / 1000, kbps / 1000}}
		var reports []Report
		s := &Streamer{Client: &http.Client{Transport: handlerTransport{ingestMux(c)}}, Ingest: "https://origin/ingest/",
			Token: testToken, Source: src, Segments: 6, Uplink: shape.NewLink(tr, 0, time.Now),
			OnSegment: func(r Report) { reports = append(reports, r) }}
		if err := s.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		dropped := 0
		for _, r := range reports {
			if r.Layers[0] < 1 || r.Late > 2*160*time.Millisecond {
				t.Errorf("segment %+v", r)
			}
			dropped += 3 - r.Layers[0]
		}
		t.Logf("%.0f kbit/s uplink: %d of 12 enhancement layers dropped", kbps, dropped)
		if dropped == 0 {
			t.Fatalf("a %.0f kbit/s uplink carried every layer: %+v", kbps, reports)
		}
		if st := c.Status(); st.Edge != 6 || st.Held != 6 {
			t.Fatalf("channel %+v", st)
		}
	})
}
