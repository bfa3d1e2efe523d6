package decoder

import "fmt"

// DClasses is the number of reference-distance classes of the level embedding: a P-frame
// referencing a frame 1, 2, 4 or 8 frames away uses class 0, 1, 2 or 3; I-frames class 0.
const DClasses = 4

// resBlock is x + B(relu(A(in))), where in is x or x extended with more channels.
type resBlock struct{ A, B Conv }

// DecoderNet holds the decoder weights of one codec (docs/MODEL.md). It is immutable and
// may be shared by any number of Decoders.
type DecoderNet struct {
	Bits, Layers      int
	Inp               Conv
	EmbScale, EmbBias []float32 // [Layers][DClasses][64]
	RB1               resBlock
	Up1, Pred1        Conv
	RB2               resBlock
	Up2               Conv
	RB3               resBlock
	Out               Conv
}

// EncoderNet holds the encoder weights of one codec.
type EncoderNet struct {
	Bits, Layers      int
	C1                Conv
	EmbScale, EmbBias []float32 // [Layers][DClasses][64]
	C2, C3, C4        Conv
}

// MACsPerLumaPixel counts one decode's multiply-accumulates per luma pixel.
func (n *DecoderNet) MACsPerLumaPixel() float64 {
	// Resolutions relative to luma: codes 1/16, then 1/8, 1/4, and the output at 1/2.
	at := func(c *Conv, scale float64) float64 { return float64(c.MACs()) * scale * scale }
	m := at(&n.Inp, 1.0/16) + at(&n.RB1.A, 1.0/16) + at(&n.RB1.B, 1.0/16) + at(&n.Up1, 1.0/16)
	m += at(&n.Pred1, 1.0/8) + at(&n.RB2.A, 1.0/8) + at(&n.RB2.B, 1.0/8) + at(&n.Up2, 1.0/8)
	m += at(&n.RB3.A, 1.0/4) + at(&n.RB3.B, 1.0/4) + at(&n.Out, 1.0/4)
	return m
}

func checkLevel(layers int, k, d int) error {
	if k < 1 || k > layers || d < 0 || d >= DClasses {
		return fmt.Errorf("level (%d layers, distance class %d) outside 1..%d, 0..%d", k, d, layers, DClasses-1)
	}
	return nil
}

// embed applies the level embedding's per-channel scale and bias, then ReLU.
func embed(t Tensor, scale, bias []float32) {
	hw := t.H * t.W
	for c := 0; c < t.C; c++ {
		s, b := scale[c], bias[c]
		p := t.Data[c*hw : (c+1)*hw]
		for i, v := range p {
			v = v*s + b
			if v < 0 {
				v = 0
			}
			p[i] = v
		}
	}
}

// Decoder runs a DecoderNet, owning every intermediate buffer so that decoding frame after
// frame of one size allocates nothing. A Decoder is not safe for concurrent use.
type Decoder struct {
	net *DecoderNet
	// threads bounds the goroutines of each convolution (0: one per CPU).
	threads                             int
	f1, t1, u1, f2, p4, t2, u2, cat, t3 Tensor
	o, scratch                          Tensor
}

// NewDecoder returns a Decoder for net using every CPU.
func NewDecoder(net *DecoderNet) *Decoder { return &Decoder{net: net} }

// SetThreads bounds the goroutines each convolution uses (0: one per CPU). Results do not
// depend on it.
func (d *Decoder) SetThreads(n int) { d.threads = n }

// Decode reconstructs a frame from codes (Layers·Bits × h/8 × w/8, ±1 for received layers
// and 0 for the rest), k layers received, distance class dc and the prediction pred
// (6 × h × w, half resolution). The result (6 × h × w, not clamped) is written to out.
func (d *Decoder) Decode(codes Tensor, k, dc int, pred Tensor, out *Tensor) error {
	n := d.net
	if err := checkLevel(n.Layers, k, dc); err != nil {
		return err
	}
	if pred.C != 6 || pred.H%8 != 0 || pred.W%8 != 0 || pred.H == 0 || pred.W == 0 {
		return fmt.Errorf("prediction %v: want 6 channels and sides a multiple of 8", pred)
	}
	if codes.C != n.Layers*n.Bits || codes.H*8 != pred.H || codes.W*8 != pred.W {
		return fmt.Errorf("codes %v do not fit %d layers x %d bits over prediction %v", codes, n.Layers, n.Bits, pred)
	}
	off := ((k-1)*DClasses + dc) * 64
	f := n.Inp.Apply(codes, &d.f1, &d.scratch, d.threads)
	embed(f, n.EmbScale[off:off+64], n.EmbBias[off:off+64])
	t := n.RB1.A.Apply(f, &d.t1, &d.scratch, d.threads)
	relu(t.Data)
	addInto(f.Data, n.RB1.B.Apply(t, &d.u1, &d.scratch, d.threads).Data)
	u := n.Up1.Apply(f, &d.u1, &d.scratch, d.threads)
	f2 := pixelShuffle(u, 2, &d.f2)
	p4 := ensure(&d.p4, 96, pred.H/4, pred.W/4)
	pixelUnshuffle(pred, 4, p4, 0)
	addInto(f2.Data, n.Pred1.Apply(p4, &d.t2, &d.scratch, d.threads).Data)
	relu(f2.Data)
	t = n.RB2.A.Apply(f2, &d.t2, &d.scratch, d.threads)
	relu(t.Data)
	addInto(f2.Data, n.RB2.B.Apply(t, &d.u2, &d.scratch, d.threads).Data)
	u = n.Up2.Apply(f2, &d.u2, &d.scratch, d.threads)
	// cat = [shuffle(u) (16 ch), unshuffle(pred, 2) (24 ch)] at half of the half resolution.
	cat := ensure(&d.cat, 40, pred.H/2, pred.W/2)
	f3 := Tensor{C: 16, H: cat.H, W: cat.W, Data: cat.Data[:16*cat.H*cat.W]}
	pixelShuffleInto(u, 2, f3)
	relu(f3.Data)
	pixelUnshuffle(pred, 2, cat, 16)
	t = n.RB3.A.Apply(cat, &d.t3, &d.scratch, d.threads)
	relu(t.Data)
	addInto(f3.Data, n.RB3.B.Apply(t, &d.t1, &d.scratch, d.threads).Data)
	o := n.Out.Apply(f3, &d.o, &d.scratch, d.threads)
	res := pixelShuffle(o, 2, out)
	addInto(res.Data, pred.Data)
	return nil
}

// pixelShuffleInto is pixelShuffle into a tensor of the right shape.
func pixelShuffleInto(in Tensor, r int, out Tensor) {
	tmp := out
	pixelShuffle(in, r, &tmp)
}

// Encoder runs an EncoderNet with reused buffers. Not safe for concurrent use.
type Encoder struct {
	net                  *EncoderNet
	threads              int
	in, a, b, c, scratch Tensor
}

// NewEncoder returns an Encoder for net using every CPU.
func NewEncoder(net *EncoderNet) *Encoder { return &Encoder{net: net} }

// SetThreads bounds the goroutines each convolution uses (0: one per CPU).
func (e *Encoder) SetThreads(n int) { e.threads = n }

// Logits computes the pre-binarization code logits (Bits × h/8 × w/8) of layer `layer`
// (0-based) from the residual x − x̂ and the prediction (both 6 × h × w).
func (e *Encoder) Logits(resid, pred Tensor, layer, dc int, out *Tensor) error {
	n := e.net
	if err := checkLevel(n.Layers, layer+1, dc); err != nil {
		return err
	}
	if !resid.sameShape(pred) || pred.C != 6 || pred.H%8 != 0 || pred.W%8 != 0 {
		return fmt.Errorf("residual %v and prediction %v: want equal 6-channel shapes, sides a multiple of 8", resid, pred)
	}
	in := ensure(&e.in, 12, pred.H, pred.W)
	hw := pred.H * pred.W
	for i, v := range resid.Data {
		in.Data[i] = v * 4
	}
	copy(in.Data[6*hw:], pred.Data)
	off := (layer*DClasses + dc) * 64
	a := n.C1.Apply(in, &e.a, &e.scratch, e.threads)
	embed(a, n.EmbScale[off:off+64], n.EmbBias[off:off+64])
	b := n.C2.Apply(a, &e.b, &e.scratch, e.threads)
	relu(b.Data)
	c := n.C3.Apply(b, &e.c, &e.scratch, e.threads)
	relu(c.Data)
	n.C4.Apply(c, out, &e.scratch, e.threads)
	return nil
}
