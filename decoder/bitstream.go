package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/strata-player/strata/internal/byteread"
)

// BitstreamVersion is the version of docs/BITSTREAM.md this package reads and writes.
const BitstreamVersion = 6

// ErrBitstream is wrapped by every error about malformed units.
var ErrBitstream = errors.New("bitstream")

// maxPayload bounds one frame-layer payload: far above any real frame (8192×8192 at the
// finest step), small enough that a forged length cannot make a reader allocate.
const maxPayload = 1 << 26

// Header is unit 0's header.
type Header struct {
	Width, Height int // display size (even); coded size = padded to multiples of 16
	Frames, S     int
	IntraAnchors  bool // flags bit 0: the schedule's anchors are I-frames
	Layers        int  // K ≤ decoder.Layers
	Model         [8]byte
	Segment       uint32
}

// CodedSize is the display size padded up to multiples of 16.
func (h *Header) CodedSize() (w, hh int) { return (h.Width + 15) &^ 15, (h.Height + 15) &^ 15 }

func (h *Header) validate() error {
	switch {
	case h.Width <= 0 || h.Height <= 0 || h.Width%2 != 0 || h.Height%2 != 0 || h.Width > 8192 || h.Height > 8192:
		return fmt.Errorf("%w: size %dx%d", ErrBitstream, h.Width, h.Height)
	case h.Layers < 1 || h.Layers > Layers:
		return fmt.Errorf("%w: %d layers, want 1..%d", ErrBitstream, h.Layers, Layers)
	}
	if _, err := NewScheduleAnchors(h.Frames, h.S, h.IntraAnchors); err != nil {
		return fmt.Errorf("%w: %v", ErrBitstream, err)
	}
	return nil
}

// Segment is one coded segment. Intra[f] says frame f is intra-coded (always for frame 0 and,
// with IntraAnchors, the anchors; the encoder may choose it for any other frame); MVs[f] holds
// a predicted frame's vectors (nil for intra frames) — into its reference, for a bi-predicted
// frame the forward ones. A predicted frame whose schedule entry has a Future frame is
// bi-predicted: Modes[f] and Bwd[f] hold its block modes (ModeFwd, ModeBwd, ModeBi) and
// backward vectors (nil for every other frame). Payloads[l][i] is layer l of the i-th frame in
// decode order. Have is how many layers are present (units 0..Have−1). VecLayer[f] is the
// unit that carries frame f's motion (direct.go; nil: unit 0 for every frame); until that
// unit is added, MVs[f], Bwd[f] and Modes[f] are nil.
type Segment struct {
	Header
	Intra    []bool
	MVs      [][]MV
	Bwd      [][]MV
	Modes    [][]uint8
	VecLayer []uint8
	Payloads [][][]byte
	Have     int
	sched    *Schedule
}

// Schedule is the segment's reference structure, computed on the first call (which must not
// race with others: ParseBaseUnit makes it; a caller that builds a Segment and then reads it
// from several goroutines calls Schedule first).
func (s *Segment) Schedule() *Schedule {
	if s.sched == nil {
		s.sched, _ = NewScheduleAnchors(s.Frames, s.S, s.IntraAnchors)
	}
	return s.sched
}

// BiPredicted reports whether frame f is bi-predicted: predicted, with a future frame.
func (s *Segment) BiPredicted(f int) bool {
	return !s.Intra[f] && s.Schedule().Frames[f].Future >= 0
}

// AppendUnit appends unit l (0 = base) of the segment to dst.
func (s *Segment) AppendUnit(dst []byte, l int) ([]byte, error) {
	if l < 0 || l >= s.Layers || l >= s.Have {
		return nil, fmt.Errorf("%w: unit %d of a segment holding %d of %d layers", ErrBitstream, l, s.Have, s.Layers)
	}
	start := len(dst)
	sc := s.Schedule()
	order := sc.DecodeOrder()
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
		dst = append(dst, byte(s.S), flags, byte(s.Layers))
		dst = append(dst, s.Model[:]...)
		dst = binary.BigEndian.AppendUint32(dst, s.Segment)
		modes := make([]byte, (s.Frames+7)/8)
		vl := make([]byte, (s.Frames+3)/4)
		for f := 0; f < s.Frames; f++ {
			if s.Intra[f] {
				modes[f/8] |= 0x80 >> (f % 8)
			} else if sc.Intra(f) {
				return nil, fmt.Errorf("%w: frame %d must be intra-coded", ErrBitstream, f)
			}
			v := s.vecLayer(f)
			if err := s.checkVecLayer(f, v); err != nil {
				return nil, err
			}
			vl[f/4] |= byte(v) << (6 - 2*(f%4))
		}
		dst = append(dst, modes...)
		dst = append(dst, vl...)
	} else {
		dst = append(dst, "NVCL"...)
		dst = append(dst, BitstreamVersion, byte(l))
		dst = binary.BigEndian.AppendUint32(dst, s.Segment)
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.Frames))
	}
	mv, bi, err := s.motionPayloads(l)
	if err != nil {
		return nil, err
	}
	dst = binary.AppendUvarint(dst, uint64(len(mv)))
	dst = append(dst, mv...)
	dst = binary.AppendUvarint(dst, uint64(len(bi)))
	dst = append(dst, bi...)
	for i := range order {
		p := s.Payloads[l][i]
		if len(p) > maxPayload {
			return nil, fmt.Errorf("%w: layer %d payload of %d bytes", ErrBitstream, l, len(p))
		}
		dst = binary.AppendUvarint(dst, uint64(len(p)))
		dst = append(dst, p...)
	}
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:])), nil
}

// motionFrames lists, in decode order, the predicted and the bi-predicted frames whose motion
// unit l carries.
func (s *Segment) motionFrames(l int) (predicted, bipred []int) {
	for _, f := range s.Schedule().DecodeOrder() {
		if !s.Intra[f] && s.vecLayer(f) == l {
			predicted = append(predicted, f)
			if s.BiPredicted(f) {
				bipred = append(bipred, f)
			}
		}
	}
	return predicted, bipred
}

// motionPayloads codes the motion unit l carries: the (forward) vectors, then the block modes
// and backward vectors of its bi-predicted frames; each empty when there is none.
func (s *Segment) motionPayloads(l int) (mv, bi []byte, err error) {
	predicted, bipred := s.motionFrames(l)
	var mvs, bwd [][]MV
	var bmodes, pmodes [][]uint8
	for _, f := range predicted {
		mvs = append(mvs, s.MVs[f])
		var m []uint8
		if s.Modes != nil {
			m = s.Modes[f]
		}
		pmodes = append(pmodes, m)
	}
	for _, f := range bipred {
		if s.Modes == nil || s.Bwd == nil || s.Modes[f] == nil || s.Bwd[f] == nil {
			return nil, nil, fmt.Errorf("%w: bi-predicted frame %d without modes or backward vectors", ErrBitstream, f)
		}
		bmodes = append(bmodes, s.Modes[f])
		bwd = append(bwd, s.Bwd[f])
	}
	w, _ := s.CodedSize()
	if len(mvs) > 0 {
		mv = EncodeMVsModes(mvs, pmodes, w/16)
	}
	if len(bmodes) > 0 {
		bi = EncodeBi(bmodes, bwd, w/16)
	}
	return mv, bi, nil
}

// readMotion reads unit l's motion payloads into the frames it carries.
func (s *Segment) readMotion(r *byteread.Reader, l int) error {
	mv := r.Take(size(r))
	bi := r.Take(size(r))
	if r.Err() != nil {
		return r.Err()
	}
	predicted, bipred := s.motionFrames(l)
	w, h := s.CodedSize()
	// Block modes first: the forward vectors of backward-only blocks are not sent.
	if len(bipred) > 0 {
		modes, bwd, err := DecodeBi(bi, len(bipred), w/16, h/16)
		if err != nil {
			return fmt.Errorf("%w: unit %d: %v", ErrBitstream, l, err)
		}
		for i, f := range bipred {
			s.Modes[f], s.Bwd[f] = modes[i], bwd[i]
		}
	} else if len(bi) != 0 {
		return fmt.Errorf("%w: unit %d has %d bytes of bi-prediction data for no frame", ErrBitstream, l, len(bi))
	}
	if len(predicted) > 0 {
		pmodes := make([][]uint8, len(predicted))
		for i, f := range predicted {
			pmodes[i] = s.Modes[f]
		}
		mvs, err := DecodeMVsModes(mv, pmodes, len(predicted), w/16, h/16)
		if err != nil {
			return fmt.Errorf("%w: unit %d: %v", ErrBitstream, l, err)
		}
		for i, f := range predicted {
			s.MVs[f] = mvs[i]
		}
	} else if len(mv) != 0 {
		return fmt.Errorf("%w: unit %d has %d bytes of vectors for no frame", ErrBitstream, l, len(mv))
	}
	return nil
}

// size reads an unsigned LEB128 length (version 4) of at most maxPayload.
func size(r *byteread.Reader) int {
	at := r.Pos()
	v := r.Uvarint(4)
	if v > maxPayload {
		r.Fail("a length of %d bytes at byte %d", v, at)
		return 0
	}
	return int(v)
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

func checkVersion(v int) error {
	switch {
	case v == BitstreamVersion:
		return nil
	case v >= 1 && v < BitstreamVersion:
		return fmt.Errorf("%w: a version %d stream (codec v%d); this player decodes version %d: re-encode the source with `strata encode`",
			ErrBitstream, v, min(v, 2), BitstreamVersion)
	}
	return fmt.Errorf("%w: version %d, this reader knows %d", ErrBitstream, v, BitstreamVersion)
}

// ParseBaseUnit parses unit 0 into a segment holding one layer. Payloads alias b.
func ParseBaseUnit(b []byte) (*Segment, error) {
	body, err := checkCRC(b)
	if err != nil {
		return nil, err
	}
	r := byteread.BigEndian(body, ErrBitstream)
	if m := r.Take(4); r.Err() == nil && string(m) != "NVC0" {
		return nil, fmt.Errorf("%w: not a base unit (magic %q)", ErrBitstream, m)
	}
	if v := r.U8(); r.Err() == nil {
		if err := checkVersion(v); err != nil {
			return nil, err
		}
	}
	s := &Segment{Have: 1}
	s.Width, s.Height, s.Frames = r.U16(), r.U16(), r.U16()
	s.S = r.U8()
	flags := r.U8()
	s.IntraAnchors = flags&1 != 0
	s.Layers = r.U8()
	copy(s.Model[:], r.Take(8))
	s.Segment = r.U32()
	if r.Err() != nil {
		return nil, r.Err()
	}
	if flags&^1 != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrBitstream, flags)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	sc := s.Schedule()
	modes := r.Take((s.Frames + 7) / 8)
	if r.Err() != nil {
		return nil, r.Err()
	}
	s.Intra = make([]bool, s.Frames)
	for f := range s.Intra {
		s.Intra[f] = modes[f/8]&(0x80>>(f%8)) != 0
		if sc.Intra(f) && !s.Intra[f] {
			return nil, fmt.Errorf("%w: frame %d has no reference but is not marked intra", ErrBitstream, f)
		}
	}
	if pad := s.Frames % 8; pad != 0 && modes[len(modes)-1]&(0xff>>pad) != 0 {
		return nil, fmt.Errorf("%w: mode bits set past frame %d", ErrBitstream, s.Frames-1)
	}
	vl := r.Take((s.Frames + 3) / 4)
	if r.Err() != nil {
		return nil, r.Err()
	}
	s.VecLayer = make([]uint8, s.Frames)
	for f := range s.VecLayer {
		v := vl[f/4] >> (6 - 2*(f%4)) & 3
		if err := s.checkVecLayer(f, int(v)); err != nil {
			return nil, err
		}
		s.VecLayer[f] = v
	}
	if pad := s.Frames % 4; pad != 0 && vl[len(vl)-1]&(0xff>>(2*pad)) != 0 {
		return nil, fmt.Errorf("%w: motion-unit bits set past frame %d", ErrBitstream, s.Frames-1)
	}
	s.MVs = make([][]MV, s.Frames)
	s.Modes = make([][]uint8, s.Frames)
	s.Bwd = make([][]MV, s.Frames)
	if err := s.readMotion(r, 0); err != nil {
		return nil, err
	}
	s.Payloads = make([][][]byte, s.Layers)
	if err := s.readPayloads(r, 0); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Segment) readPayloads(r *byteread.Reader, l int) error {
	s.Payloads[l] = make([][]byte, s.Frames)
	for i := range s.Payloads[l] {
		s.Payloads[l][i] = r.Take(size(r))
	}
	if r.Err() != nil {
		return r.Err()
	}
	if r.Left() != 0 {
		return fmt.Errorf("%w: %d unexpected bytes after layer %d's payloads", ErrBitstream, r.Left(), l)
	}
	return nil
}

// AddUnit adds unit l ≥ 1, which must be the next layer (units arrive in order). Payloads
// alias b.
func (s *Segment) AddUnit(b []byte) error {
	body, err := checkCRC(b)
	if err != nil {
		return err
	}
	r := byteread.BigEndian(body, ErrBitstream)
	if m := r.Take(4); r.Err() == nil && string(m) != "NVCL" {
		return fmt.Errorf("%w: not a layer unit (magic %q)", ErrBitstream, m)
	}
	v, l := r.U8(), r.U8()
	seg, n := r.U32(), r.U16()
	if r.Err() != nil {
		return r.Err()
	}
	if err := checkVersion(v); err != nil {
		return err
	}
	switch {
	case l != s.Have || l >= s.Layers:
		return fmt.Errorf("%w: layer unit %d, the segment expects layer %d of %d", ErrBitstream, l, s.Have, s.Layers)
	case seg != s.Segment || n != s.Frames:
		return fmt.Errorf("%w: layer unit of segment %d (%d frames) added to segment %d (%d frames)", ErrBitstream, seg, n, s.Segment, s.Frames)
	}
	if err := s.readMotion(r, l); err != nil {
		return err
	}
	if err := s.readPayloads(r, l); err != nil {
		return err
	}
	s.Have++
	return nil
}
