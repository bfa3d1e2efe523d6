package abr

import (
	"context"
	"math"
)

// Layer is the lookahead planner behind the two layered policies (ABR.md):
//
//   - lifter (LiFteR, NSDI'24): robustMPC over the virtual buffer — media received but not
//     played, decoded or not — where every planned segment both downloads (robust
//     throughput prediction, one round trip per request) and decodes (the device's decode
//     rate; the decoder runs one segment ahead of the presenter and takes a segment that
//     lacks layers only inside its decode window); a plan stalls when either is late.
//   - swift (Swift, NSDI'22): the same planner, plus upgrades: after every download it
//     may instead fetch one more layer of a buffered, uncommitted segment, when the gain
//     in decoded quality and smoothness outweighs what the delayed next fetch costs the
//     best plan, and the layer can arrive (with margin) before the segment is committed.
//
// Utilities are decoded quality from the stream's quality table (u = PSNR-Y/10), the
// objective Σu − 4.3·Σstall − Σ|Δu| (the simulator's and the player's qoe_quality). On a
// video without a layer table, utilities fall back to the ladder's Mbit/s.
type Layer struct {
	Upgrades bool
	Horizon  int // It defaults to 5.
	// Safety divides the throughput estimate for upgrade deadlines (1.25 by default).
	Safety float64

	est Robust

	// per-decision scratch
	s      *State
	c      float64 // bytes per second
	rtt    float64 // s
	decS   float64 // decode time per frame, s
	h      int
	plan   []int
	best   float64
	bestQ  int
	linkAt float64
	// backlog result: decoder free time, stall already due, and the earlier play start
	freeAt, stall0, prevDue float64
}

func init() {
	Register(Spec{Name: "swift", Help: "Swift: layered lookahead planner on decoded quality with one-layer upgrades of buffered segments",
		New: func() Policy { return &Layer{Upgrades: true} }})
	Register(Spec{Name: "lifter", Help: "LiFteR: robustMPC over the virtual buffer with download and decode both planned",
		New: func() Policy { return &Layer{} }})
}

// Name implements Policy.
func (p *Layer) Name() string {
	if p.Upgrades {
		return "swift"
	}
	return "lifter"
}

// Reset implements Policy.
func (p *Layer) Reset() { p.est.Forget() }

// Decide implements Policy.
func (p *Layer) Decide(ctx context.Context, s *State) Action {
	v := s.Video
	if len(s.Samples) == 0 {
		return Action{Kind: Fetch, Segment: s.Next, Quality: min(DefaultQuality, len(v.BitratesKbps)-1)}
	}
	if v.Layers == nil && s.PlayheadS == 0 && s.VirtualS == 0 && s.Next > 0 {
		// A single-layer session (Pensieve's simulator, the daemon) reports only its buffer:
		// the playhead is that far behind the end of the fetched media.
		c := *s
		c.PlayheadS = math.Max(float64(s.Next)*v.ChunkS-s.BufferS, 0)
		c.VirtualS = s.BufferS
		s = &c
	}
	p.s = s
	p.c = p.est.PredictMBps(s) * 1e6 // bytes/s
	p.rtt = estimateRTT(s)
	p.decS = 0
	if s.DecodeFPS > 0 {
		p.decS = 1 / s.DecodeFPS
	}
	p.h = p.Horizon
	if p.h <= 0 {
		p.h = 5
	}
	p.h = min(boundedHorizon(p.h, len(v.BitratesKbps)), v.Chunks-s.Next)
	p.backlog()
	best := -math.MaxFloat64
	if p.h > 0 {
		best = p.searchFrom(0)
	}
	fetch := Action{Kind: Fetch, Segment: s.Next, Quality: p.bestQ}
	if !p.Upgrades || v.Layers == nil {
		if p.h <= 0 {
			return Action{Kind: Wait}
		}
		return fetch
	}
	if up, ok := p.bestUpgrade(best); ok {
		return up
	}
	if p.h <= 0 {
		return Action{Kind: Wait} // nothing to fetch or upgrade: the session ends here
	}
	return fetch
}

// bestUpgrade weighs every feasible one-layer upgrade against fetching now (whose best
// plan is worth base).
func (p *Layer) bestUpgrade(base float64) (Action, bool) {
	s := p.s
	L := s.Video.Layers
	safety := p.Safety
	if safety <= 0 {
		safety = 1.25
	}
	bestGain, bestN := 0.01, -1
	for n := s.Committed; n < s.Next; n++ {
		h := s.Held[n]
		if h >= s.Reach(n) || h == 0 {
			continue
		}
		t := p.rtt + float64(L.LayerBytes[n][h])/p.c
		deadline := float64(n)*s.Video.ChunkS - s.DecodeWindowS - s.PlayheadS
		if t*safety >= deadline {
			continue
		}
		gain := p.util(n, h+1) - p.util(n, h)
		if n > 0 && n-1 < len(s.Held) && s.Held[n-1] > 0 {
			u := p.util(n-1, s.Held[n-1])
			gain -= math.Abs(p.util(n, h+1)-u) - math.Abs(p.util(n, h)-u)
		}
		if n+1 < s.Next {
			u := p.util(n+1, s.Held[n+1])
			gain -= math.Abs(u-p.util(n, h+1)) - math.Abs(u-p.util(n, h))
		}
		if gain <= bestGain {
			continue
		}
		after := 0.0
		if p.h > 0 {
			after = p.searchFrom(t) - base
		}
		if gain+after > bestGain {
			bestGain, bestN = gain+after, n
		}
	}
	if bestN < 0 {
		return Action{}, false
	}
	return Action{Kind: Upgrade, Segment: bestN, Quality: s.Held[bestN]}, true
}

// util is segment n's utility with k layers.
func (p *Layer) util(n, k int) float64 {
	v := p.s.Video
	if v.Layers != nil {
		return v.Layers.Utility(n, k)
	}
	return v.BitratesKbps[k-1] / 1000
}

// backlog runs the received, uncommitted segments through the decoder model: when the
// decoder is free for the first planned segment and the stall already coming.
func (p *Layer) backlog() {
	s := p.s
	segS := s.Video.ChunkS
	p.freeAt, p.stall0, p.prevDue = 0, 0, math.Inf(-1)
	if s.Next > 0 {
		p.prevDue = float64(s.Next-1)*segS - s.PlayheadS
	}
	if p.decS == 0 || s.Video.Layers == nil {
		return
	}
	prev := math.Inf(-1)
	for n := s.Committed; n < s.Next; n++ {
		due := float64(n)*segS - s.PlayheadS + p.stall0
		start := math.Max(p.freeAt, prev)
		if s.Held[n] < s.Reach(n) {
			start = math.Max(start, due-s.DecodeWindowS)
		}
		p.freeAt = start + float64(s.Video.Layers.Frames[n])*p.decS
		if p.freeAt > due {
			p.stall0 += p.freeAt - due
			due = p.freeAt
		}
		prev = due
	}
	if s.Next > s.Committed {
		p.prevDue = prev
	}
}

// searchFrom finds the best plan when the link is free at linkAt (seconds from now) and
// returns its value; p.bestQ is its first quality (ties go to the higher quality).
func (p *Layer) searchFrom(linkAt float64) float64 {
	s := p.s
	if cap(p.plan) < p.h {
		p.plan = make([]int, p.h)
	}
	p.plan = p.plan[:p.h]
	p.best, p.bestQ, p.linkAt = -math.MaxFloat64, 0, linkAt
	prevU := 0.0
	if s.Next > 0 && len(s.Held) >= s.Next && s.Held[s.Next-1] > 0 {
		prevU = p.util(s.Next-1, s.Held[s.Next-1])
	} else if s.Next > 0 {
		prevU = p.util(s.Next-1, s.LastQuality+1)
	}
	p.dfs(0, linkAt, p.freeAt, p.prevDue, p.stall0, prevU, 0)
	return p.best
}

// dfs extends the plan at position pos; link is when the link is free, free when the
// decoder is, prevDue the previous segment's play start, stall the plan's stall so far.
func (p *Layer) dfs(pos int, link, free, prevDue, stall, prevU, value float64) {
	if pos == p.h {
		if value >= p.best {
			p.best, p.bestQ = value, p.plan[0]
		}
		return
	}
	s := p.s
	v := s.Video
	n := s.Next + pos
	segS := v.ChunkS
	K := len(v.BitratesKbps)
	due := float64(n)*segS - s.PlayheadS + stall
	// The buffer cap holds the request back until the playhead comes within MaxBufferS.
	if s.MaxBufferS > 0 {
		link = math.Max(link, due-s.MaxBufferS)
	}
	for q := 0; q < K; q++ {
		arrive := link + float64(v.Size(q, n))/p.c // c includes the round trip
		ready := arrive
		nfree := free
		if p.decS > 0 && v.Layers != nil {
			start := math.Max(math.Max(arrive, free), prevDue)
			if q+1 < K {
				start = math.Max(start, due-s.DecodeWindowS)
			}
			nfree = start + float64(v.Layers.Frames[n])*p.decS
			ready = nfree
		}
		st := math.Max(ready-due, 0)
		u := p.util(n, q+1)
		val := value + u - QualityRebufPenalty*st
		if pos > 0 || s.Next > 0 {
			val -= math.Abs(u - prevU)
		}
		p.plan[pos] = q
		p.dfs(pos+1, arrive, nfree, due+st, stall+st, u, val)
	}
}

// estimateRTT is the session's round trip: the state's, else the mean of request delay
// minus payload time over the recent samples.
func estimateRTT(s *State) float64 {
	if s.RTTMs > 0 {
		return s.RTTMs / 1000
	}
	w := s.Samples
	if len(w) > 5 {
		w = w[len(w)-5:]
	}
	sum := 0.0
	for _, x := range w {
		sum += math.Max(x.DelayMs-x.DownloadMs, 0)
	}
	return sum / float64(len(w)) / 1000
}
