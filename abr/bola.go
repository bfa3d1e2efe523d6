package abr

import (
	"context"
	"math"
)

// BOLA is the buffer-based Lyapunov policy with Sabre's formulas (Spiteri et al.):
// u_q = ln(R_q/R_0), V = (B_max − p)/(u_max + γp), and the quality maximising
// (V·(u_q + γp) − B)/R_q.
type BOLA struct {
	GammaP     float64 // γp; it defaults to 5 s.
	BufferMaxS float64 // B_max; it defaults to 60 s, the simulator's buffer cap.
}

func init() {
	Register(Spec{Name: "bola", Help: "BOLA-basic (Sabre's formulas, gamma*p = 5 s, 60 s buffer)",
		New: func() Policy { return &BOLA{GammaP: 5, BufferMaxS: BufferThreshMs / 1000} }})
}

// Name implements Policy.
func (p *BOLA) Name() string { return "bola" }

// Reset implements Policy; BOLA has no state.
func (p *BOLA) Reset() {}

// Decide implements Policy.
func (p *BOLA) Decide(ctx context.Context, s *State) Action {
	br := s.Video.BitratesKbps
	umax := math.Log(br[len(br)-1] / br[0])
	v := (p.BufferMaxS - s.Video.ChunkS) / (umax + p.GammaP)
	best, q := math.Inf(-1), 0
	for i, r := range br {
		score := (v*(math.Log(r/br[0])+p.GammaP) - s.BufferS) / r
		if score > best {
			best, q = score, i
		}
	}
	return Action{Kind: Fetch, Segment: s.Next, Quality: q}
}
