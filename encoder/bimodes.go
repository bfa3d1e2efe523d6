package encoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder"
)

// BlockModes chooses each 16×16 block's bi-prediction mode (docs/MOTION.md
// "Bi-prediction"; encoder/train/motion.py's block_modes, the same numbers): the luma SADs of
// the plain block compensations on original frames — forward (past, mvf), backward (fut,
// mvb) and their average (f + b + 1) >> 1; a one-sided mode wins only when its SAD·8 is below
// 7·the averaged SAD (averaging two decoded references also averages their coding noise),
// forward before backward. Frames are padded (sides multiples of 16); the compensation is
// decoder.Compensate's. It is BlockModesRD with λ = 0.
func BlockModes(cur, past, fut *decoder.Frame, mvf, mvb []decoder.MV) ([]uint8, error) {
	return BlockModesRD(cur, past, fut, mvf, mvb, 0)
}

// BlockModesRD is BlockModes with each mode's cost raised by lambda (SAD per bit) times
// an estimate of its bits: the vectors it uses (mvBits of their differences from their
// median predictions; an unused vector codes as zeros) and the mode itself (0.5 bit when the
// left and upper blocks have it, 1.5 when one has, 2.5 when neither), decided in raster order.
func BlockModesRD(cur, past, fut *decoder.Frame, mvf, mvb []decoder.MV, lambda int) ([]uint8, error) {
	w, h := cur.W, cur.H
	if past.W != w || past.H != h || fut.W != w || fut.H != h {
		return nil, fmt.Errorf("block modes: frames %dx%d, %dx%d, %dx%d", w, h, past.W, past.H, fut.W, fut.H)
	}
	pf, pb := decoder.NewFrame(w, h), decoder.NewFrame(w, h)
	if err := decoder.Compensate(past, mvf, pf); err != nil {
		return nil, fmt.Errorf("block modes: %w", err)
	}
	if err := decoder.Compensate(fut, mvb, pb); err != nil {
		return nil, fmt.Errorf("block modes: %w", err)
	}
	bw := w / 16
	modes := make([]uint8, len(mvf))
	for i := range modes {
		by, bx := i/bw*16, i%bw*16
		var sf, sb, sa int
		for y := by; y < by+16; y++ {
			for x := bx; x < bx+16; x++ {
				c, a, b := int(cur.Y[y*w+x]), int(pf.Y[y*w+x]), int(pb.Y[y*w+x])
				sf += abs(a - c)
				sb += abs(b - c)
				sa += abs((a+b+1)>>1 - c)
			}
		}
		jf, jb, ja := 8*sf, 8*sb, 7*sa
		if lambda > 0 {
			// Costs in eighths of a bit's worth: 8·λ per bit.
			vf := mvBits(mvDiff(mvf[i], decoder.MVPredict(mvf, bw, i%bw, i/bw)))
			vb := mvBits(mvDiff(mvb[i], decoder.MVPredict(mvb, bw, i%bw, i/bw)))
			jf += 4 * lambda * (2*vf + modeHalfBits(modes, bw, i, decoder.ModeFwd))
			jb += 4 * lambda * (2*vb + modeHalfBits(modes, bw, i, decoder.ModeBwd))
			ja += 4 * lambda * (2*(vf+vb) + modeHalfBits(modes, bw, i, decoder.ModeBi))
		}
		m, best := uint8(decoder.ModeBi), ja
		if jf < best {
			m, best = decoder.ModeFwd, jf
		}
		if jb < best {
			m = decoder.ModeBwd
		}
		modes[i] = m
	}
	return modes, nil
}

func mvDiff(a, b decoder.MV) decoder.MV { return decoder.MV{Y: a.Y - b.Y, X: a.X - b.X} }

// modeHalfBits estimates mode m's code length at block i in half bits from the modes of
// its left and upper blocks (decided before it).
func modeHalfBits(modes []uint8, bw, i int, m uint8) int {
	same, n := 0, 0
	if i%bw > 0 {
		n++
		if modes[i-1] == m {
			same++
		}
	}
	if i >= bw {
		n++
		if modes[i-bw] == m {
			same++
		}
	}
	if n == 0 {
		return 3
	}
	return 1 + 2*(n-same)
}
