package player

import (
	"sync"

	"github.com/strata-player/strata/decoder/cmaf"
)

// held keeps the units a Player's sessions fetched, so that a session started by a seek
// takes the segments fetched before it from here instead of the network. Segments are
// keyed by sub-GOP variant (a unit decodes only in its variant) and segment number, with
// their layers 0..k−1; at most max segments are kept, those farthest from the latest added
// going first. One session runs at a time, but its downloader writes while the Player's
// caller may read the count, hence the mutex.
type held struct {
	mu    sync.Mutex
	max   int
	segs  map[heldKey][][]byte
	inits map[string]cmaf.Config // parsed init segments by Representation id
}

type heldKey struct{ subGOP, segment int }

func newHeld(max int) *held {
	return &held{max: max, segs: map[heldKey][][]byte{}, inits: map[string]cmaf.Config{}}
}

// units returns the layers held of segment n of variant s (nil if none).
func (h *held) units(s, n int) [][]byte {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.segs[heldKey{s, n}]
}

// add records layer l of segment n of variant s; layers are kept only while contiguous
// from the base.
func (h *held) add(s, n, l int, unit []byte) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k := heldKey{s, n}
	u := h.segs[k]
	if l != len(u) {
		return // a gap (or a layer held already)
	}
	h.segs[k] = append(u, unit)
	for len(h.segs) > h.max {
		far, dist := heldKey{}, -1
		for o := range h.segs {
			if d := abs(o.segment - n); d > dist || (d == dist && o.subGOP != s) {
				far, dist = o, d
			}
		}
		delete(h.segs, far)
	}
}

// initSegment returns a cached parsed init segment.
func (h *held) initSegment(id string) (cmaf.Config, bool) {
	if h == nil {
		return cmaf.Config{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.inits[id]
	return c, ok
}

func (h *held) setInitSegment(id string, c cmaf.Config) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.inits[id] = c
	h.mu.Unlock()
}

// count is how many segments are held.
func (h *held) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.segs)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
