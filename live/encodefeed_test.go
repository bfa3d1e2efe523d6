package live

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/internal/y4m"
)

// camera writes frames to a pipe as a Y4M stream in real time (one frame every 1/25 s on
// the test's clock), like `ffmpeg -re … -f yuv4mpegpipe -`.
func camera(t *testing.T, frames []*decoder.Frame) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w, err := y4m.NewWriter(pw, y4m.Header{Width: frames[0].W, Height: frames[0].H, FPSNum: 25, FPSDen: 1})
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		for _, f := range frames {
			time.Sleep(40 * time.Millisecond)
			if err := w.Write(f); err != nil {
				pw.CloseWithError(err)
				return
			}
			if err := w.Close(); err != nil { // flush: the frame is on the pipe now
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	return pr
}

// liveModel is the codec's model and the live preset.
func liveModel(t *testing.T) (*decoder.Model, encoder.Preset) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, err := encoder.PresetByName("live")
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

// TestEncodeFeedPipeline drives the live pipeline on the bubble's clock: a camera writes 26
// frames of a 48×32 clip in real time, the encode feed codes them (live preset, S = 4,
// 4-frame segments: 0.16 s), the streamer publishes them to a channel 0.1 s after capture. Every published
// segment must parse, decode with the layers published, and equal the encoder's
// reconstruction of every frame it made; the 2 frames of the incomplete last segment are
// reported, not encoded.
func TestEncodeFeedPipeline(t *testing.T) {
	m, live := liveModel(t)
	frames := testenc.Synthetic(48, 32, 26)
	synctest.Test(t, func(t *testing.T) {
		c, err := NewChannel(Config{Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		recon := map[int][][]*decoder.Frame{}
		start := time.Now()
		feed, err := NewEncodeFeed(t.Context(), camera(t, frames), EncodeConfig{Model: m, Preset: live, S: 4, Segment: 160 * time.Millisecond,
			OnEncoded: func(n int, e *encoder.Encoded, _ []*decoder.Frame) {
				mu.Lock()
				recon[n] = e.Recon
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		var reports []Report
		var published []time.Duration
		s := &Streamer{Client: &http.Client{Transport: handlerTransport{ingestMux(c)}}, Ingest: "https://origin/ingest/",
			Token: testToken, Feed: feed, Hold: 100 * time.Millisecond, OnSegment: func(r Report) {
				reports = append(reports, r)
				published = append(published, time.Since(start))
			}}
		if err := s.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(reports) != 6 || feed.Tail() != 2 {
			t.Fatalf("%d segments published, %d frames left over: want 6 and 2", len(reports), feed.Tail())
		}
		// The encoding takes no time on the bubble's clock: each segment is published the
		// Hold after its last frame arrives, with every layer.
		for i, r := range reports {
			if r.Late != 100*time.Millisecond || published[i] != time.Duration(4*(i+1))*40*time.Millisecond+100*time.Millisecond || r.Layers[0] != decoder.Layers ||
				r.Encoded == nil || r.Encoded.Layers != decoder.Layers || r.Encoded.Source != i || r.Encoded.Why != "" {
				t.Errorf("segment %d published at %v: %+v %+v", i, published[i], r, r.Encoded)
			}
		}
		if st := c.Status(); !st.Ended || st.Edge != 6 {
			t.Fatalf("channel %+v", st)
		}
		dec := decoder.NewSegmentDecoder(m, 1)
		for n := range 6 {
			var seg *decoder.Segment
			for l := range decoder.Layers {
				rep := fmt.Sprintf("s4-l%d", l)
				ib, err := c.Source(rep + "/init.mp4")
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := cmaf.ParseInit(ib)
				if err != nil {
					t.Fatal(err)
				}
				mb, err := c.Source(fmt.Sprintf("%s/seg-%d.m4s", rep, n+1))
				if err != nil {
					t.Fatalf("segment %d layer %d: %v", n, l, err)
				}
				num, data, err := cmaf.ParseMedia(cfg, mb)
				if err != nil || int(num) != n {
					t.Fatalf("segment %d layer %d: %v (number %d)", n, l, err, num)
				}
				if l == 0 {
					seg, err = decoder.ParseBaseUnit(data)
				} else {
					err = seg.AddUnit(data)
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := dec.Decode(seg, l+1)
				if err != nil {
					t.Fatal(err)
				}
				checked := 0
				for f, g := range got {
					want := recon[n][l][f]
					if want == nil {
						continue // a never-referenced frame's lower chain: not reconstructed
					}
					checked++
					if !bytes.Equal(g.Y, want.Y) || !bytes.Equal(g.U, want.U) || !bytes.Equal(g.V, want.V) {
						t.Errorf("segment %d, %d layers, frame %d: the decode differs from the encoder's reconstruction", n, l+1, f)
					}
				}
				if checked < 2 {
					t.Errorf("segment %d, %d layers: %d frames checked", n, l+1, checked)
				}
			}
		}
	})
}

// TestEncodeFeedDegrades: from a file read at its frame rate, an encoder slower than real time (its speed injected: 0.4 of a
// segment's duration per layer, one segment at a time) codes fewer layers while segments
// wait and says why, drops nothing once it keeps up, and every segment is published.
func TestEncodeFeedDegrades(t *testing.T) {
	m, live := liveModel(t)
	frames := testenc.Synthetic(48, 32, 48)
	synctest.Test(t, func(t *testing.T) {
		c, err := NewChannel(Config{Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		const segD = 160 * time.Millisecond
		// A file read at its frame rate (Pace) rather than a camera.
		var file bytes.Buffer
		w, err := y4m.NewWriter(&file, y4m.Header{Width: 48, Height: 32, FPSNum: 25, FPSDen: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			if err := w.Write(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		feed, err := NewEncodeFeed(ctx, &file, EncodeConfig{Model: m, Preset: live, S: 4, Segment: segD, Parallel: 1, Queue: 3, Pace: true,
			Cost: func(_, layers int) time.Duration { return time.Duration(layers) * segD * 4 / 10 }})
		if err != nil {
			t.Fatal(err)
		}
		var reports []Report
		s := &Streamer{Client: &http.Client{Transport: handlerTransport{ingestMux(c)}}, Ingest: "https://origin/ingest/",
			Token: testToken, Feed: feed, OnSegment: func(r Report) { reports = append(reports, r) }}
		if err := s.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fewest := decoder.Layers
		for _, r := range reports {
			e := r.Encoded
			t.Logf("segment %d: %d layers coded, %d waiting, %.2f s, late %v: %s", r.Segment, e.Layers, e.Queue, e.EncodeS, r.Late, e.Why)
			if (e.Layers < decoder.Layers) != (e.Why != "") || r.Layers[0] != e.Layers {
				t.Errorf("segment %d: %d layers coded, %d published, why %q", r.Segment, e.Layers, r.Layers[0], e.Why)
			}
			fewest = min(fewest, e.Layers)
		}
		last := reports[len(reports)-1].Encoded
		if fewest == decoder.Layers || last.Dropped != 0 || len(reports) != 12 {
			t.Fatalf("%d segments, fewest layers %d, %d dropped: want 12 segments, fewer layers, none dropped", len(reports), fewest, last.Dropped)
		}
	})
}

// TestEncodeFeedTruncatedSource: a source cut off mid-frame after two segments ends the
// stream — what was published stays, players learn it is over — and the error says why.
func TestEncodeFeedTruncatedSource(t *testing.T) {
	m, live := liveModel(t)
	var file bytes.Buffer
	w, err := y4m.NewWriter(&file, y4m.Header{Width: 48, Height: 32, FPSNum: 25, FPSDen: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range testenc.Synthetic(48, 32, 10) {
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cut := file.Bytes()[:file.Len()-100]
	synctest.Test(t, func(t *testing.T) {
		c, err := NewChannel(Config{Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		feed, err := NewEncodeFeed(t.Context(), bytes.NewReader(cut), EncodeConfig{Model: m, Preset: live, S: 4, Segment: 160 * time.Millisecond, Pace: true})
		if err != nil {
			t.Fatal(err)
		}
		s := &Streamer{Client: &http.Client{Transport: handlerTransport{ingestMux(c)}}, Ingest: "https://origin/ingest/", Token: testToken, Feed: feed}
		err = s.Run(t.Context())
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("run: %v, want the truncation", err)
		}
		if st := c.Status(); !st.Ended || st.Edge != 2 {
			t.Fatalf("channel %+v: want 2 segments published and the stream ended", st)
		}
	})
}
