package cuda

import (
	"errors"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/gpu"
	"github.com/strata-player/strata/internal/demo"
)

// TestOpen: without a usable GPU (every machine here: the stub libcuda gives 34, a driver
// without a device 100, a build without the tag −2), Open fails with ErrNoCUDA and the
// driver's code instead of exiting the process; with a GPU it opens.
func TestOpen(t *testing.T) {
	dev, err := Open(0)
	if err != nil {
		var ie *InitError
		if !errors.Is(err, ErrNoCUDA) || !errors.As(err, &ie) {
			t.Fatalf("Open: %v, want an InitError wrapping ErrNoCUDA", err)
		}
		t.Logf("no GPU (built with CUDA: %v): %v", Built, err)
		return
	}
	defer dev.Close()
	t.Logf("opened %s", dev.Name())
}

// TestGPUDecodeEqualsCPU runs on a machine with a GPU only: the demo's segments decoded by
// the CUDA kernels equal the Go engine's, frame for frame.
func TestGPUDecodeEqualsCPU(t *testing.T) {
	dev, err := Open(0)
	if err != nil {
		t.Skipf("GPU test: %v", err)
	}
	defer dev.Close()
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	gd, err := gpu.NewDecoder(dev, m)
	if err != nil {
		t.Fatal(err)
	}
	defer gd.Close()
	cpu := decoder.NewSegmentDecoder(m, 0)
	for _, s := range []int{8, 16, 32} {
		segs, err := demo.Segments(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, seg := range segs[:2] {
			for k := 1; k <= seg.Have; k++ {
				want, _ := cpu.Decode(seg, k)
				got, err := gd.Decode(seg, k)
				if err != nil {
					t.Fatal(err)
				}
				for f := range want {
					if string(got[f].Y) != string(want[f].Y) || string(got[f].U) != string(want[f].U) || string(got[f].V) != string(want[f].V) {
						t.Fatalf("%s S=%d segment %d k=%d frame %d differs from the CPU", dev.Name(), s, seg.Segment, k, f)
					}
				}
			}
		}
	}
}
