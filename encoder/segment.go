package encoder

import (
	"encoding/hex"
	"fmt"
	"runtime"

	"github.com/strata-player/strata/decoder"
)

// SegmentEncoder codes segments with the multi-loop layered scheme of docs/BITSTREAM.md:
// layer l of every frame is computed on the chain of clients that hold exactly l+1
// layers, and every chain's reconstruction is kept, so the encoder knows bit for bit what
// each client sees.
type SegmentEncoder struct {
	Model   *decoder.Model
	S       int // sub-GOP size
	Layers  int // K, at most the P codec's layers
	Workers int // goroutines (0: one per CPU)
	// OwnChains computes layer l on the chain of clients holding l+1 layers; by default all
	// layers are computed on the top chain (clients holding every layer), and lower chains
	// only reconstruct. Either way every chain is reconstructed exactly (drift-free).
	OwnChains bool
	// IntraAnchors codes every sub-GOP anchor as an I-frame instead of predicting it from
	// the previous anchor (docs/BITSTREAM.md).
	IntraAnchors bool
}

// Encoded is one coded segment with every chain's reconstruction.
type Encoded struct {
	Segment *decoder.Segment
	// Recon[k-1][f] is frame f as a client with k layers reconstructs it (coded size).
	Recon [][]*decoder.Frame
}

// Encode codes frames (all of one size, even sides) as segment index seg.
func (e *SegmentEncoder) Encode(frames []*decoder.Frame, seg uint32) (*Encoded, error) {
	m := e.Model
	if len(frames) == 0 {
		return nil, fmt.Errorf("encode: no frames")
	}
	K := e.Layers
	if K < 1 || K > m.P.Layers {
		return nil, fmt.Errorf("encode: %d layers, the model has 1..%d", K, m.P.Layers)
	}
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dispW, dispH := frames[0].W, frames[0].H
	padded := make([]*decoder.Frame, len(frames))
	for i, f := range frames {
		if f.W != dispW || f.H != dispH {
			return nil, fmt.Errorf("encode: frame %d is %dx%d, frame 0 %dx%d", i, f.W, f.H, dispW, dispH)
		}
		p, err := decoder.PadTo16(f)
		if err != nil {
			return nil, fmt.Errorf("encode: frame %d: %w", i, err)
		}
		padded[i] = p
	}
	sc, err := decoder.NewScheduleAnchors(len(frames), e.S, e.IntraAnchors)
	if err != nil {
		return nil, err
	}
	w, h := padded[0].W, padded[0].H
	model, err := hex.DecodeString(m.SHA256[:16])
	if err != nil {
		return nil, err
	}
	s := &decoder.Segment{SegmentHeader: decoder.SegmentHeader{
		Width: dispW, Height: dispH, Frames: len(frames), S: e.S, Layers: K,
		LayersI: min(m.I.Layers, K), BitsI: m.I.Bits, BitsP: m.P.Bits, Segment: seg, IntraAnchors: e.IntraAnchors,
	}, Have: K}
	copy(s.Model[:], model)
	s.MVs, _, err = searchAll(padded, sc, workers)
	if err != nil {
		return nil, err
	}
	order := sc.DecodeOrder()
	pos := make([]int, len(frames))
	for i, f := range order {
		pos[f] = i
	}
	s.Codes = make([][][]byte, K)
	for l := range s.Codes {
		s.Codes[l] = make([][]byte, len(frames))
	}
	out := &Encoded{Segment: s, Recon: make([][]*decoder.Frame, K)}
	for k := range out.Recon {
		out.Recon[k] = make([]*decoder.Frame, len(frames))
		for f := range out.Recon[k] {
			out.Recon[k][f] = decoder.NewFrame(w, h)
		}
	}
	coders := make([]*decoder.FrameCoder, workers)
	for i := range coders {
		coders[i] = decoder.NewFrameCoder(m, 1)
	}
	single := decoder.NewFrameCoder(m, workers)
	for _, batch := range sc.Batches {
		err := decoder.RunBatch(workers, batch, func(w, f int) error {
			fc := single
			if w >= 0 {
				fc = coders[w]
			}
			return e.codeFrame(fc, s, out, padded[f], sc.Frames[f], pos[f])
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// codeFrame computes every layer of frame fr (decode-order position i) and every chain's
// reconstruction of it.
func (e *SegmentEncoder) codeFrame(fc *decoder.FrameCoder, s *decoder.Segment, out *Encoded, orig *decoder.Frame, fr decoder.FrameRef, i int) error {
	m := e.Model
	w, h := orig.W, orig.H
	bw, bh := w/16, h/16
	var x decoder.Tensor
	if _, err := decoder.Pack(orig, &x); err != nil {
		return err
	}
	c, layers := m.P, s.Layers
	if fr.Ref < 0 {
		c, layers = m.I, s.LayersI
	}
	enc := fc.Encoder(c)
	resid := decoder.NewTensor(6, x.H, x.W)
	var logits decoder.Tensor
	var payloads [][]byte
	if !e.OwnChains || fr.Ref < 0 {
		return e.codeOnTop(fc, s, out, x, fr, i, c, layers)
	}
	for l := 0; l < layers; l++ {
		// Chain l+1: its own prediction, then layers 0..l-1 decoded on it.
		var ref *decoder.Frame
		if fr.Ref >= 0 {
			ref = out.Recon[l][fr.Ref]
		}
		if err := fc.Predict(ref, s.MVs[fr.Index], w, h); err != nil {
			return err
		}
		xhat := fc.Pred
		if l > 0 {
			if err := fc.SetCodes(c, payloads, bw, bh); err != nil {
				return err
			}
			if err := fc.Reconstruct(c, l, fr.Class, nil); err != nil {
				return err
			}
			xhat = fc.Out
		}
		p, err := codeLayer(fc, enc, c, x, xhat, &resid, &logits, l, fr.Class, payloads, bw, bh, out.Recon[l][fr.Index])
		if err != nil {
			return err
		}
		payloads = append(payloads, p)
		s.Codes[l][i] = p
	}
	return nil
}

// codeLayer codes layer l of x against the current reconstruction xhat on prediction
// fc.Pred, given the layers already fixed, and reconstructs layers 0..l into fc.Out (and
// into dst, 8-bit, when dst is not nil). It returns layer l's payload.
func codeLayer(fc *decoder.FrameCoder, enc *decoder.Encoder, c *decoder.Codec, x, xhat decoder.Tensor, resid, logits *decoder.Tensor,
	l, class int, fixed [][]byte, bw, bh int, dst *decoder.Frame) ([]byte, error) {
	for j := range resid.Data {
		resid.Data[j] = x.Data[j] - xhat.Data[j]
	}
	if err := enc.Logits(*resid, fc.Pred, l, class, logits); err != nil {
		return nil, err
	}
	p := decoder.PackCodes(nil, *logits, 0, nil)
	if err := fc.SetCodes(c, append(fixed[:len(fixed):len(fixed)], p), bw, bh); err != nil {
		return nil, err
	}
	return p, fc.Reconstruct(c, l+1, class, dst)
}

// shareIntra gives chains beyond an I-frame's layer count its best reconstruction.
func shareIntra(out *Encoded, f, layers, total int) {
	r := out.Recon[layers-1][f]
	for k := layers; k < total; k++ {
		dst := out.Recon[k][f]
		copy(dst.Y, r.Y)
		copy(dst.U, r.U)
		copy(dst.V, r.V)
	}
}

// codeOnTop computes every layer of a frame on the top chain (a self-consistent single
// loop on the prediction of the clients that hold all layers), then reconstructs every
// lower chain from its own prediction with the first k layers.
func (e *SegmentEncoder) codeOnTop(fc *decoder.FrameCoder, s *decoder.Segment, out *Encoded, x decoder.Tensor, fr decoder.FrameRef, i int, c *decoder.Codec, layers int) error {
	w, h := x.W*2, x.H*2
	bw, bh := w/16, h/16
	enc := fc.Encoder(c)
	resid := decoder.NewTensor(6, x.H, x.W)
	var logits decoder.Tensor
	var payloads [][]byte
	top := s.Layers - 1
	var ref *decoder.Frame
	if fr.Ref >= 0 {
		ref = out.Recon[top][fr.Ref]
	}
	if err := fc.Predict(ref, s.MVs[fr.Index], w, h); err != nil {
		return err
	}
	xhat := fc.Pred
	for l := 0; l < layers; l++ {
		var dst *decoder.Frame
		if fr.Ref < 0 || l == top {
			dst = out.Recon[l][fr.Index]
		}
		p, err := codeLayer(fc, enc, c, x, xhat, &resid, &logits, l, fr.Class, payloads, bw, bh, dst)
		if err != nil {
			return err
		}
		payloads = append(payloads, p)
		s.Codes[l][i] = p
		xhat = fc.Out
	}
	if fr.Ref < 0 {
		shareIntra(out, fr.Index, layers, s.Layers)
		return nil
	}
	for k := 1; k < s.Layers; k++ {
		if err := fc.Predict(out.Recon[k-1][fr.Ref], s.MVs[fr.Index], w, h); err != nil {
			return err
		}
		if err := fc.SetCodes(c, payloads[:k], bw, bh); err != nil {
			return err
		}
		if err := fc.Reconstruct(c, k, fr.Class, out.Recon[k-1][fr.Index]); err != nil {
			return err
		}
	}
	return nil
}
