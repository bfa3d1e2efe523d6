package gpu

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/tensor"
)

// Epilogues of the convolution kernel (decode.cu's EPI_*).
const (
	epiNone = iota
	epiRelu
	epiAdd
)

// convW is one convolution's weights on the device.
type convW struct {
	w, b      Buf
	cin, cout int
}

// codecW is one codec's decoder network on the device.
type codecW struct {
	c                        *decoder.Codec
	syn, restA, restB, restC convW
	embS, embB, steps        Buf
}

// Decoder decodes the codec'segments on a Device: entropy decoding on the CPU (the integers
// are uploaded), everything from dequantization to the 8-bit frame on the device. Weights are
// uploaded once (NewDecoder); work buffers grow to the largest batch and are reused. Not safe
// for concurrent use.
type Decoder struct {
	dev   Device
	model *decoder.Model
	nets  map[*decoder.Codec]*codecW
	grid  *decoder.Grid

	// work buffers and their sizes (bytes)
	bufs map[string]Buf
	// host frames returned to the caller
	frames []*decoder.Frame

	// Launches counts kernel launches since the decoder was made; Frames the frames decoded.
	Launches, Frames int
}

// NewDecoder uploads model's decoder weights to dev.
func NewDecoder(dev Device, m *decoder.Model) (*Decoder, error) {
	d := &Decoder{dev: dev, model: m, nets: map[*decoder.Codec]*codecW{}, bufs: map[string]Buf{}}
	for _, c := range []*decoder.Codec{m.I, m.P} {
		cw := &codecW{c: c}
		var err error
		up := func(conv *tensor.Conv) convW {
			if err != nil {
				return convW{}
			}
			w := convW{cin: conv.Cin, cout: conv.Cout}
			if conv.K != 3 || conv.Stride != 1 {
				err = fmt.Errorf("gpu: only 3×3 stride-1 convolutions, got k%d s%d", conv.K, conv.Stride)
				return w
			}
			if w.w, err = d.upload(floats(conv.Weight)); err != nil {
				return w
			}
			w.b, err = d.upload(floats(conv.Bias))
			return w
		}
		cw.syn, cw.restA, cw.restB, cw.restC = up(&c.Syn), up(&c.RestA), up(&c.RestB), up(&c.RestC)
		for _, v := range []struct {
			dst *Buf
			src []float32
		}{{&cw.embS, c.EmbScale}, {&cw.embB, c.EmbBias}, {&cw.steps, c.Steps}} {
			if err == nil {
				*v.dst, err = d.upload(floats(v.src))
			}
		}
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("gpu: uploading weights: %w", err)
		}
		if cw.syn.cin != decoder.Channels || cw.restC.cout != 24 {
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
		for _, c := range []convW{cw.syn, cw.restA, cw.restB, cw.restC} {
			if c.w != nil {
				d.dev.Free(c.w)
				d.dev.Free(c.b)
			}
		}
		for _, b := range []Buf{cw.embS, cw.embB, cw.steps} {
			if b != nil {
				d.dev.Free(b)
			}
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

// Decode reconstructs segment s with k layers, batch by batch (each LFR depth, split into
// intra and predicted frames, is one set of launches over all its frames). The frames (coded
// size) are valid until the next call.
func (d *Decoder) Decode(s *decoder.Segment, k int) ([]*decoder.Frame, error) {
	return d.DecodeRate(s, k, 0)
}

// DecodeRate is Decode without the drop deepest levels of the LFR tree: every
// Schedule.Step(drop)-th frame in display order, as decoder.SegmentDecoder.DecodeRate.
func (d *Decoder) DecodeRate(s *decoder.Segment, k, drop int) ([]*decoder.Frame, error) {
	if k < 1 || k > s.Have {
		return nil, fmt.Errorf("decode with %d layers: the segment holds %d", k, s.Have)
	}
	if got := d.model.SHA256; len(got) >= 16 && fmt.Sprintf("%x", s.Model) != got[:16] {
		return nil, fmt.Errorf("%w: segment coded for model %x, this decoder has %s", decoder.ErrBitstream, s.Model, got[:16])
	}
	w, h := s.CodedSize()
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
	step := sc.Step(drop)
	for b := range sc.Batches {
		var groups [2][]int // intra, predicted
		for _, f := range sc.Kept(b, step) {
			if s.Intra[f] {
				groups[0] = append(groups[0], f)
			} else {
				groups[1] = append(groups[1], f)
			}
		}
		for g, frames := range groups {
			if len(frames) == 0 {
				continue
			}
			c := d.model.P
			if g == 0 {
				c = d.model.I
			}
			if err := d.group(s, sc, pos, frames, c, k, pool, w, h, frameBytes); err != nil {
				return nil, err
			}
		}
	}
	if err := d.dev.Sync(); err != nil {
		return nil, err
	}
	kept := (s.Frames + step - 1) / step
	for len(d.frames) < kept {
		d.frames = append(d.frames, nil)
	}
	for i := 0; i < kept; i++ {
		f := i * step
		fr := d.frames[i]
		if fr == nil || fr.W != w || fr.H != h {
			fr = decoder.NewFrame(w, h)
			d.frames[i] = fr
		}
		off := f * frameBytes
		for _, plane := range [][]byte{fr.Y, fr.U, fr.V} { // the pool holds Y, U, V in turn
			if err := d.dev.Download(plane, pool, off); err != nil {
				return nil, err
			}
			off += len(plane)
		}
	}
	d.Frames += kept
	return d.frames[:kept], nil
}

// group runs the decoder network over frames (one codec, k layers) of one batch.
func (d *Decoder) group(s *decoder.Segment, sc *decoder.Schedule, pos, frames []int, c *decoder.Codec, k int,
	pool Buf, w, h, frameBytes int) error {
	n := len(frames)
	cw := d.nets[c]
	inter := 0
	if c.Inter {
		inter = 1
	}
	hw4, hw8 := (h/4)*(w/4), (h/8)*(w/8)
	nbx, nby := w/16, h/16
	// Entropy decoding on the CPU: k layers of integers per frame.
	qStride := k * decoder.Channels * hw8
	ints := make([]byte, 4*n*qStride)
	meta := make([]byte, 4*8*n) // embOff, refIdx, dstIdx, futIdx
	mvs := make([]byte, n*nbx*nby*4*4)
	modes := make([]byte, n*nbx*nby*4)
	if d.grid == nil || d.grid.W != w/8 || d.grid.H != h/8 {
		d.grid = decoder.NewGrid(h/8, w/8)
	}
	for i, f := range frames {
		g := d.grid
		g.Clear()
		for l := 0; l < k; l++ {
			if err := d.model.DecodeLayer(c, g, l, s.Payloads[l][pos[f]]); err != nil {
				return fmt.Errorf("frame %d: %w", f, err)
			}
			o := 4 * (i*qStride + l*decoder.Channels*hw8)
			for j, v := range g.Q[l] {
				binary.LittleEndian.PutUint32(ints[o+4*j:], uint32(v))
			}
		}
		fr := sc.Frames[f]
		class := fr.Class
		if !c.Inter {
			class = 0
		}
		binary.LittleEndian.PutUint64(meta[8*i:], uint64(((k-1)*decoder.DClasses+class)*32))
		binary.LittleEndian.PutUint64(meta[8*(n+i):], uint64(int64(fr.Ref)))
		binary.LittleEndian.PutUint64(meta[8*(2*n+i):], uint64(f))
		fut := int64(-1)
		if c.Inter {
			fwd, bwd, bmodes := s.MotionFields(f, k)
			if len(fwd) != nbx*nby {
				return fmt.Errorf("gpu: frame %d has %d vectors for %d blocks", f, len(fwd), nbx*nby)
			}
			bi := s.BiPredicted(f)
			if bi {
				fut = int64(fr.Future)
				if len(bwd) != nbx*nby || len(bmodes) != nbx*nby {
					return fmt.Errorf("gpu: frame %d has %d backward vectors and %d modes for %d blocks", f, len(bwd), len(bmodes), nbx*nby)
				}
			}
			for b, v := range fwd {
				o := ((i*nbx*nby + b) * 4) * 4
				binary.LittleEndian.PutUint32(mvs[o:], uint32(int32(v.Y)))
				binary.LittleEndian.PutUint32(mvs[o+4:], uint32(int32(v.X)))
				if bi {
					binary.LittleEndian.PutUint32(mvs[o+8:], uint32(int32(bwd[b].Y)))
					binary.LittleEndian.PutUint32(mvs[o+12:], uint32(int32(bwd[b].X)))
					binary.LittleEndian.PutUint32(modes[4*(i*nbx*nby+b):], uint32(bmodes[b]))
				}
			}
		}
		binary.LittleEndian.PutUint64(meta[8*(3*n+i):], uint64(fut))
	}
	const f4 = 4
	catC := 24 * (1 + inter)
	type want struct {
		name  string
		bytes int
	}
	sizes := []want{{"ints", len(ints)}, {"meta", len(meta)}, {"mvs", len(mvs)}, {"modes", len(modes)},
		{"yhat", n * 96 * hw8 * f4}, {"syn", n * 96 * hw8 * f4}, {"cat", n * 48 * hw4 * f4},
		{"f1", n * 32 * hw4 * f4}, {"f2", n * 32 * hw4 * f4}}
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
	}{{"ints", ints}, {"meta", meta}, {"mvs", mvs}, {"modes", modes}} {
		if err := d.dev.Upload(b[up.name], 0, up.data); err != nil {
			return err
		}
	}
	meta0 := b["meta"]
	conv := func(cv convW, in, out Buf, outOff, hh, ww, inStride, outStride, mode int) error {
		g, blk := grid2(ww, hh, n*cv.cout, 16, 8)
		return d.launch(Conv3x3, g, blk, P(in, 0), P(cv.w, 0), P(cv.b, 0), P(out, outOff), I(cv.cin), I(cv.cout), I(hh), I(ww),
			I(inStride), I(outStride), I(mode))
	}
	steps := []func() error{
		func() error {
			g, blk := grid2(hw8, 1, n*96, 128, 1)
			return d.launch(Dequant, g, blk, P(b["ints"], 0), P(cw.steps, 0), P(b["yhat"], 0), I(k), I(hw8), I(qStride))
		},
		func() error { return conv(cw.syn, b["yhat"], b["syn"], 0, h/8, w/8, 96*hw8, 96*hw8, epiNone) },
		func() error {
			if !c.Inter {
				return nil
			}
			g, blk := grid2(w/4, h/4, n, 16, 8)
			return d.launch(OBMC, g, blk, P(pool, 0), I(frameBytes), P(meta0, 8*n), P(meta0, 24*n), P(b["mvs"], 0), P(b["modes"], 0),
				P(b["cat"], 0), I(w), I(h), I(catC*hw4), I(24))
		},
		func() error {
			g, blk := grid2(w/4, h/4, n, 16, 8)
			return d.launch(Synth, g, blk, P(b["syn"], 0), P(b["cat"], 0), I(w), I(h), I(catC*hw4), I(inter))
		},
		func() error { return conv(cw.restA, b["cat"], b["f1"], 0, h/4, w/4, catC*hw4, 32*hw4, epiNone) },
		func() error {
			g, blk := grid2(hw4, 1, n*32, 128, 1)
			return d.launch(AffineReLU, g, blk, P(b["f1"], 0), P(cw.embS, 0), P(cw.embB, 0), P(meta0, 0), I(32), I(hw4), I(32*hw4))
		},
		func() error { return conv(cw.restB, b["f1"], b["f2"], 0, h/4, w/4, 32*hw4, 32*hw4, epiRelu) },
		func() error { return conv(cw.restC, b["f2"], b["cat"], 0, h/4, w/4, 32*hw4, catC*hw4, epiAdd) },
		func() error {
			g, blk := grid2(w/4, h/4, n, 16, 8)
			return d.launch(QuarterFrame, g, blk, P(b["cat"], 0), P(pool, 0), I(frameBytes), P(meta0, 16*n), I(w), I(h), I(catC*hw4))
		},
	}
	for _, st := range steps {
		if err := st(); err != nil {
			return err
		}
	}
	return nil
}
