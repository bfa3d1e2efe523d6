package encoder

import (
	"errors"
	"math"
	"testing"
)

func curve(scale, shift float64) []RDPoint {
	var p []RDPoint
	for _, b := range []float64{0.05, 0.1, 0.2, 0.4, 0.8} {
		p = append(p, RDPoint{BPP: b * scale, PSNR: 30 + 6*math.Log2(b/0.05) + shift})
	}
	return p
}

func TestBDRate(t *testing.T) {
	for _, f := range []struct {
		name string
		fn   func(a, b []RDPoint) (float64, error)
	}{{"cubic", BDRate}, {"pchip", BDRatePCHIP}} {
		for _, c := range []struct {
			scale, want float64
		}{{1, 0}, {0.9, -10}, {1.25, 25}} {
			got, err := f.fn(curve(1, 0), curve(c.scale, 0))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-c.want) > 1e-6 {
				t.Errorf("%s: rate ×%.2f gives %.6f%%, want %.1f%%", f.name, c.scale, got, c.want)
			}
		}
		// 6 dB per doubling: a curve 6 dB better needs half the rate.
		got, _ := f.fn(curve(1, 0), curve(1, 6))
		if math.Abs(got+50) > 0.5 {
			t.Errorf("%s: +6 dB gives %.3f%%, want about -50%%", f.name, got)
		}
		if _, err := f.fn(curve(1, 0), curve(1, 40)); !errors.Is(err, ErrNoOverlap) {
			t.Errorf("%s: disjoint curves: %v", f.name, err)
		}
	}
}
