package decoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder/entropy"
)

// Bi-predicted frames' motion (bitstream version 3, docs/BITSTREAM.md): per frame
// the 16×16 blocks' modes (0 forward, 1 backward, 2 both; docs/MOTION.md), then the backward
// vectors (median-predicted from their own field, as the forward ones: predicting them from
// the negated forward vector cost 15 % more bits on carphone, the median of both 3 % more),
// in one range-coded payload of its own. Forward vectors go with the predicted frames' vectors
// (EncodeMVsModes). A vector its block's mode does not use is set by the encoder to its
// prediction (FillUnusedMVs) and, since version 5, not sent: the decoder fills it in.

// biContexts are the adaptive probabilities of the modes: "both?" by how many of the left
// and upper blocks are bi-predicted (0..2), then "backward?" by how many of them are backward.
type biContexts struct {
	both, back [3]entropy.Prob
}

func newBiContexts() *biContexts {
	c := &biContexts{}
	for i := range c.both {
		c.both[i], c.back[i] = entropy.ProbInit, entropy.ProbInit
	}
	return c
}

func modeContext(m []uint8, bw, i int, want uint8) int {
	n := 0
	if i%bw > 0 && m[i-1] == want {
		n++
	}
	if i >= bw && m[i-bw] == want {
		n++
	}
	return n
}

// EncodeBi codes the modes and backward vectors of several bi-predicted frames (each bw
// blocks wide, raster order; modes 0..2).
func EncodeBi(modes [][]uint8, bwd [][]MV, bw int) []byte {
	e := entropy.NewEncoder(nil)
	c := newBiContexts()
	mc := newMVContexts()
	for f, m := range modes {
		for i, v := range m {
			if v == 2 {
				e.Bit(&c.both[modeContext(m, bw, i, 2)], 1)
				continue
			}
			e.Bit(&c.both[modeContext(m, bw, i, 2)], 0)
			e.Bit(&c.back[modeContext(m, bw, i, 1)], int(v))
		}
		for i, mv := range bwd[f] {
			if m[i] == 0 {
				continue // forward-only: no backward vector (version 5)
			}
			p := mvPredict(bwd[f], bw, i%bw, i/bw)
			encodeDiff(e, mc, 0, mv.Y-p.Y)
			encodeDiff(e, mc, 1, mv.X-p.X)
		}
	}
	return e.Bytes()
}

// DecodeBi decodes nframes frames of bw×bh modes and backward vectors from payload, which
// must be consumed exactly; every vector lies within ±MVLimit.
func DecodeBi(payload []byte, nframes, bw, bh int) ([][]uint8, [][]MV, error) {
	d := entropy.NewDecoder(payload)
	c := newBiContexts()
	mc := newMVContexts()
	modes := make([][]uint8, nframes)
	bwd := make([][]MV, nframes)
	for f := range modes {
		m := make([]uint8, bw*bh)
		for i := range m {
			if d.Bit(&c.both[modeContext(m, bw, i, 2)]) == 1 {
				m[i] = 2
			} else {
				m[i] = uint8(d.Bit(&c.back[modeContext(m, bw, i, 1)]))
			}
		}
		v := make([]MV, bw*bh)
		for i := range v {
			p := mvPredict(v, bw, i%bw, i/bw)
			if m[i] == 0 {
				v[i] = p
				continue
			}
			dy, err := decodeDiff(d, mc, 0)
			if err != nil {
				return nil, nil, err
			}
			dx, err := decodeDiff(d, mc, 1)
			if err != nil {
				return nil, nil, err
			}
			mv := MV{Y: p.Y + dy, X: p.X + dx}
			if d.Err() != nil {
				return nil, nil, fmt.Errorf("%w: bi-prediction truncated (frame %d block %d)", entropy.ErrRangeCoder, f, i)
			}
			if mv.Y < -MVLimit || mv.Y > MVLimit || mv.X < -MVLimit || mv.X > MVLimit {
				return nil, nil, fmt.Errorf("%w: backward vector (%d, %d) of frame %d block %d beyond ±%d", entropy.ErrRangeCoder, mv.Y, mv.X, f, i, MVLimit)
			}
			v[i] = mv
		}
		modes[f], bwd[f] = m, v
	}
	if d.Err() != nil {
		return nil, nil, fmt.Errorf("%w: bi-prediction truncated", entropy.ErrRangeCoder)
	}
	if d.Used() != len(payload) {
		return nil, nil, fmt.Errorf("%w: %d bytes after the bi-prediction data", entropy.ErrRangeCoder, len(payload)-d.Used())
	}
	return modes, bwd, nil
}

// FillUnusedMVs sets, in raster order, every vector of v (bw blocks wide) that used reports
// unused to the median prediction from the vectors before it, so that it codes as zero
// differences.
func FillUnusedMVs(v []MV, bw int, used func(i int) bool) {
	for i := range v {
		if !used(i) {
			v[i] = mvPredict(v, bw, i%bw, i/bw)
		}
	}
}
