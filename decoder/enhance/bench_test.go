package enhance

import (
	"math/rand/v2"
	"testing"

	"github.com/strata-player/strata/decoder"
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

// BenchmarkUpsample is the player's half-resolution path on one core: a 160×132 frame
// doubled to 320×262 by Upscale2 and refined by a 16-channel upsampler (Enhance).
func BenchmarkUpsample(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 3))
	f := decoder.NewFrame(160, 132)
	for i := range f.Y {
		f.Y[i] = byte(r.IntN(256))
	}
	n, _ := New(16, 1)
	n.Scale = 2
	for i := range n.Layers {
		n.Layers[i].Prepare()
	}
	var s Scratch
	var out *decoder.Frame
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = n.Enhance(out, f, 320, 262, &s, 1)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
