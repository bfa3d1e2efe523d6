package decoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder/tensor"
)

// MV is one 16×16 block's motion vector in half-pel luma units (docs/MOTION.md).
type MV struct{ Y, X int }

// MVLimit bounds vector components in half-pel units (±32 luma pixels).
const MVLimit = 64

// interp writes the h×w block at (y0, x0) of plane p (pw×ph) displaced by (mvy, mvx) in
// units of 1/n pel (n = 2 or 4), bilinear with integer rounding; reads outside the plane
// clamp to its edge. dst has stride ds.
func interp(dst []byte, ds int, p []byte, pw, ph, y0, x0, h, w, mvy, mvx, n int) {
	shift := 1
	if n == 4 {
		shift = 2
	}
	iy, fy := mvy>>shift, mvy&(n-1)
	ix, fx := mvx>>shift, mvx&(n-1)
	w00, w01, w10, w11 := (n-fx)*(n-fy), fx*(n-fy), (n-fx)*fy, fx*fy
	round, norm := n*n/2, 2*shift
	sy, sx := y0+iy, x0+ix
	inside := sy >= 0 && sx >= 0 && sy+h < ph && sx+w < pw
	if inside && fx == 0 && fy == 0 { // a whole-sample vector: the block itself
		for y := 0; y < h; y++ {
			copy(dst[y*ds:y*ds+w], p[(sy+y)*pw+sx:])
		}
		return
	}
	for y := 0; y < h; y++ {
		d := dst[y*ds : y*ds+w]
		if inside {
			r0 := p[(sy+y)*pw+sx : (sy+y)*pw+sx+w+1]
			r1 := p[(sy+y+1)*pw+sx : (sy+y+1)*pw+sx+w+1]
			for x := range d {
				d[x] = byte((w00*int(r0[x]) + w01*int(r0[x+1]) + w10*int(r1[x]) + w11*int(r1[x+1]) + round) >> norm)
			}
			continue
		}
		ya, yb := clampi(sy+y, ph), clampi(sy+y+1, ph)
		for x := range d {
			xa, xb := clampi(sx+x, pw), clampi(sx+x+1, pw)
			d[x] = byte((w00*int(p[ya*pw+xa]) + w01*int(p[ya*pw+xb]) + w10*int(p[yb*pw+xa]) + w11*int(p[yb*pw+xb]) + round) >> norm)
		}
	}
}

func clampi(v, n int) int {
	if v < 0 {
		return 0
	}
	if v >= n {
		return n - 1
	}
	return v
}

// Compensate builds the motion-compensated prediction of a frame from ref and one vector
// per 16×16 block in raster order (ref's sides must be multiples of 16). pred must have
// ref's size.
func Compensate(ref *Frame, mvs []MV, pred *Frame) error {
	if err := ref.check(); err != nil {
		return err
	}
	if ref.W%16 != 0 || ref.H%16 != 0 || pred.W != ref.W || pred.H != ref.H {
		return fmt.Errorf("compensate: reference %dx%d and prediction %dx%d must match, sides multiples of 16", ref.W, ref.H, pred.W, pred.H)
	}
	bw, bh := ref.W/16, ref.H/16
	if len(mvs) != bw*bh {
		return fmt.Errorf("compensate: %d vectors for %dx%d blocks", len(mvs), bw, bh)
	}
	for _, v := range mvs {
		if v.Y < -MVLimit || v.Y > MVLimit || v.X < -MVLimit || v.X > MVLimit {
			return fmt.Errorf("compensate: vector (%d, %d) beyond ±%d half-pel", v.Y, v.X, MVLimit)
		}
	}
	cw, ch := ref.W/2, ref.H/2
	tensor.Parallel(bh, func(lo, hi int) {
		for by := lo; by < hi; by++ {
			for bx := 0; bx < bw; bx++ {
				v := mvs[by*bw+bx]
				y0, x0 := by*16, bx*16
				interp(pred.Y[y0*ref.W+x0:], ref.W, ref.Y, ref.W, ref.H, y0, x0, 16, 16, v.Y, v.X, 2)
				interp(pred.U[y0/2*cw+x0/2:], cw, ref.U, cw, ch, y0/2, x0/2, 8, 8, v.Y, v.X, 4)
				interp(pred.V[y0/2*cw+x0/2:], cw, ref.V, cw, ch, y0/2, x0/2, 8, 8, v.Y, v.X, 4)
			}
		}
	})
	return nil
}
