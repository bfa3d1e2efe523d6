package nvc2

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/strata-player/strata/decoder"
)

// Stats counts the symbols an encoder sends, per context of the entropy model: the
// statistics that RefitTables fits the exported tables to (the training's entropy model
// learns from dead-zone integers; the encoder's rate–distortion quantizer sends other ones).
type Stats struct {
	// Values[codec][Codec.Table index] counts each coded value (v − μ; escapes as ±(A+1)
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
	err := k.walkFlags(func(gi, p int, t *decoder.CDF) (bool, error) {
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
	return k.walk(func(i int, t *decoder.CDF, mu int32) (int32, error) {
		h := st.Values[ci][k.ctx]
		if h == nil {
			h = map[int32]int64{}
			st.Values[ci][k.ctx] = h
		}
		h[q[i]-mu]++
		return q[i], nil
	})
}

// RefitTables re-chooses every context's frequency table (the one of m.Tables with the
// shortest code for that context's counted values) and every coded-block flag's
// probability (the counted frequency, with one count of prior per outcome) from st.
// Contexts with fewer than minCount symbols keep theirs. It returns the new ent.table and
// ent.flag_freq arrays of both codecs (I first) as the weights file stores them, and the
// ideal code length of st's symbols before and after, in bits.
func (m *Model) RefitTables(st *Stats, minCount int64) (table, flags [2][]float32, before, after float64) {
	for ci, c := range []*Codec{m.I, m.P} {
		table[ci] = make([]float32, len(c.Table))
		for i, j := range c.Table {
			table[ci][i] = float32(j)
			h := st.Values[ci][i]
			vals := slices.Sorted(maps.Keys(h)) // a fixed order: the same sums on every run
			var n int64
			for _, cnt := range h {
				n += cnt
			}
			cost := func(t *decoder.CDF) float64 {
				b := 0.0
				for _, v := range vals {
					b += float64(h[v]) * t.ValueBits(int(v))
				}
				return b
			}
			old := cost(m.Tables[j])
			before += old
			if n < minCount {
				after += old
				continue
			}
			best, bj := old, int(j)
			for tj, t := range m.Tables {
				if b := cost(t); b < best {
					best, bj = b, tj
				}
			}
			table[ci][i] = float32(bj)
			after += best
		}
		flags[ci] = make([]float32, 2*len(c.Flags))
		for i, f := range c.Flags {
			n0, n1 := st.Flags[ci][i][0], st.Flags[ci][i][1]
			old1 := f.SymbolBits(1)
			old0 := f.SymbolBits(0)
			before += float64(n0)*old0 + float64(n1)*old1
			const total = 1 << decoder.CDFBits
			f1 := f.Freq(1)
			if n0+n1 >= minCount {
				p := (float64(n1) + 1) / (float64(n0+n1) + 2)
				f1 = uint32(min(max(math.Round(p*total), 1), total-1))
			}
			flags[ci][2*i], flags[ci][2*i+1] = float32(total-f1), float32(f1)
			after += float64(n0)*(decoder.CDFBits-math.Log2(float64(total-f1))) + float64(n1)*(decoder.CDFBits-math.Log2(float64(f1)))
		}
	}
	return table, flags, before, after
}
