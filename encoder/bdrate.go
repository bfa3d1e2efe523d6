package encoder

import (
	"errors"
	"math"
	"sort"
)

// RDPoint is one rate-distortion point: bits per pixel and PSNR in dB.
type RDPoint struct {
	BPP  float64 `json:"bpp"`
	PSNR float64 `json:"psnr_y"`
}

// ErrNoOverlap is returned when two RD curves share no PSNR range.
var ErrNoOverlap = errors.New("bd-rate: the curves' PSNR ranges do not overlap")

// BDRate is Bjøntegaard's delta rate (VCEG-M33) of test against anchor in percent
// (positive: test needs more bits for the same PSNR): log-rate is fitted as a cubic
// polynomial of PSNR for each curve (least squares over all points, at least 4), both fits
// are integrated over the overlapping PSNR interval, and the mean log-rate difference d
// gives (e^d − 1)·100.
func BDRate(anchor, test []RDPoint) (float64, error) {
	return bdRate(anchor, test, func(p []RDPoint, lo, hi float64) (float64, error) {
		c, err := cubicFit(p)
		if err != nil {
			return 0, err
		}
		return polyIntegral(c, hi) - polyIntegral(c, lo), nil
	})
}

// BDRatePCHIP is the same measure with monotone piecewise-cubic Hermite interpolation
// (Fritsch–Carlson) of log-rate over PSNR instead of a global cubic fit: the cross-check
// that newer reference tools use.
func BDRatePCHIP(anchor, test []RDPoint) (float64, error) {
	return bdRate(anchor, test, func(p []RDPoint, lo, hi float64) (float64, error) {
		return pchipIntegral(p, lo, hi), nil
	})
}

func bdRate(anchor, test []RDPoint, integrate func([]RDPoint, float64, float64) (float64, error)) (float64, error) {
	a, t := sortedCurve(anchor), sortedCurve(test)
	if len(a) < 4 || len(t) < 4 {
		return 0, errors.New("bd-rate: need at least 4 points with distinct PSNR per curve")
	}
	lo := math.Max(a[0].PSNR, t[0].PSNR)
	hi := math.Min(a[len(a)-1].PSNR, t[len(t)-1].PSNR)
	if !(hi > lo) {
		return 0, ErrNoOverlap
	}
	ia, err := integrate(a, lo, hi)
	if err != nil {
		return 0, err
	}
	it, err := integrate(t, lo, hi)
	if err != nil {
		return 0, err
	}
	return (math.Exp((it-ia)/(hi-lo)) - 1) * 100, nil
}

// sortedCurve sorts by PSNR and drops points with a repeated PSNR or a non-positive rate.
func sortedCurve(p []RDPoint) []RDPoint {
	q := make([]RDPoint, 0, len(p))
	for _, x := range p {
		if x.BPP > 0 && !math.IsNaN(x.PSNR) && !math.IsInf(x.PSNR, 0) {
			q = append(q, x)
		}
	}
	sort.Slice(q, func(i, j int) bool { return q[i].PSNR < q[j].PSNR })
	out := q[:0]
	for i, x := range q {
		if i == 0 || x.PSNR > out[len(out)-1].PSNR {
			out = append(out, x)
		}
	}
	return out
}

// cubicFit returns c0..c3 of the least-squares cubic log(bpp) ≈ Σ c_i·psnr^i.
func cubicFit(p []RDPoint) ([4]float64, error) {
	var ata [4][4]float64
	var atb [4]float64
	for _, x := range p {
		v := [4]float64{1, x.PSNR, x.PSNR * x.PSNR, x.PSNR * x.PSNR * x.PSNR}
		y := math.Log(x.BPP)
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				ata[i][j] += v[i] * v[j]
			}
			atb[i] += v[i] * y
		}
	}
	// Gaussian elimination with partial pivoting.
	for c := 0; c < 4; c++ {
		piv := c
		for r := c + 1; r < 4; r++ {
			if math.Abs(ata[r][c]) > math.Abs(ata[piv][c]) {
				piv = r
			}
		}
		if math.Abs(ata[piv][c]) < 1e-300 {
			return [4]float64{}, errors.New("bd-rate: singular cubic fit")
		}
		ata[c], ata[piv] = ata[piv], ata[c]
		atb[c], atb[piv] = atb[piv], atb[c]
		for r := 0; r < 4; r++ {
			if r == c {
				continue
			}
			f := ata[r][c] / ata[c][c]
			for k := c; k < 4; k++ {
				ata[r][k] -= f * ata[c][k]
			}
			atb[r] -= f * atb[c]
		}
	}
	var out [4]float64
	for i := range out {
		out[i] = atb[i] / ata[i][i]
	}
	return out, nil
}

func polyIntegral(c [4]float64, x float64) float64 {
	return c[0]*x + c[1]*x*x/2 + c[2]*x*x*x/3 + c[3]*x*x*x*x/4
}

// pchipIntegral integrates the Fritsch–Carlson interpolant of log(bpp) over PSNR on
// [lo, hi] (inside the curve's range), exactly per cubic piece.
func pchipIntegral(p []RDPoint, lo, hi float64) float64 {
	n := len(p)
	x := make([]float64, n)
	y := make([]float64, n)
	for i, q := range p {
		x[i], y[i] = q.PSNR, math.Log(q.BPP)
	}
	h := make([]float64, n-1)
	del := make([]float64, n-1)
	for i := 0; i < n-1; i++ {
		h[i] = x[i+1] - x[i]
		del[i] = (y[i+1] - y[i]) / h[i]
	}
	d := make([]float64, n)
	for i := 1; i < n-1; i++ {
		if del[i-1]*del[i] <= 0 {
			continue
		}
		w1, w2 := 2*h[i]+h[i-1], h[i]+2*h[i-1]
		d[i] = (w1 + w2) / (w1/del[i-1] + w2/del[i])
	}
	end := func(h0, h1, d0, d1 float64) float64 {
		v := ((2*h0+h1)*d0 - h0*d1) / (h0 + h1)
		if v*d0 <= 0 {
			return 0
		}
		if d0*d1 <= 0 && math.Abs(v) > math.Abs(3*d0) {
			return 3 * d0
		}
		return v
	}
	if n == 2 {
		d[0], d[1] = del[0], del[0]
	} else {
		d[0] = end(h[0], h[1], del[0], del[1])
		d[n-1] = end(h[n-2], h[n-3], del[n-2], del[n-3])
	}
	total := 0.0
	for i := 0; i < n-1; i++ {
		a, b := math.Max(lo, x[i]), math.Min(hi, x[i+1])
		if b <= a {
			continue
		}
		// Hermite cubic in t = (s − x_i)/h_i; integrate by Simpson on the exact cubic.
		f := func(s float64) float64 {
			t := (s - x[i]) / h[i]
			t2, t3 := t*t, t*t*t
			return (2*t3-3*t2+1)*y[i] + (t3-2*t2+t)*h[i]*d[i] + (-2*t3+3*t2)*y[i+1] + (t3-t2)*h[i]*d[i+1]
		}
		total += (b - a) / 6 * (f(a) + 4*f((a+b)/2) + f(b))
	}
	return total
}
