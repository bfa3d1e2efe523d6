package encoder

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/tensor"
)

// TestBlockModesGolden holds BlockModes equal to encoder/train/motion.py's block_modes (the
// modes the training pool's B-frames use) on export.py's golden frames.
func TestBlockModesGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "decoder", "testdata", "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := tensor.ParseSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	luma := func(name string) *decoder.Frame {
		a := g[name]
		f := decoder.NewFrame(a.Shape[1], a.Shape[0])
		for i, v := range a.Data {
			f.Y[i] = byte(v)
		}
		return f
	}
	mvs := func(name string) []decoder.MV {
		a := g[name]
		out := make([]decoder.MV, len(a.Data)/2)
		for i := range out {
			out[i] = decoder.MV{Y: int(a.Data[2*i]), X: int(a.Data[2*i+1])}
		}
		return out
	}
	got, err := BlockModes(luma("blockmodes.cur_y"), luma("obmc.ref_y"), luma("obmcbi.fut_y"), mvs("obmc.mv"), mvs("obmcbi.mvb"))
	if err != nil {
		t.Fatal(err)
	}
	want := g["blockmodes.modes"].Data
	seen := map[uint8]bool{}
	for i, m := range got {
		seen[m] = true
		if float32(m) != want[i] {
			t.Fatalf("block %d: mode %d, motion.block_modes %v", i, m, want[i])
		}
	}
	t.Logf("modes %v", got)
}

// TestBlockModesRD: with noisy vectors on both sides the SAD-only rule picks modes by noise;
// with the bits counted the modes and backward vectors (unused ones filled as the encoder
// does) code in fewer bytes.
func TestBlockModesRD(t *testing.T) {
	const w, h = 176, 144
	past, cur, fut := synth(w, h, 0), synth(w, h, 1), synth(w, h, 2)
	pp, _ := NewPyramid(past.Y, w, h)
	pc, _ := NewPyramid(cur.Y, w, h)
	pf, _ := NewPyramid(fut.Y, w, h)
	mvf, err := Search(pc, pp, 1)
	if err != nil {
		t.Fatal(err)
	}
	mvb, _ := Search(pc, pf, 1)
	size := func(lambda int) int {
		m, err := BlockModesRD(cur, past, fut, mvf, mvb, lambda)
		if err != nil {
			t.Fatal(err)
		}
		b := append([]decoder.MV(nil), mvb...)
		decoder.FillUnusedMVs(b, w/16, func(i int) bool { return m[i] != decoder.ModeFwd })
		return len(decoder.EncodeBi([][]uint8{m}, [][]decoder.MV{b}, w/16))
	}
	plain, rd := size(0), size(DefaultBiModeLambda)
	if rd >= plain {
		t.Errorf("modes and backward vectors: %d bytes with λ = %d, %d without", rd, DefaultBiModeLambda, plain)
	}
	t.Logf("%d → %d bytes", plain, rd)
}
