package player

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/player/manifest"
)

// SubGOPAuto in Config.SubGOP asks for sub-GOP probing.
const SubGOPAuto = -1

// probeMargin: a variant qualifies when it decodes this much faster than real time.
const probeMargin = 1.2

// Probe is one variant's measured decode speed on this device.
type Probe struct {
	SubGOP int     `json:"subgop"`
	FPS    float64 `json:"fps"`
}

// probe (LiFteR's sub-GOP probing) fetches segment 0's base layer of every sub-GOP
// variant, decodes it through all its depth batches on the session's decoder backend and
// times it. It picks the smallest S that decodes in real time with margin (the least
// loose referencing that is fast enough), else the fastest; FrameRate is what that
// variant sustains (the stream's rate when it qualifies).
func (s *Session) probe(ctx context.Context) (*manifest.Variant, []Probe, float64, error) {
	dec, err := s.newDecoder()
	if err != nil {
		return nil, nil, 0, err
	}
	var probes []Probe
	var best *manifest.Variant
	var bestFPS, streamFPS float64
	for _, v := range s.pres.Variants {
		if len(v.Layers) == 0 {
			continue
		}
		seg, err := s.fetchBase(ctx, v.Layers[0])
		if err != nil {
			return nil, nil, 0, fmt.Errorf("probing sub-GOP %d: %w", v.SubGOP, err)
		}
		t0 := time.Now()
		frames, err := dec.Decode(seg, 1)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("probing sub-GOP %d: %w", v.SubGOP, err)
		}
		fps := float64(len(frames)) / time.Since(t0).Seconds()
		probes = append(probes, Probe{SubGOP: v.SubGOP, FPS: fps})
		streamFPS = float64(seg.Frames) / s.pres.SegmentDurationS
		ok := fps >= probeMargin*streamFPS
		switch {
		case best == nil:
			best, bestFPS = v, fps
		case ok && (bestFPS < probeMargin*streamFPS || v.SubGOP < best.SubGOP):
			best, bestFPS = v, fps
		case !ok && bestFPS < probeMargin*streamFPS && fps > bestFPS:
			best, bestFPS = v, fps
		}
	}
	if best == nil {
		return nil, nil, 0, fmt.Errorf("no variant to probe")
	}
	sort.Slice(probes, func(i, j int) bool { return probes[i].SubGOP < probes[j].SubGOP })
	return best, probes, min(bestFPS, streamFPS), nil
}

// fetchBase fetches and parses segment 0 of a base-layer Representation.
func (s *Session) fetchBase(ctx context.Context, rep *manifest.Rep) (*decoder.Segment, error) {
	data, _, err := s.get(ctx, rep, 0)
	if err != nil {
		return nil, err
	}
	return decoder.ParseBaseUnit(data)
}

// newDecoder makes one segment decoder of the session's backend.
func (s *Session) newDecoder() (SegmentDecoder, error) {
	if s.cfg.NewDecoder == nil {
		return decoder.NewSegmentDecoder(s.cfg.Model, s.cfg.Workers), nil
	}
	return s.cfg.NewDecoder()
}
