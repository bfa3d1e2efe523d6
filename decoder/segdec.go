package decoder

import (
	"fmt"
	"runtime"
)

// FrameCoder decodes one frame at a time with its own buffers (one goroutine at a time).
type FrameCoder struct {
	m          *Model
	inet, pnet *Net
	grid       *Grid
	pred       Frame
	predP, out Planes
}

// NewFrameCoder returns a coder for model m whose convolutions use threads goroutines.
func NewFrameCoder(m *Model, threads int) *FrameCoder {
	return &FrameCoder{m: m, inet: NewNet(m.I, threads), pnet: NewNet(m.P, threads)}
}

// Grid returns the coder's coefficient grid for a w×h coded frame. Its layers hold the
// previous frame's integers: DecodeLayer overwrites every integer and flag of the layers it
// decodes, and decoding with k layers reads no other.
func (fc *FrameCoder) Grid(w, h int) *Grid {
	if fc.grid == nil || fc.grid.W != w/8 || fc.grid.H != h/8 {
		fc.grid = NewGrid(h/8, w/8)
	}
	return fc.grid
}

// Motion is a predicted frame's references and motion: fut, bwd and modes only for
// bi-predicted frames (docs/MOTION.md).
type Motion struct {
	Ref, Fut *Frame
	MVs, Bwd []MV
	Modes    []uint8
}

// Predict writes the motion-compensated prediction into out.
func (m *Motion) Predict(out *Frame) error {
	return OBMCBi(m.Ref, m.Fut, m.MVs, m.Bwd, m.Modes, out)
}

// Reconstruct decodes grid g with k layers into out: intra (mo == nil) or predicted with
// motion mo and distance class d.
func (fc *FrameCoder) Reconstruct(g *Grid, k, d int, mo *Motion, out *Frame) error {
	if mo == nil {
		if err := fc.inet.Decode(g, k, 0, nil, &fc.out); err != nil {
			return err
		}
	} else {
		if err := mo.Predict(&fc.pred); err != nil {
			return err
		}
		if err := PlanesOf(&fc.pred, &fc.predP); err != nil {
			return err
		}
		if err := fc.pnet.Decode(g, k, d, &fc.predP, &fc.out); err != nil {
			return err
		}
	}
	fc.out.Frame(out)
	return nil
}

// SegmentDecoder decodes segments batch by batch (docs/BITSTREAM.md): frames of one batch
// decode in parallel, one goroutine each; a batch of one frame uses every worker inside its
// convolutions instead. It owns its buffers; not safe for concurrent use.
type SegmentDecoder struct {
	model   *Model
	workers int
	coders  []*FrameCoder // coders[0] for single-frame batches, the rest one per worker
	recon   []*Frame
	kept    []*Frame // DecodeRate's frames at a reduced rate
}

// NewSegmentDecoder returns a decoder for model m using up to workers goroutines (0: one per
// CPU).
func NewSegmentDecoder(m *Model, workers int) *SegmentDecoder {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	d := &SegmentDecoder{model: m, workers: workers}
	d.coders = append(d.coders, NewFrameCoder(m, workers))
	for i := 0; i < workers; i++ {
		d.coders = append(d.coders, NewFrameCoder(m, 1))
	}
	return d
}

// Decode reconstructs every frame of s with its first k layers (k ≤ s.Have), in display
// order at the coded size; the frames are owned by the decoder and overwritten by the next
// call (crop with Crop to show).
func (d *SegmentDecoder) Decode(s *Segment, k int) ([]*Frame, error) { return d.DecodeRate(s, k, 0) }

// DecodeRate is Decode without the drop deepest levels of the LFR tree: it returns every
// Schedule.Step(drop)-th frame in display order (½ the frame rate for drop 1, ¼ for 2),
// each byte-identical to the same frame of a full decode.
func (d *SegmentDecoder) DecodeRate(s *Segment, k, drop int) ([]*Frame, error) {
	if k < 1 || k > s.Have {
		return nil, fmt.Errorf("decode with %d layers: the segment holds %d", k, s.Have)
	}
	if got := d.model.SHA256; len(got) >= 16 && fmt.Sprintf("%x", s.Model) != got[:16] {
		return nil, fmt.Errorf("%w: segment coded for model %x, this decoder has %s", ErrBitstream, s.Model, got[:16])
	}
	w, h := s.CodedSize()
	for len(d.recon) < s.Frames {
		d.recon = append(d.recon, nil)
	}
	for i := 0; i < s.Frames; i++ {
		if d.recon[i] == nil || d.recon[i].W != w || d.recon[i].H != h {
			d.recon[i] = NewFrame(w, h)
		}
	}
	sc := s.Schedule()
	pos := make([]int, s.Frames)
	for i, f := range sc.DecodeOrder() {
		pos[f] = i
	}
	one := func(fc *FrameCoder, f int) error {
		g := fc.Grid(w, h)
		c := d.model.P
		if s.Intra[f] {
			c = d.model.I
		}
		for l := 0; l < k; l++ {
			if err := d.model.DecodeLayer(c, g, l, s.Payloads[l][pos[f]]); err != nil {
				return fmt.Errorf("frame %d: %w", f, err)
			}
		}
		if err := fc.Reconstruct(g, k, sc.Frames[f].Class, s.Motion(f, k, d.recon), d.recon[f]); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		return nil
	}
	step := sc.Step(drop)
	for b := range sc.Batches {
		if err := RunBatch(d.workers, sc.Kept(b, step), func(w, f int) error { return one(d.coders[1+w], f) }); err != nil {
			return nil, err
		}
	}
	if step == 1 {
		return d.recon[:s.Frames], nil
	}
	d.kept = d.kept[:0]
	for f := 0; f < s.Frames; f += step {
		d.kept = append(d.kept, d.recon[f])
	}
	return d.kept, nil
}

// Net returns the coder's network for intra (false) or predicted (true) frames.
func (fc *FrameCoder) Net(inter bool) *Net {
	if inter {
		return fc.pnet
	}
	return fc.inet
}

// Motion is frame f's motion, as a client holding k layers uses it (MotionFields), over the
// reconstructed frames recon (by frame index): nil for an intra frame.
func (s *Segment) Motion(f, k int, recon []*Frame) *Motion {
	if s.Intra[f] {
		return nil
	}
	fr := s.Schedule().Frames[f]
	m := &Motion{Ref: recon[fr.Ref]}
	m.MVs, m.Bwd, m.Modes = s.MotionFields(f, k)
	if s.BiPredicted(f) {
		m.Fut = recon[fr.Future]
	}
	return m
}
