package decoder

import (
	"maps"
	"math"
	"slices"

	"github.com/strata-player/strata/decoder/entropy"
)

// Refitting the entropy model to what the encoder sends (`strata refit-tables`). The
// training fits one discretised Laplace scale per context and exports a family of 96 such
// tables; the encoder's rate–distortion quantizer and the sign-aligned refinements
// (bitstream version 6) send integers whose shapes no Laplace table fits (a refinement of
// a coefficient a lower layer left non-zero is 0 or +1 almost always). RefitTables keeps
// the exported family, designs up to `extra` further tables from the counted symbols
// (Lloyd iterations), and gives every context the table that codes its symbols shortest.

// Refit is RefitTables' result: the weights file's tables and entropy tensors.
type Refit struct {
	// Freqs are every table's frequencies: the first Base as the model had them, then the
	// fitted ones.
	Freqs [][]uint32
	Base  int
	// Table and Flags are ent.table and ent.flag_freq of both codecs (I first), as the
	// weights file stores them.
	Table, Flags [2][]float32
	// Before and After are the ideal code length of the counted symbols under the model's
	// tables and under the refit ones, in bits.
	Before, After float64
}

// hist is one context's counted values.
type hist struct {
	vals []int32
	cnt  []float64
	n    float64
}

func newHist(h map[int32]int64) hist {
	var o hist
	o.vals = slices.Sorted(maps.Keys(h)) // a fixed order: the same sums on every run
	for _, v := range o.vals {
		c := float64(h[v])
		o.cnt = append(o.cnt, c)
		o.n += c
	}
	return o
}

// cost is h's code length in bits under t.
func (h *hist) cost(t *entropy.CDF) float64 {
	b := 0.0
	for i, v := range h.vals {
		b += h.cnt[i] * t.ValueBits(int(v))
	}
	return b
}

// entropy is h's empirical entropy in bits (the shortest code any table could give it).
func (h *hist) entropy() float64 {
	b := 0.0
	for _, c := range h.cnt {
		b -= c * math.Log2(c/h.n)
	}
	return b
}

// maxFitAlphabet bounds a fitted table's A (values −A..A, then the escape).
const maxFitAlphabet = 64

// tableFrom builds a frequency table over −A..A and the escape from pooled counts, A the
// largest magnitude counted (2 ≤ A ≤ maxFitAlphabet), with `prior` counts added to every
// symbol so that no value costs more than ~CDFBits bits.
func tableFrom(pool map[int32]float64, prior float64) []uint32 {
	a := int32(2)
	for v := range pool {
		a = max(a, min(abs32(v), maxFitAlphabet))
	}
	n := int(2*a + 2)
	p := make([]float64, n)
	for i := range p {
		p[i] = prior
	}
	for v, c := range pool {
		s := int(v + a)
		if v < -a || v > a {
			s = n - 1
		}
		p[s] += c
	}
	tot := 0.0
	for _, x := range p {
		tot += x
	}
	const total = 1 << entropy.CDFBits
	f := make([]uint32, n)
	sum, big := 0, 0
	for i, x := range p {
		f[i] = uint32(max(1, math.Round(x/tot*total)))
		sum += int(f[i])
		if f[i] > f[big] {
			big = i
		}
	}
	f[big] = uint32(int(f[big]) + total - sum) // the largest absorbs the rounding
	return f
}

// fitIters is the number of Lloyd iterations (the code length changes by < 0.1 % after ~5).
const fitIters = 8

// RefitTables fits the tables to st: the first `base` tables of m.Tables stay (the
// exported family; tables after them, fitted by an earlier refit, are where the fit
// starts), up to `extra` tables are fitted, and every context with at least minCount symbols takes the
// table that codes them shortest; every coded-block flag's probability becomes its counted
// frequency (one count of prior per outcome). A context with fewer symbols keeps its table
// when that is one of the base family, else takes the base table closest to it.
func (m *Model) RefitTables(st *Stats, minCount int64, base, extra int) Refit {
	base = min(max(base, 1), len(m.Tables))
	r := Refit{Base: base}
	type cref struct {
		ci, i int
		h     hist
	}
	var ctxs []cref
	var small []cref
	for ci, c := range []*Codec{m.I, m.P} {
		r.Table[ci] = make([]float32, len(c.Table))
		for i, j := range c.Table {
			r.Table[ci][i] = float32(j)
			h := newHist(st.Values[ci][i])
			r.Before += h.cost(m.Tables[j])
			if h.n > 0 && h.n >= float64(minCount) {
				ctxs = append(ctxs, cref{ci, i, h})
			} else {
				small = append(small, cref{ci, i, h})
			}
		}
	}
	tabs := slices.Clone(m.Tables[:base])
	for _, t := range tabs {
		r.Freqs = append(r.Freqs, t.Freqs())
	}
	assign := make([]int, len(ctxs))
	cur := make([]float64, len(ctxs))
	choose := func(c int) {
		bj, bc := 0, math.Inf(1)
		for j, t := range tabs {
			if b := ctxs[c].h.cost(t); b < bc {
				bj, bc = j, b
			}
		}
		assign[c], cur[c] = bj, bc
	}
	for c := range ctxs {
		choose(c)
	}
	// Seeds: the contexts the base family fits worst (code length over entropy).
	order := make([]int, len(ctxs))
	excess := make([]float64, len(ctxs))
	for c := range order {
		order[c] = c
		excess[c] = cur[c] - ctxs[c].h.entropy()
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case excess[a] > excess[b]:
			return -1
		case excess[a] < excess[b]:
			return 1
		}
		return 0
	})
	pool := func(members []int) map[int32]float64 {
		p := map[int32]float64{}
		for _, c := range members {
			for k, v := range ctxs[c].h.vals {
				p[v] += ctxs[c].h.cnt[k]
			}
		}
		return p
	}
	// The Lloyd iterations start from the tables an earlier refit fitted, then from seeds.
	var fitted [][]uint32
	for _, t := range m.Tables[base:min(len(m.Tables), base+extra)] {
		fitted = append(fitted, t.Freqs())
		tabs = append(tabs, t)
	}
	for _, c := range order[:min(extra-len(fitted), len(order))] {
		fitted = append(fitted, tableFrom(pool([]int{c}), 0.5))
		tabs = append(tabs, mustCDF(fitted[len(fitted)-1]))
	}
	for it := 0; it < fitIters && len(fitted) > 0; it++ {
		for c := range ctxs {
			choose(c)
		}
		members := make([][]int, len(fitted))
		for c, j := range assign {
			if j >= base {
				members[j-base] = append(members[j-base], c)
			}
		}
		for k := range fitted {
			if len(members[k]) > 0 {
				fitted[k] = tableFrom(pool(members[k]), 0.5)
				tabs[base+k] = mustCDF(fitted[k])
			}
		}
	}
	// Unused fitted tables are dropped (indices renumbered).
	used := make([]bool, len(fitted))
	for c := range ctxs {
		choose(c)
		if assign[c] >= base {
			used[assign[c]-base] = true
		}
	}
	renum := make([]int, len(tabs))
	for j := range base {
		renum[j] = j
	}
	n := base
	for k, f := range fitted {
		if used[k] {
			renum[base+k] = n
			r.Freqs = append(r.Freqs, f)
			n++
		}
	}
	for c, x := range ctxs {
		r.Table[x.ci][x.i] = float32(renum[assign[c]])
		r.After += cur[c]
	}
	for _, x := range small {
		j := int(r.Table[x.ci][x.i])
		if j >= base {
			j = nearestBase(m.Tables[:base], m.Tables[j])
			r.Table[x.ci][x.i] = float32(j)
		}
		r.After += x.h.cost(m.Tables[j])
	}
	for ci, c := range []*Codec{m.I, m.P} {
		var before, after float64
		r.Flags[ci], before, after = refitFlags(c.Flags, st.Flags[ci], minCount)
		r.Before += before
		r.After += after
	}
	return r
}

// nearestBase is the index of the table of base that codes old's distribution shortest.
func nearestBase(base []*entropy.CDF, old *entropy.CDF) int {
	a := (old.Symbols() - 2) / 2
	bj, bc := 0, math.Inf(1)
	for j, t := range base {
		b := 0.0
		for s := range old.Symbols() {
			b += float64(old.Freq(s)) * t.ValueBits(s-a) // the escape as A+1
		}
		if b < bc {
			bj, bc = j, b
		}
	}
	return bj
}

// refitFlags turns each coded-block flag context's counts into its frequencies (f0, f1), as
// ent.flag_freq stores them: the counted frequency with one count of prior per outcome, or
// the old table's below minCount counts; with the code length of the counts before and after.
func refitFlags(old []*entropy.CDF, counts [][2]int64, minCount int64) (freqs []float32, before, after float64) {
	const total = 1 << entropy.CDFBits
	freqs = make([]float32, 2*len(old))
	for i, f := range old {
		n0, n1 := counts[i][0], counts[i][1]
		before += float64(n0)*f.SymbolBits(0) + float64(n1)*f.SymbolBits(1)
		f1 := f.Freq(1)
		if n0+n1 >= minCount {
			p := (float64(n1) + 1) / (float64(n0+n1) + 2)
			f1 = uint32(min(max(math.Round(p*total), 1), total-1))
		}
		freqs[2*i], freqs[2*i+1] = float32(total-f1), float32(f1)
		after += float64(n0)*(entropy.CDFBits-math.Log2(float64(total-f1))) + float64(n1)*(entropy.CDFBits-math.Log2(float64(f1)))
	}
	return freqs, before, after
}

func mustCDF(f []uint32) *entropy.CDF {
	t, err := entropy.NewCDF(f)
	if err != nil {
		panic("decoder: a fitted table is invalid: " + err.Error()) // tableFrom sums to 1<<CDFBits
	}
	return t
}
