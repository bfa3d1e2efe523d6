package decoder

import (
	"fmt"
)

// Deferred motion (bitstream version 5, docs/BITSTREAM.md "Deferred motion"). A frame no
// other frame references (a leaf of the sub-GOP tree) may carry its vectors and block modes in
// a higher unit than 0: VecLayer[f] is that unit. A client holding k ≤ VecLayer[f] layers
// predicts the frame by *direct motion* instead — both references averaged, each block's
// vectors half its parent's — and nothing else depends on that prediction, because no frame
// references a leaf. The base layer then pays for the leaves' vectors only where the encoder
// found them worth their bits at that layer's quality (encoder.SegmentEncoder).

// Deferrable reports whether frame f's vectors may live in a unit above 0: it is
// bi-predicted and no frame of the schedule references it.
func (s *Segment) Deferrable(f int) bool {
	if !s.BiPredicted(f) {
		return false
	}
	return !s.Schedule().Referenced(f)
}

// MotionFields returns frame f's forward vectors, backward vectors and block modes as a client
// holding k layers uses them: the coded ones when the unit that carries them is among the
// k, else direct motion (DirectMotion). bwd and modes are nil for a frame predicted from its
// reference alone.
func (s *Segment) MotionFields(f, k int) (fwd, bwd []MV, modes []uint8) {
	if s.vecLayer(f) < k {
		return s.MVs[f], s.Bwd[f], s.Modes[f]
	}
	return s.DirectMotion(f)
}

// checkVecLayer: frame f's motion may be in unit v only if v is 0, or f is deferrable and v is
// one of the segment's units.
func (s *Segment) checkVecLayer(f, v int) error {
	if v != 0 && (!s.Deferrable(f) || v >= s.Layers) {
		return fmt.Errorf("%w: frame %d's motion in unit %d (deferrable: %v, %d layers)", ErrBitstream, f, v, s.Deferrable(f), s.Layers)
	}
	return nil
}

func (s *Segment) vecLayer(f int) int {
	if s.VecLayer == nil {
		return 0
	}
	return int(s.VecLayer[f])
}

// DirectMotion derives a bi-predicted frame's motion from its parent's coded vectors: every
// block bi-predicted (ModeBi), forward vector h and backward −h, where h is half (rounded
// toward zero) of the co-located vector of the parent that spans the frame — the future
// reference's forward vector when it is predicted from the frame's own reference (u → r, so
// f → r is half of it), else minus the past reference's backward vector when it is
// bi-predicted into the frame's future reference (r → u) — and zero vectors when neither
// reference is such a parent (an intra-coded neighbour).
func (s *Segment) DirectMotion(f int) (fwd, bwd []MV, modes []uint8) {
	w, h := s.CodedSize()
	n := (w / 16) * (h / 16)
	fwd, bwd, modes = make([]MV, n), make([]MV, n), make([]uint8, n)
	for i := range modes {
		modes[i] = ModeBi
	}
	sc := s.Schedule()
	fr := sc.Frames[f]
	r, u := fr.Ref, fr.Future
	var parent []MV
	sign := 1
	switch {
	case u >= 0 && !s.Intra[u] && sc.Frames[u].Ref == r && len(s.MVs[u]) == n:
		parent = s.MVs[u]
	case r >= 0 && s.BiPredicted(r) && sc.Frames[r].Future == u && len(s.Bwd[r]) == n:
		parent, sign = s.Bwd[r], -1
	default:
		return fwd, bwd, modes
	}
	for i, v := range parent {
		half := MV{Y: sign * (v.Y / 2), X: sign * (v.X / 2)}
		fwd[i], bwd[i] = half, MV{Y: -half.Y, X: -half.X}
	}
	return fwd, bwd, modes
}
