package decoder

import (
	"github.com/strata-player/strata/decoder/entropy"
	"github.com/strata-player/strata/decoder/tensor"
)

// Rate–distortion-optimised quantization (encoder only; the bitstream does not change).
//
// Quantize rounds every coefficient with a fixed dead zone. QuantizeRD starts from the same
// integers and, layer by layer, keeps an integer or a whole coded block only where it pays:
// for each non-zero integer it tries |q| − 1 and 0, and for each coded block (one plane at
// one 1/8-grid position) it compares coding it against sending its flag as zero, each by
// J = bits + λ_l · ΔD. The bits are the ideal code lengths under the contexts of the
// dead-zone integers (a neighbour's later decision is not fed back); D is the synthesis'
// squared error of the coefficient error, weighted 6:1:1 like the training loss
// ((6·SSE_Y + 4·SSE_U + 4·SSE_V)/8 in 8-bit units², so λ has the units of the training's
// λ_l: bits per luma pixel per unit of MSE). The restoration stage is left out of D.
// Each layer re-quantizes from what the layers below actually carry.

// rdScratch is QuantizeRD's per-grid memory.
type rdScratch struct {
	prev, r []float32
	tabs    []*entropy.CDF
	mus     []int32
	sigmas  []int8
	flags   [3][]*entropy.CDF
}

// SynthesisGains are the weighted squared norms of the synthesis' basis functions, one per
// coefficient channel: a coefficient error e in channel c adds Gain[c]·e² to
// (6·SSE_Y + 4·SSE_U + 4·SSE_V)/8 in 8-bit units² (cross terms between channels ignored).
func (c *Codec) SynthesisGains() []float64 {
	g := make([]float64, Channels)
	k2 := c.Syn.K * c.Syn.K
	for o := 0; o < c.Syn.Cout; o++ {
		w := 0.5 // U and V: 4/8
		if o < 64 {
			w = 0.75 // Y: 6/8
		}
		for ci := 0; ci < c.Syn.Cin; ci++ {
			s := 0.0
			for _, v := range c.Syn.Weight[(o*c.Syn.Cin+ci)*k2 : (o*c.Syn.Cin+ci+1)*k2] {
				s += float64(v) * float64(v)
			}
			g[ci] += w * s * 255 * 255
		}
	}
	return g
}

// QuantizeRD fills every layer of g from coefficients y like Quantize, then drops integers
// and coded blocks whose rate costs more than their distortion saves at λ = lambda[l] for
// layer l (a zero λ keeps layer l's dead-zone integers).
func (m *Model) QuantizeRD(c *Codec, y tensor.Tensor, g *Grid, lambda [Layers]float64) error {
	hw := y.H * y.W
	n := Channels * hw
	if g.rd == nil || len(g.rd.prev) != n {
		g.rd = &rdScratch{prev: make([]float32, n), r: make([]float32, n),
			tabs: make([]*entropy.CDF, n), mus: make([]int32, n), sigmas: make([]int8, n)}
		for gi := range g.rd.flags {
			g.rd.flags[gi] = make([]*entropy.CDF, hw)
		}
	}
	sc := g.rd
	clear(sc.prev)
	for l := 0; l < Layers; l++ {
		if g.Q[l] == nil {
			g.Q[l] = make([]int32, n)
		}
		q := g.Q[l]
		for ch := 0; ch < Channels; ch++ {
			s := c.Steps[l*Channels+ch]
			for i := ch * hw; i < (ch+1)*hw; i++ {
				r := (y.Data[i] - sc.prev[i]) / s
				sc.r[i] = r
				q[i] = dzRound(r, RDDeadZone[l])
			}
		}
		if lambda[l] > 0 {
			if err := m.rdLayer(c, g, l, lambda[l]); err != nil {
				return err
			}
		}
		for ch := 0; ch < Channels; ch++ {
			s := c.Steps[l*Channels+ch]
			for i := ch * hw; i < (ch+1)*hw; i++ {
				sc.prev[i] += float32(q[i]) * s
			}
		}
	}
	return nil
}

// rdLayer makes layer l's decisions (QuantizeRD) on its dead-zone integers in g.Q[l].
func (m *Model) rdLayer(c *Codec, g *Grid, l int, lambda float64) error {
	sc := g.rd
	hw := g.H * g.W
	q := g.Q[l]
	k := newCoder(c, m.Tables, !c.Inter, g, l)
	err := k.walkFlags(func(gi, p int, t *entropy.CDF) (bool, error) {
		sc.flags[gi][p] = t
		return blockNonZero(q, hw, gi, p), nil
	})
	if err != nil {
		return err
	}
	err = k.walk(func(i int, t *entropy.CDF, mu, sigma int32) (int32, error) {
		sc.tabs[i], sc.mus[i], sc.sigmas[i] = t, mu, int8(sigma)
		return q[i], nil
	})
	if err != nil {
		return err
	}
	for gi, gr := range groups {
		for p := 0; p < hw; p++ {
			if !g.F[l][gi][p] {
				continue
			}
			jCode := sc.flags[gi][p].SymbolBits(1)
			jSkip := sc.flags[gi][p].SymbolBits(0)
			nz := false
			for ch := gr[0]; ch < gr[1]; ch++ {
				i := ch*hw + p
				s := float64(c.Steps[l*Channels+ch])
				w := lambda * c.gains[ch] * s * s
				r := float64(sc.r[i])
				jSkip += w * r * r
				t, mu, sigma := sc.tabs[i], sc.mus[i], int32(sc.sigmas[i])
				cost := func(v int32) float64 {
					e := r - float64(v)
					return t.ValueBits(int(sigma*(v-mu))) + w*e*e
				}
				best := q[i]
				bj := cost(best)
				if best != 0 {
					toward := best - 1
					if best < 0 {
						toward = best + 1
					}
					if j := cost(toward); j < bj {
						best, bj = toward, j
					}
					if toward != 0 {
						if j := cost(0); j < bj {
							best, bj = 0, j
						}
					}
				}
				q[i] = best
				jCode += bj
				nz = nz || best != 0
			}
			if !nz || jSkip <= jCode {
				for ch := gr[0]; ch < gr[1]; ch++ {
					q[ch*hw+p] = 0
				}
			}
		}
	}
	return nil
}

// RDDeadZone is QuantizeRD's dead zone per layer: the integers it starts from (and then
// lowers where they do not pay). Narrower than the training's DeadZone: the decisions
// drop what does not pay anyway, and the sign-aligned refinements (bitstream version 6)
// make a refinement cheap. Measured (bitstream 6, refit tables, S = 32, BD-rate vs x264
// medium over a fixed PSNR range): refinements at 0.15 rather than 0.25: bus −0.7, carphone
// −3.4 points; layer 1 at 0.1 rather than 0.15: bus −0.4, carphone −0.8.
var RDDeadZone = [Layers]float32{0.1, 0.15, 0.15, 0.15}
