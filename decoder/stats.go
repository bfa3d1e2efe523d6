package decoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder/entropy"
)

// Stats counts the symbols an encoder sends, per context of the entropy model: the
// statistics that RefitTables fits the exported tables to (the training's entropy model
// learns from dead-zone integers; the encoder's rate–distortion quantizer sends other ones).
type Stats struct {
	// Values[codec][Codec.Table index] counts each coded value (σ·(v − μ); escapes as ±(A+1)
	// of the table in use); codec 0 is I, 1 is P.
	Values [2][]map[int32]int64
	// Flags[codec][Codec.Flags index] counts coded-block flags 0 and 1.
	Flags [2][][2]int64
}

// NewStats returns empty counts.
func NewStats() *Stats {
	st := &Stats{}
	for i := range st.Values {
		st.Values[i] = make([]map[int32]int64, Layers*Channels*Contexts)
		st.Flags[i] = make([][2]int64, Layers*len(groups)*FlagCtx)
	}
	return st
}

// Count adds layer `layer` of g (as EncodeLayer would code it; the layers below it set the
// contexts) to st.
func (m *Model) Count(c *Codec, g *Grid, layer int, st *Stats) error {
	if layer < 0 || layer >= Layers {
		return fmt.Errorf("layer %d outside 0..%d", layer, Layers-1)
	}
	q := g.Q[layer]
	if allZero(q) {
		return nil // the empty payload codes nothing
	}
	ci := 0
	if c.Inter {
		ci = 1
	}
	k := newCoder(c, m.Tables, !c.Inter, g, layer)
	hw := g.H * g.W
	err := k.walkFlags(func(gi, p int, t *entropy.CDF) (bool, error) {
		nz := blockNonZero(q, hw, gi, p)
		if nz {
			st.Flags[ci][k.ctx][1]++
		} else {
			st.Flags[ci][k.ctx][0]++
		}
		return nz, nil
	})
	if err != nil {
		return err
	}
	return k.walk(func(i int, t *entropy.CDF, mu, sigma int32) (int32, error) {
		h := st.Values[ci][k.ctx]
		if h == nil {
			h = map[int32]int64{}
			st.Values[ci][k.ctx] = h
		}
		h[sigma*(q[i]-mu)]++
		return q[i], nil
	})
}
