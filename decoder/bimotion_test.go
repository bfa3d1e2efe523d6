package decoder

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/strata-player/strata/decoder/entropy"
)

func randomBi(r *rand.Rand, frames, blocks int) ([][]uint8, [][]MV) {
	modes := make([][]uint8, frames)
	bwd := make([][]MV, frames)
	for f := range modes {
		modes[f] = make([]uint8, blocks)
		bwd[f] = make([]MV, blocks)
		for i := range modes[f] {
			modes[f][i] = uint8(r.IntN(3))
			bwd[f][i] = MV{Y: r.IntN(2*MVLimit+1) - MVLimit, X: r.IntN(9) - 4}
		}
	}
	return modes, bwd
}

// fillUnused sets every vector a block's mode does not use to its prediction, as the encoder
// does (forward-only blocks' backward vectors; with fwd, backward-only blocks' forward ones).
func fillUnused(modes [][]uint8, fwd, bwd [][]MV, bw int) {
	for f, m := range modes {
		FillUnusedMVs(bwd[f], bw, func(i int) bool { return m[i] != 0 })
		if fwd != nil {
			FillUnusedMVs(fwd[f], bw, func(i int) bool { return m[i] != 1 })
		}
	}
}

func TestBiRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const bw, bh = 11, 9
	modes, bwd := randomBi(r, 3, bw*bh)
	fillUnused(modes, nil, bwd, bw)
	p := EncodeBi(modes, bwd, bw)
	gm, gb, err := DecodeBi(p, 3, bw, bh)
	if err != nil {
		t.Fatal(err)
	}
	for f := range modes {
		for i := range modes[f] {
			if gm[f][i] != modes[f][i] || gb[f][i] != bwd[f][i] {
				t.Fatalf("frame %d block %d: got %d %v, want %d %v", f, i, gm[f][i], gb[f][i], modes[f][i], bwd[f][i])
			}
		}
	}
	for n := 0; n < len(p); n++ {
		if _, _, err := DecodeBi(p[:n], 3, bw, bh); !errors.Is(err, entropy.ErrRangeCoder) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(p), err)
		}
	}
	if _, _, err := DecodeBi(append(p, 0), 3, bw, bh); !errors.Is(err, entropy.ErrRangeCoder) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// TestUnusedVectorsNotSent (version 5): a vector its block's mode does not use costs nothing —
// a forward-only frame's payload is the same whatever its backward vectors — and decodes as
// its prediction, which the encoder's FillUnusedMVs sets; the forward payload likewise skips
// backward-only blocks (EncodeMVsModes).
func TestUnusedVectorsNotSent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const bw = 10
	modes, bwd := randomBi(r, 1, bw*bw)
	for i := range modes[0] {
		modes[0][i] = 0 // forward only: no backward vector is used
	}
	before := EncodeBi(modes, bwd, bw)
	FillUnusedMVs(bwd[0], bw, func(int) bool { return false })
	if after := EncodeBi(modes, bwd, bw); string(after) != string(before) {
		t.Fatalf("unused backward vectors changed the payload: %d vs %d bytes", len(after), len(before))
	}
	for _, v := range bwd[0] {
		if v != (MV{}) {
			t.Fatalf("a fully unused field fills with zero vectors, got %v", v)
		}
	}
	// Forward vectors with mixed modes round-trip through EncodeMVsModes.
	modes, bwd = randomBi(r, 2, bw*bw)
	fwd := [][]MV{make([]MV, bw*bw), make([]MV, bw*bw)}
	for f := range fwd {
		for i := range fwd[f] {
			fwd[f][i] = MV{Y: r.IntN(9) - 4, X: r.IntN(2*MVLimit+1) - MVLimit}
		}
	}
	fillUnused(modes, fwd, bwd, bw)
	all := append([][]uint8{nil}, modes...)
	frames := append([][]MV{fwd[1]}, fwd...) // a P-only frame (modes nil) first
	p := EncodeMVsModes(frames, all, bw)
	if full := EncodeMVs(frames, bw); len(p) >= len(full) {
		t.Fatalf("skipping backward-only blocks saved nothing: %d vs %d bytes", len(p), len(full))
	}
	got, err := DecodeMVsModes(p, all, len(frames), bw, bw)
	if err != nil {
		t.Fatal(err)
	}
	for f := range frames {
		for i := range frames[f] {
			if got[f][i] != frames[f][i] {
				t.Fatalf("frame %d block %d: %v, want %v", f, i, got[f][i], frames[f][i])
			}
		}
	}
}

func FuzzDecodeBi(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	m, b := randomBi(r, 2, 12)
	f.Add(EncodeBi(m, b, 4), 2, 4, 3)
	m, b = randomBi(r, 1, 6)
	f.Add(EncodeBi(m, b, 3), 1, 3, 2)
	f.Add([]byte{0, 1, 2, 3, 4, 5}, 1, 1, 1)
	f.Fuzz(func(t *testing.T, payload []byte, n, bw, bh int) {
		if n < 0 || n > 4 || bw < 1 || bw > 16 || bh < 1 || bh > 16 {
			return
		}
		modes, bwd, err := DecodeBi(payload, n, bw, bh)
		if err != nil {
			if !errors.Is(err, entropy.ErrRangeCoder) {
				t.Fatalf("error %v does not wrap entropy.ErrRangeCoder", err)
			}
			return
		}
		mm, bb, err := DecodeBi(EncodeBi(modes, bwd, bw), n, bw, bh)
		if err != nil {
			t.Fatal(err)
		}
		for i := range modes {
			for j := range modes[i] {
				if mm[i][j] != modes[i][j] || bb[i][j] != bwd[i][j] || modes[i][j] > 2 {
					t.Fatalf("frame %d block %d: %d %v then %d %v", i, j, modes[i][j], bwd[i][j], mm[i][j], bb[i][j])
				}
			}
		}
	})
}
