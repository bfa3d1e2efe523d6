package enhance

import (
	"math"

	"github.com/strata-player/strata/decoder/tensor"
)

// Patch is one training example: a decoded luma crop and the source's crop at the same
// place (W×H bytes each).
type Patch struct {
	W, H            int
	Decoded, Source []byte
}

// Margin is the border of a patch left out of the loss (luma pixels): the network sees
// three half-resolution pixels around each output (three 3×3 layers on the 2×2 blocks),
// and a patch's edge lacks its real neighbours.
const Margin = 8

// Trainer fits a Net to patches with Adam on the mean squared error of the interior pixels.
// It owns the Net it trains; Snapshot copies it for publishing.
type Trainer struct {
	net          *Net
	lr           float64
	beta1, beta2 float64
	t            int
	m, v         [3][2][]float64 // Adam moments per layer: weights, biases
	g            [3][2][]float64 // gradient accumulators
	// buffers
	x, a1, a2, r, dr, d2, d1 tensor.Tensor
	scratch                  tensor.Tensor
	cols                     []float32 // weightGrad's shifted input planes
}

// NewTrainer trains net (Adam, step lr).
func NewTrainer(net *Net, lr float64) *Trainer {
	t := &Trainer{net: net, lr: lr, beta1: 0.9, beta2: 0.999}
	for i, l := range net.Layers {
		for j, n := range []int{len(l.Weight), len(l.Bias)} {
			t.m[i][j] = make([]float64, n)
			t.v[i][j] = make([]float64, n)
			t.g[i][j] = make([]float64, n)
		}
	}
	return t
}

// LR and SetLR read and change Adam's step.
func (t *Trainer) LR() float64 { return t.lr }

// SetLR changes Adam's step.
func (t *Trainer) SetLR(lr float64) { t.lr = lr }

// Net is the model being trained (do not use it concurrently with Step).
func (t *Trainer) Net() *Net { return t.net }

// Snapshot is a copy of the current model, ready to share between goroutines.
func (t *Trainer) Snapshot() *Net {
	c := t.net.Clone()
	c.Prepare()
	return c
}

// conv is layer i as a fresh tensor.Conv (its packed weights follow the current values).
func (t *Trainer) conv(i int) *tensor.Conv {
	l := t.net.Layers[i]
	return &tensor.Conv{Cin: l.Cin, Cout: l.Cout, K: 3, Stride: 1, Weight: l.Weight, Bias: l.Bias}
}

// Step takes one Adam step on the batch and returns its mean squared error (interior
// pixels, on the 0..1 scale) before the step.
func (t *Trainer) Step(batch []Patch) float64 {
	for i := range t.g {
		for j := range t.g[i] {
			clear(t.g[i][j])
		}
	}
	loss, count := 0.0, 0
	for _, p := range batch {
		l, n := t.accumulate(p)
		loss += l
		count += n
	}
	if count == 0 {
		return 0
	}
	t.t++
	c1 := 1 - math.Pow(t.beta1, float64(t.t))
	c2 := 1 - math.Pow(t.beta2, float64(t.t))
	for i := range t.net.Layers {
		params := [2][]float32{t.net.Layers[i].Weight, t.net.Layers[i].Bias}
		for j, w := range params {
			m, v, g := t.m[i][j], t.v[i][j], t.g[i][j]
			for k := range w {
				gk := g[k] / float64(count)
				m[k] = t.beta1*m[k] + (1-t.beta1)*gk
				v[k] = t.beta2*v[k] + (1-t.beta2)*gk*gk
				w[k] -= float32(t.lr * (m[k] / c1) / (math.Sqrt(v[k]/c2) + 1e-8))
			}
		}
	}
	return loss / float64(count)
}

// Loss is the mean squared error of the interior pixels of the patches (no step).
func (t *Trainer) Loss(patches []Patch) float64 {
	loss, count := 0.0, 0
	for _, p := range patches {
		t.forward(p)
		l, n := t.residualError(p, nil)
		loss += l
		count += n
	}
	return loss / float64(max(count, 1))
}

func (t *Trainer) forward(p Patch) {
	x := toBlocks(&t.x, p.Decoded, p.W, p.H)
	t.a1 = t.conv(0).Apply(x, &t.a1, &t.scratch, 1)
	tensor.ReLU(t.a1.Data)
	t.a2 = t.conv(1).Apply(t.a1, &t.a2, &t.scratch, 1)
	tensor.ReLU(t.a2.Data)
	t.r = t.conv(2).Apply(t.a2, &t.r, &t.scratch, 1)
}

// residualError returns the summed squared error over the interior and its pixel count;
// with dr set (block layout, like the residual), it writes d(sum)/d(residual) there (zero
// outside the interior).
func (t *Trainer) residualError(p Patch, dr []float32) (float64, int) {
	sum, n := 0.0, 0
	if dr != nil {
		clear(dr)
	}
	hw, hh := t.x.W, t.x.H
	m := Margin / 2
	for c := 0; c < 4; c++ {
		dy, dx := c>>1, c&1
		px, pr := t.x.Plane(c), t.r.Plane(c)
		for yy := m; yy < hh-m; yy++ {
			src := p.Source[(2*yy+dy)*p.W+dx:]
			for xx := m; xx < hw-m; xx++ {
				i := yy*hw + xx
				e := float64(px[i]+pr[i]) - float64(src[2*xx])/255
				sum += e * e
				n++
				if dr != nil {
					dr[c*hh*hw+i] = float32(2 * e)
				}
			}
		}
	}
	return sum, n
}

// accumulate adds the patch's gradients (of the summed squared error) and returns its
// error sum and pixel count.
func (t *Trainer) accumulate(p Patch) (float64, int) {
	t.forward(p)
	dR := tensor.Ensure(&t.dr, 4, p.H/2, p.W/2)
	loss, n := t.residualError(p, dR.Data)
	// Layer 3: r = conv3(a2).
	t.weightGrad(2, t.a2, dR)
	d2 := t.inputGrad(2, dR, &t.d2)
	mask(d2.Data, t.a2.Data)
	// Layer 2: a2 = relu(conv2(a1)).
	t.weightGrad(1, t.a1, d2)
	d1 := t.inputGrad(1, d2, &t.d1)
	mask(d1.Data, t.a1.Data)
	// Layer 1: a1 = relu(conv1(x)).
	t.weightGrad(0, t.x, d1)
	return loss, n
}

// mask zeroes the gradient where the ReLU's output was zero.
func mask(d, a []float32) {
	for i, v := range a {
		if v <= 0 {
			d[i] = 0
		}
	}
}

// inputGrad is the gradient with respect to layer i's input: the transposed convolution,
// i.e. a convolution with the kernels flipped and the channel roles swapped.
func (t *Trainer) inputGrad(i int, dOut tensor.Tensor, out *tensor.Tensor) tensor.Tensor {
	l := t.net.Layers[i]
	w := make([]float32, len(l.Weight))
	for co := 0; co < l.Cout; co++ {
		for ci := 0; ci < l.Cin; ci++ {
			for k := 0; k < 9; k++ {
				w[(ci*l.Cout+co)*9+8-k] = l.Weight[(co*l.Cin+ci)*9+k]
			}
		}
	}
	c := &tensor.Conv{Cin: l.Cout, Cout: l.Cin, K: 3, Stride: 1, Weight: w, Bias: make([]float32, l.Cin)}
	return c.Apply(dOut, out, &t.scratch, 1)
}

// weightGrad adds layer i's weight and bias gradients for input in and output gradient
// dOut: dW[co][ci][ky][kx] = Σ dOut[co](y,x)·in[ci](y+ky−1, x+kx−1) (zero outside). Each
// shifted input plane is built once (im2col), so every weight's gradient is one long dot
// product.
func (t *Trainer) weightGrad(i int, in, dOut tensor.Tensor) {
	l := t.net.Layers[i]
	gw, gb := t.g[i][0], t.g[i][1]
	H, W := in.H, in.W
	hw := H * W
	if cap(t.cols) < 9*l.Cin*hw {
		t.cols = make([]float32, 9*l.Cin*hw)
	}
	cols := t.cols[:9*l.Cin*hw]
	clear(cols)
	for ci := 0; ci < l.Cin; ci++ {
		x := in.Plane(ci)
		for k := 0; k < 9; k++ {
			ky, kx := k/3, k%3
			dst := cols[(ci*9+k)*hw : (ci*9+k+1)*hw]
			y0, y1 := max(0, 1-ky), min(H, H+1-ky)
			x0, x1 := max(0, 1-kx), min(W, W+1-kx)
			for y := y0; y < y1; y++ {
				copy(dst[y*W+x0:y*W+x1], x[(y+ky-1)*W+x0+kx-1:])
			}
		}
	}
	for co := 0; co < l.Cout; co++ {
		d := dOut.Plane(co)
		s := 0.0
		for _, v := range d {
			s += float64(v)
		}
		gb[co] += s
		g := gw[co*l.Cin*9 : (co+1)*l.Cin*9]
		for r := range g {
			g[r] += float64(dot(d, cols[r*hw:(r+1)*hw]))
		}
	}
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		a8, b8 := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += a8[0] * b8[0]
		s1 += a8[1] * b8[1]
		s2 += a8[2] * b8[2]
		s3 += a8[3] * b8[3]
		s4 += a8[4] * b8[4]
		s5 += a8[5] * b8[5]
		s6 += a8[6] * b8[6]
		s7 += a8[7] * b8[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3) + (s4 + s5) + (s6 + s7)
}
