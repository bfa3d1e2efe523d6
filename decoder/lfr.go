package decoder

import (
	"fmt"
	"math/bits"
)

// FrameRef is one frame's place in a segment's loose-frame-referencing structure
// (docs/BITSTREAM.md): its reference (−1 for the I-frame), the distance to it, its tree
// depth (0 for the I-frame and anchors) and its level-embedding distance class. Future is
// the frame on the other side at the same distance, decoded earlier (a shallower tree frame
// or the next anchor), which the codec may bi-predict from; −1 when there is none (anchors,
// and the frames whose future frame lies past the segment's end).
type FrameRef struct {
	Index, Ref, Distance, Depth, Class int
	Future                             int
}

// Schedule is the reference structure and decode order of a segment of N frames with
// sub-GOP size S.
type Schedule struct {
	N, S int
	// IntraAnchors codes every anchor as an I-frame (no anchor chain).
	IntraAnchors bool
	Frames       []FrameRef // by frame index
	// Batches lists frame indices in decode order, grouped so that no frame of a batch
	// references another: the I-frame, each anchor alone, then one batch per tree depth.
	Batches [][]int
	refd    []bool // refd[f]: some frame predicts from f
}

// NewSchedule derives the structure of docs/BITSTREAM.md with predicted anchors.
func NewSchedule(n, s int) (*Schedule, error) { return NewScheduleAnchors(n, s, false) }

// NewScheduleAnchors derives the structure with anchors predicted from the previous anchor
// (intra == false) or coded as I-frames (intra == true; then the I-frame and every anchor
// form the first batch).
func NewScheduleAnchors(n, s int, intra bool) (*Schedule, error) {
	if n < 1 || n > 65535 {
		return nil, fmt.Errorf("segment of %d frames: want 1..65535", n)
	}
	if s < 1 || s > 64 || s&(s-1) != 0 {
		return nil, fmt.Errorf("sub-GOP size %d: want a power of two from 1 to 64", s)
	}
	if intra && s == 1 {
		return nil, fmt.Errorf("intra anchors with sub-GOP 1 would make every frame an I-frame")
	}
	sc := &Schedule{N: n, S: s, IntraAnchors: intra, Frames: make([]FrameRef, n)}
	sc.Frames[0] = FrameRef{Index: 0, Ref: -1, Future: -1}
	sc.Batches = append(sc.Batches, []int{0})
	logS := bits.TrailingZeros(uint(s))
	byDepth := make([][]int, logS+1)
	for f := 1; f < n; f++ {
		a, o := f/s*s, f%s
		r := FrameRef{Index: f, Future: -1}
		if o == 0 && intra {
			r.Ref = -1
			sc.Batches[0] = append(sc.Batches[0], f)
			sc.Frames[f] = r
			continue
		} else if o == 0 {
			r.Ref, r.Distance = f-s, s
			sc.Batches = append(sc.Batches, []int{f})
		} else {
			low := o & -o
			r.Ref, r.Distance = a+o-low, low
			if a+o+low < n {
				r.Future = a + o + low
			}
			r.Depth = logS - bits.TrailingZeros(uint(low))
			byDepth[r.Depth] = append(byDepth[r.Depth], f)
		}
		r.Class = min(bits.TrailingZeros(uint(r.Distance)), DClasses-1)
		sc.Frames[f] = r
	}
	for _, b := range byDepth {
		if len(b) > 0 {
			sc.Batches = append(sc.Batches, b)
		}
	}
	sc.refd = make([]bool, n)
	for _, r := range sc.Frames {
		if r.Ref >= 0 {
			sc.refd[r.Ref] = true
		}
		if r.Future >= 0 {
			sc.refd[r.Future] = true
		}
	}
	return sc, nil
}

// DecodeOrder is the frame indices in decode order.
func (sc *Schedule) DecodeOrder() []int {
	out := make([]int, 0, sc.N)
	for _, b := range sc.Batches {
		out = append(out, b...)
	}
	return out
}

// Intra reports whether frame f is an I-frame.
func (sc *Schedule) Intra(f int) bool { return sc.Frames[f].Ref < 0 }

// Deepest is the depth of the frames that are never referenced (0 when S = 1).
func (sc *Schedule) Deepest() int { return bits.TrailingZeros(uint(sc.S)) }

// Step is the frame stride left when the drop deepest tree levels are not decoded
// (LiFteR's frame-rate configurations): 1 << drop, drop clamped to 0…Deepest. The frames
// kept, every Step-th in display order, reference only each other, so skipping the rest
// costs no drift.
func (sc *Schedule) Step(drop int) int { return 1 << min(max(drop, 0), sc.Deepest()) }

// Kept lists batch b's frames that a decode at stride step keeps (indices multiples of
// step), in the batch's order.
func (sc *Schedule) Kept(b, step int) []int {
	if step <= 1 {
		return sc.Batches[b]
	}
	var out []int
	for _, f := range sc.Batches[b] {
		if f%step == 0 {
			out = append(out, f)
		}
	}
	return out
}

// Referenced reports whether some frame of the schedule predicts from frame f (as its
// reference or its future frame).
func (sc *Schedule) Referenced(f int) bool { return sc.refd[f] }
