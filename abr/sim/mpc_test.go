package sim

import (
	"context"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/net/trace"
)

// syntheticVideo is a constant-bitrate ladder like envivio's, for tests that need no files.
func syntheticVideo(chunks int) *abr.Video {
	v := &abr.Video{Name: "synthetic", BitratesKbps: abr.EnvivioBitratesKbps, ChunkS: 4, Chunks: chunks}
	for _, r := range v.BitratesKbps {
		s := make([]int64, chunks+1)
		for i := range s {
			s[i] = int64(r * 1000 / 8 * 4 * (1 + 0.1*float64(i%3)))
		}
		v.Sizes = append(v.Sizes, s)
	}
	return v
}

func TestMPCFollowsBandwidth(t *testing.T) {
	v := syntheticVideo(48)
	for _, c := range []struct {
		mbps float64
		want int
	}{{0.2, 0}, {1.0, 1}, {2.5, 3}, {50, 5}} {
		tr := &trace.Trace{Name: "flat", TimeS: []float64{0, 1000}, BandwidthMbps: []float64{c.mbps, c.mbps}}
		r, err := SimulateTrace(abr.NewMPC(false), tr, SimConfig{Video: v, QoE: abr.QoELin})
		if err != nil {
			t.Fatal(err)
		}
		if q := r.Chunks[30].Quality; q != c.want {
			t.Errorf("%.1f Mbit/s: steady quality %d, want %d", c.mbps, q, c.want)
		}
	}
}

func TestSimulateRejectsForeignActions(t *testing.T) {
	tr := &trace.Trace{Name: "flat", TimeS: []float64{0, 1000}, BandwidthMbps: []float64{1, 1}}
	_, err := SimulateTrace(waitPolicy{}, tr, SimConfig{Video: syntheticVideo(4), QoE: abr.QoELin})
	if err == nil {
		t.Fatal("a abr.Wait action was accepted by the single-layer simulator")
	}
}

type waitPolicy struct{}

func (waitPolicy) Name() string                                  { return "wait" }
func (waitPolicy) Reset()                                        {}
func (waitPolicy) Decide(context.Context, *abr.State) abr.Action { return abr.Action{Kind: abr.Wait} }

// BenchmarkSimulateOboeMPC runs robustMPC over every oboe trace (the `strata sim` workload).
func BenchmarkSimulateOboeMPC(b *testing.B) {
	traces, err := trace.LoadDir(shared.Require(b, "abr/traces/oboe"), trace.FormatCooked)
	if err != nil {
		b.Fatal(err)
	}
	cfg := SimConfig{Video: loadEnvivio(b), QoE: abr.QoELin}
	spec, _ := abr.Lookup("mpc")
	for b.Loop() {
		if _, err := Simulate(spec, traces, cfg, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(traces)*abr.EnvivioChunks)*float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkLearnedDecide measures the learned policy's decisions (robustMPC's search for
// its features, then the network on each of the 6 candidates); the budget is 1 ms.
func BenchmarkLearnedDecide(b *testing.B) {
	v := syntheticVideo(48)
	spec, err := abr.Lookup("learned")
	if err != nil {
		b.Fatal(err)
	}
	p := spec.New()
	st := &abr.State{Video: v, Next: 10, LastQuality: 3, BufferS: 12,
		Samples: []abr.Sample{{Bytes: 900e3, DelayMs: 2100}, {Bytes: 1.1e6, DelayMs: 2500}, {Bytes: 700e3, DelayMs: 1300}}}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(context.Background(), st)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/decision")
}

// BenchmarkSimulateOboeLearned runs the learned policy over every oboe trace (`strata sim
// --policy learned`; the issue's budget is 2 s for one run).
func BenchmarkSimulateOboeLearned(b *testing.B) {
	traces, err := trace.LoadDir(shared.Require(b, "abr/traces/oboe"), trace.FormatCooked)
	if err != nil {
		b.Fatal(err)
	}
	cfg := SimConfig{Video: loadEnvivio(b), QoE: abr.QoELin}
	spec, _ := abr.Lookup("learned")
	for b.Loop() {
		if _, err := Simulate(spec, traces, cfg, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}
