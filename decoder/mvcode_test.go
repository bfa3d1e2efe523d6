package decoder

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/strata-player/strata/decoder/entropy"
)

func randMVs(r *rand.Rand, n int, spread int) []MV {
	v := make([]MV, n)
	for i := range v {
		v[i] = MV{Y: r.IntN(2*spread+1) - spread, X: r.IntN(2*spread+1) - spread}
	}
	return v
}

func TestMVRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, spread := range []int{0, 1, 5, 64} {
		frames := [][]MV{randMVs(r, 11*9, spread), randMVs(r, 11*9, spread), make([]MV, 11*9)}
		payload := EncodeMVs(frames, 11)
		got, err := DecodeMVs(payload, 3, 11, 9)
		if err != nil {
			t.Fatalf("spread %d: %v", spread, err)
		}
		for f := range frames {
			for i := range frames[f] {
				if got[f][i] != frames[f][i] {
					t.Fatalf("spread %d frame %d block %d: %v, want %v", spread, f, i, got[f][i], frames[f][i])
				}
			}
		}
		t.Logf("spread ±%d: %d bytes for %d vectors", spread, len(payload), 3*99)
		if _, err := DecodeMVs(payload[:len(payload)-3], 3, 11, 9); !errors.Is(err, entropy.ErrRangeCoder) {
			t.Errorf("spread %d: truncated payload gave %v", spread, err)
		}
		if _, err := DecodeMVs(append(payload, 0), 3, 11, 9); !errors.Is(err, entropy.ErrRangeCoder) {
			t.Errorf("spread %d: trailing byte gave %v", spread, err)
		}
	}
	// Smooth fields cost far less than noise.
	smooth := make([]MV, 400)
	for i := range smooth {
		smooth[i] = MV{Y: 6, X: -4}
	}
	if n := len(EncodeMVs([][]MV{smooth}, 20)); n > 20 {
		t.Errorf("a constant field of 400 vectors took %d bytes", n)
	}
}

func FuzzDecodeMVs(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	f.Add(EncodeMVs([][]MV{randMVs(r, 12, 3)}, 4), 1, 4, 3)
	f.Add(EncodeMVs([][]MV{randMVs(r, 12, 64), randMVs(r, 12, 0)}, 3), 2, 3, 4)
	f.Add([]byte{0, 1, 2, 3, 4, 5}, 1, 1, 1)
	f.Fuzz(func(t *testing.T, payload []byte, n, bw, bh int) {
		if n < 0 || n > 4 || bw < 1 || bw > 16 || bh < 1 || bh > 16 {
			return
		}
		v, err := DecodeMVs(payload, n, bw, bh)
		if err != nil {
			return
		}
		// Whatever decodes survives a round trip through the encoder (the coder's final
		// bytes are not canonical, so payloads themselves may differ).
		again, err := DecodeMVs(EncodeMVs(v, bw), n, bw, bh)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v {
			for j := range v[i] {
				if again[i][j] != v[i][j] {
					t.Fatalf("frame %d block %d: %v then %v", i, j, v[i][j], again[i][j])
				}
			}
		}
	})
}
