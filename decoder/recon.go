package decoder

import "fmt"

// FrameCoder holds the buffers one goroutine needs to reconstruct frames. The segment
// decoder and the encoder both reconstruct through it, which is what makes the encoder's
// view of every client bit-identical to the client's own.
type FrameCoder struct {
	model     *Model
	dec       map[*Codec]*Decoder
	enc       map[*Codec]*Encoder
	threads   int
	Pred, Out Tensor // the packed prediction and the last decoder output
	Codes     Tensor
	predF     *Frame
	gray      Tensor
}

// NewFrameCoder returns a FrameCoder whose convolutions use up to threads goroutines
// (0: one per CPU).
func NewFrameCoder(m *Model, threads int) *FrameCoder {
	return &FrameCoder{model: m, dec: map[*Codec]*Decoder{}, enc: map[*Codec]*Encoder{}, threads: threads}
}

// Decoder is the coder's decoder for codec c.
func (fc *FrameCoder) Decoder(c *Codec) *Decoder {
	d := fc.dec[c]
	if d == nil {
		d = NewDecoder(c.Dec)
		d.SetThreads(fc.threads)
		fc.dec[c] = d
	}
	return d
}

// Encoder is the coder's encoder for codec c.
func (fc *FrameCoder) Encoder(c *Codec) *Encoder {
	e := fc.enc[c]
	if e == nil {
		e = NewEncoder(c.Enc)
		e.SetThreads(fc.threads)
		fc.enc[c] = e
	}
	return e
}

// Predict sets fc.Pred: mid-grey for an I-frame (ref == nil), else the motion-compensated
// prediction from ref (coded size) with vectors mvs.
func (fc *FrameCoder) Predict(ref *Frame, mvs []MV, w, h int) error {
	if ref == nil {
		if fc.gray.C != 6 || fc.gray.H != h/2 || fc.gray.W != w/2 {
			g := ensure(&fc.gray, 6, h/2, w/2)
			fill(g.Data, 0.5)
		}
		ensure(&fc.Pred, 6, h/2, w/2)
		copy(fc.Pred.Data, fc.gray.Data)
		return nil
	}
	if fc.predF == nil || fc.predF.W != w || fc.predF.H != h {
		fc.predF = NewFrame(w, h)
	}
	if err := Compensate(ref, mvs, fc.predF); err != nil {
		return err
	}
	_, err := Pack(fc.predF, &fc.Pred)
	return err
}

// Reconstruct decodes fc.Codes (k layers) on fc.Pred with codec c and distance class dc
// into fc.Out, and, if out is not nil, its 8-bit form into out (coded size).
func (fc *FrameCoder) Reconstruct(c *Codec, k, dc int, out *Frame) error {
	if err := fc.Decoder(c).Decode(fc.Codes, k, dc, fc.Pred, &fc.Out); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return Unpack(fc.Out, out)
}

// SetCodes fills fc.Codes from layer payloads (the first len(payloads) layers of c).
func (fc *FrameCoder) SetCodes(c *Codec, payloads [][]byte, bw, bh int) error {
	_, err := UnpackCodes(payloads, c.Bits, c.Layers, bw, bh, &fc.Codes)
	return err
}

// codecsFor checks that a segment was coded for model m and returns its I and P codecs.
// CodecsFor returns the I- and P-frame codecs that decode segments with header h, or an
// error when the segment was coded for another model or geometry.
func (m *Model) CodecsFor(h *SegmentHeader) (ci, cp *Codec, err error) { return codecsFor(m, h) }

func codecsFor(m *Model, h *SegmentHeader) (ci, cp *Codec, err error) {
	if fmt.Sprintf("%x", h.Model[:]) != m.SHA256[:16] {
		return nil, nil, fmt.Errorf("segment coded for model %x, this decoder has %s", h.Model[:], m.SHA256[:16])
	}
	if h.BitsI != m.I.Bits || h.BitsP != m.P.Bits || h.LayersI > m.I.Layers || h.Layers > m.P.Layers {
		return nil, nil, fmt.Errorf("segment geometry (%d/%d bits, %d/%d layers) does not fit the model", h.BitsI, h.BitsP, h.LayersI, h.Layers)
	}
	return m.I, m.P, nil
}
