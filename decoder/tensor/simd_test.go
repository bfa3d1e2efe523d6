package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The AVX2 kernels (and the AVX-512 one, where the CPU has it) compute every output with the portable code's operations in the same
// order: their results are bit-identical on random convolutions of awkward sizes.
func TestSIMDEqualsPortable(t *testing.T) {
	if !SIMD {
		t.Skip("no AVX2 here (or STRATA_NOSIMD is set): only the portable path runs")
	}
	avx512 := AVX512
	defer func() { AVX512 = avx512 }()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ cin, cout, h, w, k int }{{1, 4, 3, 8, 3}, {5, 7, 9, 17, 3}, {16, 8, 6, 33, 3}, {3, 12, 2, 64, 3},
		{24, 24, 5, 45, 3}, {96, 96, 2, 80, 3}, {48, 32, 3, 97, 3}, {6, 9, 7, 13, 1}, {32, 16, 3, 40, 1}, {4, 4, 1, 5, 1}} {
		conv := &Conv{Cin: c.cin, Cout: c.cout, K: c.k, Stride: 1,
			Weight: make([]float32, c.cout*c.cin*c.k*c.k), Bias: make([]float32, c.cout)}
		for i := range conv.Weight {
			conv.Weight[i] = float32(rng.NormFloat64())
		}
		for i := range conv.Bias {
			conv.Bias[i] = float32(rng.NormFloat64())
		}
		conv.Prepare()
		in := NewTensor(c.cin, c.h, c.w)
		for i := range in.Data {
			in.Data[i] = float32(rng.NormFloat64() * 3)
		}
		var scratch, out1, out2 Tensor
		SIMD = false
		want := conv.Apply(in, &out1, &scratch, 1)
		SIMD = true
		// AVX2 alone, then with the AVX-512 kernels where the CPU has them.
		for _, wide := range []bool{false, avx512} {
			AVX512 = wide
			got := conv.Apply(in, &out2, &scratch, 2)
			for i := range want.Data {
				if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
					t.Fatalf("%+v (AVX-512 %v): value %d is %v, %v portable", c, wide, i, got.Data[i], want.Data[i])
				}
			}
		}
		AVX512 = avx512
	}
}
