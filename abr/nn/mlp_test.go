package nn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

func randChoice(r *rand.Rand, k, in int, regret bool) Choice {
	c := Choice{Target: r.IntN(k)}
	for i := 0; i < k; i++ {
		x := make([]float64, in)
		for j := range x {
			x[j] = r.NormFloat64()
		}
		c.X = append(c.X, x)
	}
	if regret {
		for i := 0; i < k; i++ {
			c.Regret = append(c.Regret, r.Float64()*3)
		}
		c.Regret[c.Target] = 0
	}
	return c
}

// TestGradient compares the analytic gradient with central differences, for plain and
// regret-weighted choices.
func TestGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, regret := range []bool{false, true} {
		m, err := New(3, 5, 7, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := randChoice(r, 4, 5, regret)
		tr := NewTrainer(m)
		tr.Add(c)
		g := tr.Grad()
		loss := func() float64 { l, _ := NewTrainer(m).Add(c); return l }
		for l := range m.W {
			for _, p := range []struct {
				param, grad []float64
			}{{m.W[l], g.W[l]}, {m.B[l], g.B[l]}} {
				for i := range p.param {
					old := p.param[i]
					p.param[i] = old + 1e-6
					up := loss()
					p.param[i] = old - 1e-6
					down := loss()
					p.param[i] = old
					num := (up - down) / 2e-6
					if math.Abs(num-p.grad[i]) > 1e-5*math.Max(1, math.Abs(num)) {
						t.Fatalf("regret %v layer %d param %d: numeric %v, analytic %v", regret, l, i, num, p.grad[i])
					}
				}
			}
		}
	}
}

// TestLearns: Adam on a separable task reaches full agreement.
func TestLearns(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	m, _ := New(1, 3, 16, 1)
	var data []Choice
	for i := 0; i < 200; i++ {
		c := randChoice(r, 3, 3, false)
		best := 0
		for j, x := range c.X { // the candidate with the largest first feature wins
			if x[0] > c.X[best][0] {
				best = j
			}
		}
		c.Target = best
		data = append(data, c)
	}
	opt := NewAdam(m, 0.01)
	tr := NewTrainer(m)
	acc := 0.0
	for ep := 0; ep < 200; ep++ {
		tr.Grad().Zero()
		acc = 0
		for _, c := range data {
			if _, ok := tr.Add(c); ok {
				acc++
			}
		}
		opt.Step(m, tr.Grad(), 1/float64(len(data)))
	}
	if acc < 0.97*float64(len(data)) {
		t.Errorf("agreement %v of %d after training", acc, len(data))
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	m, _ := New(9, 4, 8, 1)
	b := m.Marshal()
	m2, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m2.Marshal(), b) {
		t.Error("round trip changed the network")
	}
	var s1, s2 Scratch
	x := []float64{0.3, -1, 2, 0.5}
	if m.Score(x, &s1) != m2.Score(x, &s2) {
		t.Error("scores differ after the round trip")
	}
	for _, bad := range [][]byte{nil, []byte("SNN1"), b[:len(b)-1], append(append([]byte(nil), b...), 0)} {
		if _, err := Unmarshal(bad); err == nil {
			t.Errorf("accepted %d bytes", len(bad))
		}
	}
	nan := append([]byte(nil), b...)
	for i := len(nan) - 8; i < len(nan); i++ {
		nan[i] = 0xff
	}
	if _, err := Unmarshal(nan); err == nil {
		t.Error("accepted a NaN weight")
	}
}

func FuzzUnmarshal(f *testing.F) {
	m, _ := New(1, 3, 4, 1)
	f.Add(m.Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Marshal(), data) {
			t.Fatal("a network that parsed does not re-encode to its bytes")
		}
		var s Scratch
		m.Score(make([]float64, m.Inputs()), &s)
	})
}

func TestEnsemble(t *testing.T) {
	a, _ := New(1, 4, 8, 1)
	b, _ := New(2, 4, 8, 8, 1)
	e := Ensemble{a, b}
	x := []float64{0.3, -1, 2, 0.5}
	var s Scratch
	if got, want := e.Score(x, &s), (a.Score(x, &s)+b.Score(x, &s))/2; got != want {
		t.Errorf("ensemble score %v, want the mean %v", got, want)
	}
	if e.Params() != a.Params()+b.Params() || e.Inputs() != 4 {
		t.Error("ensemble size")
	}
	data := e.Marshal()
	got, err := UnmarshalScorer(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), data) || got.Score(x, &s) != e.Score(x, &s) {
		t.Error("the ensemble does not round-trip")
	}
	if m, err := UnmarshalScorer(a.Marshal()); err != nil || m.Score(x, &s) != a.Score(x, &s) {
		t.Errorf("a single network through UnmarshalScorer: %v", err)
	}
	c, _ := New(3, 5, 8, 1)
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"truncated":   data[:len(data)-1],
		"trailing":    append(append([]byte(nil), data...), 0),
		"no members":  []byte("SNE1\x00\x00\x00\x00"),
		"mixed input": Ensemble{a, c}.Marshal(),
	} {
		if _, err := UnmarshalScorer(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzUnmarshalScorer(f *testing.F) {
	a, _ := New(1, 3, 4, 1)
	b, _ := New(2, 3, 2, 1)
	f.Add(Ensemble{a, b}.Marshal())
	f.Add(a.Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalScorer(data)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Marshal(), data) {
			t.Fatal("a scorer that parsed does not re-encode to its bytes")
		}
		var s Scratch
		m.Score(make([]float64, m.Inputs()), &s)
	})
}

func BenchmarkScore(b *testing.B) {
	m, _ := New(1, 37, 96, 96, 1)
	x := make([]float64, 37)
	for i := range x {
		if i%3 != 0 {
			x[i] = float64(i%7) / 7
		}
	}
	var s Scratch
	for b.Loop() {
		m.Score(x, &s)
	}
}

// Score skips zero inputs and interleaves outputs: it must equal the plain sum, term by term
// in order, to the bit (the committed models' decisions depend on it).
func TestScoreExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for trial := 0; trial < 50; trial++ {
		sizes := []int{1 + r.IntN(40), 1 + r.IntN(99), 1 + r.IntN(99), 1}
		m, _ := New(uint64(trial), sizes...)
		for _, b := range m.B {
			for i := range b {
				b[i] = r.NormFloat64()
			}
		}
		x := make([]float64, sizes[0])
		for i := range x {
			if r.IntN(3) > 0 {
				x[i] = r.NormFloat64()
			}
		}
		act := x
		for l, w := range m.W {
			n, next := len(act), make([]float64, sizes[l+1])
			for o := range next {
				acc := m.B[l][o]
				for i, v := range act {
					acc += w[o*n+i] * v
				}
				if l < len(m.W)-1 && acc < 0 {
					acc = 0
				}
				next[o] = acc
			}
			act = next
		}
		var s Scratch
		if got := m.Score(x, &s); got != act[0] {
			t.Fatalf("sizes %v: Score %v, the plain sum %v", sizes, got, act[0])
		}
	}
}
