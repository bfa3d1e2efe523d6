//go:build emu

package gpu

import (
	"bytes"
	"os"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/tensor"
	"github.com/strata-player/strata/internal/demo"
	"github.com/strata-player/strata/internal/testenc"
)

// emuDecoder is a decoder of the default model on the emulation device.
func emuDecoder(t *testing.T) (*decoder.Model, *Decoder) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	dev, err := NewEmu(0)
	if err != nil {
		t.Fatal(err)
	}
	gd, err := NewDecoder(dev, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gd.Close(); dev.Close() })
	return m, gd
}

// TestEmulatedKernelsEqualCPU decodes demo segments with the kernels of kernels/decode.cu
// compiled for the CPU, with the Go engine's SIMD path and with its portable path, and
// compares every 8-bit frame, for every sub-GOP variant and every layer count. make test
// checks segment 1 of each variant (an intra anchor and P-frames at every depth);
// STRATA_EMU_FULL=1 checks the whole demo.
func TestEmulatedKernelsEqualCPU(t *testing.T) {
	m, gd := emuDecoder(t)
	cpu := decoder.NewSegmentDecoder(m, 0)
	portable := decoder.NewSegmentDecoder(m, 0)
	simd := tensor.SIMD
	defer func() { tensor.SIMD = simd }()
	for _, s := range []int{8, 16, 32} {
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
				if simd {
					tensor.SIMD = false
					port, err := portable.Decode(seg, k)
					tensor.SIMD = true
					if err != nil {
						t.Fatal(err)
					}
					for f := range want {
						if !bytes.Equal(port[f].Y, want[f].Y) || !bytes.Equal(port[f].U, want[f].U) || !bytes.Equal(port[f].V, want[f].V) {
							t.Fatalf("S=%d segment %d k=%d frame %d: the SIMD path differs from the portable one", s, seg.Segment, k, f)
						}
					}
				}
				t.Logf("S=%d segment %d k=%d: %d frames equal, %.2f launches per frame", s, seg.Segment, k, len(want),
					float64(gd.Launches-launches)/float64(len(want)))
				if k < seg.Have {
					continue
				}
				// Reduced frame rates (the deepest LFR levels skipped): the same frames.
				for drop := 1; drop <= 2; drop++ {
					step := seg.Schedule().Step(drop)
					got, err := gd.DecodeRate(seg, k, drop)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != (len(want)+step-1)/step {
						t.Fatalf("S=%d drop %d: %d frames of %d", s, drop, len(got), len(want))
					}
					for i, g := range got {
						if w := want[i*step]; !bytes.Equal(g.Y, w.Y) || !bytes.Equal(g.U, w.U) || !bytes.Equal(g.V, w.V) {
							t.Fatalf("S=%d segment %d drop %d frame %d: differs from the full decode", s, seg.Segment, drop, i*step)
						}
					}
				}
			}
		}
	}
}

// TestLaunchesPerFrame counts kernel launches per decoded frame for S = 1, 4, 8 and 16
// (the GPU speed proxy measurable without a GPU): LFR depth batches make S = 8 need at
// most 1/2.5 of the plain chain's launches.
func TestLaunchesPerFrame(t *testing.T) {
	m, gd := emuDecoder(t)
	frames := testenc.Synthetic(64, 48, 32)
	per := map[int]float64{}
	for _, s := range []int{1, 4, 8, 16} {
		_, encs := testenc.EncodeDir(t, m, frames, s, 2, 32)
		before := gd.Launches
		got, err := gd.Decode(encs[0].Segment, 2)
		if err != nil {
			t.Fatal(err)
		}
		for f, fr := range got {
			if r := encs[0].Recon[1][f]; !bytes.Equal(fr.Y, r.Y) || !bytes.Equal(fr.U, r.U) || !bytes.Equal(fr.V, r.V) {
				t.Fatalf("S=%d frame %d differs from the encoder's reconstruction", s, f)
			}
		}
		per[s] = float64(gd.Launches-before) / float64(len(got))
		t.Logf("S=%d: %.2f launches per frame (32-frame segment)", s, per[s])
	}
	if per[8] > per[1]/2.5 {
		t.Fatalf("S=8 needs %.2f launches per frame, more than 1/2.5 of S=1's %.2f", per[8], per[1])
	}
}
