package decoder

import (
	"testing"

	"github.com/strata-player/strata/decoder/entropy"
)

// TestSignAlignedRefinements: a refinement of a coefficient that a lower layer left
// non-zero is coded as σ·v, σ the sign of the highest such layer (bitstream version 6): with
// a one-sided table (+1 likely, −1 rare) in every refinement context, refinements that move
// away from zero (the sign of the layer below) cost little whatever that sign is, and their
// mirror images cost ≥ 6 bits more each; every grid decodes to its integers.
func TestSignAlignedRefinements(t *testing.T) {
	m := loadTestModel(t)
	// Table: −2..2 and the escape; +1 at ~24 %, −1 at ~0.1 %.
	skew, err := entropy.NewCDF([]uint32{30, 60, 49760, 15616, 40, 30})
	if err != nil {
		t.Fatal(err)
	}
	mm := *m
	mm.Tables = append(append([]*entropy.CDF(nil), m.Tables...), skew)
	p := *m.P
	p.Table = append([]uint8(nil), m.P.Table...)
	for i := Channels * Contexts; i < len(p.Table); i++ {
		if i%2 == 1 { // layer ≥ 1, a layer below non-zero (ctx bit 0)
			p.Table[i] = uint8(len(mm.Tables) - 1)
		}
	}
	const h, w = 4, 4
	hw := h * w
	code := func(away bool) int {
		g := NewGrid(h, w)
		for i := 0; i < 40; i++ {
			idx := (i%Channels)*hw + i%hw
			sign := int32(1 - 2*(i%2)) // both signs in layer 0
			g.Q[0][idx] = 3 * sign
			r := sign
			if !away {
				r = -sign
			}
			g.Q[1][idx] = r
		}
		back := &Grid{H: h, W: w}
		codeLayer(t, &mm, &p, g, back, 0)
		return len(codeLayer(t, &mm, &p, g, back, 1))
	}
	nAway, nToward := code(true), code(false)
	// −1 costs ~10.7 bits more than +1 under the table: ≥ 6 bits per refinement.
	if nToward-nAway < 40*6/8 {
		t.Fatalf("refinements away from zero: %d bytes, toward zero: %d: the sign is not aligned to the layer below", nAway, nToward)
	}
	t.Logf("40 refinements: %d bytes away from zero, %d toward", nAway, nToward)
}
