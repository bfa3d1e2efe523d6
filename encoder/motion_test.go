package encoder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/strata-player/strata/decoder"
)

// synthPlane reproduces encoder/train/motion_golden.py's integer test pattern exactly.
func synthPlane(w, h, t, salt int) []byte {
	out := make([]byte, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx := t * (1 + (x/48)%3)
			dy := t * ((y/32)%3 - 1)
			X, Y := x+dx+salt, y+dy
			v := ((X*X*3 + Y*Y*5 + X*Y*7) >> 5) ^ ((X*13 + Y*29) & 63)
			noise := ((x * 73856093) ^ (y * 19349663) ^ (t*83492791 + salt)) >> 11 & 7
			out[y*w+x] = byte((v + noise) & 255)
		}
	}
	return out
}

func synth(w, h, t int) *decoder.Frame {
	return &decoder.Frame{W: w, H: h, Y: synthPlane(w, h, t, 0), U: synthPlane(w/2, h/2, t, 1), V: synthPlane(w/2, h/2, t, 2)}
}

// TestSearchMatchesReference checks the Go search and compensation against the vectors and
// prediction that the training pipeline's motion.py produces (docs/MOTION.md).
func TestSearchMatchesReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/motion_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			W, H, T    int
			MVs        [][2]int `json:"mvs"`
			PredSHA256 string   `json:"pred_sha256"`
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		ref, cur := synth(c.W, c.H, 0), synth(c.W, c.H, c.T)
		pr, err := NewPyramid(ref.Y, c.W, c.H)
		if err != nil {
			t.Fatal(err)
		}
		pc, _ := NewPyramid(cur.Y, c.W, c.H)
		mvs, err := Search(pc, pr, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(mvs) != len(c.MVs) {
			t.Fatalf("%dx%d: %d vectors, reference %d", c.W, c.H, len(mvs), len(c.MVs))
		}
		nonzero := 0
		for i, v := range mvs {
			if v.Y != c.MVs[i][0] || v.X != c.MVs[i][1] {
				t.Fatalf("%dx%d block %d: vector (%d, %d), motion.py found (%d, %d)", c.W, c.H, i, v.Y, v.X, c.MVs[i][0], c.MVs[i][1])
			}
			if v != (decoder.MV{}) {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Fatalf("%dx%d: all vectors zero; the test pattern does not move", c.W, c.H)
		}
		pred := decoder.NewFrame(c.W, c.H)
		if err := decoder.Compensate(ref, mvs, pred); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		h.Write(pred.Y)
		h.Write(pred.U)
		h.Write(pred.V)
		if got := hex.EncodeToString(h.Sum(nil)); got != c.PredSHA256 {
			t.Errorf("%dx%d: prediction sha256 %s, motion.py %s", c.W, c.H, got, c.PredSHA256)
		}
	}
}

func BenchmarkSearch640x368(b *testing.B) {
	ref, cur := synth(640, 368, 0), synth(640, 368, 3)
	pr, _ := NewPyramid(ref.Y, 640, 368)
	b.ReportAllocs()
	for b.Loop() {
		pc, _ := NewPyramid(cur.Y, 640, 368)
		if _, err := Search(pc, pr, 2); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
