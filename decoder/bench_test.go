package decoder_test

import (
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/testclip"
)

// benchSegment encodes the first 17 frames of a test clip (S = 16, four layers).
func benchSegment(b *testing.B, name string) (*decoder.Model, *decoder.Segment) {
	b.Helper()
	m, err := decoder.Default()
	if err != nil {
		b.Fatal(err)
	}
	_, frames := testclip.Frames(b, "test", name, 17)
	out, err := (&encoder.SegmentEncoder{Model: m, S: 16, Layers: decoder.Layers, IntraAnchors: true}).Encode(frames, 0)
	if err != nil {
		b.Fatal(err)
	}
	return m, out.Segment
}

// BenchmarkEntropyDecode decodes every coefficient payload of a 17-frame bus segment (all
// four layers), the entropy decoder alone; frames/s is the rate it sustains.
func BenchmarkEntropyDecode(b *testing.B) {
	m, s := benchSegment(b, "bus_qcif")
	w, h := s.CodedSize()
	order := s.Schedule().DecodeOrder()
	g := decoder.NewGrid(h/8, w/8)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for i, f := range order {
			c := m.P
			if s.Intra[f] {
				c = m.I
			}
			for l := 0; l < s.Layers; l++ {
				if err := m.DecodeLayer(c, g, l, s.Payloads[l][i]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.N*len(order))/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkSegmentDecodeBus decodes the same segment with all layers (entropy decoding,
// prediction, synthesis and restoration).
func BenchmarkSegmentDecodeBus(b *testing.B) {
	m, s := benchSegment(b, "bus_qcif")
	d := decoder.NewSegmentDecoder(m, 1)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		if _, err := d.Decode(s, s.Layers); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*s.Frames)/b.Elapsed().Seconds(), "frames/s")
}
