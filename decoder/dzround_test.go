package decoder

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dzRoundRef is dzRound as codec.dz_round writes it.
func dzRoundRef(r, theta float32) int32 {
	a := float32(math.Floor(float64((float32(math.Abs(float64(r))) + 0.5) - theta)))
	return int32(float32(math.Copysign(float64(max(a, 0)), float64(r))))
}

func TestDZRoundMatchesFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.5, 0.65, -0.65, 0.6499999, 0.6500001, 1, -1, 1.5, -1.5, 2.35, -2.35, 1e6, -1e6, 1 << 30, -(1 << 30)}
	for range 1_000_000 {
		vals = append(vals, float32(rng.NormFloat64()*float64([]float32{0.5, 2, 20, 500}[rng.IntN(4)])))
	}
	for _, theta := range []float32{0, 0.1, 0.15, 0.25, 0.45} {
		for _, r := range vals {
			if got, want := dzRound(r, theta), dzRoundRef(r, theta); got != want {
				t.Fatalf("dzRound(%v, %v) = %d, want %d", r, theta, got, want)
			}
		}
	}
}
