package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randTensor(r *rand.Rand, c, h, w int) Tensor {
	t := NewTensor(c, h, w)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

func randConv(r *rand.Rand, cin, cout, k, stride int) Conv {
	c := Conv{Cin: cin, Cout: cout, K: k, Stride: stride,
		Weight: make([]float32, cout*cin*k*k), Bias: make([]float32, cout)}
	for i := range c.Weight {
		c.Weight[i] = float32(r.NormFloat64() * 0.1)
	}
	for i := range c.Bias {
		c.Bias[i] = float32(r.NormFloat64())
	}
	return c
}

// naiveConv is the textbook definition (zero padding K/2), in float64.
func naiveConv(c *Conv, in Tensor) Tensor {
	oh, ow := in.H, in.W
	if c.Stride == 2 {
		oh, ow = (in.H+1)/2, (in.W+1)/2
	}
	out := NewTensor(c.Cout, oh, ow)
	p := c.K / 2
	for co := 0; co < c.Cout; co++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				s := float64(c.Bias[co])
				for ci := 0; ci < c.Cin; ci++ {
					for ky := 0; ky < c.K; ky++ {
						for kx := 0; kx < c.K; kx++ {
							iy, ix := y*c.Stride+ky-p, x*c.Stride+kx-p
							if iy < 0 || ix < 0 || iy >= in.H || ix >= in.W {
								continue
							}
							s += float64(c.Weight[((co*c.Cin+ci)*c.K+ky)*c.K+kx]) * float64(in.Data[(ci*in.H+iy)*in.W+ix])
						}
					}
				}
				out.Data[(co*oh+y)*ow+x] = float32(s)
			}
		}
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

func TestConvMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ cin, cout, k, s, h, w int }{
		{5, 8, 1, 1, 7, 9}, {3, 6, 1, 1, 40, 40}, {6, 4, 3, 1, 5, 11}, {4, 7, 3, 1, 9, 4},
		{12, 8, 3, 2, 10, 14}, {3, 5, 3, 2, 9, 7},
	} {
		conv := randConv(r, c.cin, c.cout, c.k, c.s)
		in := randTensor(r, c.cin, c.h, c.w)
		var out, scratch Tensor
		got := conv.Apply(in, &out, &scratch, 3)
		want := naiveConv(&conv, in)
		if !got.sameShape(want) || maxDiff(got.Data, want.Data) > 1e-4 {
			t.Errorf("conv %+v: shape %v want %v, max diff %g", c, got, want, maxDiff(got.Data, want.Data))
		}
	}
}

func TestPixelShuffleRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	in := randTensor(r, 3, 8, 12)
	for _, s := range []int{2, 4} {
		un := NewTensor(3*s*s, 8/s, 12/s)
		PixelUnshuffle(in, s, un, 0)
		// torch: unshuffle channel c·s²+i·s+j at (y, x) is in[c][y·s+i][x·s+j]
		if un.Data[((1*s*s+1*s+0)*un.H+1)*un.W+2] != in.Data[(1*8+1*s+1)*12+2*s+0] {
			t.Fatal("pixel unshuffle layout differs from PyTorch's")
		}
		var back Tensor
		PixelShuffle(un, s, &back)
		if !back.sameShape(in) || maxDiff(back.Data, in.Data) != 0 {
			t.Fatalf("shuffle(unshuffle(x)) != x for r=%d", s)
		}
	}
}

func FuzzParseSafetensors(f *testing.F) {
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	f.Add(append([]byte("\x40\x00\x00\x00\x00\x00\x00\x00"+`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}        `), make([]byte, 8)...))
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{\"a\":1}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		arrays, _, err := ParseSafetensors(b)
		if err != nil {
			return
		}
		for name, a := range arrays {
			n := 1
			for _, d := range a.Shape {
				n *= d
			}
			if n != len(a.Data) {
				t.Fatalf("%s: shape %v but %d values", name, a.Shape, len(a.Data))
			}
		}
	})
}

func TestHalfToFloat(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 1.0 / (1 << 24)}, {0x8001, -1.0 / (1 << 24)},
		{0x3800, 0.5}, {0x0000, 0}, {0x3555, 0.333251953125}, {0x0400, 1.0 / (1 << 14)}} {
		if got := halfToFloat(c.h); got != c.want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", c.h, got, c.want)
		}
	}
	if v := halfToFloat(0x7c00); !math.IsInf(float64(v), 1) {
		t.Errorf("halfToFloat(0x7c00) = %v, want +Inf", v)
	}
}
