package encoder

import (
	"bytes"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/testclip"
)

// TestTopOnlyUnreferenced: the live preset's encoder leaves the never-referenced frames'
// lower chains unreconstructed (nil) and writes the same units as with ReconAll, whose
// reconstructions of every chain the decoder reproduces (roundTripEnc); the deferral by
// prediction moves some frame's motion out of unit 0.
func TestTopOnlyUnreferenced(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end encode: make test runs it in its pass without -race -short")
	}
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	_, frames := testclip.Frames(t, "test", "bus_qcif", 9)
	live, err := PresetByName("live")
	if err != nil {
		t.Fatal(err)
	}
	encAll := &SegmentEncoder{Model: m, S: 8, Layers: decoder.Layers, IntraAnchors: true}
	live.Apply(encAll)
	encAll.ReconAll = true
	all := roundTripEnc(t, encAll, frames)
	enc := &SegmentEncoder{Model: m, S: 8, Layers: decoder.Layers, IntraAnchors: true}
	live.Apply(enc)
	top, err := enc.Encode(frames, 7)
	if err != nil {
		t.Fatal(err)
	}
	for l := 0; l < decoder.Layers; l++ {
		a, err := all.Segment.AppendUnit(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		b, err := top.Segment.AppendUnit(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("unit %d differs with ReconAll", l)
		}
	}
	sc := top.Segment.Schedule()
	deferred := 0
	for f := range frames {
		deferred += int(top.Segment.VecLayer[f])
		for k := 1; k <= decoder.Layers; k++ {
			r := top.Recon[k-1][f]
			if k < decoder.Layers && !sc.Referenced(f) {
				if r != nil {
					t.Errorf("frame %d (never referenced) reconstructed with %d layers", f, k)
				}
				continue
			}
			if w := all.Recon[k-1][f]; r == nil || !bytes.Equal(r.Y, w.Y) || !bytes.Equal(r.U, w.U) || !bytes.Equal(r.V, w.V) {
				t.Errorf("frame %d with %d layers differs from the ReconAll reconstruction", f, k)
			}
		}
	}
	if deferred == 0 {
		t.Error("no frame's motion deferred: the decision by prediction never moved it")
	}
	// One in two never-referenced frames reconstructed in every chain, weighted for both.
	enc.SampleUnreferenced = 2
	smp, err := enc.Encode(frames, 7)
	if err != nil {
		t.Fatal(err)
	}
	sum, sampled := 0.0, 0
	for f, w := range smp.Weights {
		sum += w
		if sc.Referenced(f) || w == 0 {
			continue
		}
		sampled++
		for k := 1; k < decoder.Layers; k++ {
			r, want := smp.Recon[k-1][f], all.Recon[k-1][f]
			if r == nil || !bytes.Equal(r.Y, want.Y) {
				t.Errorf("sampled frame %d with %d layers: not the ReconAll reconstruction", f, k)
			}
		}
	}
	if sum != float64(len(frames)) || sampled != 2 {
		t.Errorf("weights %v: sum %v, %d sampled; want %d and 2 (4 never-referenced frames)", smp.Weights, sum, sampled, len(frames))
	}
}
