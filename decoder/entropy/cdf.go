package entropy

import (
	"errors"
	"fmt"
	"math"
)

// Static-distribution symbols for the codec's latents (docs/MODEL.md): every symbol is coded
// with an integer frequency table exported with the model, so entropy decoding involves no
// floating point and every backend decodes the same symbols.

// CDFBits is the precision of a frequency table: its frequencies sum to 1 << CDFBits.
const CDFBits = 16

// CDF is a static distribution over the symbols 0..n−1: symbol s has frequency
// cum[s+1] − cum[s] > 0, and cum[n] = 1 << CDFBits.
type CDF struct {
	cum []uint32
	// lut[b] is the symbol whose interval holds b << lutShift (the decoder's first guess
	// for a value in bucket b: a table lookup, then a short step forward).
	lut []uint16
	// bits[s] is SymbolBits(s), computed once (encoders ask for it in their inner loops).
	bits []float64
}

// lutShift: the decoder's lookup table has 1 << (CDFBits − lutShift) buckets.
const lutShift = 6

// ErrCDF is wrapped by errors of malformed frequency tables.
var ErrCDF = errors.New("frequency table")

// NewCDF builds a table from positive frequencies that sum to 1 << CDFBits.
func NewCDF(freqs []uint32) (*CDF, error) {
	if len(freqs) < 2 || len(freqs) > 1<<12 {
		return nil, fmt.Errorf("%w: %d symbols, want 2..4096", ErrCDF, len(freqs))
	}
	c := &CDF{cum: make([]uint32, len(freqs)+1)}
	for i, f := range freqs {
		if f == 0 || f > 1<<CDFBits {
			return nil, fmt.Errorf("%w: symbol %d has frequency %d", ErrCDF, i, f)
		}
		c.cum[i+1] = c.cum[i] + f
		if c.cum[i+1] > 1<<CDFBits {
			return nil, fmt.Errorf("%w: frequencies exceed %d", ErrCDF, 1<<CDFBits)
		}
	}
	if c.cum[len(freqs)] != 1<<CDFBits {
		return nil, fmt.Errorf("%w: frequencies sum to %d, want %d", ErrCDF, c.cum[len(freqs)], 1<<CDFBits)
	}
	c.bits = make([]float64, len(freqs))
	for i, f := range freqs {
		c.bits[i] = CDFBits - math.Log2(float64(f))
	}
	c.lut = make([]uint16, 1<<(CDFBits-lutShift))
	s := 0
	for b := range c.lut {
		for c.cum[s+1] <= uint32(b)<<lutShift {
			s++
		}
		c.lut[b] = uint16(s)
	}
	return c, nil
}

// Symbols is the alphabet size.
func (c *CDF) Symbols() int { return len(c.cum) - 1 }

// Symbol codes s (0 ≤ s < c.Symbols()).
func (e *Encoder) Symbol(c *CDF, s int) {
	r := e.rng >> CDFBits
	e.low += uint64(r) * uint64(c.cum[s])
	e.rng = r * (c.cum[s+1] - c.cum[s])
	for e.rng < topValue {
		e.rng <<= 8
		e.shiftLow()
	}
}

// Symbol decodes one symbol of c. Corrupt input decodes to some valid symbol (the sticky
// error says it was corrupt or truncated); it never panics.
func (d *Decoder) Symbol(c *CDF) int {
	r := d.rng >> CDFBits
	v := d.code / r
	if v >= 1<<CDFBits {
		v = 1<<CDFBits - 1
		d.err = ErrRangeCoder
	}
	// The symbol s with cum[s] ≤ v < cum[s+1]: the lookup table's symbol for v's bucket,
	// then forward past the intervals that end at or before v (this is the entropy
	// decoder's inner loop).
	cum := c.cum
	s := int(c.lut[v>>lutShift])
	for cum[s+1] <= v {
		s++
	}
	d.code -= r * cum[s]
	d.rng = r * (cum[s+1] - cum[s])
	for d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.next())
	}
	return s
}

// maxEscapeBits bounds an escaped value's Exp-Golomb prefix: |v| < 2^24 + A.
const maxEscapeBits = 24

// Value codes an integer with a table over −A..A plus one escape symbol (the last,
// 2A+1): values outside −A..A follow the escape as a sign bit and Exp-Golomb (order 0) of
// |v| − A − 1 at probability ½.
func (e *Encoder) Value(c *CDF, v int) error {
	a := (c.Symbols() - 2) / 2
	if v >= -a && v <= a {
		e.Symbol(c, v+a)
		return nil
	}
	m := v
	if m < 0 {
		m = -m
	}
	m -= a + 1
	if m >= 1<<maxEscapeBits-1 {
		return fmt.Errorf("%w: value %d out of the coder's range", ErrRangeCoder, v)
	}
	e.Symbol(c, 2*a+1)
	if v < 0 {
		e.Direct(1)
	} else {
		e.Direct(0)
	}
	x := m + 1
	n := 0
	for x>>(n+1) != 0 {
		n++
	}
	for i := 0; i < n; i++ {
		e.Direct(0)
	}
	for i := n; i >= 0; i-- {
		e.Direct((x >> i) & 1)
	}
	return nil
}

// Value decodes what Encoder.Value coded. Corrupt input yields some value and a sticky error (Err); it never panics.
func (d *Decoder) Value(c *CDF) int {
	a := (c.Symbols() - 2) / 2
	s := d.Symbol(c)
	if s <= 2*a {
		return s - a
	}
	neg := d.Direct() == 1
	n := 0
	for d.Direct() == 0 {
		n++
		if n > maxEscapeBits || d.err != nil {
			d.err = ErrRangeCoder
			return 0
		}
	}
	x := 1
	for i := 0; i < n; i++ {
		x = x<<1 | d.Direct()
	}
	m := x - 1 + a + 1
	if neg {
		return -m
	}
	return m
}

// ValueBits is the ideal code length in bits of integer v under c as Encoder.Value codes it
// (an escape costs its symbol, the sign and the Exp-Golomb bits). Encoders use it for
// rate–distortion decisions; decoding never does.
func (c *CDF) ValueBits(v int) float64 {
	a := (c.Symbols() - 2) / 2
	if v >= -a && v <= a {
		return c.SymbolBits(v + a)
	}
	m := v
	if m < 0 {
		m = -m
	}
	x := m - a
	n := 0
	for x>>(n+1) != 0 {
		n++
	}
	return c.SymbolBits(2*a+1) + 1 + float64(2*n+1)
}

// SymbolBits is the ideal code length in bits of symbol s under c.
func (c *CDF) SymbolBits(s int) float64 { return c.bits[s] }

// Freq is symbol s's frequency (of 1 << CDFBits).
func (c *CDF) Freq(s int) uint32 { return c.cum[s+1] - c.cum[s] }

// Freqs returns a copy of the table's frequencies.
func (c *CDF) Freqs() []uint32 {
	f := make([]uint32, c.Symbols())
	for s := range f {
		f[s] = c.Freq(s)
	}
	return f
}
