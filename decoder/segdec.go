package decoder

import (
	"fmt"
	"runtime"
)

// SegmentDecoder decodes segments with LFR depth batches: frames of one batch decode in
// parallel, one goroutine each; a batch of one frame (the I-frame, an anchor) uses every
// worker inside its convolutions instead. It owns its buffers; not safe for concurrent use.
type SegmentDecoder struct {
	model   *Model
	workers int
	coders  []*FrameCoder // coders[0] for single-frame batches, the rest one per worker
	recon   []*Frame
}

// NewSegmentDecoder returns a decoder for segments coded with model m, using up to workers
// goroutines (0: one per CPU).
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

// Decode reconstructs every frame of s with its first k layers (k ≤ s.Have). The
// returned frames are in display order at the coded size (multiples of 16); they are
// owned by the decoder and overwritten by the next call. Crop to s.Width×s.Height to show.
func (d *SegmentDecoder) Decode(s *Segment, k int) ([]*Frame, error) {
	if k < 1 || k > s.Have {
		return nil, fmt.Errorf("decode with %d layers: the segment holds %d", k, s.Have)
	}
	ci, cp, err := codecsFor(d.model, &s.SegmentHeader)
	if err != nil {
		return nil, err
	}
	w, h := s.CodedSize()
	bw, bh := s.Blocks()
	for len(d.recon) < s.Frames {
		d.recon = append(d.recon, nil)
	}
	for i := 0; i < s.Frames; i++ {
		if d.recon[i] == nil || d.recon[i].W != w || d.recon[i].H != h {
			d.recon[i] = NewFrame(w, h)
		}
	}
	sc := s.Schedule()
	pos := make([]int, s.Frames) // decode-order position of each frame
	for i, f := range sc.DecodeOrder() {
		pos[f] = i
	}
	one := func(fc *FrameCoder, f int) error {
		fr := sc.Frames[f]
		c, kk := cp, k
		var ref *Frame
		if fr.Ref < 0 {
			c, kk = ci, min(k, s.LayersI)
		} else {
			ref = d.recon[fr.Ref]
		}
		payloads := make([][]byte, kk)
		for l := range payloads {
			payloads[l] = s.Codes[l][pos[f]]
		}
		if err := fc.SetCodes(c, payloads, bw, bh); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		if err := fc.Predict(ref, s.MVs[f], w, h); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		if err := fc.Reconstruct(c, kk, fr.Class, d.recon[f]); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		return nil
	}
	for _, batch := range sc.Batches {
		if err := RunBatch(d.workers, batch, func(w, f int) error { return one(d.coders[1+w], f) }); err != nil {
			return nil, err
		}
	}
	return d.recon[:s.Frames], nil
}

// Crop copies the display area w×h of a coded frame into dst (allocated if nil).
func Crop(src *Frame, w, h int, dst *Frame) *Frame {
	if dst == nil || dst.W != w || dst.H != h {
		dst = NewFrame(w, h)
	}
	for y := 0; y < h; y++ {
		copy(dst.Y[y*w:(y+1)*w], src.Y[y*src.W:])
	}
	for y := 0; y < h/2; y++ {
		copy(dst.U[y*w/2:(y+1)*w/2], src.U[y*src.W/2:])
		copy(dst.V[y*w/2:(y+1)*w/2], src.V[y*src.W/2:])
	}
	return dst
}
