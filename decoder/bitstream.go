package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// BitstreamVersion is the version of docs/BITSTREAM.md this package reads and writes.
const BitstreamVersion = 1

// ErrBitstream is wrapped by every error about malformed units.
var ErrBitstream = errors.New("bitstream")

// SegmentHeader is unit 0's header (docs/BITSTREAM.md).
type SegmentHeader struct {
	Width, Height int // display size
	Frames, S     int
	Layers        int // K: P-frame layers of the stream
	LayersI       int
	BitsI, BitsP  int
	Model         [8]byte
	Segment       uint32
	// IntraAnchors: every anchor is an I-frame (flags bit 0).
	IntraAnchors bool
}

// CodedSize is the display size padded up to multiples of 16.
func (h *SegmentHeader) CodedSize() (w, hh int) { return (h.Width + 15) &^ 15, (h.Height + 15) &^ 15 }

// Blocks is the 16×16 block grid of the coded size.
func (h *SegmentHeader) Blocks() (bw, bh int) {
	w, hh := h.CodedSize()
	return w / 16, hh / 16
}

// layersOf is how many layers frame kind (I or P) has in a stream of K layers.
func (h *SegmentHeader) layersOf(intra bool) int {
	if intra {
		return min(h.LayersI, h.Layers)
	}
	return h.Layers
}

func (h *SegmentHeader) validate() error {
	switch {
	case h.Width <= 0 || h.Height <= 0 || h.Width%2 != 0 || h.Height%2 != 0 || h.Width > 8192 || h.Height > 8192:
		return fmt.Errorf("%w: size %dx%d", ErrBitstream, h.Width, h.Height)
	case h.Layers < 1 || h.Layers > 32 || h.LayersI < 1 || h.LayersI > 32:
		return fmt.Errorf("%w: %d layers (%d for I-frames)", ErrBitstream, h.Layers, h.LayersI)
	case h.BitsI < 1 || h.BitsI > 255 || h.BitsP < 1 || h.BitsP > 255:
		return fmt.Errorf("%w: %d/%d code bits per block", ErrBitstream, h.BitsI, h.BitsP)
	}
	_, err := NewScheduleAnchors(h.Frames, h.S, h.IntraAnchors)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBitstream, err)
	}
	return nil
}

// Segment is one coded segment. Codes[l][i] is layer l's payload of the i-th frame in
// decode order (nil where an I-frame has no layer l); MVs[f] holds frame f's vectors (nil
// for the I-frame). Have is how many layers are present (units 0..Have−1 were added).
type Segment struct {
	SegmentHeader
	MVs   [][]MV
	Codes [][][]byte
	Have  int
	sched *Schedule
}

// Schedule is the segment's reference structure.
func (s *Segment) Schedule() *Schedule {
	if s.sched == nil {
		s.sched, _ = NewScheduleAnchors(s.Frames, s.S, s.IntraAnchors)
	}
	return s.sched
}

func (s *Segment) payloadSize(intra bool) int {
	bw, bh := s.Blocks()
	if intra {
		return PayloadBytes(s.BitsI, bw, bh)
	}
	return PayloadBytes(s.BitsP, bw, bh)
}

// AppendUnit appends unit l (0 = base) of the segment to dst.
func (s *Segment) AppendUnit(dst []byte, l int) ([]byte, error) {
	if l < 0 || l >= s.Layers || l >= s.Have {
		return nil, fmt.Errorf("%w: unit %d of a segment holding %d of %d layers", ErrBitstream, l, s.Have, s.Layers)
	}
	start := len(dst)
	sc := s.Schedule()
	if l == 0 {
		dst = append(dst, "NVC0"...)
		dst = append(dst, BitstreamVersion)
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.Width))
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.Height))
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.Frames))
		var flags byte
		if s.IntraAnchors {
			flags |= 1
		}
		dst = append(dst, byte(s.S), flags, byte(s.Layers), byte(s.LayersI), byte(s.BitsI), byte(s.BitsP))
		dst = append(dst, s.Model[:]...)
		dst = binary.BigEndian.AppendUint32(dst, s.Segment)
		var mvs [][]MV
		for _, f := range sc.DecodeOrder() {
			if !sc.Intra(f) {
				mvs = append(mvs, s.MVs[f])
			}
		}
		bw, _ := s.Blocks()
		mv := EncodeMVs(mvs, bw)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(mv)))
		dst = append(dst, mv...)
	} else {
		dst = append(dst, "NVCL"...)
		dst = append(dst, BitstreamVersion, byte(l))
		dst = binary.BigEndian.AppendUint32(dst, s.Segment)
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.Frames))
	}
	for i, f := range sc.DecodeOrder() {
		intra := sc.Intra(f)
		if l >= s.layersOf(intra) {
			continue
		}
		p := s.Codes[l][i]
		if len(p) != s.payloadSize(intra) {
			return nil, fmt.Errorf("%w: layer %d payload of frame %d is %d bytes, want %d", ErrBitstream, l, f, len(p), s.payloadSize(intra))
		}
		dst = append(dst, p...)
	}
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:])), nil
}

// reader is a sticky-error big-endian reader over a unit.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.pos < n {
		r.err = fmt.Errorf("%w: unit truncated at byte %d (need %d more)", ErrBitstream, r.pos, n)
		return nil
	}
	p := r.b[r.pos : r.pos+n]
	r.pos += n
	return p
}

func (r *reader) u8() int {
	if p := r.take(1); p != nil {
		return int(p[0])
	}
	return 0
}

func (r *reader) u16() int {
	if p := r.take(2); p != nil {
		return int(binary.BigEndian.Uint16(p))
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func checkCRC(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: unit of %d bytes", ErrBitstream, len(b))
	}
	body := b[:len(b)-4]
	if got, want := crc32.ChecksumIEEE(body), binary.BigEndian.Uint32(b[len(b)-4:]); got != want {
		return nil, fmt.Errorf("%w: CRC-32 %08x, unit says %08x", ErrBitstream, got, want)
	}
	return body, nil
}

// ParseBaseUnit parses unit 0 into a segment holding one layer. The payloads alias b.
func ParseBaseUnit(b []byte) (*Segment, error) {
	body, err := checkCRC(b)
	if err != nil {
		return nil, err
	}
	r := &reader{b: body}
	if m := r.take(4); r.err == nil && string(m) != "NVC0" {
		return nil, fmt.Errorf("%w: not a base unit (magic %q)", ErrBitstream, m)
	}
	if v := r.u8(); r.err == nil && v != BitstreamVersion {
		return nil, fmt.Errorf("%w: version %d, this reader knows %d", ErrBitstream, v, BitstreamVersion)
	}
	s := &Segment{Have: 1}
	s.Width, s.Height, s.Frames = r.u16(), r.u16(), r.u16()
	s.S = r.u8()
	flags := r.u8()
	s.IntraAnchors = flags&1 != 0
	s.Layers, s.LayersI, s.BitsI, s.BitsP = r.u8(), r.u8(), r.u8(), r.u8()
	if r.err == nil && flags&^1 != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrBitstream, flags)
	}
	copy(s.Model[:], r.take(8))
	s.Segment = r.u32()
	if r.err != nil {
		return nil, r.err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	mv := r.take(int(r.u32()))
	if r.err != nil {
		return nil, r.err
	}
	sc := s.Schedule()
	bw, bh := s.Blocks()
	var predicted []int
	for _, f := range sc.DecodeOrder() {
		if !sc.Intra(f) {
			predicted = append(predicted, f)
		}
	}
	mvs, err := DecodeMVs(mv, len(predicted), bw, bh)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBitstream, err)
	}
	s.MVs = make([][]MV, s.Frames)
	for i, f := range predicted {
		s.MVs[f] = mvs[i]
	}
	s.Codes = make([][][]byte, s.Layers)
	if err := s.readPayloads(r, 0); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Segment) readPayloads(r *reader, l int) error {
	sc := s.Schedule()
	order := sc.DecodeOrder()
	s.Codes[l] = make([][]byte, len(order))
	for i, f := range order {
		intra := sc.Intra(f)
		if l < s.layersOf(intra) {
			s.Codes[l][i] = r.take(s.payloadSize(intra))
		}
	}
	if r.err != nil {
		return r.err
	}
	if r.pos != len(r.b) {
		return fmt.Errorf("%w: %d unexpected bytes after layer %d's payloads", ErrBitstream, len(r.b)-r.pos, l)
	}
	return nil
}

// AddUnit adds unit l ≥ 1, which must be the next layer (units arrive in order). The
// payloads alias b.
func (s *Segment) AddUnit(b []byte) error {
	body, err := checkCRC(b)
	if err != nil {
		return err
	}
	r := &reader{b: body}
	if m := r.take(4); r.err == nil && string(m) != "NVCL" {
		return fmt.Errorf("%w: not a layer unit (magic %q)", ErrBitstream, m)
	}
	v, l := r.u8(), r.u8()
	seg, n := r.u32(), r.u16()
	if r.err != nil {
		return r.err
	}
	switch {
	case v != BitstreamVersion:
		return fmt.Errorf("%w: version %d, this reader knows %d", ErrBitstream, v, BitstreamVersion)
	case l != s.Have || l >= s.Layers:
		return fmt.Errorf("%w: layer unit %d, the segment expects layer %d of %d", ErrBitstream, l, s.Have, s.Layers)
	case seg != s.Segment || n != s.Frames:
		return fmt.Errorf("%w: layer unit of segment %d (%d frames) added to segment %d (%d frames)", ErrBitstream, seg, n, s.Segment, s.Frames)
	}
	if err := s.readPayloads(r, l); err != nil {
		return err
	}
	s.Have++
	return nil
}
