package decoder

import (
	"encoding/hex"
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

// BenchmarkSegmentDecode decodes a 16-frame 640×368 segment coded with random codes and
// vectors, as the plain chain (S=1) and with depth batches (S=8), both on every core.
func BenchmarkSegmentDecode(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []int{1, 8} {
		b.Run(map[int]string{1: "S=1", 8: "S=8"}[s], func(b *testing.B) {
			r := rand.New(rand.NewPCG(2, 2))
			seg := testSegment(r, 16, s, m.P.Layers)
			seg.Width, seg.Height = 640, 368
			seg.LayersI, seg.BitsI, seg.BitsP = m.I.Layers, m.I.Bits, m.P.Bits
			copy(seg.Model[:], mustHex(m.SHA256[:16]))
			bw, bh := seg.Blocks()
			for f := 1; f < 16; f++ {
				seg.MVs[f] = randMVs(r, bw*bh, 8)
			}
			for l := range seg.Codes {
				for i, f := range seg.Schedule().DecodeOrder() {
					if l < seg.layersOf(f == 0) {
						p := make([]byte, seg.payloadSize(f == 0))
						for j := range p {
							p[j] = byte(r.IntN(256))
						}
						seg.Codes[l][i] = p
					} else {
						seg.Codes[l][i] = nil
					}
				}
			}
			dec := NewSegmentDecoder(m, 0)
			b.ResetTimer()
			for b.Loop() {
				if _, err := dec.Decode(seg, m.P.Layers); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkDecodePaths decodes a 640×368 P-frame (all layers) on the portable Go path and
// on the AVX2 path in one run: the ratio of their frames/s is the SIMD speed-up.
func BenchmarkDecodePaths(b *testing.B) {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	simd := SIMD
	defer func() { SIMD = simd }()
	for _, on := range []bool{false, true} {
		if on && !simd {
			continue
		}
		b.Run(map[bool]string{false: "portable", true: "avx2"}[on], func(b *testing.B) {
			SIMD = on
			benchDecode(b, m.P, m.P.Layers)
		})
	}
}
