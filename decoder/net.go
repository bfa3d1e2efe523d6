package decoder

import (
	"fmt"
	"math"

	"github.com/strata-player/strata/decoder/tensor"
)

// Planes is a picture as float planes in [0, 1] (values may stray outside before rounding):
// Y is H×W, U and V are H/2×W/2, each a one-channel tensor. H and W are multiples of 16.
type Planes struct{ Y, U, V tensor.Tensor }

// PlanesOf converts an 8-bit frame (sides multiples of 16) into planes.
func PlanesOf(f *Frame, out *Planes) error {
	if f.W%16 != 0 || f.H%16 != 0 || len(f.Y) != f.W*f.H || len(f.U) != f.W*f.H/4 || len(f.V) != f.W*f.H/4 {
		return fmt.Errorf("frame %dx%d: want 4:2:0 planes with sides multiples of 16", f.W, f.H)
	}
	conv := func(src []byte, t *tensor.Tensor, h, w int) {
		d := tensor.Ensure(t, 1, h, w).Data
		for i, v := range src {
			d[i] = float32(v) * (1.0 / 255)
		}
	}
	conv(f.Y, &out.Y, f.H, f.W)
	conv(f.U, &out.U, f.H/2, f.W/2)
	conv(f.V, &out.V, f.H/2, f.W/2)
	return nil
}

// to8 rounds a plane to 8 bits: ×255, halves up, clamped to 0…255 (NaN → 0), exactly as
// kernels/decode.cu's to8.
func to8(src []float32, dst []byte) {
	for i, v := range src {
		x := v*255 + 0.5
		switch {
		case !(x > 0):
			dst[i] = 0
		case x >= 255:
			dst[i] = 255
		default:
			dst[i] = byte(x)
		}
	}
}

// Frame rounds planes into an 8-bit frame of the planes' size.
func (p *Planes) Frame(out *Frame) {
	w, h := p.Y.W, p.Y.H
	if out.W != w || out.H != h || len(out.Y) != w*h {
		*out = *NewFrame(w, h)
	}
	to8(p.Y.Data, out.Y)
	to8(p.U.Data, out.U)
	to8(p.V.Data, out.V)
}

// Net runs one codec's networks, reusing its buffers between frames (one goroutine at a time).
type Net struct {
	c       *Codec
	threads int
	yhat    tensor.Tensor
	g, pad  tensor.Tensor
	q       tensor.Tensor
	f1, f2  tensor.Tensor
	res     tensor.Tensor
	ana     tensor.Tensor
	xs, ps  tensor.Tensor // Analyze: the frame and the prediction on the 1/8 grid
	acat, b tensor.Tensor
}

// NewNet prepares c for decoding (and encoding) with the given thread count (0: all CPUs).
func NewNet(c *Codec, threads int) *Net { return &Net{c: c, threads: threads} }

// Dequantize fills n's coefficient tensor from the first k layers of g.
func (n *Net) dequantize(g *Grid, k int) tensor.Tensor {
	t := tensor.Ensure(&n.yhat, Channels, g.H, g.W)
	hw := g.H * g.W
	for l := 0; l < k; l++ {
		q := g.Q[l]
		for ch := 0; ch < Channels; ch++ {
			s := n.c.Steps[l*Channels+ch]
			d := t.Data[ch*hw : (ch+1)*hw]
			src := q[ch*hw : (ch+1)*hw]
			if l == 0 {
				// 0 + q·s, as a sum from zero (the kernels' order; −0 becomes +0).
				var zero float32
				for i, v := range src {
					d[i] = zero + float32(v)*s
				}
				continue
			}
			for i, v := range src {
				d[i] += float32(v) * s
			}
		}
	}
	return t
}

func checkLevel(k, d int) error {
	if k < 1 || k > Layers || d < 0 || d >= DClasses {
		return fmt.Errorf("level k=%d, distance class %d outside 1..%d, 0..%d", k, d, Layers, DClasses-1)
	}
	return nil
}

// Decode reconstructs a frame from the first k layers of g. pred is the prediction
// (P-frames; nil for I-frames) and d the distance class. out receives float planes (round
// them with Planes.Frame).
func (n *Net) Decode(g *Grid, k, d int, pred *Planes, out *Planes) error {
	if err := checkLevel(k, d); err != nil {
		return err
	}
	if n.c.Inter != (pred != nil) {
		return fmt.Errorf("predicted frames need a prediction and intra frames take none")
	}
	H, W := 8*g.H, 8*g.W
	if pred != nil && (pred.Y.H != H || pred.Y.W != W) {
		return fmt.Errorf("prediction %dx%d for a %dx%d grid", pred.Y.W, pred.Y.H, W, H)
	}
	yhat := n.dequantize(g, k)
	syn := n.c.Syn.Apply(yhat, &n.g, &n.pad, n.threads)
	// Depth-to-space to the planes, + prediction or mid-grey.
	split := func(t tensor.Tensor, c0, c1 int) tensor.Tensor {
		return tensor.Tensor{C: c1 - c0, H: t.H, W: t.W, Data: t.Data[c0*t.H*t.W : c1*t.H*t.W]}
	}
	tensor.PixelShuffle(split(syn, 0, 64), 8, &out.Y)
	tensor.PixelShuffle(split(syn, 64, 80), 4, &out.U)
	tensor.PixelShuffle(split(syn, 80, 96), 4, &out.V)
	if pred != nil {
		add(out.Y.Data, pred.Y.Data)
		add(out.U.Data, pred.U.Data)
		add(out.V.Data, pred.V.Data)
	} else {
		for _, p := range [][]float32{out.Y.Data, out.U.Data, out.V.Data} {
			for i := range p {
				p[i] += 0.5
			}
		}
	}
	// Restoration on the 1/4 grid.
	var xq, in tensor.Tensor
	if pred != nil {
		// The restoration's input is [frame, prediction] on the 1/4 grid, unshuffled in
		// place; the frame's channels are xq.
		cat := tensor.Ensure(&n.res, 2*quarter, H/4, W/4)
		quarterInto(out, cat, 0)
		quarterInto(pred, cat, quarter)
		xq = tensor.Tensor{C: quarter, H: cat.H, W: cat.W, Data: cat.Data[:quarter*cat.H*cat.W]}
		in = cat
	} else {
		xq = toQuarter(out, &n.q)
		in = xq
	}
	f := n.c.RestA.Apply(in, &n.f1, &n.pad, n.threads)
	emb := ((k-1)*DClasses + d) * restCh
	hw := f.H * f.W
	for ch := 0; ch < restCh; ch++ {
		s, b := n.c.EmbScale[emb+ch], n.c.EmbBias[emb+ch]
		p := f.Data[ch*hw : (ch+1)*hw]
		for i, v := range p {
			p[i] = max(v*s+b, 0)
		}
	}
	f2 := n.c.RestB.Apply(f, &n.f2, &n.pad, n.threads)
	tensor.ReLU(f2.Data)
	r := n.c.RestC.Apply(f2, &n.f1, &n.pad, n.threads)
	add(xq.Data, r.Data)
	fromQuarter(xq, out)
	return nil
}

func add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// toQuarter is space-to-depth of the planes onto the 1/4 grid: Y by 4 (16 channels), U and V
// by 2 (4 each).
func toQuarter(p *Planes, out *tensor.Tensor) tensor.Tensor {
	t := tensor.Ensure(out, quarter, p.Y.H/4, p.Y.W/4)
	quarterInto(p, t, 0)
	return t
}

// quarterInto is toQuarter into channels c0 … c0+quarter of t (sized already).
func quarterInto(p *Planes, t tensor.Tensor, c0 int) {
	tensor.PixelUnshuffle(p.Y, 4, t, c0)
	tensor.PixelUnshuffle(p.U, 2, t, c0+16)
	tensor.PixelUnshuffle(p.V, 2, t, c0+20)
}

func fromQuarter(t tensor.Tensor, out *Planes) {
	hw := t.H * t.W
	tensor.PixelShuffle(tensor.Tensor{C: 16, H: t.H, W: t.W, Data: t.Data[:16*hw]}, 4, &out.Y)
	tensor.PixelShuffle(tensor.Tensor{C: 4, H: t.H, W: t.W, Data: t.Data[16*hw : 20*hw]}, 2, &out.U)
	tensor.PixelShuffle(tensor.Tensor{C: 4, H: t.H, W: t.W, Data: t.Data[20*hw:]}, 2, &out.V)
}

// toEighth is space-to-depth of the planes onto the 1/8 grid (Y by 8, U and V by 4): the
// analysis transform's input layout.
func toEighth(p *Planes, out *tensor.Tensor) tensor.Tensor {
	t := tensor.Ensure(out, Channels, p.Y.H/8, p.Y.W/8)
	tensor.PixelUnshuffle(p.Y, 8, t, 0)
	tensor.PixelUnshuffle(p.U, 4, t, 64)
	tensor.PixelUnshuffle(p.V, 4, t, 80)
	return t
}

// Analyze is the encoder's analysis transform: the coefficients y (Channels × H/8 × W/8) of
// x − pred (P) or x − ½ (I).
func (n *Net) Analyze(x, pred *Planes, out *tensor.Tensor) (tensor.Tensor, error) {
	if n.c.Inter != (pred != nil) {
		return tensor.Tensor{}, fmt.Errorf("predicted frames need a prediction and intra frames take none")
	}
	r := toEighth(x, &n.xs)
	in := r
	if pred != nil {
		p := toEighth(pred, &n.ps)
		for i := range r.Data {
			r.Data[i] -= p.Data[i]
		}
		cat := tensor.Ensure(&n.acat, 2*Channels, r.H, r.W)
		copy(cat.Data, r.Data)
		copy(cat.Data[len(r.Data):], p.Data)
		in = cat
	} else {
		for i := range r.Data {
			r.Data[i] -= 0.5
		}
	}
	lin := n.c.AnaLin.Apply(r, out, &n.pad, n.threads)
	a := n.c.AnaA.Apply(in, &n.ana, &n.pad, n.threads)
	tensor.ReLU(a.Data)
	b := n.c.AnaB.Apply(a, &n.b, &n.pad, n.threads)
	add(lin.Data, b.Data)
	return lin, nil
}

// DeadZone is the quantizer's dead-zone offset per layer (encoder/train/codec.py's DEADZONE):
// q = sign(r)·floor(|r| + ½ − θ_l) with r = (y − ŷ_{l−1})/s_l. A refinement whose |r| is just
// above ½ moves the reconstruction across y for almost no distortion gain but costs a non-zero
// symbol. Measured with the step-11,531 weights on 33 frames, S = 8 (docs/MODEL.md): BD-rate
// −28.9 % (carphone) and −35.9 % (bus) against plain rounding.
var DeadZone = [Layers]float32{0.15, 0.25, 0.25, 0.25}

// Quantize fills every layer of g from coefficients y: layer l carries the dead-zone rounding
// of (y − ŷ_{l−1}) / s_l (DeadZone; float32 operations in codec.dz_round's order).
func (c *Codec) Quantize(y tensor.Tensor, g *Grid) { c.quantizeDZ(y, g, DeadZone) }

// quantizeDZ is Quantize with dead zones dz.
func (c *Codec) quantizeDZ(y tensor.Tensor, g *Grid, dz [Layers]float32) {
	hw := y.H * y.W
	for l := 0; l < Layers; l++ {
		if g.Q[l] == nil {
			g.Q[l] = make([]int32, Channels*hw)
		}
	}
	for ch := 0; ch < Channels; ch++ {
		for i, v := range y.Data[ch*hw : (ch+1)*hw] {
			var prev float32
			for l := 0; l < Layers; l++ {
				s := c.Steps[l*Channels+ch]
				q := dzRound((v-prev)/s, dz[l])
				g.Q[l][ch*hw+i] = q
				prev += float32(q) * s
			}
		}
	}
}

// dzRound is sign(r)·floor(|r| + ½ − θ) (float32 operations in codec.dz_round's order).
// Branch-free: a is at least ½ − θ > 0 (every θ in use is below ½), so its floor is the
// conversion's truncation and no float64 round trip is needed (dzRoundRef in the tests is
// the formula as written).
func dzRound(r, theta float32) int32 {
	v := int32((float32(math.Abs(float64(r))) + 0.5) - theta)
	sign := int32(math.Float32bits(r)) >> 31 // −1 for a negative r, else 0
	return (v ^ sign) - sign
}
