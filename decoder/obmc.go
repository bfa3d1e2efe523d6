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

// obmcPlane predicts one plane quadrant by quadrant: the pixels of a block's quadrant
// (bs/2 × bs/2) all blend the same four blocks — their own, the horizontal and vertical
// neighbours on the quadrant's side and the diagonal one (clamped to the frame) — so each
// of the four predictions is a displaced bilinear block (interp), and the blend weights
// depend only on the pixel's offset in its block. When the four blocks predict alike (same
// vectors and modes), the weights sum to 256 and the prediction is the block itself.
func obmcPlane(src, srcB []byte, w, h int, dst []byte, bs int, wt []int32, n int, f *field) {
	half := bs / 2
	var pred [4][64]byte // half × half ≤ 8 × 8
	var blk [4]int
	for by := 0; by < f.nby; by++ {
		for bx := 0; bx < f.nbx; bx++ {
			for q := 0; q < 4; q++ {
				qy, qx := q>>1, q&1
				ny, nx := min(max(by+2*qy-1, 0), f.nby-1), min(max(bx+2*qx-1, 0), f.nbx-1)
				blk = [4]int{by*f.nbx + bx, by*f.nbx + nx, ny*f.nbx + bx, ny*f.nbx + nx}
				y0, x0 := by*bs+qy*half, bx*bs+qx*half
				d := dst[y0*w+x0:]
				if f.alike(blk) {
					f.predict(d, w, src, srcB, w, h, y0, x0, half, n, blk[0])
					continue
				}
				for i, b := range blk {
					f.predict(pred[i][:], half, src, srcB, w, h, y0, x0, half, n, b)
				}
				wy, wx := wt[qy*half:qy*half+half], wt[qx*half:qx*half+half]
				for y := 0; y < half; y++ {
					a, c := wy[y], 16-wy[y]
					row := d[y*w : y*w+half]
					p0, p1, p2, p3 := pred[0][y*half:y*half+half], pred[1][y*half:y*half+half], pred[2][y*half:y*half+half], pred[3][y*half:y*half+half]
					for x := range row {
						b, e := wx[x], 16-wx[x]
						acc := int32(p0[x])*a*b + int32(p1[x])*a*e + int32(p2[x])*c*b + int32(p3[x])*c*e
						row[x] = byte((acc + 128) >> 8)
					}
				}
			}
		}
	}
}

// alike reports whether the four blocks predict the same way (same mode and vectors).
func (f *field) alike(b [4]int) bool {
	for _, o := range b[1:] {
		if f.mvf[o] != f.mvf[b[0]] {
			return false
		}
		if f.modes != nil && (f.modes[o] != f.modes[b[0]] || f.mvb[o] != f.mvb[b[0]]) {
			return false
		}
	}
	return true
}

// predict writes block blk's prediction of the size × size pixels at (y0, x0) into dst
// (stride ds): bilinear from the past reference, the future one, or their rounded mean,
// by the block's mode. n is the vectors' units per pel (2 luma, 4 chroma).
func (f *field) predict(dst []byte, ds int, src, srcB []byte, w, h, y0, x0, size, n, blk int) {
	mode := uint8(ModeFwd)
	if f.modes != nil {
		mode = f.modes[blk]
	}
	switch mode {
	case ModeFwd:
		v := f.mvf[blk]
		interp(dst, ds, src, w, h, y0, x0, size, size, v.Y, v.X, n)
	case ModeBwd:
		v := f.mvb[blk]
		interp(dst, ds, srcB, w, h, y0, x0, size, size, v.Y, v.X, n)
	default:
		var b [64]byte
		v, u := f.mvf[blk], f.mvb[blk]
		interp(dst, ds, src, w, h, y0, x0, size, size, v.Y, v.X, n)
		interp(b[:], size, srcB, w, h, y0, x0, size, size, u.Y, u.X, n)
		for y := 0; y < size; y++ {
			r := dst[y*ds : y*ds+size]
			for x := range r {
				r[x] = byte((int(r[x]) + int(b[y*size+x]) + 1) >> 1)
			}
		}
	}
}
