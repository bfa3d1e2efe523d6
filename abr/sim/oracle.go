package sim

import (
	"context"
	"math"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/net/trace"
)

// Foresighted is a policy that sees the trace before the session starts: the simulator
// calls Foresee after Reset. Only the simulator can offer that, so such policies run in
// `strata sim` only (Spec.SimOnly).
type Foresighted interface {
	Foresee(tr *trace.Trace, cfg SimConfig) error
}

// Oracle is the offline-optimal policy of Pensieve's simulator: knowing the whole trace, it
// plans every chunk's quality by dynamic programming over chunk × quality × buffer, each
// state holding the exact network model (Env) of the best path that reached it. A state is
// (the last quality, the buffer rounded to BufferStepMs); of the paths reaching one state the
// one with the highest QoE so far is kept. The plan it follows is a real session of the
// simulator, so its QoE is exact; it is optimal up to the buffer's rounding (TestOracleOptimal
// compares it with an exhaustive search).
type Oracle struct {
	// BufferStepMs is the buffer's rounding in the state (50 ms by default).
	BufferStepMs float64

	plan []int
	// Value is the planned QoE, summed over chunks 1..N−1 (chunk 0 is DefaultQuality).
	Value float64
	// lplan is the layered plan (every action after the first fetch); taken counts the
	// actions returned.
	lplan []abr.Action
	taken int
}

func init() {
	abr.Register(abr.Spec{Name: "oracle", Help: "offline optimum: dynamic programming over the known future trace (strata sim only)",
		New: func() abr.Policy { return &Oracle{} }, SimOnly: true})
}

// Name implements Policy.
func (o *Oracle) Name() string { return "oracle" }

// Reset implements Policy.
func (o *Oracle) Reset() { o.plan, o.lplan, o.taken = o.plan[:0], o.lplan[:0], 0 }

// Decide implements Policy.
func (o *Oracle) Decide(ctx context.Context, s *abr.State) abr.Action {
	if s.Video.Layers != nil && len(o.lplan) > 0 {
		if o.taken < len(o.lplan) {
			o.taken++
			return o.lplan[o.taken-1]
		}
		return abr.Action{Kind: abr.Wait}
	}
	if s.Next < len(o.plan) {
		return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: o.plan[s.Next]}
	}
	return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: 0}
}

// Foresee implements Foresighted: it plans the session on tr.
func (o *Oracle) Foresee(tr *trace.Trace, cfg SimConfig) error {
	if cfg.Layered != nil {
		ls, err := NewLayeredSession(tr, *cfg.Layered)
		if err != nil {
			return err
		}
		if err := ls.Apply(ls.FirstAction()); err != nil {
			return err
		}
		o.Value, o.lplan = layeredSearch(ls, oracleLayeredStep)
		o.taken = 0
		return nil
	}
	link := PensieveLink
	if cfg.Link != nil {
		link = *cfg.Link
	}
	env := NewEnvLink(tr, link)
	v := cfg.Video
	q0 := abr.DefaultQuality
	env.Download(v.Size(q0, 0), v.ChunkS)
	plan, value, _ := oracleSearch(env, v, cfg.QoE, 1, q0, o.step(), false)
	o.plan = append(append(o.plan[:0], q0), plan...)
	o.Value = value
	return nil
}

func (o *Oracle) step() float64 {
	if o.BufferStepMs > 0 {
		return o.BufferStepMs
	}
	return 50
}

// onode is one DP state: the exact model of the best path reaching it.
type onode struct {
	env    Env
	q      int
	first  int // the first planned quality (per-first planning)
	value  float64
	parent int32
}

// oracleSearch plans chunks from..Chunks−1 from the network state env (the chunk before
// `from` was fetched at quality last) and returns the plan and its QoE; with perFirst,
// paths that start with different qualities are never merged, and firstValue[q] is the
// best value of a plan starting with q.
func oracleSearch(env *Env, v *abr.Video, qoe abr.QoE, from, last int, stepMs float64, perFirst bool) (plan []int, value float64, firstValue []float64) {
	K := len(v.BitratesKbps)
	stages := v.Chunks - from
	if stages <= 0 {
		return nil, 0, nil
	}
	nb := int(math.Ceil((abr.BufferThreshMs+v.ChunkS*1000)/stepMs)) + 1
	cur := []onode{{env: *env, q: last, parent: -1}}
	hist := make([][]onode, 0, stages)
	nf := 1
	if perFirst {
		nf = K
	}
	slot := make([]int32, nf*K*nb)
	for st := 0; st < stages; st++ {
		i := from + st
		for j := range slot {
			slot[j] = -1
		}
		next := make([]onode, 0, len(cur)*2)
		for pi := range cur {
			p := &cur[pi]
			for q := 0; q < K; q++ {
				e := p.env
				s := e.Download(v.Size(q, i), v.ChunkS)
				val := p.value + qoe.Reward(v, q, p.q, s.RebufferS)
				b := min(int(e.bufferMs/stepMs), nb-1)
				first := p.first
				if st == 0 {
					first = q
				}
				k := q*nb + b
				if perFirst {
					k += first * K * nb
				}
				if j := slot[k]; j >= 0 {
					if val > next[j].value {
						next[j] = onode{env: e, q: q, first: first, value: val, parent: int32(pi)}
					}
					continue
				}
				slot[k] = int32(len(next))
				next = append(next, onode{env: e, q: q, first: first, value: val, parent: int32(pi)})
			}
		}
		hist = append(hist, cur)
		cur = next
	}
	best := 0
	firstValue = make([]float64, K)
	for q := range firstValue {
		firstValue[q] = math.Inf(-1)
	}
	for j := range cur {
		if cur[j].value > cur[best].value {
			best = j
		}
		firstValue[cur[j].first] = math.Max(firstValue[cur[j].first], cur[j].value)
	}
	plan = make([]int, stages)
	n := &cur[best]
	value = n.value
	for st := stages - 1; st >= 0; st-- {
		plan[st] = n.q
		if st > 0 {
			n = &hist[st][n.parent]
		}
	}
	return plan, value, firstValue
}

// OracleValues is the oracle's value of each first quality from a model state (the buffer
// rounded to stepMs): the best QoE of the rest of the session when chunk `from` is fetched
// at quality q.
func OracleValues(env *Env, v *abr.Video, qoe abr.QoE, from, last int, stepMs float64) []float64 {
	_, _, fv := oracleSearch(env, v, qoe, from, last, stepMs, true)
	return fv
}
