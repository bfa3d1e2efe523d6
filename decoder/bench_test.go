package decoder

import (
	"math/rand/v2"
	"testing"
)

// benchDecode decodes 640×368 frames (the CODEC.md reference size) with k of K layers.
func benchDecode(b *testing.B, c *Codec, k int) {
	const w, h = 640, 368
	r := rand.New(rand.NewPCG(1, 1))
	pred := NewTensor(6, h/2, w/2)
	for i := range pred.Data {
		pred.Data[i] = r.Float32()
	}
	codes := NewTensor(c.Layers*c.Bits, h/16, w/16)
	for i := range codes.Data[:k*c.Bits*(h/16)*(w/16)] {
		codes.Data[i] = float32(r.IntN(2)*2 - 1)
	}
	dec := NewDecoder(c.Dec)
	var out Tensor
	if err := dec.Decode(codes, k, 0, pred, &out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := dec.Decode(codes, k, 0, pred, &out); err != nil {
			b.Fatal(err)
		}
	}
	fps := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(fps, "frames/s")
	b.ReportMetric(fps*c.Dec.MACsPerLumaPixel()*w*h/1e9, "GMAC/s")
}

func BenchmarkDecodeP640x368(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []int{1, m.P.Layers} {
		b.Run(map[int]string{1: "k=1", m.P.Layers: "k=all"}[k], func(b *testing.B) { benchDecode(b, m.P, k) })
	}
}

func BenchmarkDecodeI640x368(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, m.I, m.I.Layers)
}
