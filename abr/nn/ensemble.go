package nn

import (
	"encoding/binary"
	"fmt"

	"github.com/strata-player/strata/internal/byteread"
)

// Scorer maps one candidate's features to a score: an MLP, or an Ensemble of them.
type Scorer interface {
	Score(x []float64, s *Scratch) float64
	Inputs() int
	Params() int
	Marshal() []byte
}

// Ensemble scores with the mean of its members' scores (networks of one input size,
// trained on the same data from different seeds: their mean errs less than each one).
type Ensemble []*MLP

// MaxMembers bounds an ensemble's size.
const MaxMembers = 16

// Score is the members' mean score.
func (e Ensemble) Score(x []float64, s *Scratch) float64 {
	sum := 0.0
	for _, m := range e {
		sum += m.Score(x, s)
	}
	return sum / float64(len(e))
}

// Inputs is the feature count.
func (e Ensemble) Inputs() int { return e[0].Inputs() }

// Params is the members' weights and biases together.
func (e Ensemble) Params() int {
	n := 0
	for _, m := range e {
		n += m.Params()
	}
	return n
}

// Marshal encodes the ensemble: "SNE1", the member count as uint32, then each member as its
// byte length (uint32) and its Marshal encoding, little-endian.
func (e Ensemble) Marshal() []byte {
	out := []byte("SNE1")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(e)))
	for _, m := range e {
		b := m.Marshal()
		out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

// UnmarshalScorer decodes a network (SNN1) or an ensemble (SNE1).
func UnmarshalScorer(data []byte) (Scorer, error) {
	if len(data) >= 4 && string(data[:4]) == "SNN1" {
		return Unmarshal(data)
	}
	r := byteread.LittleEndian(data, ErrFormat)
	if string(r.Take(4)) != "SNE1" {
		return nil, fmt.Errorf("%w: not a strata network or ensemble (want the SNN1 or SNE1 header)", ErrFormat)
	}
	n := int(r.U32())
	if r.Err() == nil && (n < 1 || n > MaxMembers) {
		r.Fail("ensemble of %d members, want 1..%d", n, MaxMembers)
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	e := make(Ensemble, 0, n)
	for i := 0; i < n; i++ {
		k := int(r.U32())
		if r.Err() == nil && k > r.Left() {
			r.Fail("ensemble member %d: %d bytes, %d left", i, k, r.Left())
		}
		b := r.Take(k)
		if r.Err() != nil {
			return nil, r.Err()
		}
		m, err := Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("ensemble member %d: %w", i, err)
		}
		if len(e) > 0 && m.Inputs() != e[0].Inputs() {
			return nil, fmt.Errorf("%w: ensemble member %d has %d inputs, member 0 %d", ErrFormat, i, m.Inputs(), e[0].Inputs())
		}
		e = append(e, m)
	}
	r.End("ensemble's last member")
	if r.Err() != nil {
		return nil, r.Err()
	}
	return e, nil
}
