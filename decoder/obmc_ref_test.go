package decoder

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The straightforward per-pixel form of overlapped block motion compensation
// (docs/MOTION.md), as encoder/train/motion.py computes it: the reference that obmcPlane's
// quadrant form must equal byte for byte.

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

func obmcPlaneRef(src, srcB []byte, w, h int, dst []byte, bs int, wt []int32, n int, f *field) {
	ys := axisTable(h, bs, f.nby, wt)
	xs := axisTable(w, bs, f.nbx, wt)
	nn := int32(n)
	sample := func(p []byte, y, x int, v MV) int32 {
		iy, fy := floorDiv(v.Y, n)
		ix, fx := floorDiv(v.X, n)
		y0, x0 := y+iy, x+ix
		at := func(y, x int) int32 {
			y = min(max(y, 0), h-1)
			x = min(max(x, 0), w-1)
			return int32(p[y*w+x])
		}
		a, b, c, d := at(y0, x0), at(y0, x0+1), at(y0+1, x0), at(y0+1, x0+1)
		fyy, fxx := int32(fy), int32(fx)
		s := (nn-fxx)*(nn-fyy)*a + fxx*(nn-fyy)*b + (nn-fxx)*fyy*c + fxx*fyy*d
		return (s + nn*nn/2) / (nn * nn)
	}
	value := func(y, x, blk int) int32 {
		if f.modes == nil {
			return sample(src, y, x, f.mvf[blk])
		}
		switch f.modes[blk] {
		case ModeFwd:
			return sample(src, y, x, f.mvf[blk])
		case ModeBwd:
			return sample(srcB, y, x, f.mvb[blk])
		}
		return (sample(src, y, x, f.mvf[blk]) + sample(srcB, y, x, f.mvb[blk]) + 1) >> 1
	}
	nbx := f.nbx
	for y := 0; y < h; y++ {
		ay := ys[y]
		for x := 0; x < w; x++ {
			ax := xs[x]
			var acc int32
			acc += value(y, x, ay.own*nbx+ax.own) * ay.w * ax.w
			acc += value(y, x, ay.own*nbx+ax.nbr) * ay.w * (16 - ax.w)
			acc += value(y, x, ay.nbr*nbx+ax.own) * (16 - ay.w) * ax.w
			acc += value(y, x, ay.nbr*nbx+ax.nbr) * (16 - ay.w) * (16 - ax.w)
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

// TestOBMCQuadrantsEqualPerPixel: random frames (1×1 to 5×4 blocks), vectors anywhere in
// ±MVLimit (most pointing out of the frame somewhere), fields with runs of equal vectors,
// every block mode: the quadrant form equals the per-pixel reference in every plane.
func TestOBMCQuadrantsEqualPerPixel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		nbx, nby := 1+r.IntN(5), 1+r.IntN(4)
		w, h := 16*nbx, 16*nby
		past, fut := NewFrame(w, h), NewFrame(w, h)
		for _, p := range [][]byte{past.Y, past.U, past.V, fut.Y, fut.U, fut.V} {
			for i := range p {
				p[i] = byte(r.IntN(256))
			}
		}
		vec := func() MV {
			if r.IntN(3) == 0 { // small vectors: mostly inside
				return MV{Y: r.IntN(9) - 4, X: r.IntN(9) - 4}
			}
			return MV{Y: r.IntN(2*MVLimit+1) - MVLimit, X: r.IntN(2*MVLimit+1) - MVLimit}
		}
		blocks := nbx * nby
		mvf, mvb, modes := make([]MV, blocks), make([]MV, blocks), make([]uint8, blocks)
		for i := range mvf {
			if i > 0 && r.IntN(2) == 0 { // runs of equal motion (the alike shortcut)
				mvf[i], mvb[i], modes[i] = mvf[i-1], mvb[i-1], modes[i-1]
				continue
			}
			mvf[i], mvb[i], modes[i] = vec(), vec(), uint8(r.IntN(3))
		}
		bi := trial%2 == 1
		var got Frame
		var err error
		if bi {
			err = OBMCBi(past, fut, mvf, mvb, modes, &got)
		} else {
			err = OBMC(past, mvf, &got)
		}
		if err != nil {
			t.Fatal(err)
		}
		f := field{mvf: mvf, nbx: nbx, nby: nby}
		var fy, fu, fv []byte
		if bi {
			f.mvb, f.modes = mvb, modes
			fy, fu, fv = fut.Y, fut.U, fut.V
		}
		want := NewFrame(w, h)
		obmcPlaneRef(past.Y, fy, w, h, want.Y, 16, obmcW16[:], 2, &f)
		obmcPlaneRef(past.U, fu, w/2, h/2, want.U, 8, obmcW8[:], 4, &f)
		obmcPlaneRef(past.V, fv, w/2, h/2, want.V, 8, obmcW8[:], 4, &f)
		for i, p := range [][2][]byte{{got.Y, want.Y}, {got.U, want.U}, {got.V, want.V}} {
			if !bytes.Equal(p[0], p[1]) {
				t.Fatalf("trial %d (%dx%d blocks, bi %v): plane %d differs from the per-pixel reference", trial, nbx, nby, bi, i)
			}
		}
	}
}
