// Package render presents decoded frames: the Sink interface the player writes to, a
// headless sink for tests and benchmarks, and (in render/window) the desktop window.
package render

import (
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
	// Hash is FNV-1a over every presented luma plane, for comparing playbacks.
	Hash uint64
	h    interface{ Sum64() uint64 }
	w    interface{ Write([]byte) (int, error) }
}

// Present implements Sink.
func (s *Headless) Present(f *decoder.Frame, pts time.Duration) error {
	if s.w == nil {
		h := fnv.New64a()
		s.h, s.w = h, h
	}
	s.w.Write(f.Y)
	s.Frames++
	s.Hash = s.h.Sum64()
	return nil
}
