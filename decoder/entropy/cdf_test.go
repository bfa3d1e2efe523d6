package entropy

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// laplaceFreqs is a table over −a..a plus escape for a discretised Laplace of scale b, built
// the way the exporter builds them (every frequency ≥ 1, the remainder on the mode).
func laplaceFreqs(a int, b float64) []uint32 {
	cdf := func(x float64) float64 {
		if x < 0 {
			return 0.5 * math.Exp(x/b)
		}
		return 1 - 0.5*math.Exp(-x/b)
	}
	f := make([]uint32, 2*a+2)
	total := uint32(0)
	for i := range f {
		var p float64
		if i == 2*a+1 {
			p = 2 * cdf(-float64(a)-0.5)
		} else {
			q := float64(i - a)
			p = cdf(q+0.5) - cdf(q-0.5)
		}
		f[i] = max(1, uint32(p*float64(1<<CDFBits-len(f))))
		total += f[i]
	}
	f[a] += 1<<CDFBits - total
	return f
}

func TestCDFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		a int
		b float64
	}{{1, 0.2}, {7, 1.5}, {31, 6}, {63, 0.5}} {
		cdf, err := NewCDF(laplaceFreqs(c.a, c.b))
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]int, 5000)
		for i := range vals {
			// Laplace draws, with some far outside the table (escapes).
			u := rng.Float64() - 0.5
			v := -c.b * math.Copysign(math.Log(1-2*math.Abs(u)), u)
			vals[i] = int(math.Round(v))
			if i%97 == 0 {
				vals[i] = (rng.IntN(2)*2 - 1) * (c.a + 1 + rng.IntN(100000))
			}
		}
		e := NewEncoder(nil)
		valueBits := 0.0
		ideal := 0.0 // bits: −log2 of each symbol's table probability, escapes' bins at 1 bit
		for _, v := range vals {
			if err := e.Value(cdf, v); err != nil {
				t.Fatal(err)
			}
			s := v + c.a
			if v < -c.a || v > c.a {
				s = 2*c.a + 1
				m := max(v, -v) - c.a
				ideal += 1 + float64(2*bitsLen(m)-1)
			}
			ideal -= math.Log2(float64(cdf.cum[s+1]-cdf.cum[s]) / (1 << CDFBits))
			valueBits += cdf.ValueBits(v)
		}
		if math.Abs(valueBits-ideal) > 1e-6*ideal {
			t.Errorf("a=%d b=%g: ValueBits sums to %.1f, ideal %.1f", c.a, c.b, valueBits, ideal)
		}
		out := e.Bytes()
		if bits := 8 * float64(len(out)); bits > ideal*1.01+64 {
			t.Errorf("a=%d b=%g: %.0f bits coded, ideal %.0f", c.a, c.b, bits, ideal)
		}
		d := NewDecoder(out)
		for i, v := range vals {
			if got := d.Value(cdf); got != v {
				t.Fatalf("a=%d b=%g: value %d decoded as %d, want %d", c.a, c.b, i, got, v)
			}
		}
		if d.err != nil {
			t.Fatal(d.err)
		}
		// The code length is near the ideal one for the in-table values.
		t.Logf("a=%d b=%.1f: %d values in %d bytes (%.3f bits each)", c.a, c.b, len(vals), len(out), 8*float64(len(out))/float64(len(vals)))
	}
}

func TestCDFRejectsBadTables(t *testing.T) {
	for _, f := range [][]uint32{{1 << CDFBits}, {0, 1 << CDFBits}, {1, 2}, {1 << 15, 1 << 15, 1}} {
		if _, err := NewCDF(f); !errors.Is(err, ErrCDF) {
			t.Errorf("%v: err %v, want ErrCDF", f, err)
		}
	}
}

func TestCDFOutOfRange(t *testing.T) {
	cdf, _ := NewCDF(laplaceFreqs(3, 1))
	e := NewEncoder(nil)
	if err := e.Value(cdf, 1<<30); !errors.Is(err, ErrRangeCoder) {
		t.Fatalf("err %v", err)
	}
}

func FuzzDecodeValues(f *testing.F) {
	cdf, _ := NewCDF(laplaceFreqs(7, 1.5))
	e := NewEncoder(nil)
	for _, v := range []int{0, 1, -1, 9, -300, 7, 8} {
		e.Value(cdf, v)
	}
	f.Add(e.Bytes())
	f.Add([]byte{0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		for i := 0; i < 64 && d.err == nil; i++ {
			d.Value(cdf)
		}
	})
}

func bitsLen(x int) int {
	n := 0
	for x > 0 {
		n++
		x >>= 1
	}
	return n
}
