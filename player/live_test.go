package player

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/live"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/origin"
)

const liveToken = "0123456789abcdef-live"

// memTransport answers requests with a handler in memory: no sockets, so a whole live
// session (streamer, origin, player) runs on synctest's clock.
type memTransport struct{ h http.Handler }

func (t memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// liveSource encodes a synthetic 48×32 clip (S = 4, 4-frame segments of 0.16 s, 3 layers)
// and reads it back as a live source.
func liveSource(t *testing.T, segs int) (*decoder.Model, *live.Source) {
	t.Helper()
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	return m, packagedSource(t, m, testenc.Synthetic(48, 32, 4*segs))
}

// packagedSource encodes frames (S = 4, 3 layers, 4-frame segments), packages them and
// reads them back as a live streamer's source.
func packagedSource(t *testing.T, m *decoder.Model, frames []*decoder.Frame) *live.Source {
	t.Helper()
	dir, _ := testenc.EncodeDir(t, m, frames, 4, 3, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{dir}, out, packager.Options{Joined: packager.JoinedNone}); err != nil {
		t.Fatal(err)
	}
	src, err := live.ReadPackaged(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// stallingSink presents frames and, once, takes a long time over one.
type stallingSink struct {
	at    int
	pause time.Duration
	n     int
}

func (s *stallingSink) Present(*decoder.Frame, time.Duration) error {
	s.n++
	if s.n == s.at {
		time.Sleep(s.pause)
	}
	return nil
}

// runLive streams 40 segments (6.4 s) of a looped 4-segment source through a live channel
// and plays them from 1 s after the stream started; everything runs in a synctest bubble.
func runLive(t *testing.T, sink Sink) (*Summary, []Snapshot) {
	return runLiveWith(t, sink, fixed{3}, 0)
}

// runLiveWith is runLive with a policy and a buffer cap (0: the default).
func runLiveWith(t *testing.T, sink Sink, policy abr.Policy, maxBufferS float64) (*Summary, []Snapshot) {
	m, src := liveSource(t, 4)
	var sum *Summary
	var snaps []Snapshot
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, err := live.NewChannel(live.Config{Token: liveToken})
		if err != nil {
			t.Fatal(err)
		}
		o, err := origin.New(origin.Config{Virtual: c.Source})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/ingest/", http.StripPrefix("/ingest", c.IngestHandler()))
		mux.Handle("/", o)
		client := &http.Client{Transport: memTransport{mux}}
		st := &live.Streamer{Client: client, Ingest: "https://origin/ingest/", Token: liveToken, Source: src, Segments: 40}
		done := make(chan error, 1)
		go func() { done <- st.Run(ctx) }()
		time.Sleep(time.Second)
		sum, err = Run(ctx, Config{MPD: "https://origin/manifest.mpd", Fetcher: &fetch.Fetcher{Client: client}, Model: m,
			Policy: policy, Sink: sink, MaxBufferS: maxBufferS, OnFrame: func(s Snapshot) { snaps = append(snaps, s) }})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	return sum, snaps
}

func TestLivePlaysAtTheTargetLatency(t *testing.T) {
	sum, snaps := runLive(t, &stallingSink{})
	// (The first segment is fetched with 2 layers, as Pensieve does.)
	// Joined 1 s in with the MPD's suggested delay (3 segments, 0.48 s): the first segment
	// that can be shown 0.48 s behind the edge with a segment to spare is 5.
	if !sum.Live || sum.LiveJoin != 5 || sum.LiveDelayS != 0.48 {
		t.Fatalf("live summary %+v", sum)
	}
	if sum.Frames != 35*4 || sum.Stalls != 0 || sum.DroppedFrames != 0 || sum.LiveSkippedS != 0 || sum.AvgLayers != float64(2+34*3)/35 {
		t.Fatalf("summary %+v", sum)
	}
	if math.Abs(sum.LiveLatencyS-0.48) > 1e-6 || math.Abs(sum.MaxLiveLatencyS-0.48) > 1e-6 {
		t.Fatalf("latency mean %.4f max %.4f, want 0.48", sum.LiveLatencyS, sum.MaxLiveLatencyS)
	}
	if last := snaps[len(snaps)-1]; !last.Live || math.Abs(last.LiveLatencyS-0.48) > 1e-6 || last.Segment != 39 || last.Segments != 40 {
		t.Fatalf("last snapshot %+v", last)
	}
}

func TestLiveCatchesUpAfterAStall(t *testing.T) {
	sum, snaps := runLive(t, &stallingSink{at: 30, pause: time.Second})
	if sum.Stalls == 0 || sum.LiveSkippedS < 0.64 || sum.MaxLiveLatencyS < 1.4 {
		t.Fatalf("a 1 s stall: %+v", sum)
	}
	// Back within a segment of the target latency once the dropped segments are skipped.
	if last := snaps[len(snaps)-1]; last.LiveLatencyS > 0.48+0.16+1e-6 {
		t.Fatalf("latency at the end %.3f s (skipped %.2f s)", last.LiveLatencyS, sum.LiveSkippedS)
	}
	t.Logf("stall %.2f s, skipped %.2f s, latency max %.2f s, mean %.2f s", sum.StallS, sum.LiveSkippedS, sum.MaxLiveLatencyS, sum.LiveLatencyS)
}

// liveSidecar is a live origin's quality sidecar (two segments, the second with one layer).
const liveSidecar = `{"version":6,"width":48,"height":32,"fps_num":25,"fps_den":1,"subgop":4,"layers":2,"segments":7,"segment_frames":4,"frames":28,"model_sha256":"4aa1f34920613099","quality":[{"segment":5,"frames":4,"levels":[{"layers":1,"bytes":300,"psnr_y":30,"psnr_yuv":31,"ssim_y":0.9,"worst_psnr_y":29},{"layers":2,"bytes":700,"psnr_y":34,"psnr_yuv":35,"ssim_y":0.95,"worst_psnr_y":33}]},{"segment":6,"frames":4,"levels":[{"layers":1,"bytes":310,"psnr_y":30.5,"psnr_yuv":31,"ssim_y":0.9,"worst_psnr_y":29}]}],"live":{"first_segment":5,"ended":false}}`

func TestLiveSidecar(t *testing.T) {
	l := &liveState{}
	si, err := parseLiveQuality([]byte(liveSidecar), 2)
	if err != nil {
		t.Fatal(err)
	}
	l.merge(si)
	v, err := l.view(0.16)
	if err != nil {
		t.Fatal(err)
	}
	// Segments 0..4 were never seen (before the window), 6 lacks layer 2: both borrow the
	// newest complete row's levels for the ABR; the video reaches liveLookahead past the edge.
	if v.known != 7 || v.ended || len(v.quality.Quality) != 7 || v.video.Chunks != 7+liveLookahead ||
		v.quality.Quality[6].Levels[1].PSNRY != 34 || v.quality.Quality[6].Levels[0].PSNRY != 30.5 || v.quality.Quality[0].Levels[1].Bytes != 700 {
		t.Fatalf("view %+v, video %d chunks", v.quality.Quality, v.video.Chunks)
	}
	for _, bad := range []string{
		strings.Replace(liveSidecar, `"first_segment":5`, `"first_segment":4`, 1),
		strings.Replace(liveSidecar, `"segment":6`, `"segment":7`, 1),
		strings.Replace(liveSidecar, `"layers":2,"segments"`, `"layers":3,"segments"`, 1),
		strings.Replace(liveSidecar, `"bytes":310`, `"bytes":-1`, 1),
		strings.Replace(liveSidecar, `,"live":{"first_segment":5,"ended":false}`, ``, 1),
	} {
		if _, err := parseLiveQuality([]byte(bad), 2); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzParseLiveQuality(f *testing.F) {
	f.Add([]byte(liveSidecar))
	f.Add([]byte(`{"version":6,"width":1,"height":1,"layers":1,"segments":0,"segment_frames":1,"live":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		si, err := parseLiveQuality(b, 2)
		if err != nil {
			return
		}
		l := &liveState{}
		l.merge(si)
		v, err := l.view(0.16)
		if err != nil {
			return
		}
		if v.known != si.Segments || len(v.quality.Quality) != v.known {
			t.Fatalf("view of %d segments from %d", v.known, si.Segments)
		}
		for _, q := range v.quality.Quality {
			if len(q.Levels) != 2 {
				t.Fatalf("row %+v", q)
			}
		}
	})
}

// TestLiveEnhancement is LiveNAS end to end in a synctest bubble: the streamer sends
// patches of the source beside a 96×64 stream, the origin trains an enhancement model
// online and publishes versions in its model track, and the player fetches the newest
// and applies it to the frames decoded with the layer count it was trained for.
// sizeSink counts the frames presented at a size.
type sizeSink struct {
	w, h, n int
}

func (s *sizeSink) Present(f *decoder.Frame, _ time.Duration) error {
	if f.W == s.w && f.H == s.h {
		s.n++
	}
	return nil
}

func TestLiveEnhancement(t *testing.T) { testLiveEnhancement(t, 1, false) }

// TestLiveUpsampler: a half-resolution live stream whose origin trains an upsampler from
// the full-resolution source's patches; the player shows the doubled frames.
func TestLiveUpsampler(t *testing.T) { testLiveEnhancement(t, 2, false) }

// TestFixedUpsampler: a half-resolution stream played with Config.Upsampler (no model
// track): every frame is doubled.
func TestFixedUpsampler(t *testing.T) { testLiveEnhancement(t, 2, true) }

func testLiveEnhancement(t *testing.T, scale int, fixedUp bool) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := testenc.Synthetic(96, 64, 16)
	coded := frames
	if scale == 2 {
		coded = make([]*decoder.Frame, len(frames))
		for i, f := range frames {
			coded[i] = enhance.BicubicDown(f)
		}
	}
	src := packagedSource(t, m, coded)
	init, _ := enhance.New(8, 1)
	init.Scale = scale
	sink := &sizeSink{w: 96, h: 64}
	segs, steps := 40, 30
	if testing.Short() { // the race detector's pass: a shorter stream, less training
		segs, steps = 20, 15
	}
	var sum *Summary
	var marked, upscaled int // segments whose stats name a model; of those, doubled
	onSeg := func(ss SegmentStats) {
		if ss.Enhance != 0 {
			marked++
			if ss.Upscaled {
				upscaled++
			}
		}
	}
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		cfg := live.Config{Token: liveToken, Enhance: &live.EnhanceConfig{Codec: m, Init: init, StepsPerSegment: steps,
			Online: enhance.OnlineConfig{SaturationDB: -1}}}
		var up *enhance.Net
		if fixedUp {
			cfg.Enhance, up = nil, init.Clone()
			up.Layers[2].Bias[0] = 0.01 // not the identity
		}
		c, err := live.NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		o, _ := origin.New(origin.Config{Virtual: c.Source})
		mux := http.NewServeMux()
		mux.Handle("/ingest/", http.StripPrefix("/ingest", c.IngestHandler()))
		mux.Handle("/", o)
		client := &http.Client{Transport: memTransport{mux}}
		st := &live.Streamer{Client: client, Ingest: "https://origin/ingest/", Token: liveToken, Source: src, Segments: segs,
			PatchShare: 0.5, Patches: func(i, s int) ([]byte, error) {
				// Four 32×32 crops of the segment's first frame.
				f := frames[s*4]
				var ps []live.SourcePatch
				for k := 0; k < 4; k++ {
					x, y := (k%3)*32, (k/3)*32
					p := live.SourcePatch{Frame: 0, X: x, Y: y, Size: 32, Luma: make([]byte, 32*32)}
					for yy := 0; yy < 32; yy++ {
						copy(p.Luma[yy*32:(yy+1)*32], f.Y[(y+yy)*f.W+x:])
					}
					ps = append(ps, p)
				}
				return live.MarshalPatches(ps)
			}}
		if fixedUp {
			st.Patches = nil
		}
		done := make(chan error, 1)
		go func() { done <- st.Run(ctx) }()
		time.Sleep(time.Second)
		sum, err = Run(ctx, Config{MPD: "https://origin/manifest.mpd", Fetcher: &fetch.Fetcher{Client: client}, Model: m,
			Policy: fixed{1}, Sink: sink, Enhance: !fixedUp, Upsampler: up, OnSegment: onSeg})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	// The segments' stats (and so the overlay) say which were made by a model, and doubled.
	if marked == 0 || (scale == 2) != (upscaled == marked) || scale == 1 && upscaled != 0 {
		t.Errorf("%d segments marked enhanced, %d of them upscaled (scale %d)", marked, upscaled, scale)
	}
	if fixedUp {
		if sum.UpsampledFrames == 0 || sum.UpsampledFrames != sink.n || sum.Stalls != 0 {
			t.Fatalf("%d frames presented at 96x64; summary %+v", sink.n, sum)
		}
		return
	}
	if sum.EnhanceModels < 1 || sum.EnhancedFrames == 0 || sum.EnhanceVersion < 2 || sum.Stalls != 0 {
		t.Fatalf("enhancement: %+v", sum)
	}
	// Enhanced frames are at the source's size (for scale 2 only they are).
	if want := sum.EnhancedFrames; scale == 2 && sink.n != want || scale == 1 && sink.n != sum.Frames {
		t.Fatalf("%d frames presented at 96x64, want %d (%d enhanced of %d)", sink.n, want, sum.EnhancedFrames, sum.Frames)
	}
	t.Logf("%d models fetched, %d of %d frames enhanced, newest version %d", sum.EnhanceModels, sum.EnhancedFrames, sum.Frames, sum.EnhanceVersion)
}

// TestLiveCatchUpWithPartialSegments: segments fetched with fewer layers than the stream
// has commit only when the playhead comes near; dropping several in a row to catch up
// must move the playhead past them (it once left the decoder waiting forever, with the
// downloader held by its buffer cap).
func TestLiveCatchUpWithPartialSegments(t *testing.T) {
	sum, _ := runLiveWith(t, &stallingSink{at: 30, pause: time.Second}, fixed{1}, 0.8)
	if sum.LiveSkippedS < 0.32 || sum.Segments < 30 {
		t.Fatalf("summary %+v", sum)
	}
}

// TestFillLevels: a live segment published with fewer layers (an encoder behind, an uplink
// that dropped some) is completed for the ABR's estimates with the template's layer sizes on
// top of its own bytes, never smaller than what it has (a segment coded with one big layer
// once made a negative layer size and ended the session).
func TestFillLevels(t *testing.T) {
	have := []stream.Level{{Layers: 1, Bytes: 5000, PSNRY: 33}}
	tmpl := []stream.Level{{Layers: 1, Bytes: 1000, PSNRY: 30}, {Layers: 2, Bytes: 1500, PSNRY: 34}, {Layers: 3, Bytes: 2500, PSNRY: 38}}
	got := fillLevels(have, tmpl)
	want := []int{5000, 5500, 6500}
	for k, l := range got {
		if l.Layers != k+1 || l.Bytes != want[k] {
			t.Fatalf("level %d: %+v, want %d bytes", k+1, l, want[k])
		}
	}
	if got[0].PSNRY != 33 || got[2].PSNRY != 38 || have[0].Bytes != 5000 || len(have) != 1 {
		t.Fatalf("%+v (have %+v)", got, have)
	}
}
