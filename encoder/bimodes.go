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
// forward before backward. Frames are padded (sides multiples of 16); the compensation is
// decoder.Compensate's.
func BlockModes(cur, past, fut *decoder.Frame, mvf, mvb []decoder.MV) ([]uint8, error) {
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
