package player

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/origin"
)

// fixed always fetches the next segment with k layers.
type fixed struct{ k int }

func (fixed) Name() string { return "fixed" }
func (fixed) Reset()       {}
func (p fixed) Decide(ctx context.Context, s *abr.State) abr.Action {
	return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: p.k - 1}
}

// upgrader fetches every segment's base layer, then upgrades it layer by layer to all
// layers before fetching the next (Swift's actions, deterministically).
type upgrader struct{}

func (upgrader) Name() string { return "upgrader" }
func (upgrader) Reset()       {}
func (upgrader) Decide(ctx context.Context, s *abr.State) abr.Action {
	if n := s.Next - 1; n >= 0 && s.Held[n] < s.Reach(n) {
		return abr.Action{Kind: abr.Upgrade, Segment: n, Quality: s.Held[n]}
	}
	return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: 0}
}

// recorder keeps copies of presented frames.
type recorder struct{ frames []*decoder.Frame }

func (r *recorder) Present(f *decoder.Frame, pts time.Duration) error {
	c := decoder.NewFrame(f.W, f.H)
	copy(c.Y, f.Y)
	copy(c.U, f.U)
	copy(c.V, f.V)
	r.frames = append(r.frames, c)
	return nil
}

func TestPlaysWhatTheEncoderReconstructed(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	frames := testenc.Synthetic(48, 32, 12)
	dir, encs := testenc.EncodeDir(t, m, frames, 4, 3, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{dir}, out, packager.Options{Joined: packager.JoinedVirtual}); err != nil {
		t.Fatal(err)
	}
	h, err := origin.New(origin.Config{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	root := h.Root()
	h2, _ := origin.New(origin.Config{Dir: out, Virtual: packager.JoinedSource(root)})
	defer h2.Close()
	srv2 := httptest.NewServer(h2)
	defer srv2.Close()
	for _, c := range []struct {
		name    string
		url     string
		k       int
		upgrade bool
	}{{"joined k=2", srv2.URL, 2, false}, {"layer by layer k=3", srv.URL, 3, false}, {"base then upgrades", srv2.URL, 3, true}} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			var snaps []Snapshot
			var policy abr.Policy = fixed{c.k}
			if c.upgrade {
				policy = upgrader{}
			}
			sum, err := Run(context.Background(), Config{MPD: c.url + "/manifest.mpd", Fetcher: &fetch.Fetcher{Client: srv.Client()},
				Model: m, Policy: policy, Sink: rec, Untimed: true, OnFrame: func(s Snapshot) { snaps = append(snaps, s) }})
			if err != nil {
				t.Fatal(err)
			}
			if len(snaps) != 12 || snaps[11].Frames != 12 || snaps[11].Segment != 2 || snaps[11].Layers != c.k || snaps[11].LayersMax != 3 || snaps[0].PSNRY <= 0 {
				t.Fatalf("snapshots: %d, last %+v", len(snaps), snaps[len(snaps)-1])
			}
			if sum.QoEQuality == 0 {
				t.Fatalf("no quality QoE: %+v", sum)
			}
			// The first segment is fetched at abr.DefaultQuality (2 layers), as Pensieve does.
			want, first := float64(2+2*c.k)/3, 2
			if c.upgrade {
				want, first = 3, 3 // segment 0 is upgraded from 2 layers too
				if sum.Upgrades != 5 || sum.WastedUpgrade != 0 {
					t.Fatalf("upgrades: %+v", sum)
				}
			}
			if sum.Frames != 12 || sum.Segments != 3 || sum.AvgLayers != want || sum.Stalls != 0 {
				t.Fatalf("summary %+v", sum)
			}
			for i, f := range rec.frames {
				k := c.k
				if i < 4 {
					k = first
				}
				want := decoder.Crop(encs[i/4].Recon[k-1][i%4], 48, 32, nil)
				if !bytes.Equal(f.Y, want.Y) || !bytes.Equal(f.V, want.V) {
					t.Fatalf("frame %d differs from the encoder's k=%d reconstruction", i, c.k)
				}
			}
		})
	}
	t.Run("start at segment 1 (seek)", func(t *testing.T) {
		rec := &recorder{}
		sum, err := Run(context.Background(), Config{MPD: srv2.URL + "/manifest.mpd", Fetcher: &fetch.Fetcher{Client: srv.Client()},
			Model: m, Policy: fixed{3}, Sink: rec, Untimed: true, StartSegment: 1})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Frames != 8 || sum.Segments != 2 || len(rec.frames) != 8 {
			t.Fatalf("summary %+v", sum)
		}
		for i, f := range rec.frames {
			k := 3
			if i < 4 {
				k = 2 // the first segment fetched is at abr.DefaultQuality
			}
			if want := decoder.Crop(encs[1+i/4].Recon[k-1][i%4], 48, 32, nil); !bytes.Equal(f.Y, want.Y) {
				t.Fatalf("frame %d differs from segment %d's reconstruction", i, 1+i/4)
			}
		}
		if _, err := Run(context.Background(), Config{MPD: srv2.URL + "/manifest.mpd", Fetcher: &fetch.Fetcher{Client: srv.Client()},
			Model: m, Policy: fixed{3}, Sink: rec, Untimed: true, StartSegment: 3}); err == nil {
			t.Fatal("a start segment past the end was accepted")
		}
	})
	srv.Close()
	srv2.Close()
	srv.Client().CloseIdleConnections()
	noLeak(t, before)
}

// TestSubGOPProbe: with SubGOPAuto the player times every variant's first segment on its
// decoder and, when all decode far faster than real time (tiny frames), takes the smallest S.
func TestSubGOPProbe(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := testenc.Synthetic(48, 32, 8)
	d2, _ := testenc.EncodeDir(t, m, frames, 2, 2, 4)
	d4, _ := testenc.EncodeDir(t, m, frames, 4, 2, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{d4, d2}, out, packager.Options{Joined: packager.JoinedVirtual}); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	h, err := origin.New(origin.Config{Dir: out, Virtual: packager.JoinedSource(root)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	var probeEvent string
	sum, err := Run(context.Background(), Config{MPD: srv.URL + "/manifest.mpd", Fetcher: &fetch.Fetcher{Client: srv.Client()},
		Model: m, Policy: fixed{2}, Sink: &recorder{}, Untimed: true, SubGOP: SubGOPAuto,
		OnEvent: func(e Event) {
			if e.Kind == "probe" {
				probeEvent = e.Action
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.SubGOP != 2 || len(sum.Probes) != 2 || sum.Probes[0].SubGOP != 2 || sum.Probes[1].SubGOP != 4 || !(sum.Probes[0].FPS > 0) || sum.Frames != 8 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.FrameRate != 25 || probeEvent == "" {
		t.Fatalf("frame rate %v, probe event %q", sum.FrameRate, probeEvent)
	}
	t.Logf("probe: %s", probeEvent)
}

// A policy handed over cfg.Policies mid-session (the A key) takes over: the summary names it
// and, under -race, no goroutine but the downloader touches the policy.
func TestPolicySwitch(t *testing.T) {
	m, h := layerOrigin(t, 12, 3)
	srv := httptest.NewServer(h)
	defer srv.Close()
	policies := make(chan abr.Policy, 1)
	policies <- fixed{3}
	var decisions []string
	sum, err := Run(context.Background(), Config{MPD: srv.URL + "/manifest.mpd", Fetcher: &fetch.Fetcher{Client: srv.Client()},
		Model: m, Policy: upgrader{}, Policies: policies, Sink: &recorder{}, Untimed: true,
		OnEvent: func(e Event) {
			if e.Kind == "decision" {
				decisions = append(decisions, e.Policy)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Policy != "fixed" || len(decisions) == 0 || decisions[len(decisions)-1] != "fixed" {
		t.Fatalf("summary policy %q, decisions by %v", sum.Policy, decisions)
	}
}
