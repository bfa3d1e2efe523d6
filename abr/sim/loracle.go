package sim

import (
	"math"

	"github.com/strata-player/strata/abr"
)

// The layered oracle: dynamic programming over the layered simulator with the future trace
// known. A stage is one segment; its moves are "upgrade the segment fetched last by u
// layers (while it is not committed), then fetch the next segment with k layers". Each
// state holds a clone of the exact session (LayeredSession) of the best path reaching it,
// keyed by (layers of the last segment, received and decoded media ahead of the playhead,
// each rounded); paths are compared by their QoE so far, counting segments not yet
// committed at their held quality with no further stall. The plan found is a real session:
// its final QoE is exact.

// layeredStep is the rounding of the state's buffers, in seconds.
type layeredStep struct{ virtual, decoded float64 }

var (
	oracleLayeredStep  = layeredStep{0.1, 0.5}
	teacherLayeredStep = layeredStep{0.25, 1}
)

type lnode struct {
	s      *LayeredSession
	value  float64 // provisional abr.QoE
	parent int32
	moves  []abr.Action // the actions from the parent
}

// layeredSearch plans from session root to the end and returns the best final QoE (chunks
// 1..N−1) and the actions that reach it.
func layeredSearch(root *LayeredSession, step layeredStep) (float64, []abr.Action) {
	v := root.cfg.Video
	K := len(v.BitratesKbps)
	root = root.searchClone()
	cur := []lnode{{s: root, value: root.provisional(), parent: -1}}
	var hist [][]lnode
	for len(cur) > 0 && cur[0].s.next < v.Chunks {
		slot := map[[3]int]int32{}
		var next []lnode
		for pi := range cur {
			p := cur[pi].s
			n := p.next
			ups := 0
			if n > 0 && !p.pl.committed(n-1) {
				ups = K - p.pl.held[n-1]
			}
			base := p
			var moves []abr.Action
			for u := 0; u <= ups; u++ {
				if u > 0 { // one more upgrade of the last segment before the fetch
					base = base.Clone()
					a := abr.Action{Kind: abr.Upgrade, Segment: n - 1, Quality: base.pl.held[n-1]}
					if base.Apply(a) != nil || base.pl.committed(n-1) {
						break // too late: plans with fewer upgrades are better
					}
					moves = append(moves, a)
				}
				for q := 0; q < K; q++ {
					c := base.Clone()
					a := abr.Action{Kind: abr.Fetch, Segment: n, Quality: q}
					if c.Apply(a) != nil {
						continue
					}
					val := c.provisional()
					st := c.State()
					key := [3]int{q, int(st.VirtualS / step.virtual), int(st.DecodedS / step.decoded)}
					mv := append(append([]abr.Action(nil), moves...), a)
					if j, ok := slot[key]; ok {
						if val > next[j].value {
							next[j] = lnode{s: c, value: val, parent: int32(pi), moves: mv}
						}
						continue
					}
					slot[key] = int32(len(next))
					next = append(next, lnode{s: c, value: val, parent: int32(pi), moves: mv})
				}
			}
		}
		hist = append(hist, cur)
		cur = next
	}
	best, bi := math.Inf(-1), -1
	for j := range cur {
		r := cur[j].s.Clone().Finish()
		val := 0.0
		for i, ch := range r.Chunks {
			if i > 0 {
				val += ch.Reward
			}
		}
		if val > best {
			best, bi = val, j
		}
	}
	var plan []abr.Action
	for st := len(hist); st > 0 && bi >= 0; st-- {
		n := cur[bi]
		plan = append(append([]abr.Action(nil), n.moves...), plan...)
		cur, bi = hist[st-1], int(n.parent)
	}
	return best, plan
}

// provisional is the session's QoE so far (chunks 1..): exact for committed segments,
// fetched uncommitted ones at their held quality without further stall.
func (ls *LayeredSession) provisional() float64 {
	p := ls.pl
	L := p.v.Layers
	val, prevU := 0.0, 0.0
	for n := 0; n < ls.next; n++ {
		k := p.held[n]
		stall := 0.0
		if n < p.dec {
			k = p.layers[n]
			if n > 0 {
				stall = p.play[n] - p.play[n-1] - p.segS
			}
		}
		u := L.Utility(n, k)
		if n > 0 {
			val += u - abr.QualityRebufPenalty*stall - math.Abs(u-prevU)
		}
		prevU = u
	}
	return val
}

// LayeredValues is the oracle's value of each action in acts from session ls: the best
// final QoE (chunks 1..) of a session that takes the action now and plays optimally after.
func LayeredValues(ls *LayeredSession, acts []abr.Action) []float64 {
	out := make([]float64, len(acts))
	for i, a := range acts {
		c := ls.Clone()
		if c.Apply(a) != nil {
			out[i] = math.Inf(-1)
			continue
		}
		out[i], _ = layeredSearch(c, teacherLayeredStep)
	}
	return out
}
