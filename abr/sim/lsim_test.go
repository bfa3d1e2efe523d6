package sim

import (
	"context"
	"math"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/net/trace"
)

// layeredTestVideo: 3 segments of 2 s (40 frames at 20 fps), 2 layers of 500 kB each, so
// the joined object with both layers takes 1 s on a 1 MB/s link.
func layeredTestVideo(t *testing.T) *abr.Video {
	t.Helper()
	cum := [][]int64{{500_000, 1_000_000}, {500_000, 1_000_000}, {500_000, 1_000_000}}
	layer := [][]int64{{500_000, 500_000}, {500_000, 500_000}, {500_000, 500_000}}
	psnr := [][]float64{{30, 35}, {30, 35}, {30, 35}}
	v, err := abr.NewLayeredVideo("test", 2, cum, layer, psnr, []int{40, 40, 40}, 20)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// constTrace is 8 Mbit/s (1 MB/s) for 1000 s.
func constTrace() *trace.Trace {
	return &trace.Trace{Name: "const", TimeS: []float64{0, 1000}, BandwidthMbps: []float64{8, 8}}
}

type fetchAll struct{ q int }

func (fetchAll) Name() string { return "fetch-all" }
func (fetchAll) Reset()       {}
func (p fetchAll) Decide(ctx context.Context, s *abr.State) abr.Action {
	return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: p.q}
}

func TestLayeredSimulatorTiming(t *testing.T) {
	v := layeredTestVideo(t)
	link := &LinkModel{RTTMs: 0, Payload: 1}
	for _, c := range []struct {
		fps        float64
		play       []float64 // play start of each segment
		stallAfter float64   // stalls after startup
	}{
		{0, []float64{1, 3, 5}, 0},   // decoding takes no time: startup = first download
		{20, []float64{3, 5, 7}, 0},  // real time: one segment of decode delay
		{10, []float64{5, 9, 13}, 4}, // half real time: 2 s stall per later segment
		{40, []float64{2, 4, 6}, 0},  // twice real time
	} {
		res, err := SimulateLayered(fetchAll{1}, constTrace(), LayeredConfig{Video: v, Link: link, DecodeFPS: c.fps})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Chunks) != 3 {
			t.Fatalf("fps %v: %d segments", c.fps, len(res.Chunks))
		}
		stall := 0.0
		for n, ch := range res.Chunks {
			if math.Abs(ch.TimeS-c.play[n]) > 1e-9 {
				t.Errorf("fps %v: segment %d plays at %v, want %v", c.fps, n, ch.TimeS, c.play[n])
			}
			if n > 0 {
				stall += ch.RebufferS
			}
			if ch.Quality != 1 || ch.PSNRY != 35 {
				t.Errorf("fps %v: segment %d quality %d psnr %v", c.fps, n, ch.Quality, ch.PSNRY)
			}
		}
		if math.Abs(stall-c.stallAfter) > 1e-9 || math.Abs(res.Chunks[0].RebufferS-c.play[0]) > 1e-9 {
			t.Errorf("fps %v: stalls %v after a startup of %v, want %v after %v", c.fps, stall, res.Chunks[0].RebufferS, c.stallAfter, c.play[0])
		}
		// QoE on decoded quality: 3.5 per segment, minus 4.3 per stalled second.
		want := 3.5 - 4.3*c.play[0]
		if math.Abs(res.Chunks[0].Reward-want) > 1e-9 {
			t.Errorf("fps %v: reward %v, want %v", c.fps, res.Chunks[0].Reward, want)
		}
	}
}

// baseThenUpgrade fetches base layers only, then asks once to upgrade the given segment.
type baseThenUpgrade struct {
	seg  int
	done bool
}

func (*baseThenUpgrade) Name() string { return "base-then-upgrade" }
func (*baseThenUpgrade) Reset()       {}
func (p *baseThenUpgrade) Decide(ctx context.Context, s *abr.State) abr.Action {
	if s.Next == s.Video.Chunks && !p.done {
		p.done = true
		return abr.Action{Kind: abr.Upgrade, Segment: p.seg, Quality: 1}
	}
	return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: 0}
}

func TestLayeredSimulatorUpgrades(t *testing.T) {
	v := layeredTestVideo(t)
	link := &LinkModel{RTTMs: 0, Payload: 1}
	// Segment 0 (fetched with DefaultQuality = both layers) is committed long before;
	// the last segment is not yet (its decode window opens at 2 s of media).
	for _, c := range []struct {
		seg            int
		wasted, layers int
	}{{2, 0, 2}, {1, 1, 1}} {
		res, err := SimulateLayered(&baseThenUpgrade{seg: c.seg}, constTrace(), LayeredConfig{Video: v, Link: link})
		if err != nil {
			t.Fatal(err)
		}
		if res.Upgrades != 1 || res.WastedUpgrades != c.wasted || res.Chunks[c.seg].Quality+1 != c.layers {
			t.Errorf("upgrade of segment %d: %d upgrades, %d wasted, %d layers", c.seg, res.Upgrades, res.WastedUpgrades, res.Chunks[c.seg].Quality+1)
		}
	}
	// A malformed upgrade (not the next layer) is an error, not a silent no-op.
	if _, err := SimulateLayered(badUpgrade{}, constTrace(), LayeredConfig{Video: v, Link: link}); err == nil {
		t.Error("an upgrade skipping a layer was accepted")
	}
}

type badUpgrade struct{}

func (badUpgrade) Name() string { return "bad" }
func (badUpgrade) Reset()       {}
func (badUpgrade) Decide(ctx context.Context, s *abr.State) abr.Action {
	return abr.Action{Kind: abr.Upgrade, Segment: 0, Quality: 5}
}

// TestLayeredPoliciesRun: every policy, classic and layered, plays a layered video to the
// end in the layered simulator with a decode rate set (their actions are all valid).
func TestLayeredPoliciesRun(t *testing.T) {
	v := layeredTestVideo(t)
	for _, name := range []string{"swift", "lifter", "mpc", "bba", "bola", "rate", "learned", "oracle"} {
		spec, err := abr.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := SimulateLayered(spec.New(), constTrace(), LayeredConfig{Video: v, DecodeFPS: 30})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res.Chunks) != 3 {
			t.Fatalf("%s: %d segments", name, len(res.Chunks))
		}
	}
}

// swift and lifter on a single-layer session (Pensieve's simulator, the daemon), which
// reports only its buffer, plan from where the playhead is: they were at −12 QoE (172 s of
// stalls) on oboe when they took the playhead for 0.
func TestLayerPoliciesOnSingleLayerSessions(t *testing.T) {
	v := loadEnvivio(t)
	trs, err := trace.LoadDir(shared.Require(t, "abr/traces/oboe"), trace.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	cfg := SimConfig{Video: v, QoE: abr.QoELin}
	mean := func(name string) float64 {
		spec, _ := abr.Lookup(name)
		res, err := Simulate(spec, trs[:60], cfg, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		return Summarize(name, "lin", res).QoEMean47
	}
	m := mean("mpc")
	for _, name := range []string{"swift", "lifter"} {
		if q := mean(name); q < 0.95*m {
			t.Errorf("%s on Pensieve's simulator: mean47 %.4f, robustMPC %.4f", name, q, m)
		}
	}
}
