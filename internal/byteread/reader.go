// Package byteread is the sticky-error byte reader every binary parser in strata uses
// (mp4ff's pattern): reads past the end return zeros and record one error, which the parser
// checks once, so a malformed or truncated input never panics and always says where it ended.
package byteread

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reader reads integers of one byte order from b.
type Reader struct {
	b     []byte
	pos   int
	err   error
	order binary.ByteOrder
	base  error
}

// BigEndian reads b most significant byte first; errors wrap base (a parser's sentinel).
func BigEndian(b []byte, base error) *Reader {
	return &Reader{b: b, order: binary.BigEndian, base: base}
}

// LittleEndian reads b least significant byte first; errors wrap base.
func LittleEndian(b []byte, base error) *Reader {
	return &Reader{b: b, order: binary.LittleEndian, base: base}
}

// Take returns the next n bytes (a sub-slice of the input), or nil once the input is short.
func (r *Reader) Take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.pos < n {
		r.err = fmt.Errorf("%w: truncated at byte %d (need %d more, %d left)", r.base, r.pos, n, len(r.b)-r.pos)
		return nil
	}
	p := r.b[r.pos : r.pos+n]
	r.pos += n
	return p
}

// U8 reads one byte.
func (r *Reader) U8() int {
	if p := r.Take(1); p != nil {
		return int(p[0])
	}
	return 0
}

// U16 reads a 16-bit unsigned integer.
func (r *Reader) U16() int {
	if p := r.Take(2); p != nil {
		return int(r.order.Uint16(p))
	}
	return 0
}

// U32 reads a 32-bit unsigned integer.
func (r *Reader) U32() uint32 {
	if p := r.Take(4); p != nil {
		return r.order.Uint32(p)
	}
	return 0
}

// F32 reads an IEEE 754 single.
func (r *Reader) F32() float32 { return math.Float32frombits(r.U32()) }

// F64 reads an IEEE 754 double.
func (r *Reader) F64() float64 {
	if p := r.Take(8); p != nil {
		return math.Float64frombits(r.order.Uint64(p))
	}
	return 0
}

// Pos is the offset of the next byte to read.
func (r *Reader) Pos() int { return r.pos }

// Left is the number of bytes not yet read.
func (r *Reader) Left() int { return len(r.b) - r.pos }

// Err is the first error: a read past the end, or what Fail recorded.
func (r *Reader) Err() error { return r.err }

// Fail records a parser's own finding (a bad field) as the sticky error, wrapping base, unless
// an error is already recorded. Later reads return zeros.
func (r *Reader) Fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{r.base}, args...)...)
	}
}

// End records an error when bytes are left over (what records the input's end must be its end).
func (r *Reader) End(what string) {
	if r.err == nil && r.pos != len(r.b) {
		r.Fail("%d bytes after the %s", len(r.b)-r.pos, what)
	}
}

// Uvarint reads an unsigned LEB128 integer of at most maxBytes bytes.
func (r *Reader) Uvarint(maxBytes int) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 || n > maxBytes {
		r.Fail("malformed or truncated length at byte %d", r.pos)
		return 0
	}
	r.pos += n
	return v
}
