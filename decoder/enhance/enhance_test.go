package enhance

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/strata-player/strata/decoder"
)

func randomPatch(r *rand.Rand, w, h int) Patch {
	p := Patch{W: w, H: h, Decoded: make([]byte, w*h), Source: make([]byte, w*h)}
	for i := range p.Source {
		p.Source[i] = byte(r.IntN(256))
		p.Decoded[i] = byte(min(max(int(p.Source[i])+r.IntN(41)-20, 0), 255))
	}
	return p
}

// TestGradients checks the trainer's backward pass against finite differences.
func TestGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, _ := New(4, 3)
	for j := range n.Layers[2].Weight { // a non-zero last layer, so every gradient flows
		n.Layers[2].Weight[j] = float32(r.NormFloat64() * 0.1)
	}
	tr := NewTrainer(n, 0)
	p := randomPatch(r, 32, 28)
	for i := range tr.g {
		for j := range tr.g[i] {
			clear(tr.g[i][j])
		}
	}
	if l, n := tr.accumulate(p); l == 0 || n == 0 {
		t.Fatal("the patch has no interior")
	}
	loss := func() float64 { tr.forward(p); l, _ := tr.residualError(p, nil); return l }
	for li := 0; li < 3; li++ {
		for _, k := range []int{0, len(n.Layers[li].Weight) / 2, len(n.Layers[li].Weight) - 1} {
			w := &n.Layers[li].Weight[k]
			orig := *w
			const h = 1e-3
			*w = orig + h
			up := loss()
			*w = orig - h
			down := loss()
			*w = orig
			num, got := (up-down)/(2*h), tr.g[li][0][k]
			if math.Abs(num-got) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("layer %d weight %d: gradient %.5f, finite difference %.5f", li, k, got, num)
			}
		}
		b := &n.Layers[li].Bias[0]
		orig := *b
		*b = orig + 1e-4
		up := loss()
		*b = orig - 1e-4
		down := loss()
		*b = orig
		if num, got := (up-down)/2e-4, tr.g[li][1][0]; math.Abs(num-got) > 1e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("layer %d bias: gradient %.5f, finite difference %.5f", li, got, num)
		}
	}
}

// TestTrainingReducesError: a few hundred steps on a smooth signal with added noise lower
// the error, and Apply on a frame does what the trainer's forward pass does.
func TestTrainingReducesError(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	mk := func() Patch {
		const n = 40
		p := Patch{W: n, H: n, Decoded: make([]byte, n*n), Source: make([]byte, n*n)}
		ph := r.Float64() * 6
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				v := 128 + 80*math.Sin(float64(x)/3+ph)*math.Cos(float64(y)/4)
				p.Source[y*n+x] = byte(v)
				p.Decoded[y*n+x] = byte(min(max(v+float64(r.IntN(31)-15), 0), 255))
			}
		}
		return p
	}
	var train []Patch
	for i := 0; i < 16; i++ {
		train = append(train, mk())
	}
	n, _ := New(8, 1)
	tr := NewTrainer(n, 3e-3)
	before := tr.Loss(train)
	for i := 0; i < 300; i++ {
		tr.Step(train[(i%4)*4 : (i%4)*4+4])
	}
	after := tr.Loss(train)
	if !(after < 0.85*before) {
		t.Fatalf("MSE %.6f → %.6f", before, after)
	}
	t.Logf("MSE %.6f → %.6f (%.2f dB)", before, after, 10*math.Log10(before/after))
	// Apply on the patch as a frame equals the trainer's forward pass, rounded.
	snap := tr.Snapshot()
	p := train[0]
	f := decoder.NewFrame(40, 40)
	copy(f.Y, p.Decoded)
	snap.Apply(f, &Scratch{}, 2)
	tr.forward(p)
	want := append([]byte(nil), p.Decoded...)
	addBlocks(want, 40, tr.x, tr.r)
	for y := 2 * Margin; y < 40-2*Margin; y++ {
		for x := 2 * Margin; x < 40-2*Margin; x++ {
			if i := y*40 + x; int(f.Y[i])-int(want[i]) < -1 || int(f.Y[i])-int(want[i]) > 1 {
				t.Fatalf("pixel %d,%d: Apply %d, trainer %d", x, y, f.Y[i], want[i])
			}
		}
	}
	// Marshal round trip; corrupt models are refused.
	b := snap.Marshal()
	back, err := Unmarshal(b)
	if err != nil || !bytes.Equal(back.Marshal(), b) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range [][]byte{nil, b[:len(b)-1], append([]byte("XXXX"), b[4:]...), func() []byte { c := bytes.Clone(b); c[20] ^= 1; return c }()} {
		if _, err := Unmarshal(bad); err == nil {
			t.Errorf("accepted a corrupt model of %d bytes", len(bad))
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	n, _ := New(2, 1)
	f.Add(n.Marshal())
	f.Add([]byte("SENH\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Marshal(), b) {
			t.Fatal("does not round-trip")
		}
		fr := decoder.NewFrame(8, 6)
		m.Apply(fr, &Scratch{}, 1)
	})
}
