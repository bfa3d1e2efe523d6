package gpu

import (
	"bytes"
	"os"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/demo"
)

// TestEmulatedKernelsEqualCPU decodes demo segments with the kernels of kernels/decode.cu
// compiled for the CPU and compares every 8-bit frame with the Go CPU engine's, for every
// sub-GOP variant and every layer count. make test checks segment 1 of each variant (an
// intra anchor and P-frames at every depth); STRATA_EMU_FULL=1 checks the whole demo.
func TestEmulatedKernelsEqualCPU(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	dev := NewEmu()
	defer dev.Close()
	gd, err := NewDecoder(dev, m)
	if err != nil {
		t.Fatal(err)
	}
	defer gd.Close()
	cpu := decoder.NewSegmentDecoder(m, 0)
	for _, s := range []int{4, 8, 16} {
		segs, err := demo.Segments(s)
		if err != nil || len(segs) == 0 {
			t.Fatalf("demo S=%d: %v", s, err)
		}
		pick := segs[1:2]
		if os.Getenv("STRATA_EMU_FULL") == "1" {
			pick = segs
		}
		for _, seg := range pick {
			for k := 1; k <= seg.Have; k++ {
				want, err := cpu.Decode(seg, k)
				if err != nil {
					t.Fatal(err)
				}
				launches := gd.Launches
				got, err := gd.Decode(seg, k)
				if err != nil {
					t.Fatal(err)
				}
				for f := range want {
					if !bytes.Equal(got[f].Y, want[f].Y) || !bytes.Equal(got[f].U, want[f].U) || !bytes.Equal(got[f].V, want[f].V) {
						t.Fatalf("S=%d segment %d k=%d frame %d: emulated kernels differ from the CPU engine", s, seg.Segment, k, f)
					}
				}
				t.Logf("S=%d segment %d k=%d: %d frames equal, %.2f launches per frame", s, seg.Segment, k, len(want),
					float64(gd.Launches-launches)/float64(len(want)))
			}
		}
	}
}
