package live

import (
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/internal/testenc"
)

// TestSimulateEnhancement runs the LiveNAS simulation on a synthetic clip whose decoded
// version is the source with its luma quantized: every segment is measured, patches are
// sent and trained on, and what the player shows is at least measured against the source.
func TestSimulateEnhancement(t *testing.T) {
	src := testenc.Synthetic(64, 64, 24)
	dec := make([]*decoder.Frame, len(src))
	for i, f := range src {
		d := decoder.NewFrame(f.W, f.H)
		copy(d.U, f.U)
		copy(d.V, f.V)
		for j, v := range f.Y {
			d.Y[j] = v &^ 15 // a coarse quantizer: something to learn
		}
		dec[i] = d
	}
	net, err := enhance.New(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := SimulateEnhancement(src, dec, 3, EnhanceSimOptions{SegFrames: 8, SegmentS: 0.4, Patch: 16, Patches: 4,
		Steps: 20, Lag: 1, Every: 2, Seed: 1, Net: net, Online: enhance.OnlineConfig{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Segments) != 3 || res.PatchBytes == 0 || res.Steps == 0 {
		t.Fatalf("result %+v", res)
	}
	for i, s := range res.Segments {
		if s.Segment != i || s.TimeS != 0.4*float64(i+1) || s.PatchBytes == 0 || s.PlainY < 20 || s.OnlineY < 10 || s.GenericY != 0 {
			t.Fatalf("segment %d: %+v", i, s)
		}
	}
}
