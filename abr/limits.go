package abr

import "context"

// Limited bounds another policy's levels, as players' ABR settings do (dash.js
// maxBitrate/initialBitrate): no fetch or upgrade above MaxKbps (the highest level at or
// below it; the lowest when none is), and the first segment at the highest level at or
// below InitialKbps. Zero means no bound.
type Limited struct {
	Policy
	MaxKbps, InitialKbps float64
}

// level is the highest quality of v at or below kbps (0 when none is).
func level(v *Video, kbps float64) int {
	q := 0
	for i, b := range v.BitratesKbps {
		if b <= kbps {
			q = i
		}
	}
	return q
}

// Decide implements Policy.
func (p *Limited) Decide(ctx context.Context, s *State) Action {
	a := p.Policy.Decide(ctx, s)
	if p.MaxKbps <= 0 {
		return a
	}
	top := level(s.Video, p.MaxKbps)
	switch {
	case a.Kind == Fetch && a.Quality > top:
		a.Quality = top
	case a.Kind == Upgrade && a.Quality > top:
		// The layer asked for is above the cap: fetch on instead, or end the session.
		if s.Next < s.Video.Chunks {
			return Action{Kind: Fetch, Segment: s.Next, Quality: top}
		}
		return Action{Kind: Wait}
	}
	return a
}

// InitialQuality is the first segment's level (DefaultQuality unless InitialKbps is set),
// within MaxKbps.
func (p *Limited) InitialQuality(v *Video) int {
	q := min(DefaultQuality, len(v.BitratesKbps)-1)
	if p.InitialKbps > 0 {
		q = level(v, p.InitialKbps)
	}
	if p.MaxKbps > 0 {
		q = min(q, level(v, p.MaxKbps))
	}
	return q
}

// Initialer is a policy that chooses the first segment's level itself.
type Initialer interface {
	InitialQuality(v *Video) int
}

// BufferThreshMs is the buffer Pensieve's players and simulator fill to (60 s): above it they
// sleep in 500 ms steps (test/fixed_env.py), and BOLA scales its objective to it.
const BufferThreshMs = 60000.0
