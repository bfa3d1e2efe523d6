package encoder

import (
	"math/rand/v2"
	"testing"
)

// TestSADKernels: the SSE2 kernels equal the portable loops on random planes, for every
// block size, every half-pel phase and vectors reaching into the margins.
func TestSADKernels(t *testing.T) {
	if !asmSAD {
		t.Skip("no SAD kernels off amd64")
	}
	r := rand.New(rand.NewPCG(5, 6))
	const w, h = 64, 48
	src := func() plane {
		y := make([]byte, w*h)
		for i := range y {
			y[i] = byte(r.IntN(256))
		}
		return newPlane(y, w, h, margins[0])
	}
	for trial := 0; trial < 200; trial++ {
		cur, ref := src(), src()
		for _, n := range []int{4, 8, 16} {
			cy, cx := r.IntN(h/n)*n, r.IntN(w/n)*n
			ry, rx := cy+r.IntN(2*margins[0]-n)-margins[0]+n/2, cx+r.IntN(2*margins[0]-n)-margins[0]+n/2
			ry, rx = min(max(ry, -margins[0]), h+margins[0]-n), min(max(rx, -margins[0]), w+margins[0]-n)
			if got, want := sad(&cur, &ref, cy, cx, ry, rx, n), sadPortable(&cur, &ref, cy, cx, ry, rx, n); got != want {
				t.Fatalf("n=%d at (%d,%d) vs (%d,%d): SAD %d, portable %d", n, cy, cx, ry, rx, got, want)
			}
		}
		by, bx := r.IntN(h/16)*16, r.IntN(w/16)*16
		hy, hx := r.IntN(61)-30, r.IntN(61)-30
		if got, want := halfSAD(&cur, &ref, by, bx, hy, hx), halfSADPortable(&cur, &ref, by, bx, hy, hx); got != want {
			t.Fatalf("half-pel (%d,%d) at (%d,%d): SAD %d, portable %d", hy, hx, by, bx, got, want)
		}
	}
}
