package abr

import (
	"context"
	"math"
)

// MPC is robustMPC exactly as Pensieve's test/mpc.py decides (Yin et al., SIGCOMM'15):
// the Robust throughput prediction C; an exhaustive search over every plan of Horizon chunks (fewer near the end) maximising
// ΣR/1000 − 4.3·Σrebuffer − Σ|ΔR|/1000, where each planned chunk downloads in size/C,
// rebuffers if the buffer is shorter and then adds one chunk (no cap, no RTT). Ties go to
// the plan enumerated last.
//
// SizeOffset reproduces mpc.py's look-up of chunk sizes one chunk ahead of the chunk
// actually planned (index = chunks downloaded + position + 1); 0 plans the true chunks.
// KeepHistory keeps the error history across Reset, as mpc.py does when one process runs
// every trace.
type MPC struct {
	Horizon      int // It defaults to 5.
	SizeOffset   int
	KeepHistory  bool
	RebufPenalty float64 // It defaults to 4.3 (QoE lin).
	// Plain plans on the harmonic mean itself, without robustMPC's error discount (the
	// learned policy's second view; not a registered policy).
	Plain bool
	// Prune skips plans that cannot beat the best value found so far for their first
	// quality (an upper bound: the rest at the top bitrate with no stall or switch). The
	// best value per first quality is unchanged; which of two tied plans is reported may
	// differ, so the registered mpc policies (mpc.py's tie order) never prune.
	Prune bool

	est   Robust
	plans int // plans enumerated by the last decision
	// FirstValue[q] is, after a decision, the best plan's value among plans that start
	// with quality q (the learned policy's view of robustMPC).
	FirstValue []float64

	// search scratch, reused across decisions
	dl      [][]float64 // dl[position][q]: planned download time
	br      []float64
	best    float64
	bestQ   int
	nQ      int
	horizon int
	chunkS  float64
	maxBr   float64
}

func init() {
	Register(Spec{Name: "mpc", Help: "robustMPC as Pensieve mpc.py decides, history reset per trace",
		New: func() Policy { return NewMPC(false) }})
	Register(Spec{Name: "mpc-batch", Help: "robustMPC with mpc.py's error history carried across traces in file order",
		New: func() Policy { return NewMPC(true) }, Sequential: true})
}

// NewMPC returns robustMPC with mpc.py's settings (horizon 5, one-ahead size look-up).
func NewMPC(keepHistory bool) *MPC {
	return &MPC{Horizon: 5, SizeOffset: 1, KeepHistory: keepHistory, RebufPenalty: 4.3}
}

// Name implements Policy.
func (p *MPC) Name() string {
	if p.KeepHistory {
		return "mpc-batch"
	}
	return "mpc"
}

// Reset implements Policy.
func (p *MPC) Reset() {
	if p.KeepHistory {
		p.est.NewSession()
	} else {
		p.est.Forget()
	}
}

// Decide implements Policy.
func (p *MPC) Decide(ctx context.Context, s *State) Action {
	if len(s.Samples) == 0 {
		return Action{Kind: Fetch, Segment: s.Next, Quality: DefaultQuality}
	}
	future := p.est.PredictMBps(s)
	if p.Plain {
		future = p.est.HarmonicMBps()
	}
	v := s.Video
	horizon := boundedHorizon(p.Horizon, len(v.BitratesKbps))
	if rem := v.Chunks - s.Next; rem < horizon {
		horizon = rem
	}
	if horizon <= 0 {
		return Action{Kind: Fetch, Segment: s.Next, Quality: 0}
	}
	p.nQ, p.horizon, p.br, p.chunkS = len(v.BitratesKbps), horizon, v.BitratesKbps, v.ChunkS
	p.maxBr = v.BitratesKbps[p.nQ-1]
	for len(p.dl) < horizon {
		p.dl = append(p.dl, nil)
	}
	for pos := 0; pos < horizon; pos++ {
		if cap(p.dl[pos]) < p.nQ {
			p.dl[pos] = make([]float64, p.nQ)
		}
		p.dl[pos] = p.dl[pos][:p.nQ]
		for q := 0; q < p.nQ; q++ {
			size := v.Size(q, s.Next+pos+p.SizeOffset)
			p.dl[pos][q] = (float64(size) / 1e6) / future
		}
	}
	p.best, p.bestQ, p.plans = -1e8, 0, 0
	if cap(p.FirstValue) < p.nQ {
		p.FirstValue = make([]float64, p.nQ)
	}
	p.FirstValue = p.FirstValue[:p.nQ]
	for q := range p.FirstValue {
		p.FirstValue[q] = -1e8
	}
	p.plan(0, s.BufferS, 0, 0, 0, s.LastQuality, -1)
	return Action{Kind: Fetch, Segment: s.Next, Quality: p.bestQ}
}

// plan enumerates plans depth-first in lexicographic order, which is mpc.py's
// itertools.product order; prefix sums are formed in the same order, so every plan's
// reward is bit-identical to mpc.py's.
func (p *MPC) plan(pos int, buf, rebuf, brSum, smooth float64, last, first int) {
	if p.Prune && pos > 0 && pos < p.horizon {
		bound := (brSum+float64(p.horizon-pos)*p.maxBr)/1000 - p.RebufPenalty*rebuf - smooth/1000
		if bound+1e-9 < p.FirstValue[first] {
			return
		}
	}
	if pos == p.horizon {
		p.plans++
		reward := brSum/1000 - float64(p.RebufPenalty*rebuf) - smooth/1000
		if reward >= p.best {
			p.best, p.bestQ = reward, first
		}
		if reward > p.FirstValue[first] {
			p.FirstValue[first] = reward
		}
		return
	}
	dl := p.dl[pos]
	for q := 0; q < p.nQ; q++ {
		b, r := buf, rebuf
		if b < dl[q] {
			r += dl[q] - b
			b = 0
		} else {
			b -= dl[q]
		}
		b += p.chunkS
		f := first
		if pos == 0 {
			f = q
		}
		p.plan(pos+1, b, r, brSum+p.br[q], smooth+math.Abs(p.br[q]-p.br[last]), q, f)
	}
}
