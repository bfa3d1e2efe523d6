package nvc2

import (
	"fmt"

	"github.com/strata-player/strata/decoder"
)

// Overlapped block motion compensation (docs/MOTION.md, codec v2), integer and exact: the
// same numbers as encoder/train/motion.py's obmc. Each pixel blends the bilinear predictions
// of four vectors — its own 16×16 block's and its neighbours' on the nearer side in each
// direction (the own block again at the frame's edge) — with separable weights in 1/16.
var (
	obmcW16 = [16]int32{10, 12, 14, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 14, 12, 10}
	obmcW8  = [8]int32{10, 14, 16, 16, 16, 16, 14, 10}
)

// OBMC predicts a frame from ref with one half-pel vector per 16×16 luma block (raster
// order); ref's sides must be multiples of 16. out is resized to ref's size.
func OBMC(ref *decoder.Frame, mvs []decoder.MV, out *decoder.Frame) error {
	if ref.W%16 != 0 || ref.H%16 != 0 {
		return fmt.Errorf("obmc: reference %dx%d: sides must be multiples of 16", ref.W, ref.H)
	}
	nbx, nby := ref.W/16, ref.H/16
	if len(mvs) != nbx*nby {
		return fmt.Errorf("obmc: %d vectors for %d blocks", len(mvs), nbx*nby)
	}
	for _, v := range mvs {
		if v.Y < -decoder.MVLimit || v.Y > decoder.MVLimit || v.X < -decoder.MVLimit || v.X > decoder.MVLimit {
			return fmt.Errorf("obmc: vector (%d, %d) outside ±%d", v.Y, v.X, decoder.MVLimit)
		}
	}
	if out.W != ref.W || out.H != ref.H || len(out.Y) != len(ref.Y) {
		*out = *decoder.NewFrame(ref.W, ref.H)
	}
	obmcPlane(ref.Y, ref.W, ref.H, out.Y, 16, obmcW16[:], 2, mvs, nbx, nby)
	obmcPlane(ref.U, ref.W/2, ref.H/2, out.U, 8, obmcW8[:], 4, mvs, nbx, nby)
	obmcPlane(ref.V, ref.W/2, ref.H/2, out.V, 8, obmcW8[:], 4, mvs, nbx, nby)
	return nil
}

type axis struct {
	own, nbr int
	w        int32
}

func axisTable(n, bs, nb int, w []int32) []axis {
	t := make([]axis, n)
	for p := range t {
		own, off := p/bs, p%bs
		nbr := own + 1
		if off < bs/2 {
			nbr = own - 1
		}
		nbr = min(max(nbr, 0), nb-1)
		t[p] = axis{own, nbr, w[off]}
	}
	return t
}

func obmcPlane(src []byte, w, h int, dst []byte, bs int, wt []int32, n int, mvs []decoder.MV, nbx, nby int) {
	ys := axisTable(h, bs, nby, wt)
	xs := axisTable(w, bs, nbx, wt)
	at := func(y, x int) int32 {
		y = min(max(y, 0), h-1)
		x = min(max(x, 0), w-1)
		return int32(src[y*w+x])
	}
	nn := int32(n)
	sample := func(y, x int, v decoder.MV) int32 {
		iy, fy := floorDiv(v.Y, n)
		ix, fx := floorDiv(v.X, n)
		y0, x0 := y+iy, x+ix
		a, b, c, d := at(y0, x0), at(y0, x0+1), at(y0+1, x0), at(y0+1, x0+1)
		fyy, fxx := int32(fy), int32(fx)
		s := (nn-fxx)*(nn-fyy)*a + fxx*(nn-fyy)*b + (nn-fxx)*fyy*c + fxx*fyy*d
		return (s + nn*nn/2) / (nn * nn)
	}
	for y := 0; y < h; y++ {
		ay := ys[y]
		for x := 0; x < w; x++ {
			ax := xs[x]
			var acc int32
			acc += sample(y, x, mvs[ay.own*nbx+ax.own]) * ay.w * ax.w
			acc += sample(y, x, mvs[ay.own*nbx+ax.nbr]) * ay.w * (16 - ax.w)
			acc += sample(y, x, mvs[ay.nbr*nbx+ax.own]) * (16 - ay.w) * ax.w
			acc += sample(y, x, mvs[ay.nbr*nbx+ax.nbr]) * (16 - ay.w) * (16 - ax.w)
			dst[y*w+x] = byte((acc + 128) >> 8)
		}
	}
}

// floorDiv splits v into v = q·n + r with 0 ≤ r < n.
func floorDiv(v, n int) (int, int) {
	q := v / n
	r := v - q*n
	if r < 0 {
		q--
		r += n
	}
	return q, r
}
