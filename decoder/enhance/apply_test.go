package enhance

import (
	"math/rand/v2"
	"testing"

	"github.com/strata-player/strata/decoder"
)

// TestApplyMatchesTrainer: on frames of several shapes and widths of the model, Apply
// computes what the trainer's forward pass computes (within rounding).
func TestApplyMatchesTrainer(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ w, h, ch int }{{40, 40, 8}, {48, 36, 16}, {64, 40, 16}, {38, 52, 12}} {
		n, _ := New(c.ch, 2)
		for i := range n.Layers[2].Weight {
			n.Layers[2].Weight[i] = float32(r.NormFloat64() * 0.05)
		}
		p := randomPatch(r, c.w, c.h)
		tr := NewTrainer(n, 0)
		tr.forward(p)
		want := append([]byte(nil), p.Decoded...)
		addBlocks(want, c.w, tr.x, tr.r)
		snap := tr.Snapshot()
		f := decoder.NewFrame(c.w, c.h)
		copy(f.Y, p.Decoded)
		snap.Apply(f, &Scratch{}, 2)
		// Away from the edges (where Apply extends the frame and the trainer pads zeros)
		// both compute the same.
		bad := 0
		for y := 2 * Margin; y < c.h&^1-2*Margin; y++ {
			for x := 2 * Margin; x < c.w&^1-2*Margin; x++ {
				if d := int(f.Y[y*c.w+x]) - int(want[y*c.w+x]); d < -1 || d > 1 {
					bad++
				}
			}
		}
		if bad > 0 {
			t.Errorf("%dx%d C=%d: %d pixels differ", c.w, c.h, c.ch, bad)
		}
	}
}
