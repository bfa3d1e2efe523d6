package enhance

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkStep is one training step: 8 patches of 48×48, 16 channels.
func BenchmarkStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var batch []Patch
	for i := 0; i < 8; i++ {
		batch = append(batch, randomPatch(r, 48, 48))
	}
	n, _ := New(16, 1)
	tr := NewTrainer(n, 1e-3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Step(batch)
	}
}
