package decoder

import (
	"fmt"
)

// Overlapped block motion compensation (docs/MOTION.md), integer and exact: the
// same numbers as encoder/train/motion.py's obmc. Each pixel blends the bilinear predictions
// of four vectors — its own 16×16 block's and its neighbours' on the nearer side in each
// direction (the own block again at the frame's edge) — with separable weights in 1/16.
var (
	obmcW16 = [16]int32{10, 12, 14, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 14, 12, 10}
	obmcW8  = [8]int32{10, 14, 16, 16, 16, 16, 14, 10}
)

// Block modes of a bi-predicted frame (docs/MOTION.md "Bi-prediction"): per 16×16 block, the
// past reference alone, the future reference alone, or both: (forward + backward + 1) >> 1.
const (
	ModeFwd = 0
	ModeBwd = 1
	ModeBi  = 2
)

// OBMC predicts a frame from ref with one half-pel vector per 16×16 luma block (raster
// order); ref's sides must be multiples of 16. out is resized to ref's size.
func OBMC(ref *Frame, mvs []MV, out *Frame) error {
	return OBMCBi(ref, nil, mvs, nil, nil, out)
}

// OBMCBi bi-predicts a frame from past and fut: per 16×16 block a mode (ModeFwd, ModeBwd,
// ModeBi) and a vector into each reference (mvf into past, mvb into fut). With fut == nil
// (and mvb, modes nil) it is OBMC from past alone.
func OBMCBi(past, fut *Frame, mvf, mvb []MV, modes []uint8, out *Frame) error {
	ref := past
	if ref.W%16 != 0 || ref.H%16 != 0 {
		return fmt.Errorf("obmc: reference %dx%d: sides must be multiples of 16", ref.W, ref.H)
	}
	nbx, nby := ref.W/16, ref.H/16
	if err := checkMVs(mvf, nbx*nby); err != nil {
		return err
	}
	if fut != nil {
		if fut.W != ref.W || fut.H != ref.H {
			return fmt.Errorf("obmc: references %dx%d and %dx%d", ref.W, ref.H, fut.W, fut.H)
		}
		if err := checkMVs(mvb, nbx*nby); err != nil {
			return err
		}
		if len(modes) != nbx*nby {
			return fmt.Errorf("obmc: %d modes for %d blocks", len(modes), nbx*nby)
		}
		for _, m := range modes {
			if m > ModeBi {
				return fmt.Errorf("obmc: block mode %d", m)
			}
		}
	} else if modes != nil || mvb != nil {
		return fmt.Errorf("obmc: backward vectors or modes without a future reference")
	}
	if out.W != ref.W || out.H != ref.H || len(out.Y) != len(ref.Y) {
		*out = *NewFrame(ref.W, ref.H)
	}
	var fy, fu, fv []byte
	if fut != nil {
		fy, fu, fv = fut.Y, fut.U, fut.V
	}
	f := field{mvf: mvf, mvb: mvb, modes: modes, nbx: nbx, nby: nby}
	obmcPlane(ref.Y, fy, ref.W, ref.H, out.Y, 16, obmcW16[:], 2, &f)
	obmcPlane(ref.U, fu, ref.W/2, ref.H/2, out.U, 8, obmcW8[:], 4, &f)
	obmcPlane(ref.V, fv, ref.W/2, ref.H/2, out.V, 8, obmcW8[:], 4, &f)
	return nil
}

func checkMVs(mvs []MV, blocks int) error {
	if len(mvs) != blocks {
		return fmt.Errorf("obmc: %d vectors for %d blocks", len(mvs), blocks)
	}
	for _, v := range mvs {
		if v.Y < -MVLimit || v.Y > MVLimit || v.X < -MVLimit || v.X > MVLimit {
			return fmt.Errorf("obmc: vector (%d, %d) outside ±%d", v.Y, v.X, MVLimit)
		}
	}
	return nil
}

// field is a frame's motion: forward vectors, and for bi-predicted frames backward vectors
// and block modes (nil otherwise).
type field struct {
	mvf, mvb []MV
	modes    []uint8
	nbx, nby int
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

func obmcPlane(src, srcB []byte, w, h int, dst []byte, bs int, wt []int32, n int, f *field) {
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
