package decoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder/entropy"
)

// mvContexts are the adaptive probabilities of the vector code (docs/BITSTREAM.md): per
// component, a zero flag, a sign and eight unary contexts.
type mvContexts struct {
	zero, sign [2]entropy.Prob
	unary      [2][8]entropy.Prob
}

func newMVContexts() *mvContexts {
	c := &mvContexts{}
	for j := 0; j < 2; j++ {
		c.zero[j], c.sign[j] = entropy.ProbInit, entropy.ProbInit
		for i := range c.unary[j] {
			c.unary[j][i] = entropy.ProbInit
		}
	}
	return c
}

// mvPredict is the median predictor of block (x, y) on a bw-wide grid of decoded vectors.
func mvPredict(v []MV, bw, x, y int) MV {
	var a, b, c MV
	if x > 0 {
		a = v[y*bw+x-1]
	}
	b = a
	if y > 0 {
		b = v[(y-1)*bw+x]
	}
	c = b
	if y > 0 && x+1 < bw {
		c = v[(y-1)*bw+x+1]
	} else if y > 0 && x > 0 {
		c = v[(y-1)*bw+x-1]
	}
	return MV{Y: median3(a.Y, b.Y, c.Y), X: median3(a.X, b.X, c.X)}
}

func median3(a, b, c int) int {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		return a
	}
	return b
}

const unaryMax = 16

func encodeDiff(e *entropy.Encoder, c *mvContexts, j, d int) {
	if d == 0 {
		e.Bit(&c.zero[j], 0)
		return
	}
	e.Bit(&c.zero[j], 1)
	m := d
	if d < 0 {
		e.Bit(&c.sign[j], 1)
		m = -d
	} else {
		e.Bit(&c.sign[j], 0)
	}
	for i := 1; i < unaryMax; i++ {
		if m > i {
			e.Bit(&c.unary[j][min(i, 8)-1], 1)
			continue
		}
		e.Bit(&c.unary[j][min(i, 8)-1], 0)
		return
	}
	// Exp-Golomb order 0 of m − 16 at probability ½.
	v := m - unaryMax + 1
	n := 0
	for t := v; t > 1; t >>= 1 {
		n++
	}
	for i := 0; i < n; i++ {
		e.Direct(0)
	}
	for i := n; i >= 0; i-- {
		e.Direct((v >> i) & 1)
	}
}

func decodeDiff(d *entropy.Decoder, c *mvContexts, j int) (int, error) {
	if d.Bit(&c.zero[j]) == 0 {
		return 0, nil
	}
	neg := d.Bit(&c.sign[j]) == 1
	m := 1
	for ; m < unaryMax; m++ {
		if d.Bit(&c.unary[j][min(m, 8)-1]) == 0 {
			break
		}
	}
	if m == unaryMax {
		n := 0
		for d.Direct() == 0 {
			n++
			if n > 8 || d.Err() != nil {
				return 0, fmt.Errorf("%w: motion vector difference too long", entropy.ErrRangeCoder)
			}
		}
		v := 1
		for i := 0; i < n; i++ {
			v = v<<1 | d.Direct()
		}
		m = v + unaryMax - 1
	}
	if neg {
		m = -m
	}
	return m, nil
}

// EncodeMVs codes the vectors of several frames (each bw×bh, raster order) into one payload.
func EncodeMVs(frames [][]MV, bw int) []byte { return EncodeMVsModes(frames, nil, bw) }

// EncodeMVsModes is EncodeMVs for frames whose block modes the decoder knows first (bitstream
// version 5): a block of a frame with modes whose mode is backward-only (1) sends no forward
// vector; the vector must be its prediction (FillUnusedMVs), which the decoder fills in.
// modes[f] is nil for a frame predicted from its reference alone; modes may be nil.
func EncodeMVsModes(frames [][]MV, modes [][]uint8, bw int) []byte {
	e := entropy.NewEncoder(nil)
	c := newMVContexts()
	for f, v := range frames {
		for i, mv := range v {
			if modes != nil && modes[f] != nil && modes[f][i] == 1 {
				continue
			}
			p := mvPredict(v, bw, i%bw, i/bw)
			encodeDiff(e, c, 0, mv.Y-p.Y)
			encodeDiff(e, c, 1, mv.X-p.X)
		}
	}
	return e.Bytes()
}

// DecodeMVs decodes nframes frames of bw×bh vectors from payload. Every vector must lie
// within ±MVLimit and the payload must be consumed exactly.
func DecodeMVs(payload []byte, nframes, bw, bh int) ([][]MV, error) {
	return DecodeMVsModes(payload, nil, nframes, bw, bh)
}

// DecodeMVsModes decodes what EncodeMVsModes codes (modes[f]: nil, or frame f's bw×bh block
// modes); a backward-only block's forward vector is its prediction.
func DecodeMVsModes(payload []byte, modes [][]uint8, nframes, bw, bh int) ([][]MV, error) {
	if modes != nil && len(modes) != nframes {
		return nil, fmt.Errorf("%w: modes for %d frames, %d frames of vectors", entropy.ErrRangeCoder, len(modes), nframes)
	}
	d := entropy.NewDecoder(payload)
	c := newMVContexts()
	out := make([][]MV, nframes)
	for f := range out {
		var m []uint8
		if modes != nil {
			m = modes[f]
			if m != nil && len(m) != bw*bh {
				return nil, fmt.Errorf("%w: %d modes for %d blocks", entropy.ErrRangeCoder, len(m), bw*bh)
			}
		}
		v := make([]MV, bw*bh)
		for i := range v {
			p := mvPredict(v, bw, i%bw, i/bw)
			if m != nil && m[i] == 1 {
				v[i] = p
				continue
			}
			dy, err := decodeDiff(d, c, 0)
			if err != nil {
				return nil, err
			}
			dx, err := decodeDiff(d, c, 1)
			if err != nil {
				return nil, err
			}
			mv := MV{Y: p.Y + dy, X: p.X + dx}
			if d.Err() != nil {
				return nil, fmt.Errorf("%w: motion vectors truncated (frame %d block %d)", entropy.ErrRangeCoder, f, i)
			}
			if mv.Y < -MVLimit || mv.Y > MVLimit || mv.X < -MVLimit || mv.X > MVLimit {
				return nil, fmt.Errorf("%w: vector (%d, %d) of frame %d block %d beyond ±%d", entropy.ErrRangeCoder, mv.Y, mv.X, f, i, MVLimit)
			}
			v[i] = mv
		}
		out[f] = v
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("%w: motion vectors truncated", entropy.ErrRangeCoder)
	}
	if d.Used() != len(payload) {
		return nil, fmt.Errorf("%w: %d bytes after the motion vectors", entropy.ErrRangeCoder, len(payload)-d.Used())
	}
	return out, nil
}

// MVPredict is the median prediction of block (x, y)'s vector from the vectors before it in
// raster order on a bw-wide grid (the prediction the vector code subtracts).
func MVPredict(v []MV, bw, x, y int) MV { return mvPredict(v, bw, x, y) }
