package decoder

import "errors"

// The binary range coder of LZMA: 32-bit range, 11-bit probabilities adapted by 1/32 of
// the distance to certainty per coded bin. docs/BITSTREAM.md uses it for motion vectors.

const (
	probBits  = 11
	probInit  = 1 << (probBits - 1)
	moveBits  = 5
	topValue  = 1 << 24
	probRange = 1 << probBits
)

// prob is an adaptive probability that the next bin is 0, in units of 2^-11.
type prob uint16

// rangeEncoder appends coded bytes to out.
type rangeEncoder struct {
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int
	out       []byte
}

func newRangeEncoder(out []byte) *rangeEncoder {
	return &rangeEncoder{rng: 0xFFFFFFFF, cacheSize: 1, out: out}
}

func (e *rangeEncoder) shiftLow() {
	if uint32(e.low) < 0xFF000000 || e.low>>32 != 0 {
		carry := byte(e.low >> 32)
		temp := e.cache
		for {
			e.out = append(e.out, temp+carry)
			temp = 0xFF
			e.cacheSize--
			if e.cacheSize == 0 {
				break
			}
		}
		e.cache = byte(e.low >> 24)
	}
	e.cacheSize++
	e.low = (e.low & 0x00FFFFFF) << 8
}

func (e *rangeEncoder) bit(p *prob, b int) {
	bound := (e.rng >> probBits) * uint32(*p)
	if b == 0 {
		e.rng = bound
		*p += (probRange - *p) >> moveBits
	} else {
		e.low += uint64(bound)
		e.rng -= bound
		*p -= *p >> moveBits
	}
	for e.rng < topValue {
		e.rng <<= 8
		e.shiftLow()
	}
}

// direct codes a bin at probability ½.
func (e *rangeEncoder) direct(b int) {
	e.rng >>= 1
	if b != 0 {
		e.low += uint64(e.rng)
	}
	for e.rng < topValue {
		e.rng <<= 8
		e.shiftLow()
	}
}

// finish flushes the coder and returns the output.
func (e *rangeEncoder) finish() []byte {
	for i := 0; i < 5; i++ {
		e.shiftLow()
	}
	return e.out
}

// ErrRangeCoder is wrapped by errors of corrupt or truncated range-coded data.
var ErrRangeCoder = errors.New("range coder")

// rangeDecoder reads coded bins; reading past the end yields zeros and records a sticky
// error (mp4ff's sticky-error reader pattern), so decoding never panics.
type rangeDecoder struct {
	code, rng uint32
	in        []byte
	pos       int
	err       error
}

func newRangeDecoder(in []byte) *rangeDecoder {
	d := &rangeDecoder{rng: 0xFFFFFFFF, in: in}
	if len(in) < 5 || in[0] != 0 {
		d.err = ErrRangeCoder
	}
	for i := 0; i < 5; i++ {
		d.code = d.code<<8 | uint32(d.next())
	}
	return d
}

func (d *rangeDecoder) next() byte {
	if d.pos >= len(d.in) {
		d.err = ErrRangeCoder
		return 0
	}
	b := d.in[d.pos]
	d.pos++
	return b
}

func (d *rangeDecoder) bit(p *prob) int {
	bound := (d.rng >> probBits) * uint32(*p)
	b := 0
	if d.code < bound {
		d.rng = bound
		*p += (probRange - *p) >> moveBits
	} else {
		d.code -= bound
		d.rng -= bound
		*p -= *p >> moveBits
		b = 1
	}
	if d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.next())
	}
	return b
}

func (d *rangeDecoder) direct() int {
	d.rng >>= 1
	b := 0
	if d.code >= d.rng {
		d.code -= d.rng
		b = 1
	}
	if d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.next())
	}
	return b
}
