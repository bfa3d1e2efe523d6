// Package enhance is strata's post-decoding enhancement (LiveNAS, SIGCOMM'20): a small
// residual network on the luma plane, y' = y + f(y). f works on the half-resolution grid:
// each 2×2 block of luma becomes 4 channels (space-to-depth), three 3×3 convolutions
// (4→C, ReLU, C→C, ReLU, C→4) and the inverse rearrangement give the residual, so a
// model sees 7×7 half-resolution pixels around each output for a quarter of the
// full-resolution cost. It is applied by the player after decoding and trained online
// from high-quality patches of a live stream (Online). Inference runs on the decoder's
// convolution kernels (tensor.Conv); a model is a small versioned binary (Marshal).
package enhance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/tensor"
	"github.com/strata-player/strata/internal/byteread"
)

// Net is one enhancement model. Weights are float32, torch's Conv2d layout
// ([Cout][Cin][3][3]).
type Net struct {
	C      int
	Layers [3]tensor.Conv
	// Scale is 1 for a post-filter of decoded frames and 2 for an upsampler of a
	// half-resolution rung: frames are doubled with Upscale2 first and the network refines
	// the result (it was trained on such frames). Enhance does both.
	Scale int
}

// MaxChannels bounds C (a model's size and its MACs per luma pixel: 9·(8C + C²)/4).
const MaxChannels = 32

// New returns an untrained model with C hidden channels: He-initialised hidden layers and a
// zero last layer, so it starts as the identity (y' = y).
func New(c int, seed uint64) (*Net, error) {
	if c < 1 || c > MaxChannels {
		return nil, fmt.Errorf("enhance: %d channels (1..%d)", c, MaxChannels)
	}
	r := rand.New(rand.NewPCG(seed, 0xe17a))
	n := &Net{C: c, Scale: 1}
	dims := [3][2]int{{4, c}, {c, c}, {c, 4}}
	for i, d := range dims {
		l := tensor.Conv{Cin: d[0], Cout: d[1], K: 3, Stride: 1,
			Weight: make([]float32, d[0]*d[1]*9), Bias: make([]float32, d[1])}
		if i < 2 {
			std := math.Sqrt(2 / float64(9*d[0]))
			for j := range l.Weight {
				l.Weight[j] = float32(r.NormFloat64() * std)
			}
		}
		n.Layers[i] = l
	}
	return n, nil
}

// Prepare packs every layer's weights for inference (once, before Apply or Enhance from
// several goroutines; a Net being trained is not prepared).
func (n *Net) Prepare() {
	for i := range n.Layers {
		n.Layers[i].Prepare()
	}
}

// UnmarshalUpsampler decodes a model that must be an upsampler (scale 2) and prepares it.
func UnmarshalUpsampler(b []byte) (*Net, error) {
	n, err := Unmarshal(b)
	if err != nil {
		return nil, err
	}
	if n.Scale != 2 {
		return nil, fmt.Errorf("%w: a post-filter (scale %d), not an upsampler", ErrModel, n.Scale)
	}
	n.Prepare()
	return n, nil
}

// MACs is the multiply-accumulates per luma pixel.
func (n *Net) MACs() int { return 9 * (8*n.C + n.C*n.C) / 4 }

// Params is the number of weights and biases.
func (n *Net) Params() int {
	p := 0
	for _, l := range n.Layers {
		p += len(l.Weight) + len(l.Bias)
	}
	return p
}

// Clone returns a deep copy.
func (n *Net) Clone() *Net {
	c := &Net{C: n.C, Scale: n.Scale}
	for i, l := range n.Layers {
		c.Layers[i] = tensor.Conv{Cin: l.Cin, Cout: l.Cout, K: 3, Stride: 1,
			Weight: append([]float32(nil), l.Weight...), Bias: append([]float32(nil), l.Bias...)}
	}
	return c
}

// Scratch holds an Apply's buffers (one per goroutine).
type Scratch struct {
	in, a, b, pad tensor.Tensor
	plane         []byte
	up            []float32 // Upscale2's row buffer
}

// Apply enhances the luma plane of f in place (threads: goroutines, 0: one per CPU).
// Chroma is left as decoded. The plane is first extended by Margin pixels of its edge on
// every side, so pixels near the frame's edge see plausible context rather than zeros;
// the outermost Margin pixels themselves, and the last column or row of odd sizes, stay
// as decoded.
func (n *Net) Apply(f *decoder.Frame, s *Scratch, threads int) {
	w, h := f.W&^1, f.H&^1
	pw, ph := w+2*Margin, h+2*Margin
	if cap(s.plane) < pw*ph {
		s.plane = make([]byte, pw*ph)
	}
	pl := s.plane[:pw*ph]
	for y := 0; y < ph; y++ {
		sy := min(max(y-Margin, 0), h-1)
		src := f.Y[sy*f.W : sy*f.W+w]
		row := pl[y*pw : (y+1)*pw]
		copy(row[Margin:], src)
		for x := 0; x < Margin; x++ {
			row[x], row[Margin+w+x] = src[0], src[w-1]
		}
	}
	in := toBlocks(&s.in, pl, pw, ph)
	a := n.Layers[0].Apply(in, &s.a, &s.pad, threads)
	tensor.ReLU(a.Data)
	b := n.Layers[1].Apply(a, &s.b, &s.pad, threads)
	tensor.ReLU(b.Data)
	r := n.Layers[2].Apply(b, &s.a, &s.pad, threads)
	addBlocks(pl, pw, in, r)
	// The outermost Margin pixels keep their decoded values: the model never learned what
	// to do without real context.
	for y := Margin; y < h-Margin; y++ {
		copy(f.Y[y*f.W+Margin:y*f.W+w-Margin], pl[(y+Margin)*pw+2*Margin:])
	}
}

// Enhance returns f enhanced in dst (reused when it has the size): a copy refined in place
// for a post-filter, the bicubic 2× cropped to w×h (0: twice f's size) and refined for an
// upsampler.
func (n *Net) Enhance(dst, f *decoder.Frame, w, h int, s *Scratch, threads int) *decoder.Frame {
	if n.Scale == 2 {
		if w <= 0 || h <= 0 {
			w, h = 2*f.W, 2*f.H
		}
		dst = upscale2(dst, f, w, h, &s.up)
	} else {
		if dst == nil || dst.W != f.W || dst.H != f.H {
			dst = decoder.NewFrame(f.W, f.H)
		}
		copy(dst.Y, f.Y)
		copy(dst.U, f.U)
		copy(dst.V, f.V)
	}
	n.Apply(dst, s, threads)
	return dst
}

// toBlocks rearranges the even part of a w×h luma plane into 4 channels of (h/2)×(w/2):
// channel dy·2+dx holds the pixels (2y+dy, 2x+dx), scaled to 0..1.
func toBlocks(t *tensor.Tensor, y []byte, w, h int) tensor.Tensor {
	hw, hh := w/2, h/2
	in := tensor.Ensure(t, 4, hh, hw)
	for c := 0; c < 4; c++ {
		dy, dx := c>>1, c&1
		p := in.Plane(c)
		for yy := 0; yy < hh; yy++ {
			row := y[(2*yy+dy)*w+dx:]
			for xx := 0; xx < hw; xx++ {
				p[yy*hw+xx] = float32(row[2*xx]) * (1.0 / 255)
			}
		}
	}
	return in
}

// addBlocks writes in + r (both in block layout) back to the luma plane, rounded.
func addBlocks(y []byte, w int, in, r tensor.Tensor) {
	hw, hh := in.W, in.H
	for c := 0; c < 4; c++ {
		dy, dx := c>>1, c&1
		pi, pr := in.Plane(c), r.Plane(c)
		for yy := 0; yy < hh; yy++ {
			row := y[(2*yy+dy)*w+dx:]
			for xx := 0; xx < hw; xx++ {
				v := (pi[yy*hw+xx]+pr[yy*hw+xx])*255 + 0.5
				row[2*xx] = uint8(min(max(v, 0), 255))
			}
		}
	}
}

// The binary form: magic, version, C, (version 2: the scale, 2), then every layer's
// weights and biases (little-endian float32), then a CRC-32 (IEEE) of everything before it.
// Post-filters (scale 1) are written as version 1, which older players read.
const (
	magic     = "SENH"
	version   = 1
	versionUp = 2
)

// ErrModel is wrapped by every Unmarshal error.
var ErrModel = errors.New("enhance: model")

// Marshal encodes the model.
func (n *Net) Marshal() []byte {
	b := append([]byte(magic), version, byte(n.C))
	if n.Scale == 2 {
		b = append([]byte(magic), versionUp, byte(n.C), 2)
	}
	for _, l := range n.Layers {
		for _, v := range l.Weight {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		for _, v := range l.Bias {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// Unmarshal decodes a model (untrusted input: sizes, checksum and values are checked).
func Unmarshal(b []byte) (*Net, error) {
	if len(b) < 10 || string(b[:4]) != magic {
		return nil, fmt.Errorf("%w: not an enhancement model", ErrModel)
	}
	head := 6
	switch b[4] {
	case version:
	case versionUp:
		head = 7
		if b[6] != 2 {
			return nil, fmt.Errorf("%w: scale %d (want 2)", ErrModel, b[6])
		}
	default:
		return nil, fmt.Errorf("%w: version %d, want %d or %d", ErrModel, b[4], version, versionUp)
	}
	c := int(b[5])
	if c < 1 || c > MaxChannels {
		return nil, fmt.Errorf("%w: %d channels", ErrModel, c)
	}
	n, _ := New(c, 0)
	n.Scale = head - 5
	want := head + 4*n.Params() + 4
	if len(b) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d for %d channels", ErrModel, len(b), want, c)
	}
	if crc32.ChecksumIEEE(b[:want-4]) != binary.LittleEndian.Uint32(b[want-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrModel)
	}
	r := byteread.LittleEndian(b[head:want-4], ErrModel)
	read := func(dst []float32) error {
		for i := range dst {
			v := r.F32()
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1e4 {
				return fmt.Errorf("%w: weight %v", ErrModel, v)
			}
			dst[i] = v
		}
		return r.Err()
	}
	for i := range n.Layers {
		if err := read(n.Layers[i].Weight); err != nil {
			return nil, err
		}
		if err := read(n.Layers[i].Bias); err != nil {
			return nil, err
		}
	}
	return n, nil
}
