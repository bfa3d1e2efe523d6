package encoder

import (
	"math"

	"github.com/strata-player/strata/decoder"
)

// planeMSE is the mean squared error over the w×h top-left area of two planes.
func planeMSE(a []byte, as int, b []byte, bs int, w, h int) float64 {
	var s float64
	for y := 0; y < h; y++ {
		ra, rb := a[y*as:y*as+w], b[y*bs:y*bs+w]
		for x := range ra {
			d := float64(int(ra[x]) - int(rb[x]))
			s += d * d
		}
	}
	return s / float64(w*h)
}

// PSNR is 10·log10(255²/mse), capped at 100 dB for identical planes.
func PSNR(mse float64) float64 {
	if mse <= 1e-10 {
		return 100
	}
	return 10 * math.Log10(255*255/mse)
}

// FrameQuality compares the display area (orig's size) of a reconstruction at coded size.
type FrameQuality struct {
	PSNRY, PSNRU, PSNRV, SSIMY float64
}

// PSNRYUV is the (6·Y + U + V)/8 weighting of docs (../shared/docs/CODEC.md).
func (q FrameQuality) PSNRYUV() float64 { return (6*q.PSNRY + q.PSNRU + q.PSNRV) / 8 }

// Measure compares rec (coded size ≥ orig's) with orig over orig's area.
func Measure(orig, rec *decoder.Frame) FrameQuality {
	w, h := orig.W, orig.H
	return FrameQuality{
		PSNRY: PSNR(planeMSE(orig.Y, w, rec.Y, rec.W, w, h)),
		PSNRU: PSNR(planeMSE(orig.U, w/2, rec.U, rec.W/2, w/2, h/2)),
		PSNRV: PSNR(planeMSE(orig.V, w/2, rec.V, rec.W/2, w/2, h/2)),
		SSIMY: SSIM(orig.Y, w, rec.Y, rec.W, w, h),
	}
}

// SSIM is the mean structural similarity (Wang et al. 2004) of 8×8 luma windows on a
// 4-pixel grid, as ffmpeg's ssim filter computes it.
func SSIM(a []byte, as int, b []byte, bs int, w, h int) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	var sum float64
	n := 0
	for y := 0; y+8 <= h; y += 4 {
		for x := 0; x+8 <= w; x += 4 {
			var sa, sb, saa, sbb, sab float64
			for j := 0; j < 8; j++ {
				ra, rb := a[(y+j)*as+x:], b[(y+j)*bs+x:]
				for i := 0; i < 8; i++ {
					va, vb := float64(ra[i]), float64(rb[i])
					sa += va
					sb += vb
					saa += va * va
					sbb += vb * vb
					sab += va * vb
				}
			}
			const m = 64.0
			ma, mb := sa/m, sb/m
			va := saa/m - ma*ma
			vb := sbb/m - mb*mb
			cov := sab/m - ma*mb
			sum += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}
