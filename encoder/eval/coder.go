package eval

import (
	"fmt"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
)

// Coder encodes segments with a codec model and times their decoding.
type Coder struct {
	m       *decoder.Model
	workers int
	intra   bool // intra anchors (S > 1)
	// Preset is applied to every segment encoder (the zero Preset: the defaults, quality).
	Preset encoder.Preset
}

// NewCoder codes with model m on workers goroutines (0: one per CPU), with intra sub-GOP
// anchors or predicted ones.
func NewCoder(m *decoder.Model, workers int, intraAnchors bool) *Coder {
	return &Coder{m: m, workers: workers, intra: intraAnchors}
}

// Layers is the codec's layer count.
func (c *Coder) Layers() int { return decoder.Layers }

// MACs is the decoder's multiply-accumulates per luma pixel.
func (c *Coder) MACs() float64 { return max(c.m.I.MACsPerLumaPixel(), c.m.P.MACsPerLumaPixel()) }

// Encode codes one segment with sub-GOP s: its units and every layer count's reconstruction.
func (c *Coder) Encode(batch []*decoder.Frame, seg uint32, s int) ([][]byte, [][]*decoder.Frame, error) {
	enc := &encoder.SegmentEncoder{Model: c.m, S: s, Layers: decoder.Layers, Workers: c.workers, IntraAnchors: s > 1 && c.intra}
	c.Preset.Apply(enc)
	enc.ReconAll = true // every chain is measured
	e, err := enc.Encode(batch, seg)
	if err != nil {
		return nil, nil, err
	}
	var units [][]byte
	for l := 0; l < enc.Layers; l++ {
		u, err := e.Segment.AppendUnit(nil, l)
		if err != nil {
			return nil, nil, err
		}
		units = append(units, u)
	}
	return units, e.Recon, nil
}

// DecodeFPS parses and decodes every segment with k layers: frames per second.
func (c *Coder) DecodeFPS(segs [][][]byte, k int) (float64, error) {
	dec := decoder.NewSegmentDecoder(c.m, c.workers)
	parsed := make([]*decoder.Segment, len(segs))
	for i, units := range segs {
		s, err := decoder.ParseBaseUnit(units[0])
		if err != nil {
			return 0, err
		}
		for _, u := range units[1:k] {
			if err := s.AddUnit(u); err != nil {
				return 0, err
			}
		}
		parsed[i] = s
	}
	return timeDecode(len(parsed), func(i int) (int, error) {
		fr, err := dec.Decode(parsed[i], k)
		return len(fr), err
	})
}

// timeDecode decodes segment 0 once to warm up (buffers are allocated on the first decode),
// then times decoding every segment: frames per second.
func timeDecode(n int, decode func(i int) (int, error)) (float64, error) {
	if n == 0 {
		return 0, fmt.Errorf("no segments")
	}
	if _, err := decode(0); err != nil {
		return 0, err
	}
	frames := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		f, err := decode(i)
		if err != nil {
			return 0, err
		}
		frames += f
	}
	return float64(frames) / time.Since(start).Seconds(), nil
}
