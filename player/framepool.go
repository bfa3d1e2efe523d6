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
	if p.free != nil {
		select {
		case set = <-p.free:
		default:
		}
	}
	set = set[:0]
	for i, f := range frames {
		var dst *decoder.Frame
		if i < cap(set) {
			dst = set[:i+1][i]
		}
		if dst == nil || dst.W != f.W || dst.H != f.H {
			dst = decoder.NewFrame(f.W, f.H)
		}
		copy(dst.Y, f.Y)
		copy(dst.U, f.U)
		copy(dst.V, f.V)
		set = append(set, dst)
	}
	return set
}

// put gives a shown set back (dropped when the pool is full).
func (p *framePool) put(set []*decoder.Frame) {
	if set == nil || p.free == nil {
		return
	}
	select {
	case p.free <- set:
	default:
	}
}

func newFramePool() framePool { return framePool{free: make(chan []*decoder.Frame, poolSets)} }
