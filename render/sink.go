// Package render presents decoded frames: the Sink interface the player writes to, a
// headless sink for tests and benchmarks, and (later, in render/window) the desktop window.
package render

import (
	"hash"
	"hash/fnv"
	"time"

	"github.com/strata-player/strata/decoder"
)

// Sink receives frames in presentation order. The frame is only valid during the call.
type Sink interface {
	Present(f *decoder.Frame, pts time.Duration) error
}

// Headless counts frames and hashes their luma, presenting nothing.
type Headless struct {
	Frames int
	h      hash.Hash64
}

// Present implements Sink.
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
