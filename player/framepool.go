package player

import "github.com/strata-player/strata/decoder"

// framePool recycles the frame sets that carry decoded segments from the decode goroutine
// (copy) to the presenter (put, once shown), so a decoder's own frames are free for its
// next segment at once. Its channel is the only state both goroutines touch.
type framePool struct{ free chan []*decoder.Frame }

// poolSets bounds the sets kept for reuse: the segments queued ahead, the one being
// presented and the one being copied.
const poolSets = maxAhead + 2

// copy returns a set holding copies of frames (nil for nil).
func (p *framePool) copy(frames []*decoder.Frame) []*decoder.Frame {
	if frames == nil {
		return nil
	}
	var set []*decoder.Frame
	select {
	case set = <-p.free:
		set = set[:cap(set)] // frames a longer segment left beyond its length are reused too
	default:
	}
	for i, f := range frames {
		if i == len(set) {
			set = append(set, nil)
		}
		if d := set[i]; d == nil || d.W != f.W || d.H != f.H {
			set[i] = decoder.NewFrame(f.W, f.H)
		}
		copy(set[i].Y, f.Y)
		copy(set[i].U, f.U)
		copy(set[i].V, f.V)
	}
	return set[:len(frames)]
}

// put gives a shown set back (dropped when the pool is full).
func (p *framePool) put(set []*decoder.Frame) {
	if set == nil {
		return
	}
	select {
	case p.free <- set:
	default:
	}
}

func newFramePool() framePool { return framePool{free: make(chan []*decoder.Frame, poolSets)} }
