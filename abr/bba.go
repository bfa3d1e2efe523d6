package abr

import "context"

// BBA is the buffer-based policy of Pensieve's test/bb.py (Huang et al., SIGCOMM'14):
// the lowest quality below the reservoir, the highest above reservoir + cushion, and a
// linear map in between.
type BBA struct {
	ReservoirS float64 // It defaults to 5 s.
	CushionS   float64 // It defaults to 10 s.
}

func init() {
	Register(Spec{Name: "bba", Help: "buffer-based (Pensieve bb.py: reservoir 5 s, cushion 10 s)",
		New: func() Policy { return &BBA{ReservoirS: 5, CushionS: 10} }})
}

// Name implements Policy.
func (p *BBA) Name() string { return "bba" }

// Reset implements Policy; BBA has no state.
func (p *BBA) Reset() {}

// Decide implements Policy.
func (p *BBA) Decide(ctx context.Context, s *State) Action {
	top := len(s.Video.BitratesKbps) - 1
	q := 0
	switch {
	case s.BufferS < p.ReservoirS:
		q = 0
	case s.BufferS >= p.ReservoirS+p.CushionS:
		q = top
	default:
		q = int(float64(top) * (s.BufferS - p.ReservoirS) / p.CushionS)
	}
	return Action{Kind: Fetch, Segment: s.Next, Quality: q}
}
