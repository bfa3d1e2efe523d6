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

// TestSmoothRD: on a noisy field SmoothRD lowers SAD + λ·bits of every block's choice in
// sum, codes in fewer bytes, and with λ = 0 keeps each block's SAD at most the searched one's.
func TestSmoothRD(t *testing.T) {
	const w, h = 176, 144
	ref, cur := synth(w, h, 0), synth(w, h, 2)
	pr, _ := NewPyramid(ref.Y, w, h)
	pc, _ := NewPyramid(cur.Y, w, h)
	mvs, err := Search(pc, pr, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Perturb every third vector by one half-pel step: the noise of a flat area's search.
	for i := range mvs {
		if i%3 == 0 {
			mvs[i].X++
		}
	}
	bw := w / 16
	cost := func(v []decoder.MV, lambda int) (sads, j int) {
		for i, mv := range v {
			s := halfSAD(&pc.l[0], &pr.l[0], i/bw*16, i%bw*16, mv.Y, mv.X)
			p := decoder.MVPredict(v, bw, i%bw, i/bw)
			sads += s
			j += s + lambda*mvBits(decoder.MV{Y: mv.Y - p.Y, X: mv.X - p.X})
		}
		return sads, j
	}
	noisy := append([]decoder.MV(nil), mvs...)
	smooth := append([]decoder.MV(nil), mvs...)
	SmoothRD(pc, pr, smooth, DefaultMVLambda)
	_, j0 := cost(noisy, DefaultMVLambda)
	_, j1 := cost(smooth, DefaultMVLambda)
	b0 := len(decoder.EncodeMVs([][]decoder.MV{noisy}, bw))
	b1 := len(decoder.EncodeMVs([][]decoder.MV{smooth}, bw))
	if j1 >= j0 || b1 >= b0 {
		t.Errorf("SmoothRD: J %d → %d, %d → %d bytes of vectors", j0, j1, b0, b1)
	}
	exact := append([]decoder.MV(nil), mvs...)
	SmoothRD(pc, pr, exact, 0)
	for i := range exact {
		s0 := halfSAD(&pc.l[0], &pr.l[0], i/bw*16, i%bw*16, noisy[i].Y, noisy[i].X)
		s1 := halfSAD(&pc.l[0], &pr.l[0], i/bw*16, i%bw*16, exact[i].Y, exact[i].X)
		if s1 > s0 {
			t.Fatalf("λ = 0: block %d SAD %d, searched %d", i, s1, s0)
		}
	}
	t.Logf("J %d → %d, vectors %d → %d bytes", j0, j1, b0, b1)
}
