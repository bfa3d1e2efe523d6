package entropy

import "errors"

// The binary range coder of LZMA: 32-bit range, 11-bit probabilities adapted by 1/32 of
// the distance to certainty per coded bin. docs/BITSTREAM.md uses it for motion vectors.

// ProbInit is a fresh context's probability (½).
const ProbInit Prob = probInit

const (
	probBits  = 11
	probInit  = 1 << (probBits - 1)
	moveBits  = 5
	topValue  = 1 << 24
	probRange = 1 << probBits
)

// Prob is an adaptive probability that the next bin is 0, in units of 2^-11.
type Prob uint16

// Encoder appends coded bytes to out.
type Encoder struct {
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int
	out       []byte
}

func NewEncoder(out []byte) *Encoder {
	return &Encoder{rng: 0xFFFFFFFF, cacheSize: 1, out: out}
}

func (e *Encoder) shiftLow() {
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

func (e *Encoder) Bit(p *Prob, b int) {
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

// Direct codes a bin at probability ½.
func (e *Encoder) Direct(b int) {
	e.rng >>= 1
	if b != 0 {
		e.low += uint64(e.rng)
	}
	for e.rng < topValue {
		e.rng <<= 8
		e.shiftLow()
	}
}

// Bytes flushes the coder and returns the output; the encoder must not be used afterwards.
func (e *Encoder) Bytes() []byte {
	for i := 0; i < 5; i++ {
		e.shiftLow()
	}
	return e.out
}

// ErrRangeCoder is wrapped by errors of corrupt or truncated range-coded data.
var ErrRangeCoder = errors.New("range coder")

// Decoder reads coded bins; reading past the end yields zeros and records a sticky
// error (mp4ff's sticky-error reader pattern), so decoding never panics.
type Decoder struct {
	code, rng uint32
	in        []byte
	pos       int
	err       error
}

func NewDecoder(in []byte) *Decoder {
	d := &Decoder{rng: 0xFFFFFFFF, in: in}
	if len(in) < 5 || in[0] != 0 {
		d.err = ErrRangeCoder
	}
	for i := 0; i < 5; i++ {
		d.code = d.code<<8 | uint32(d.next())
	}
	return d
}

func (d *Decoder) next() byte {
	if d.pos >= len(d.in) {
		d.err = ErrRangeCoder
		return 0
	}
	b := d.in[d.pos]
	d.pos++
	return b
}

func (d *Decoder) Bit(p *Prob) int {
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

func (d *Decoder) Direct() int {
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

// Err is ErrRangeCoder once the payload turned out corrupt or truncated, else nil.
func (d *Decoder) Err() error { return d.err }

// Used is how many bytes of the payload the decoder has read; a payload decoded to its end
// and nothing more has Used() == len(payload).
func (d *Decoder) Used() int { return d.pos }
