package main

import (
	"fmt"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/nvc2"
	"github.com/strata-player/strata/encoder"
)

// segCoder is one codec version's segment encoder and decoder, for the commands that
// compare versions while the product moves from v1 to v2.
type segCoder interface {
	layers() int
	macs() float64
	// encode codes one segment with sub-GOP s: its units and every chain's reconstruction.
	encode(batch []*decoder.Frame, seg uint32, s int) (units [][]byte, recon [][]*decoder.Frame, err error)
	// decodeFPS parses and decodes every segment with k layers: frames per second.
	decodeFPS(segs [][][]byte, k int) (float64, error)
}

// newSegCoder loads codec version's model: v1's shipped one, or v2's from dir (a texport.py
// output directory) or the shipped assets/model2 when dir is empty.
func newSegCoder(version, dir string, workers int, intraAnchors bool) (segCoder, error) {
	if version == "v1" {
		m, err := decoder.Default()
		return &v1Coder{m: m, workers: workers, intra: intraAnchors}, err
	}
	m, err := loadModel2(dir)
	return &v2Coder{m: m, workers: workers, intra: intraAnchors}, err
}

// loadModel2 reads a codec v2 model from dir, or returns the shipped one when dir is empty.
func loadModel2(dir string) (*nvc2.Model, error) {
	if dir == "" {
		return nvc2.Default()
	}
	m, _, _, err := readModel2(dir)
	return m, err
}

type v1Coder struct {
	m       *decoder.Model
	workers int
	intra   bool // intra anchors (S > 1)
}

func (c *v1Coder) layers() int   { return c.m.P.Layers }
func (c *v1Coder) macs() float64 { return c.m.P.Dec.MACsPerLumaPixel() }

func (c *v1Coder) encode(batch []*decoder.Frame, seg uint32, s int) ([][]byte, [][]*decoder.Frame, error) {
	enc := &encoder.SegmentEncoder{Model: c.m, S: s, Layers: c.m.P.Layers, Workers: c.workers, IntraAnchors: s > 1 && c.intra}
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

func (c *v1Coder) decodeFPS(segs [][][]byte, k int) (float64, error) {
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

type v2Coder struct {
	m       *nvc2.Model
	workers int
	intra   bool // intra anchors (S > 1)
}

func (c *v2Coder) layers() int   { return nvc2.Layers }
func (c *v2Coder) macs() float64 { return max(c.m.I.MACsPerLumaPixel(), c.m.P.MACsPerLumaPixel()) }

func (c *v2Coder) encode(batch []*decoder.Frame, seg uint32, s int) ([][]byte, [][]*decoder.Frame, error) {
	enc := &encoder.SegmentEncoderV2{Model: c.m, S: s, Layers: nvc2.Layers, Workers: c.workers, IntraAnchors: s > 1 && c.intra}
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

func (c *v2Coder) decodeFPS(segs [][][]byte, k int) (float64, error) {
	dec := nvc2.NewSegmentDecoder(c.m, c.workers)
	parsed := make([]*nvc2.Segment, len(segs))
	for i, units := range segs {
		s, err := nvc2.ParseBaseUnit(units[0])
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
