package abr

import (
	"context"
	"math/rand/v2"
	"testing"
)

// syntheticVideo is a constant-bitrate ladder like envivio's, for tests that need no files.
func syntheticVideo(chunks int) *Video {
	v := &Video{Name: "synthetic", BitratesKbps: EnvivioBitratesKbps, ChunkS: 4, Chunks: chunks}
	for _, r := range v.BitratesKbps {
		s := make([]int64, chunks+1)
		for i := range s {
			s[i] = int64(r * 1000 / 8 * 4 * (1 + 0.1*float64(i%3)))
		}
		v.Sizes = append(v.Sizes, s)
	}
	return v
}

func TestMPCBatchKeepsHistory(t *testing.T) {
	p := NewMPC(true)
	st := &State{Video: syntheticVideo(48), Next: 1, BufferS: 4, Samples: []Sample{{Bytes: 1e6, DelayMs: 1000}}}
	p.Decide(context.Background(), st)
	st.Samples = append(st.Samples, Sample{Bytes: 1e6, DelayMs: 4000})
	p.Decide(context.Background(), st)
	p.Reset()
	if len(p.est.errs) != 2 || !p.est.has {
		t.Fatalf("mpc-batch lost its history on Reset: %v", p.est.errs)
	}
	q := NewMPC(false)
	q.Decide(context.Background(), st)
	q.Reset()
	if len(q.est.errs) != 0 || q.est.has {
		t.Fatal("mpc kept history across Reset")
	}
}

// A decision without a new transfer (after a wait or a failed request) predicts from the
// same history: it used to take the last sample again, as a fake error of 0.
func TestRobustTakesEachSampleOnce(t *testing.T) {
	var r Robust
	st := &State{Samples: []Sample{{Bytes: 1e6, DelayMs: 1000}, {Bytes: 1e6, DelayMs: 4000}}}
	a := r.PredictMBps(st)
	b := r.PredictMBps(st)
	if a != b || len(r.errs) != 2 {
		t.Fatalf("second prediction %v (first %v), %d errors", b, a, len(r.errs))
	}
	// A capped list (the daemon keeps the last 64) still counts by Transfers.
	st = &State{Samples: []Sample{{Bytes: 1e6, DelayMs: 1000}}, Transfers: 70}
	var q Robust
	q.PredictMBps(st)
	st.Samples = []Sample{{Bytes: 1e6, DelayMs: 1000}, {Bytes: 1e6, DelayMs: 500}}
	st.Transfers = 71
	q.PredictMBps(st)
	if len(q.errs) != 2 || q.errs[1] == 0 {
		t.Fatalf("errors %v", q.errs)
	}
}

// BenchmarkMPCDecide measures robustMPC decisions (6^5 plans each) per second.
func BenchmarkMPCDecide(b *testing.B) {
	v := syntheticVideo(48)
	p := NewMPC(false)
	st := &State{Video: v, Next: 10, LastQuality: 3, BufferS: 12,
		Samples: []Sample{{Bytes: 900e3, DelayMs: 2100}, {Bytes: 1.1e6, DelayMs: 2500}, {Bytes: 700e3, DelayMs: 1300}}}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p.Decide(context.Background(), st)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "decisions/s")
}

// A ladder of 64 rungs gets a shorter horizon: at most MaxPlans plans per decision (64^5
// before), while Pensieve's 6 rungs keep the full 5-segment horizon.
func TestMPCPlanBudget(t *testing.T) {
	for _, c := range []struct{ rungs, plans int }{{6, 7776}, {64, 4096}, {200, 200}} {
		v := &Video{Name: "wide", ChunkS: 4, Chunks: 100}
		for q := 0; q < c.rungs; q++ {
			v.BitratesKbps = append(v.BitratesKbps, float64(100*(q+1)))
		}
		v.SizeFunc = func(q, i int) int64 { return int64(v.BitratesKbps[q] * 500) }
		p := NewMPC(false)
		p.Decide(context.Background(), &State{Video: v, Next: 1, BufferS: 8, Samples: []Sample{{Bytes: 1e6, DelayMs: 1000}}})
		if p.plans != c.plans || p.plans > MaxPlans {
			t.Errorf("%d rungs: %d plans, want %d (≤ %d)", c.rungs, p.plans, c.plans, MaxPlans)
		}
	}
}

// Pruning leaves every first quality's best plan value unchanged (the learned policy's
// features), on random states.
func TestMPCPruneKeepsValues(t *testing.T) {
	v := syntheticVideo(48)
	r := rand.New(rand.NewPCG(1, 1))
	pruned, plain := 0, 0
	for i := 0; i < 300; i++ {
		st := &State{Video: v, Next: 1 + r.IntN(40), LastQuality: r.IntN(6), BufferS: r.Float64() * 30}
		for j := 0; j < 1+r.IntN(6); j++ {
			st.Samples = append(st.Samples, Sample{Bytes: int64(2e5 + r.Float64()*2e6), DelayMs: 200 + r.Float64()*4000})
		}
		a, b := NewMPC(false), NewMPC(false)
		a.SizeOffset, b.SizeOffset, b.Prune = 0, 0, true
		a.Decide(context.Background(), st)
		b.Decide(context.Background(), st)
		for q := range a.FirstValue {
			if a.FirstValue[q] != b.FirstValue[q] {
				t.Fatalf("state %d quality %d: %v without pruning, %v with", i, q, a.FirstValue[q], b.FirstValue[q])
			}
		}
		plain += a.plans
		pruned += b.plans
	}
	t.Logf("plans evaluated: %d without pruning, %d with", plain, pruned)
}
