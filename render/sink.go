// Package render presents decoded frames: a headless sink for tests and benchmarks here,
// the desktop window in render/window and the overlay's drawing in render/overlay. Sinks
// implement player.Sink (the interface is defined where it is consumed).
package render

import (
	"hash"
	"hash/fnv"
	"time"

	"github.com/strata-player/strata/decoder"
)

// Headless counts frames and hashes their luma, presenting nothing.
type Headless struct {
	Frames int
	h      hash.Hash64
}

// Present implements player.Sink.
func (s *Headless) Present(f *decoder.Frame, pts time.Duration) error {
	if s.h == nil {
		s.h = fnv.New64a()
	}
	s.h.Write(f.Y)
	s.Frames++
	return nil
}

// Hash is FNV-1a over every presented luma plane, for comparing playbacks.
func (s *Headless) Hash() uint64 {
	if s.h == nil {
		return 0
	}
	return s.h.Sum64()
}
