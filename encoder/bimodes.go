package encoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/nvc2"
)

// BlockModes chooses each 16×16 block's bi-prediction mode (docs/MOTION.md
// "Bi-prediction"; encoder/train/motion.py's block_modes, the same numbers): the luma SADs of
// the plain block compensations on original frames — forward (past, mvf), backward (fut,
// mvb) and their average (f + b + 1) >> 1; a one-sided mode wins only when its SAD·8 is below
// 7·the averaged SAD (averaging two decoded references also averages their coding noise),
// forward before backward. Frames are padded luma (sides multiples of 16).
func BlockModes(cur, past, fut *decoder.Frame, mvf, mvb []decoder.MV) ([]uint8, error) {
	w, h := cur.W, cur.H
	if w%16 != 0 || h%16 != 0 || past.W != w || past.H != h || fut.W != w || fut.H != h {
		return nil, fmt.Errorf("block modes: frames %dx%d, %dx%d, %dx%d", w, h, past.W, past.H, fut.W, fut.H)
	}
	bw := w / 16
	if len(mvf) != bw*(h/16) || len(mvb) != len(mvf) {
		return nil, fmt.Errorf("block modes: %d and %d vectors for %d blocks", len(mvf), len(mvb), bw*(h/16))
	}
	modes := make([]uint8, len(mvf))
	var pf, pb [256]int
	for i := range modes {
		by, bx := i/bw*16, i%bw*16
		halfBlock(&pf, past.Y, w, h, by, bx, mvf[i])
		halfBlock(&pb, fut.Y, w, h, by, bx, mvb[i])
		var sf, sb, sa int
		for y := 0; y < 16; y++ {
			row := cur.Y[(by+y)*w+bx : (by+y)*w+bx+16]
			for x, v := range row {
				c, a, b := int(v), pf[y*16+x], pb[y*16+x]
				sf += abs(a - c)
				sb += abs(b - c)
				sa += abs((a+b+1)>>1 - c)
			}
		}
		m, best := uint8(nvc2.ModeBi), 7*sa
		if 8*sf < best {
			m, best = nvc2.ModeFwd, 8*sf
		}
		if 8*sb < best {
			m = nvc2.ModeBwd
		}
		modes[i] = m
	}
	return modes, nil
}

// halfBlock is the 16×16 luma block at (by, bx) of p displaced by the half-pel vector v,
// bilinear with integer rounding, reads clamped to the plane (docs/MOTION.md).
func halfBlock(dst *[256]int, p []byte, w, h, by, bx int, v decoder.MV) {
	iy, fy := v.Y>>1, v.Y&1
	ix, fx := v.X>>1, v.X&1
	w00, w01, w10, w11 := (2-fx)*(2-fy), fx*(2-fy), (2-fx)*fy, fx*fy
	at := func(y, x int) int {
		return int(p[min(max(y, 0), h-1)*w+min(max(x, 0), w-1)])
	}
	for y := 0; y < 16; y++ {
		sy := by + iy + y
		for x := 0; x < 16; x++ {
			sx := bx + ix + x
			dst[y*16+x] = (w00*at(sy, sx) + w01*at(sy, sx+1) + w10*at(sy+1, sx) + w11*at(sy+1, sx+1) + 2) >> 2
		}
	}
}
