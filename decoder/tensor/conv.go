package tensor

import (
	"fmt"
	"runtime"
	"sync"
)

// Conv is a 2-D convolution with zero padding K/2, as torch.nn.Conv2d with
// padding=K//2: Weight is [Cout][Cin][K][K], Bias is [Cout].
type Conv struct {
	Cin, Cout, K, Stride int
	Weight, Bias         []float32

	// packed holds the 3×3 weights reordered for the register-blocked kernel. Prepare
	// builds it; model loading does so, so shared weights are never written concurrently.
	packed []float32
}

// MACs is the multiply-accumulates of one output pixel.
func (c *Conv) MACs() int { return c.Cin * c.Cout * c.K * c.K }

// Parallel runs fn over [0, n) split into contiguous ranges, one per CPU.
func Parallel(n int, fn func(lo, hi int)) { parallelN(runtime.GOMAXPROCS(0), n, fn) }

// parallelN runs fn over [0, n) split into at most workers contiguous ranges.
func parallelN(workers, n int, fn func(lo, hi int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// axpy4 accumulates four weighted copies of src into a0..a3.
func axpy4(a0, a1, a2, a3 []float32, w0, w1, w2, w3 float32, src []float32) {
	n := len(src)
	a0, a1, a2, a3 = a0[:n], a1[:n], a2[:n], a3[:n]
	if SIMD && n >= 8 {
		m := n &^ 7
		w := [4]float32{w0, w1, w2, w3}
		axpy4x8(&a0[0], &a1[0], &a2[0], &a3[0], &w[0], &src[0], m)
		a0, a1, a2, a3, src = a0[m:], a1[m:], a2[m:], a3[m:], src[m:]
	}
	for x, v := range src {
		a0[x] += w0 * v
		a1[x] += w1 * v
		a2[x] += w2 * v
		a3[x] += w3 * v
	}
}

func axpy1(a []float32, w float32, src []float32) {
	a = a[:len(src)]
	for x, v := range src {
		a[x] += w * v
	}
}

// Apply computes out = conv(in) on up to threads goroutines (0: one per CPU). scratch
// holds the zero-padded input of 3×3 convolutions and is grown as needed; in and out must
// not overlap. Every output value is computed by the same operations in the same order
// whatever the thread count, so results are bit-identical.
func (c *Conv) Apply(in Tensor, out *Tensor, scratch *Tensor, threads int) Tensor {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if in.C != c.Cin {
		panic(fmt.Sprintf("conv: input has %d channels, want %d", in.C, c.Cin))
	}
	oh, ow := in.H, in.W
	if c.Stride == 2 {
		oh, ow = (in.H+1)/2, (in.W+1)/2
	}
	o := Ensure(out, c.Cout, oh, ow)
	if c.K == 1 {
		c.apply1x1(in, o, threads)
		return o
	}
	// Zero-padded copy: (H+2)×(W+2) per channel.
	ph, pw := in.H+2, in.W+2
	pad := Ensure(scratch, in.C, ph, pw)
	for ci := 0; ci < in.C; ci++ {
		src, dst := in.Plane(ci), pad.Plane(ci)
		clear(dst[:pw]) // the zero border: top and bottom rows, first and last columns
		clear(dst[(ph-1)*pw:])
		for y := 0; y < in.H; y++ {
			row := dst[(y+1)*pw : (y+2)*pw]
			row[0], row[pw-1] = 0, 0
			copy(row[1:], src[y*in.W:(y+1)*in.W])
		}
	}
	if c.Stride == 1 {
		c.Prepare()
		parallelN(threads, oh, func(lo, hi int) { c.rows3x3(pad, o, lo, hi) })
	} else {
		c.Prepare()
		parallelN(threads, oh, func(lo, hi int) { c.rows3x3s2(pad, o, lo, hi) })
	}
	return o
}

func (c *Conv) apply1x1(in, o Tensor, threads int) {
	hw := in.H * in.W
	const chunk = 512
	nchunks := (hw + chunk - 1) / chunk
	parallelN(threads, nchunks, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			p0, p1 := k*chunk, min((k+1)*chunk, hw)
			co := 0
			for ; co+4 <= c.Cout; co += 4 {
				a0 := o.Data[co*hw+p0 : co*hw+p1]
				a1 := o.Data[(co+1)*hw+p0 : (co+1)*hw+p1]
				a2 := o.Data[(co+2)*hw+p0 : (co+2)*hw+p1]
				a3 := o.Data[(co+3)*hw+p0 : (co+3)*hw+p1]
				fill(a0, c.Bias[co])
				fill(a1, c.Bias[co+1])
				fill(a2, c.Bias[co+2])
				fill(a3, c.Bias[co+3])
				for ci := 0; ci < c.Cin; ci++ {
					axpy4(a0, a1, a2, a3, c.Weight[co*c.Cin+ci], c.Weight[(co+1)*c.Cin+ci],
						c.Weight[(co+2)*c.Cin+ci], c.Weight[(co+3)*c.Cin+ci], in.Data[ci*hw+p0:ci*hw+p1])
				}
			}
			for ; co < c.Cout; co++ {
				a := o.Data[co*hw+p0 : co*hw+p1]
				fill(a, c.Bias[co])
				for ci := 0; ci < c.Cin; ci++ {
					axpy1(a, c.Weight[co*c.Cin+ci], in.Data[ci*hw+p0:ci*hw+p1])
				}
			}
		}
	})
}

// Prepare reorders the weights of each group of four output channels as
// [ci][ky][kx][4], so the register-blocked 3×3 kernel reads them sequentially. Apply calls
// it when needed; call it before sharing a Conv between goroutines.
func (c *Conv) Prepare() {
	if c.K != 3 || c.packed != nil {
		return
	}
	nb := c.Cout / 4
	p := make([]float32, nb*c.Cin*9*4)
	for b := 0; b < nb; b++ {
		for ci := 0; ci < c.Cin; ci++ {
			for t := 0; t < 9; t++ {
				for j := 0; j < 4; j++ {
					p[((b*c.Cin+ci)*9+t)*4+j] = c.Weight[((b*4+j)*c.Cin+ci)*9+t]
				}
			}
		}
	}
	c.packed = p
}

// rows3x3 computes output rows [lo, hi) of a stride-1 3×3 convolution. Four output
// channels × two columns are accumulated in registers over all inputs and taps; each
// output value is always summed in the same order (input channel, then tap), whatever the
// split into goroutines.
func (c *Conv) rows3x3(pad, o Tensor, lo, hi int) {
	pw := pad.W
	hw := o.H * o.W
	W := o.W
	pk := c.packed
	cin := c.Cin
	for y := lo; y < hi; y++ {
		co := 0
		for ; co+4 <= c.Cout; co += 4 {
			wb := pk[(co/4)*cin*36 : (co/4+1)*cin*36]
			o0 := o.Data[co*hw+y*W : co*hw+(y+1)*W]
			o1 := o.Data[(co+1)*hw+y*W : (co+1)*hw+(y+1)*W]
			o2 := o.Data[(co+2)*hw+y*W : (co+2)*hw+(y+1)*W]
			o3 := o.Data[(co+3)*hw+y*W : (co+3)*hw+(y+1)*W]
			b0, b1, b2, b3 := c.Bias[co], c.Bias[co+1], c.Bias[co+2], c.Bias[co+3]
			x := 0
			if SIMD && AVX512 {
				for ; x+32 <= W; x += 32 {
					conv3x3x32z(&o0[x], &o1[x], &o2[x], &o3[x], &pad.Data[y*pw+x], pw, pad.H*pw, &wb[0], cin, &c.Bias[co])
				}
				if x+16 <= W {
					conv3x3x16z(&o0[x], &o1[x], &o2[x], &o3[x], &pad.Data[y*pw+x], pw, pad.H*pw, &wb[0], cin, &c.Bias[co])
					x += 16
				}
			}
			if SIMD {
				for ; x+8 <= W; x += 8 {
					conv3x3x8(&o0[x], &o1[x], &o2[x], &o3[x], &pad.Data[y*pw+x], pw, pad.H*pw, &wb[0], cin, &c.Bias[co])
				}
			}
			for ; x+2 <= W; x += 2 {
				a0, a1, a2, a3 := b0, b1, b2, b3
				e0, e1, e2, e3 := b0, b1, b2, b3
				for ci := 0; ci < cin; ci++ {
					p := pad.Data[ci*pad.H*pw:]
					w := wb[ci*36 : ci*36+36]
					for ky := 0; ky < 3; ky++ {
						r := p[(y+ky)*pw+x : (y+ky)*pw+x+4]
						wk := w[ky*12 : ky*12+12]
						i0, i1, i2, i3 := r[0], r[1], r[2], r[3]
						a0 += wk[0]*i0 + wk[4]*i1 + wk[8]*i2
						a1 += wk[1]*i0 + wk[5]*i1 + wk[9]*i2
						a2 += wk[2]*i0 + wk[6]*i1 + wk[10]*i2
						a3 += wk[3]*i0 + wk[7]*i1 + wk[11]*i2
						e0 += wk[0]*i1 + wk[4]*i2 + wk[8]*i3
						e1 += wk[1]*i1 + wk[5]*i2 + wk[9]*i3
						e2 += wk[2]*i1 + wk[6]*i2 + wk[10]*i3
						e3 += wk[3]*i1 + wk[7]*i2 + wk[11]*i3
					}
				}
				o0[x], o1[x], o2[x], o3[x] = a0, a1, a2, a3
				o0[x+1], o1[x+1], o2[x+1], o3[x+1] = e0, e1, e2, e3
			}
			for ; x < W; x++ {
				a0, a1, a2, a3 := b0, b1, b2, b3
				for ci := 0; ci < cin; ci++ {
					p := pad.Data[ci*pad.H*pw:]
					w := wb[ci*36 : ci*36+36]
					for ky := 0; ky < 3; ky++ {
						r := p[(y+ky)*pw+x : (y+ky)*pw+x+3]
						wk := w[ky*12 : ky*12+12]
						i0, i1, i2 := r[0], r[1], r[2]
						a0 += wk[0]*i0 + wk[4]*i1 + wk[8]*i2
						a1 += wk[1]*i0 + wk[5]*i1 + wk[9]*i2
						a2 += wk[2]*i0 + wk[6]*i1 + wk[10]*i2
						a3 += wk[3]*i0 + wk[7]*i1 + wk[11]*i2
					}
				}
				o0[x], o1[x], o2[x], o3[x] = a0, a1, a2, a3
			}
		}
		for ; co < c.Cout; co++ {
			a := o.Data[co*hw+y*W : co*hw+(y+1)*W]
			fill(a, c.Bias[co])
			for ci := 0; ci < cin; ci++ {
				p := pad.Plane(ci)
				for t := 0; t < 9; t++ {
					ky, kx := t/3, t%3
					axpy1(a, c.Weight[co*cin*9+ci*9+t], p[(y+ky)*pw+kx:(y+ky)*pw+kx+W])
				}
			}
		}
	}
}

// rows3x3s2 is the stride-2 form, out[y][x] = Σ w·pad[2y+ky][2x+kx] (encoder only), with
// the same register blocking (4 channels × 2 columns) as rows3x3. It is a near-copy on
// purpose: a stride-generic kernel measured 15 % slower (variable input offsets), and the
// decoder spends most of its time in rows3x3.
func (c *Conv) rows3x3s2(pad, o Tensor, lo, hi int) {
	pw := pad.W
	hw := o.H * o.W
	W := o.W
	pk := c.packed
	cin := c.Cin
	for y := lo; y < hi; y++ {
		co := 0
		for ; co+4 <= c.Cout; co += 4 {
			wb := pk[(co/4)*cin*36 : (co/4+1)*cin*36]
			o0 := o.Data[co*hw+y*W : co*hw+(y+1)*W]
			o1 := o.Data[(co+1)*hw+y*W : (co+1)*hw+(y+1)*W]
			o2 := o.Data[(co+2)*hw+y*W : (co+2)*hw+(y+1)*W]
			o3 := o.Data[(co+3)*hw+y*W : (co+3)*hw+(y+1)*W]
			b0, b1, b2, b3 := c.Bias[co], c.Bias[co+1], c.Bias[co+2], c.Bias[co+3]
			x := 0
			for ; x+2 <= W && 2*x+5 <= pw; x += 2 {
				a0, a1, a2, a3 := b0, b1, b2, b3
				e0, e1, e2, e3 := b0, b1, b2, b3
				for ci := 0; ci < cin; ci++ {
					p := pad.Data[ci*pad.H*pw:]
					w := wb[ci*36 : ci*36+36]
					for ky := 0; ky < 3; ky++ {
						r := p[(2*y+ky)*pw+2*x : (2*y+ky)*pw+2*x+5]
						wk := w[ky*12 : ky*12+12]
						i0, i1, i2, i3, i4 := r[0], r[1], r[2], r[3], r[4]
						a0 += wk[0]*i0 + wk[4]*i1 + wk[8]*i2
						a1 += wk[1]*i0 + wk[5]*i1 + wk[9]*i2
						a2 += wk[2]*i0 + wk[6]*i1 + wk[10]*i2
						a3 += wk[3]*i0 + wk[7]*i1 + wk[11]*i2
						e0 += wk[0]*i2 + wk[4]*i3 + wk[8]*i4
						e1 += wk[1]*i2 + wk[5]*i3 + wk[9]*i4
						e2 += wk[2]*i2 + wk[6]*i3 + wk[10]*i4
						e3 += wk[3]*i2 + wk[7]*i3 + wk[11]*i4
					}
				}
				o0[x], o1[x], o2[x], o3[x] = a0, a1, a2, a3
				o0[x+1], o1[x+1], o2[x+1], o3[x+1] = e0, e1, e2, e3
			}
			for ; x < W; x++ {
				a0, a1, a2, a3 := b0, b1, b2, b3
				for ci := 0; ci < cin; ci++ {
					p := pad.Data[ci*pad.H*pw:]
					w := wb[ci*36 : ci*36+36]
					for ky := 0; ky < 3; ky++ {
						r := p[(2*y+ky)*pw+2*x : (2*y+ky)*pw+2*x+3]
						wk := w[ky*12 : ky*12+12]
						i0, i1, i2 := r[0], r[1], r[2]
						a0 += wk[0]*i0 + wk[4]*i1 + wk[8]*i2
						a1 += wk[1]*i0 + wk[5]*i1 + wk[9]*i2
						a2 += wk[2]*i0 + wk[6]*i1 + wk[10]*i2
						a3 += wk[3]*i0 + wk[7]*i1 + wk[11]*i2
					}
				}
				o0[x], o1[x], o2[x], o3[x] = a0, a1, a2, a3
			}
		}
		for ; co < c.Cout; co++ {
			a := o.Data[co*hw+y*W : co*hw+(y+1)*W]
			fill(a, c.Bias[co])
			for ci := 0; ci < cin; ci++ {
				p := pad.Plane(ci)
				for t := 0; t < 9; t++ {
					ky, kx := t/3, t%3
					wt := c.Weight[co*cin*9+ci*9+t]
					row := p[(2*y+ky)*pw+kx:]
					for x := range a {
						a[x] += wt * row[2*x]
					}
				}
			}
		}
	}
}

func fill(a []float32, v float32) {
	for i := range a {
		a[i] = v
	}
}
