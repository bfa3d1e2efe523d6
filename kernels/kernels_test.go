package kernels

import (
	"slices"
	"testing"

	"github.com/strata-player/strata/decoder/gpu"
)

// TestPTXFresh: the committed PTX was generated from the committed source (make ptx
// regenerates it with nvcc), and it defines every kernel the decoder launches.
func TestPTXFresh(t *testing.T) {
	if got, want := PTXHash(), SourceHash(); got != want {
		t.Fatalf("decode.ptx was built from source %q, decode.cu is %s: run make ptx", got, want)
	}
	entries := Entries()
	for _, k := range gpu.Kernels() {
		if !slices.Contains(entries, k.Name()) {
			t.Errorf("decode.ptx lacks .entry %s", k.Name())
		}
	}
}
