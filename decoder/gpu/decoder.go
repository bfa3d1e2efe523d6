package gpu

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/strata-player/strata/decoder"
)

// Epilogues of the convolution kernels (decode.cu's EPI_*).
const (
	epiNone = iota
	epiRelu
	epiAdd
	epiAddRelu
)

// convW is one convolution's weights on the device.
type convW struct {
	w, b      Buf
	cin, cout int
	k         int
}

// codecW is one codec's decoder network on the device.
type codecW struct {
	c                                                             *decoder.Codec
	inp, rb1a, rb1b, up1, pred1, rb2a, rb2b, up2, rb3a, rb3b, out convW
	embS, embB                                                    Buf
}

// Decoder decodes segments on a Device. Weights are uploaded once (NewDecoder); work
// buffers grow to the largest batch and are reused. Not safe for concurrent use.
type Decoder struct {
	dev   Device
	model *decoder.Model
	nets  map[*decoder.Codec]*codecW

	// work buffers and their sizes (bytes)
	bufs map[string]Buf
	// the frame pool of the last segment, and host frames returned to the caller
	frames []*decoder.Frame

	// Launches counts kernel launches since the decoder was made; Frames the frames decoded.
	Launches, Frames int
}

// NewDecoder uploads model's decoder weights to dev.
func NewDecoder(dev Device, m *decoder.Model) (*Decoder, error) {
	d := &Decoder{dev: dev, model: m, nets: map[*decoder.Codec]*codecW{}, bufs: map[string]Buf{}}
	for _, c := range []*decoder.Codec{m.I, m.P} {
		n := c.Dec
		cw := &codecW{c: c}
		var err error
		up := func(conv *decoder.Conv) convW {
			if err != nil {
				return convW{}
			}
			var w convW
			w.cin, w.cout, w.k = conv.Cin, conv.Cout, conv.K
			if w.w, err = d.upload(floats(conv.Weight)); err != nil {
				return w
			}
			w.b, err = d.upload(floats(conv.Bias))
			return w
		}
		cw.inp, cw.rb1a, cw.rb1b, cw.up1 = up(&n.Inp), up(&n.RB1.A), up(&n.RB1.B), up(&n.Up1)
		cw.pred1, cw.rb2a, cw.rb2b, cw.up2 = up(&n.Pred1), up(&n.RB2.A), up(&n.RB2.B), up(&n.Up2)
		cw.rb3a, cw.rb3b, cw.out = up(&n.RB3.A), up(&n.RB3.B), up(&n.Out)
		if err == nil {
			cw.embS, err = d.upload(floats(n.EmbScale))
		}
		if err == nil {
			cw.embB, err = d.upload(floats(n.EmbBias))
		}
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("gpu: uploading weights: %w", err)
		}
		if cw.rb1a.k != 3 || cw.inp.k != 1 || cw.up1.k != 1 || cw.out.cout != 24 {
			d.Close()
			return nil, fmt.Errorf("gpu: unexpected network shape")
		}
		d.nets[c] = cw
	}
	return d, nil
}

// Device is the device the decoder runs on.
func (d *Decoder) Device() Device { return d.dev }

// Close frees the decoder's device memory (not the device).
func (d *Decoder) Close() {
	for _, cw := range d.nets {
		for _, c := range []convW{cw.inp, cw.rb1a, cw.rb1b, cw.up1, cw.pred1, cw.rb2a, cw.rb2b, cw.up2, cw.rb3a, cw.rb3b, cw.out} {
			if c.w != nil {
				d.dev.Free(c.w)
				d.dev.Free(c.b)
			}
		}
		if cw.embS != nil {
			d.dev.Free(cw.embS)
		}
		if cw.embB != nil {
			d.dev.Free(cw.embB)
		}
	}
	d.nets = map[*decoder.Codec]*codecW{}
	for k, b := range d.bufs {
		d.dev.Free(b)
		delete(d.bufs, k)
	}
}

func floats(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func (d *Decoder) upload(b []byte) (Buf, error) {
	buf, err := d.dev.Alloc(max(len(b), 4))
	if err != nil {
		return nil, err
	}
	return buf, d.dev.Upload(buf, 0, b)
}

// buf returns the work buffer called name with at least n bytes (grown as needed).
func (d *Decoder) buf(name string, n int) (Buf, error) {
	if b := d.bufs[name]; b != nil && b.Size() >= n {
		return b, nil
	} else if b != nil {
		d.dev.Free(b)
		delete(d.bufs, name)
	}
	b, err := d.dev.Alloc(n)
	if err != nil {
		return nil, err
	}
	d.bufs[name] = b
	return b, nil
}

func (d *Decoder) launch(k Kernel, g, b Dim3, args ...Arg) error {
	d.Launches++
	if err := d.dev.Launch(k, g, b, args...); err != nil {
		return fmt.Errorf("gpu: %s: %w", k.Name(), err)
	}
	return nil
}

// Decode reconstructs segment s with k layers, batch by batch (each LFR depth, split by
// codec, is one set of launches over all its frames). The frames (coded size) are valid
// until the next call.
func (d *Decoder) Decode(s *decoder.Segment, k int) ([]*decoder.Frame, error) {
	if k < 1 || k > s.Have {
		return nil, fmt.Errorf("decode with %d layers: the segment holds %d", k, s.Have)
	}
	ci, cp, err := d.model.CodecsFor(&s.SegmentHeader)
	if err != nil {
		return nil, err
	}
	w, h := s.CodedSize()
	bw, bh := s.Blocks()
	nb := bw * bh
	frameBytes := w * h * 3 / 2
	pool, err := d.buf("pool", s.Frames*frameBytes)
	if err != nil {
		return nil, err
	}
	sc := s.Schedule()
	pos := make([]int, s.Frames)
	for i, f := range sc.DecodeOrder() {
		pos[f] = i
	}
	for _, batch := range sc.Batches {
		var groups [2][]int // I-frames, P-frames
		for _, f := range batch {
			if sc.Frames[f].Ref < 0 {
				groups[0] = append(groups[0], f)
			} else {
				groups[1] = append(groups[1], f)
			}
		}
		for g, frames := range groups {
			if len(frames) == 0 {
				continue
			}
			c, kk := cp, k
			if g == 0 {
				c, kk = ci, min(k, s.LayersI)
			}
			if err := d.group(s, sc, pos, frames, c, kk, pool, w, h, bw, bh, nb, frameBytes); err != nil {
				return nil, err
			}
		}
	}
	if err := d.dev.Sync(); err != nil {
		return nil, err
	}
	for len(d.frames) < s.Frames {
		d.frames = append(d.frames, nil)
	}
	for f := 0; f < s.Frames; f++ {
		fr := d.frames[f]
		if fr == nil || fr.W != w || fr.H != h {
			fr = decoder.NewFrame(w, h)
			d.frames[f] = fr
		}
		off := f * frameBytes
		for _, plane := range [][]byte{fr.Y, fr.U, fr.V} { // the pool holds Y, U, V in turn
			if err := d.dev.Download(plane, pool, off); err != nil {
				return nil, err
			}
			off += len(plane)
		}
	}
	d.Frames += s.Frames
	return d.frames[:s.Frames], nil
}

// group runs the decoder network over frames (one codec, kk layers) of one batch.
func (d *Decoder) group(s *decoder.Segment, sc *decoder.Schedule, pos, frames []int, c *decoder.Codec, kk int,
	pool Buf, w, h, bw, bh, nb, frameBytes int) error {
	n := len(frames)
	cw := d.nets[c]
	pb := decoder.PayloadBytes(c.Bits, bw, bh)
	// Per-frame inputs: payloads, embedding offsets, reference and destination indices, vectors.
	payloads := make([]byte, 0, n*kk*pb)
	meta := make([]byte, 3*8*n) // embOff, refIdx, dstIdx
	mvs := make([]byte, n*nb*2*4)
	for i, f := range frames {
		fr := sc.Frames[f]
		for l := 0; l < kk; l++ {
			payloads = append(payloads, s.Codes[l][pos[f]]...)
		}
		if len(payloads) != (i+1)*kk*pb {
			return fmt.Errorf("gpu: frame %d payloads of %d bytes, want %d per layer", f, len(payloads), pb)
		}
		binary.LittleEndian.PutUint64(meta[8*i:], uint64(((kk-1)*decoder.DClasses+fr.Class)*64))
		binary.LittleEndian.PutUint64(meta[8*(n+i):], uint64(int64(fr.Ref)))
		binary.LittleEndian.PutUint64(meta[8*(2*n+i):], uint64(f))
		if fr.Ref >= 0 {
			if len(s.MVs[f]) != nb {
				return fmt.Errorf("gpu: frame %d has %d vectors for %d blocks", f, len(s.MVs[f]), nb)
			}
			for b, v := range s.MVs[f] {
				o := ((i*nb + b) * 2) * 4
				binary.LittleEndian.PutUint32(mvs[o:], uint32(int32(v.Y)))
				binary.LittleEndian.PutUint32(mvs[o+4:], uint32(int32(v.X)))
			}
		}
	}
	const f4 = 4
	hw2, hw4, hw8 := (h/2)*(w/2), (h/4)*(w/4), (h/8)*(w/8)
	type want struct {
		name  string
		bytes int
	}
	sizes := []want{{"payloads", len(payloads)}, {"meta", len(meta)}, {"mvs", len(mvs)},
		{"f1", n * 64 * nb * f4}, {"t1", n * 64 * nb * f4}, {"u1", n * 128 * nb * f4}, {"f2", n * 32 * hw8 * f4},
		{"p4", n * 96 * hw8 * f4}, {"t2", n * 32 * hw8 * f4}, {"u2", n * 64 * hw8 * f4}, {"cat", n * 40 * hw4 * f4},
		{"t3", n * 16 * hw4 * f4}, {"o", n * 24 * hw4 * f4}, {"pred", n * 6 * hw2 * f4}}
	b := map[string]Buf{}
	for _, sz := range sizes {
		buf, err := d.buf(sz.name, max(sz.bytes, 8))
		if err != nil {
			return err
		}
		b[sz.name] = buf
	}
	for _, up := range []struct {
		name string
		data []byte
	}{{"payloads", payloads}, {"meta", meta}, {"mvs", mvs}} {
		if err := d.dev.Upload(b[up.name], 0, up.data); err != nil {
			return err
		}
	}
	meta0 := b["meta"]
	// code unpack + first layer + level embedding
	g, blk := grid2(nb, cw.inp.cout, n, 32, 4)
	if err := d.launch(InpCodes, g, blk, P(b["payloads"], 0), P(cw.inp.w, 0), P(cw.inp.b, 0), P(cw.embS, 0), P(cw.embB, 0),
		P(meta0, 0), P(b["f1"], 0), I(c.Bits), I(c.Layers), I(kk), I(nb), I(pb), I(cw.inp.cout)); err != nil {
		return err
	}
	// motion-compensated (or flat) prediction
	g, blk = grid2(w/2, h/2, n, 16, 8)
	if err := d.launch(Predict, g, blk, P(pool, 0), I(frameBytes), P(meta0, 8*n), P(b["mvs"], 0), P(b["pred"], 0), I(w), I(h)); err != nil {
		return err
	}
	conv := func(cv convW, in, out Buf, hh, ww, inStride, outStride, mode int) error {
		if cv.k == 3 {
			g, blk := grid2(ww, hh, n*cv.cout, 16, 8)
			return d.launch(Conv3x3, g, blk, P(in, 0), P(cv.w, 0), P(cv.b, 0), P(out, 0), I(cv.cin), I(cv.cout), I(hh), I(ww),
				I(inStride), I(outStride), I(mode))
		}
		g, blk := grid2(hh*ww, 1, n*cv.cout, 128, 1)
		return d.launch(Conv1x1, g, blk, P(in, 0), P(cv.w, 0), P(cv.b, 0), P(out, 0), I(cv.cin), I(cv.cout), I(hh*ww),
			I(inStride), I(outStride), I(mode))
	}
	shuffle := func(in, out Buf, cout, hh, ww, inStride, outStride, relu int) error {
		g, blk := grid2(2*ww, 2*hh, n*cout, 16, 8)
		return d.launch(Shuffle, g, blk, P(in, 0), P(out, 0), I(cout), I(hh), I(ww), I(2), I(inStride), I(outStride), I(relu))
	}
	unshuffle := func(r, hh, ww, outStride, c0 int, out Buf) error {
		g, blk := grid2(ww, hh, n*6, 16, 8)
		return d.launch(Unshuffle, g, blk, P(b["pred"], 0), P(out, 0), I(6), I(hh), I(ww), I(r), I(6*hw2), I(outStride), I(c0))
	}
	steps := []func() error{
		func() error { return conv(cw.rb1a, b["f1"], b["t1"], bh, bw, 64*nb, 64*nb, epiRelu) },
		func() error { return conv(cw.rb1b, b["t1"], b["f1"], bh, bw, 64*nb, 64*nb, epiAdd) },
		func() error { return conv(cw.up1, b["f1"], b["u1"], bh, bw, 64*nb, 128*nb, epiNone) },
		func() error { return shuffle(b["u1"], b["f2"], 32, bh, bw, 128*nb, 32*hw8, 0) },
		func() error { return unshuffle(4, h/8, w/8, 96*hw8, 0, b["p4"]) },
		func() error { return conv(cw.pred1, b["p4"], b["f2"], h/8, w/8, 96*hw8, 32*hw8, epiAddRelu) },
		func() error { return conv(cw.rb2a, b["f2"], b["t2"], h/8, w/8, 32*hw8, 32*hw8, epiRelu) },
		func() error { return conv(cw.rb2b, b["t2"], b["f2"], h/8, w/8, 32*hw8, 32*hw8, epiAdd) },
		func() error { return conv(cw.up2, b["f2"], b["u2"], h/8, w/8, 32*hw8, 64*hw8, epiNone) },
		func() error { return shuffle(b["u2"], b["cat"], 16, h/8, w/8, 64*hw8, 40*hw4, 1) },
		func() error { return unshuffle(2, h/4, w/4, 40*hw4, 16, b["cat"]) },
		func() error { return conv(cw.rb3a, b["cat"], b["t3"], h/4, w/4, 40*hw4, 16*hw4, epiRelu) },
		func() error { return conv(cw.rb3b, b["t3"], b["cat"], h/4, w/4, 16*hw4, 40*hw4, epiAdd) },
		func() error { return conv(cw.out, b["cat"], b["o"], h/4, w/4, 40*hw4, 24*hw4, epiNone) },
		func() error {
			g, blk := grid2(w/2, h/2, n, 16, 8)
			return d.launch(Reconstruct, g, blk, P(b["o"], 0), P(b["pred"], 0), P(pool, 0), I(frameBytes), P(meta0, 16*n), I(w), I(h))
		},
	}
	for _, st := range steps {
		if err := st(); err != nil {
			return err
		}
	}
	return nil
}
