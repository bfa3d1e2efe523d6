package decoder

import (
	"errors"
	"fmt"

	"github.com/strata-player/strata/decoder/entropy"
)

// ErrPayload is wrapped by errors of malformed coefficient payloads.
var ErrPayload = errors.New("coefficient payload")

// Grid is one frame's integer coefficients: Q[l] holds layer l's integers in channel-major
// order ([Channels][H][W], the 1/8 luma grid). Layers beyond those received stay nil.
type Grid struct {
	H, W int
	Q    [Layers][]int32
	// F[l][plane][p] is layer l's coded-block flag (any non-zero integer of the plane at
	// position p), set by EncodeLayer and DecodeLayer; the next layer's contexts read it.
	F [Layers][3][]bool
	// lower is scratch for the coder (per position: non-zero channels coded so far); at is
	// walk's list of coded positions.
	lower []uint8
	at    []int32
	// rd is QuantizeRD's scratch.
	rd *rdScratch
}

// NewGrid allocates an h×w grid with every layer zero.
func NewGrid(h, w int) *Grid {
	g := &Grid{H: h, W: w, lower: make([]uint8, h*w)}
	for l := range g.Q {
		g.Q[l] = make([]int32, Channels*h*w)
		for gi := range g.F[l] {
			g.F[l][gi] = make([]bool, h*w)
		}
	}
	return g
}

// Clear zeroes every layer (integers and flags).
func (g *Grid) Clear() {
	for l := range g.Q {
		clear(g.Q[l])
		for gi := range g.F[l] {
			clear(g.F[l][gi])
		}
	}
}

// coder walks one layer's integers in coding order (channel by channel, raster inside a
// channel) and yields each one's table and predicted value. The order and the contexts are
// docs/BITSTREAM.md's (v2) and codec.py's contexts()/med_pred().
type coder struct {
	c     *Codec
	tabs  []*entropy.CDF
	intra bool
	layer int
	h, w  int
	g     *Grid
	q     []int32   // this layer (being written by the decoder)
	lower []uint8   // per position: non-zero channels of this group already coded
	flags [3][]bool // per plane and position: the coded-block flag of this layer
	// ctx is the index of the symbol being coded in Codec.Flags (walkFlags) or Codec.Table
	// (walk), for the callbacks that count symbols per context (Stats).
	ctx int
}

func newCoder(c *Codec, tabs []*entropy.CDF, intra bool, g *Grid, layer int) *coder {
	if g.lower == nil || len(g.lower) != g.H*g.W {
		g.lower = make([]uint8, g.H*g.W)
	}
	for gi := range g.F[layer] {
		if len(g.F[layer][gi]) != g.H*g.W {
			g.F[layer][gi] = make([]bool, g.H*g.W)
		}
	}
	return &coder{c: c, tabs: tabs, intra: intra, layer: layer, h: g.H, w: g.W, g: g, q: g.Q[layer],
		lower: g.lower, flags: g.F[layer]}
}

// prevPlane reports whether any layer below this one has a non-zero integer of plane gi at
// position p (their flags say so).
func (k *coder) prevPlane(gi, p int) bool {
	for l := 0; l < k.layer; l++ {
		if k.g.F[l][gi][p] {
			return true
		}
	}
	return false
}

// prevSign is the sign (−1 or +1) of the highest layer below this one that is non-zero at
// integer i, or 0 when every layer below is zero there.
func (k *coder) prevSign(i int) int32 {
	for l := k.layer - 1; l >= 0; l-- {
		switch v := k.g.Q[l][i]; {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
	}
	return 0
}

// walkFlags calls fn for every coded-block flag of the layer (plane by plane, raster order)
// with its table; fn returns the flag (the encoder's, or the one it decoded).
func (k *coder) walkFlags(fn func(gi, p int, t *entropy.CDF) (bool, error)) error {
	for gi := range groups {
		f := k.flags[gi]
		base := (k.layer*len(groups) + gi) * FlagCtx
		for y := 0; y < k.h; y++ {
			for x := 0; x < k.w; x++ {
				p := y*k.w + x
				ctx := 0
				if x > 0 && f[p-1] {
					ctx++
				}
				if y > 0 && f[p-k.w] {
					ctx += 2
				}
				if k.prevPlane(gi, p) {
					ctx += 4
				}
				k.ctx = base + ctx
				v, err := fn(gi, p, k.c.Flags[base+ctx])
				if err != nil {
					return err
				}
				f[p] = v
			}
		}
	}
	return nil
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// walk calls fn for every integer of a coded block (walkFlags first) in coding order with
// its table, prediction μ and sign σ: the coded value is σ·(v − μ) (bitstream version 6:
// a refinement of a coefficient that a lower layer left non-zero is coded relative to that
// layer's sign, σ = its sign; else σ = 1); fn returns the integer v (the encoder's, or the
// one it decoded), which walk records for the contexts. Uncoded blocks are not visited: their
// integers must be zero already (DecodeLayer clears the layer; encoders derive the flags
// from the integers).
func (k *coder) walk(fn func(i int, t *entropy.CDF, mu, sigma int32) (int32, error)) error {
	hw := k.h * k.w
	base := k.layer * Channels * Contexts
	for gi, gr := range groups {
		clear(k.lower)
		// The coded positions of this plane, in raster order, each with whether it has a
		// left and an upper neighbour (p<<2 | left<<1 | top): uncoded blocks are skipped
		// whole, their integers zero.
		at := k.g.at[:0]
		for p, c := range k.flags[gi] {
			if c {
				e := int32(p) << 2
				if p%k.w != 0 {
					e |= 2
				}
				if p >= k.w {
					e |= 1
				}
				at = append(at, e)
			}
		}
		k.g.at = at
		for ch := gr[0]; ch < gr[1]; ch++ {
			plane := k.q[ch*hw : (ch+1)*hw]
			if len(at) == 0 {
				continue
			}
			tabRow := k.c.Table[base+ch*Contexts : base+(ch+1)*Contexts]
			dc := k.intra && k.layer == 0 && ch == gr[0]
			for _, e := range at {
				p := int(e >> 2)
				var left, top, topLeft int32
				if e&2 != 0 {
					left = plane[p-1]
				}
				if e&1 != 0 {
					top = plane[p-k.w]
					if e&2 != 0 {
						topLeft = plane[p-k.w-1]
					}
				}
				nb := min(abs32(left)+abs32(top), 3)
				low := k.lower[p]
				var ctx int32
				sigma := int32(1)
				if k.layer == 0 {
					lb := int32(0)
					switch {
					case low >= 6:
						lb = 3
					case low >= 3:
						lb = 2
					case low >= 1:
						lb = 1
					}
					ctx = nb*4 + lb
				} else {
					ctx = nb * 4
					if low > 0 {
						ctx += 2
					}
					if ps := k.prevSign(ch*hw + p); ps != 0 {
						ctx++
						sigma = ps
					}
				}
				var mu int32
				if dc {
					mu = med(left, top, topLeft)
				}
				k.ctx = base + ch*Contexts + int(ctx)
				v, err := fn(ch*hw+p, k.tabs[tabRow[ctx]], mu, sigma)
				if err != nil {
					return err
				}
				plane[p] = v
				if v != 0 && low < 255 {
					k.lower[p] = low + 1
				}
			}
		}
	}
	return nil
}

// med is the median (LOCO-I) predictor from the left, upper and upper-left values.
func med(a, b, c int32) int32 {
	mx, mn := max(a, b), min(a, b)
	switch {
	case c >= mx:
		return mn
	case c <= mn:
		return mx
	}
	return a + b - c
}

// EncodeLayer codes layer `layer` of g (layers below it must be filled in: they set the
// contexts) and returns the payload: empty when every integer of the layer is zero.
func (m *Model) EncodeLayer(c *Codec, g *Grid, layer int) ([]byte, error) {
	if layer < 0 || layer >= Layers {
		return nil, fmt.Errorf("layer %d outside 0..%d", layer, Layers-1)
	}
	// walk writes each integer back as fn returns it, the same value, so the layer is read
	// in place.
	q := g.Q[layer]
	k := newCoder(c, m.Tables, !c.Inter, g, layer)
	if allZero(q) {
		// Version 4: a layer with no non-zero integer is the empty payload.
		for gi := range k.flags {
			clear(k.flags[gi])
		}
		return []byte{}, nil
	}
	e := entropy.NewEncoder(nil)
	hw := g.H * g.W
	err := k.walkFlags(func(gi, p int, t *entropy.CDF) (bool, error) {
		nz := blockNonZero(q, hw, gi, p)
		if nz {
			e.Symbol(t, 1)
		} else {
			e.Symbol(t, 0)
		}
		return nz, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.walk(func(i int, t *entropy.CDF, mu, sigma int32) (int32, error) {
		return q[i], e.Value(t, int(sigma*(q[i]-mu)))
	})
	if err != nil {
		return nil, err
	}
	return e.Bytes(), nil
}

// blockNonZero reports whether plane gi has a non-zero integer of q (one layer, hw
// positions per channel) at position p: the block's coded-block flag.
func blockNonZero(q []int32, hw, gi, p int) bool {
	for ch := groups[gi][0]; ch < groups[gi][1]; ch++ {
		if q[ch*hw+p] != 0 {
			return true
		}
	}
	return false
}

func allZero(q []int32) bool {
	for _, v := range q {
		if v != 0 {
			return false
		}
	}
	return true
}

// maxCoef bounds a decoded integer's magnitude: far beyond anything an 8-bit picture needs
// at the smallest step, small enough that sums of layers never overflow.
const maxCoef = 1 << 20

// DecodeLayer decodes a payload of layer `layer` into g.Q[layer] (layers below it must be
// decoded already); the empty payload is a layer of zeros. A malformed or truncated payload
// is an error wrapping ErrPayload.
func (m *Model) DecodeLayer(c *Codec, g *Grid, layer int, payload []byte) error {
	if layer < 0 || layer >= Layers {
		return fmt.Errorf("layer %d outside 0..%d", layer, Layers-1)
	}
	if g.Q[layer] == nil {
		g.Q[layer] = make([]int32, Channels*g.H*g.W)
	}
	k := newCoder(c, m.Tables, !c.Inter, g, layer)
	if len(payload) == 0 {
		clear(g.Q[layer])
		for gi := range k.flags {
			clear(k.flags[gi])
		}
		return nil
	}
	clear(g.Q[layer]) // walk visits coded blocks only
	d := entropy.NewDecoder(payload)
	err := k.walkFlags(func(gi, p int, t *entropy.CDF) (bool, error) {
		f := d.Symbol(t) == 1
		if d.Err() != nil {
			return false, fmt.Errorf("%w: layer %d corrupt or truncated at flag %d of plane %d", ErrPayload, layer, p, gi)
		}
		return f, nil
	})
	if err != nil {
		return err
	}
	err = k.walk(func(i int, t *entropy.CDF, mu, sigma int32) (int32, error) {
		v := sigma*int32(d.Value(t)) + mu
		if d.Err() != nil || v > maxCoef || v < -maxCoef {
			return 0, fmt.Errorf("%w: layer %d corrupt or truncated at integer %d", ErrPayload, layer, i)
		}
		return v, nil
	})
	return err
}
