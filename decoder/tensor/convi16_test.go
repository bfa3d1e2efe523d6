package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refI16 is ConvI16.Apply written out: the integers of the quantized input and weights
// summed plainly, then the same epilogue.
func refI16(c *ConvI16, q *I16) []float32 {
	pairs, ph, pw := q.pairs(), q.H+2, q.W+2
	at := func(ci, y, x int) int32 { // padded coordinates
		v := q.Data[((ci/2)*ph+y)*pw+x]
		if ci%2 == 0 {
			return int32(int16(v))
		}
		return v >> 16
	}
	wt := func(co, ci, t int) int32 {
		v := c.packed[(((co/4)*pairs+ci/2)*9+t)*4+co%4]
		if ci%2 == 0 {
			return int32(int16(v))
		}
		return v >> 16
	}
	out := make([]float32, c.Cout*q.H*q.W)
	for co := 0; co < c.Cout; co++ {
		for y := 0; y < q.H; y++ {
			for x := 0; x < q.W; x++ {
				var acc int32
				for ci := 0; ci < c.Cin; ci++ {
					for t := 0; t < 9; t++ {
						acc += wt(co, ci, t) * at(ci, y+t/3, x+t%3)
					}
				}
				out[(co*q.H+y)*q.W+x] = float32(acc)*(q.Scale*c.Scale[co]) + c.Bias[co]
			}
		}
	}
	return out
}

// TestConvI16Exact: the VNNI kernel, the portable loop and the written-out sum give the
// same bits, for odd channel counts and widths around the kernel's 64 columns; and the
// result is the float convolution's within what 12 bits allow.
func TestConvI16Exact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ cin, cout, h, w int }{{3, 4, 3, 5}, {32, 32, 4, 64}, {33, 8, 3, 130}, {64, 32, 2, 200}, {6, 4, 1, 1}} {
		cv := randConv(r, s.cin, s.cout, 3, 1)
		c := &cv
		in := randTensor(r, s.cin, s.h, s.w)
		q, err := NewConvI16(c, 12)
		if err != nil {
			t.Fatal(err)
		}
		var qi I16
		if err := QuantizeI16(in, 12, &qi); err != nil {
			t.Fatal(err)
		}
		want := refI16(q, &qi)
		for _, vnni := range []bool{false, true} {
			if vnni && !VNNI {
				continue
			}
			saved := VNNI
			VNNI = vnni
			var out Tensor
			got, err := q.Apply(&qi, &out, 2)
			VNNI = saved
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got.Data[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v (VNNI %v): output %d is %v, want %v", s, vnni, i, got.Data[i], want[i])
				}
			}
		}
		var fo, scratch Tensor
		f := c.Apply(in, &fo, &scratch, 1)
		worst := 0.0
		for i, v := range f.Data {
			worst = max(worst, math.Abs(float64(v-want[i])))
		}
		if worst > 0.02 {
			t.Errorf("%+v: 12-bit result off the float one by up to %.4f", s, worst)
		}
	}
	if !VNNI {
		t.Log("no AVX-512 VNNI here: the portable loop only")
	}
}

// TestRoundI16: the float32 trick rounds half to even like math.RoundToEven.
func TestRoundI16(t *testing.T) {
	for _, v := range []float32{0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.7, -3.7, 32767, -32767, 2047.5, -2046.5} {
		if got, want := roundI16(v), int16(math.RoundToEven(float64(v))); got != want {
			t.Errorf("roundI16(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestQuantizeI16Refuses(t *testing.T) {
	var q I16
	in := Tensor{C: 1, H: 1, W: 2, Data: []float32{1, float32(math.NaN())}}
	if err := QuantizeI16(in, 12, &q); err == nil {
		t.Error("a NaN was quantized")
	}
	in.Data[1] = float32(math.Inf(-1))
	if err := QuantizeI16(in, 12, &q); err == nil {
		t.Error("an infinity was quantized")
	}
	if err := QuantizeI16(in, 17, &q); err == nil {
		t.Error("17-bit activations accepted")
	}
	if _, err := NewConvI16(&Conv{Cin: 1, Cout: 4, K: 3, Stride: 2, Weight: make([]float32, 36), Bias: make([]float32, 4)}, 12); err == nil {
		t.Error("a stride-2 integer convolution accepted")
	}
}

// BenchmarkConv3x3 compares the float kernel with the integer one on one core, on the
// shape of the codec's 32-channel convolutions at 640×368 / 8 rows.
func BenchmarkConv3x3(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	cv := randConv(r, 32, 32, 3, 1)
	c := &cv
	in := randTensor(r, 32, 46, 640)
	macs := float64(32 * 32 * 9 * 46 * 640)
	b.Run("float32", func(b *testing.B) {
		var out, scratch Tensor
		for range b.N {
			c.Apply(in, &out, &scratch, 1)
		}
		b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
	q, err := NewConvI16(c, 12)
	if err != nil {
		b.Fatal(err)
	}
	var qi I16
	b.Run("int16", func(b *testing.B) {
		var out Tensor
		for range b.N {
			if err := QuantizeI16(in, 12, &qi); err != nil {
				b.Fatal(err)
			}
			if _, err := q.Apply(&qi, &out, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
	// The convolution alone, on an input already quantized (the engine would have the
	// previous layer write its output quantized).
	b.Run("int16-conv", func(b *testing.B) {
		var out Tensor
		for range b.N {
			if _, err := q.Apply(&qi, &out, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
}
