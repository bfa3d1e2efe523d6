package encoder

import (
	"slices"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/testclip"
)

// TestDeferredMotion (bitstream version 5): with motion bits priced above any distortion,
// every leaf frame's motion moves to the top unit; the units still decode to the encoder's
// reconstructions for every k (drift test), a client below that unit has no vectors for the
// leaves and predicts them by direct motion, and that prediction differs from the coded one.
// With DeferLambda < 0 every frame's motion stays in unit 0.
func TestDeferredMotion(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	_, frames := testclip.Frames(t, "test", "carphone_qcif", 9)
	K := 3
	out := roundTripEnc(t, &SegmentEncoder{Model: m, S: 8, Layers: K, IntraAnchors: true, DeferLambda: 1e-12}, frames)
	s := out.Segment
	deferred := 0
	for f := range frames {
		switch {
		case s.Deferrable(f) && int(s.VecLayer[f]) != K-1:
			t.Errorf("leaf frame %d: motion in unit %d, want %d", f, s.VecLayer[f], K-1)
		case !s.Deferrable(f) && s.VecLayer[f] != 0:
			t.Errorf("frame %d is referenced or intra but its motion is in unit %d", f, s.VecLayer[f])
		case s.Deferrable(f):
			deferred++
		}
	}
	if deferred != 4 {
		t.Fatalf("%d leaf frames deferred, want 4 (frames 1, 3, 5, 7)", deferred)
	}
	base, err := s.AppendUnit(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := decoder.ParseBaseUnit(base)
	if err != nil {
		t.Fatal(err)
	}
	if seg.MVs[1] != nil || seg.Modes[1] != nil {
		t.Fatal("frame 1's motion parsed from unit 0, want it in the top unit")
	}
	fwd, bwd, modes := seg.MotionFields(1, 1)
	dfwd, dbwd, dmodes := s.DirectMotion(1)
	if !slices.Equal(fwd, dfwd) || !slices.Equal(bwd, dbwd) || !slices.Equal(modes, dmodes) {
		t.Fatal("a one-layer client's motion for frame 1 is not the direct motion")
	}
	cfwd, cbwd, cmodes := s.MotionFields(1, K)
	if slices.Equal(fwd, cfwd) && slices.Equal(bwd, cbwd) && slices.Equal(modes, cmodes) {
		t.Fatal("direct motion equals the coded motion: the test does not exercise it")
	}
	if _, err := decoder.NewSegmentDecoder(m, 1).Decode(seg, 1); err != nil {
		t.Fatal(err)
	}

	kept, err := (&SegmentEncoder{Model: m, S: 8, Layers: K, IntraAnchors: true, DeferLambda: -1}).Encode(frames, 7)
	if err != nil {
		t.Fatal(err)
	}
	for f, v := range kept.Segment.VecLayer {
		if v != 0 {
			t.Errorf("DeferLambda < 0: frame %d's motion in unit %d", f, v)
		}
	}
}
