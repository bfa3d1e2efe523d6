// Package nn is the small multilayer perceptron behind strata's learned ABR policies: a
// scorer that maps one candidate action's features to a score, trained with softmax
// cross-entropy over the candidates of a decision (imitation of a teacher) and Adam.
// Everything is float64 and single-threaded, so inference and training are deterministic.
package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/strata-player/strata/internal/byteread"
)

// MLP is a fully connected network: ReLU on every hidden layer, one linear output.
// Sizes = [inputs, hidden..., 1].
type MLP struct {
	Sizes []int
	// W[l] is Sizes[l+1]×Sizes[l], row-major; B[l] has Sizes[l+1] entries.
	W, B [][]float64
}

// New returns a network with He-initialised weights from seed.
func New(seed uint64, sizes ...int) (*MLP, error) {
	if len(sizes) < 2 || sizes[len(sizes)-1] != 1 {
		return nil, fmt.Errorf("nn: sizes %v: want inputs, hidden layers, then 1", sizes)
	}
	for _, s := range sizes {
		if s <= 0 || s > 4096 {
			return nil, fmt.Errorf("nn: layer size %d out of range", s)
		}
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	m := &MLP{Sizes: append([]int(nil), sizes...)}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		w := make([]float64, in*out)
		std := math.Sqrt(2 / float64(in))
		for i := range w {
			w[i] = r.NormFloat64() * std
		}
		m.W = append(m.W, w)
		m.B = append(m.B, make([]float64, out))
	}
	return m, nil
}

// Inputs is the feature count.
func (m *MLP) Inputs() int { return m.Sizes[0] }

// Params is the number of weights and biases.
func (m *MLP) Params() int {
	n := 0
	for l := range m.W {
		n += len(m.W[l]) + len(m.B[l])
	}
	return n
}

// Scratch holds one forward pass's activations (reuse it: Score then allocates nothing).
type Scratch struct {
	act [][]float64 // act[0] = input, act[l] = after layer l (ReLU applied but on the output)
	idx []int32     // a layer's nonzero inputs: their indices and values
	val []float64
}

func (m *MLP) scratch(s *Scratch) {
	if len(s.act) != len(m.Sizes) {
		s.act = make([][]float64, len(m.Sizes))
	}
	for l, n := range m.Sizes {
		if cap(s.act[l]) < n {
			s.act[l] = make([]float64, n)
		}
		s.act[l] = s.act[l][:n]
	}
}

// Score is the network's output for input x (len(x) == Inputs()).
func (m *MLP) Score(x []float64, s *Scratch) float64 {
	m.scratch(s)
	copy(s.act[0], x)
	last := len(m.W) - 1
	for l, w := range m.W {
		in, out := s.act[l], s.act[l+1]
		n := len(in)
		// Only the nonzero inputs are summed (ReLU zeroes about half of a hidden layer, and
		// the features have many zeros): a zero term adds nothing, and the others are added
		// in the same order, so the score is the full sum's.
		idx, val := s.idx[:0], s.val[:0]
		for i, v := range in {
			if v != 0 {
				idx = append(idx, int32(i))
				val = append(val, v)
			}
		}
		s.idx, s.val = idx, val
		b := m.B[l]
		o := 0
		// Four outputs at a time: each sum is still added term by term in order, but the
		// four chains of additions overlap in the CPU instead of waiting on each other.
		for ; o+4 <= len(out); o += 4 {
			r0, r1, r2, r3 := w[o*n:o*n+n], w[(o+1)*n:(o+1)*n+n], w[(o+2)*n:(o+2)*n+n], w[(o+3)*n:(o+3)*n+n]
			a0, a1, a2, a3 := b[o], b[o+1], b[o+2], b[o+3]
			for k, i := range idx {
				v := val[k]
				a0 += r0[i] * v
				a1 += r1[i] * v
				a2 += r2[i] * v
				a3 += r3[i] * v
			}
			out[o], out[o+1], out[o+2], out[o+3] = a0, a1, a2, a3
		}
		for ; o < len(out); o++ {
			row := w[o*n : o*n+n]
			acc := b[o]
			for k, i := range idx {
				acc += row[i] * val[k]
			}
			out[o] = acc
		}
		if l < last {
			for o, a := range out {
				if a < 0 {
					out[o] = 0
				}
			}
		}
	}
	return s.act[len(s.act)-1][0]
}

// Grad accumulates gradients; it has the network's shape.
type Grad struct{ W, B [][]float64 }

// NewGrad returns zero gradients shaped like m.
func (m *MLP) NewGrad() *Grad {
	g := &Grad{}
	for l := range m.W {
		g.W = append(g.W, make([]float64, len(m.W[l])))
		g.B = append(g.B, make([]float64, len(m.B[l])))
	}
	return g
}

// Zero clears g.
func (g *Grad) Zero() {
	for l := range g.W {
		clear(g.W[l])
		clear(g.B[l])
	}
}

// backward adds dScore/dθ · d to g for the pass held in s.
func (m *MLP) backward(s *Scratch, d float64, g *Grad, delta [][]float64) {
	L := len(m.W)
	for l := range delta {
		clear(delta[l])
	}
	delta[L][0] = d
	for l := L - 1; l >= 0; l-- {
		in := s.act[l]
		n := len(in)
		for o, dz := range delta[l+1] {
			if l < L-1 && s.act[l+1][o] <= 0 {
				continue // ReLU was off
			}
			if dz == 0 {
				continue
			}
			g.B[l][o] += dz
			row := g.W[l][o*n : o*n+n]
			wrow := m.W[l][o*n : o*n+n]
			for i, v := range in {
				row[i] += dz * v
				if l > 0 {
					delta[l][i] += dz * wrow[i]
				}
			}
		}
	}
}

// Choice is one decision's candidates (rows of features) and the teacher's pick.
type Choice struct {
	X      [][]float64
	Target int
	Weight float64 // 0 means 1
	// Regret, if set, is each candidate's cost against the best one (≥ 0, in the task's
	// units): the loss is then the expected regret under the softmax plus
	// Trainer.CEWeight × the cross-entropy to Target (cost-sensitive imitation).
	Regret []float64
}

// DefaultCEWeight is the cross-entropy's share in the loss of choices that carry regrets.
const DefaultCEWeight = 0.1

// Trainer computes softmax cross-entropy gradients over choices.
type Trainer struct {
	// CEWeight is the cross-entropy's share for choices with regrets (DefaultCEWeight).
	CEWeight float64
	m        *MLP
	g        *Grad
	passes   []Scratch
	scores   []float64
	delta    [][]float64
}

// NewTrainer prepares gradient buffers for m.
func NewTrainer(m *MLP) *Trainer {
	t := &Trainer{m: m, g: m.NewGrad(), CEWeight: DefaultCEWeight}
	for _, n := range m.Sizes {
		t.delta = append(t.delta, make([]float64, n))
	}
	return t
}

// Grad is the accumulated gradient.
func (t *Trainer) Grad() *Grad { return t.g }

// Add accumulates one choice's loss gradient and returns its loss and whether the
// network's argmax equals the target.
func (t *Trainer) Add(c Choice) (float64, bool) {
	k := len(c.X)
	for len(t.passes) < k {
		t.passes = append(t.passes, Scratch{})
	}
	t.scores = t.scores[:0]
	mx := math.Inf(-1)
	arg := 0
	for i, x := range c.X {
		s := t.m.Score(x, &t.passes[i])
		t.scores = append(t.scores, s)
		if s > mx {
			mx, arg = s, i
		}
	}
	sum := 0.0
	for _, s := range t.scores {
		sum += math.Exp(s - mx)
	}
	w := c.Weight
	if w == 0 {
		w = 1
	}
	ce := 1.0
	if c.Regret != nil {
		ce = t.CEWeight
	}
	loss := -(t.scores[c.Target] - mx - math.Log(sum)) * w * ce
	expR := 0.0
	if c.Regret != nil {
		for i := range c.X {
			expR += math.Exp(t.scores[i]-mx) / sum * c.Regret[i]
		}
		loss += expR * w
	}
	for i := range c.X {
		p := math.Exp(t.scores[i]-mx) / sum
		d := p * ce
		if i == c.Target {
			d -= ce
		}
		if c.Regret != nil {
			d += p * (c.Regret[i] - expR)
		}
		t.m.backward(&t.passes[i], d*w, t.g, t.delta)
	}
	return loss, arg == c.Target
}

// Adam is the Adam optimiser.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	m, v                  *Grad
	t                     int
}

// NewAdam returns Adam with the usual betas.
func NewAdam(m *MLP, lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, m: m.NewGrad(), v: m.NewGrad()}
}

// Step applies g (scaled by scale, e.g. 1/batch) to net.
func (a *Adam) Step(net *MLP, g *Grad, scale float64) {
	a.t++
	c1 := 1 - math.Pow(a.Beta1, float64(a.t))
	c2 := 1 - math.Pow(a.Beta2, float64(a.t))
	upd := func(p, gr, m, v []float64) {
		for i := range p {
			x := gr[i] * scale
			m[i] = a.Beta1*m[i] + (1-a.Beta1)*x
			v[i] = a.Beta2*v[i] + (1-a.Beta2)*x*x
			p[i] -= a.LR * (m[i] / c1) / (math.Sqrt(v[i]/c2) + a.Eps)
		}
	}
	for l := range net.W {
		upd(net.W[l], g.W[l], a.m.W[l], a.v.W[l])
		upd(net.B[l], g.B[l], a.m.B[l], a.v.B[l])
	}
}

// Marshal encodes the network: "SNN1", the layer count and sizes as uint32, then every
// weight and bias as float64, little-endian.
func (m *MLP) Marshal() []byte {
	out := []byte("SNN1")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(m.Sizes)))
	for _, s := range m.Sizes {
		out = binary.LittleEndian.AppendUint32(out, uint32(s))
	}
	for l := range m.W {
		for _, x := range m.W[l] {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
		}
		for _, x := range m.B[l] {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
		}
	}
	return out
}

// ErrFormat is wrapped by every error of a malformed network or ensemble file.
var ErrFormat = errors.New("nn")

// Unmarshal decodes what Marshal wrote.
func Unmarshal(data []byte) (*MLP, error) {
	r := byteread.LittleEndian(data, ErrFormat)
	if string(r.Take(4)) != "SNN1" {
		return nil, fmt.Errorf("%w: not a strata network (want the SNN1 header)", ErrFormat)
	}
	n := int(r.U32())
	if r.Err() == nil && (n < 2 || n > 16) {
		r.Fail("%d layers: corrupt header", n)
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	sizes := make([]int, n)
	for i := range sizes {
		if s := r.U32(); r.Err() == nil && (s == 0 || s > 4096) {
			r.Fail("layer size %d out of range", s)
		} else {
			sizes[i] = int(s)
		}
	}
	if r.Err() == nil && sizes[n-1] != 1 {
		r.Fail("output size %d, want 1", sizes[n-1])
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	want := 0
	for l := 0; l+1 < n; l++ {
		want += 8 * (sizes[l]*sizes[l+1] + sizes[l+1])
	}
	if r.Left() != want {
		return nil, fmt.Errorf("%w: %d bytes for sizes %v, want %d", ErrFormat, len(data), sizes, r.Pos()+want)
	}
	m := &MLP{Sizes: sizes}
	read := func(k int) []float64 {
		x := make([]float64, k)
		for i := range x {
			if x[i] = r.F64(); math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
				r.Fail("a weight is not finite")
			}
		}
		return x
	}
	for l := 0; l+1 < n; l++ {
		m.W = append(m.W, read(sizes[l]*sizes[l+1]))
		m.B = append(m.B, read(sizes[l+1]))
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	return m, nil
}
