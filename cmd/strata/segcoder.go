package main

import (
	"fmt"
	"time"

	"github.com/strata-player/strata/decoder"

	"github.com/strata-player/strata/encoder"
)

// segCoder encodes segments with a codec model and times their decoding, for the commands
// that measure the codec (codec-eval, resample-eval).
type segCoder struct {
	m       *decoder.Model
	workers int
	intra   bool // intra anchors (S > 1)
}

// newSegCoder loads the model in dir (an export.py output directory), or the shipped one
// (assets/model) when dir is empty.
func newSegCoder(dir string, workers int, intraAnchors bool) (*segCoder, error) {
	m, err := loadModel(dir)
	return &segCoder{m: m, workers: workers, intra: intraAnchors}, err
}

// loadModel reads a model from dir, or returns the shipped one when dir is empty.
func loadModel(dir string) (*decoder.Model, error) {
	if dir == "" {
		return decoder.Default()
	}
	m, _, _, err := readModel(dir)
	return m, err
}

func (c *segCoder) layers() int   { return decoder.Layers }
func (c *segCoder) macs() float64 { return max(c.m.I.MACsPerLumaPixel(), c.m.P.MACsPerLumaPixel()) }

func (c *segCoder) encode(batch []*decoder.Frame, seg uint32, s int) ([][]byte, [][]*decoder.Frame, error) {
	enc := &encoder.SegmentEncoder{Model: c.m, S: s, Layers: decoder.Layers, Workers: c.workers, IntraAnchors: s > 1 && c.intra}
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

func (c *segCoder) decodeFPS(segs [][][]byte, k int) (float64, error) {
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
