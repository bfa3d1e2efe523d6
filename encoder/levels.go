package encoder

import (
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/stream"
)

// LevelsOf measures every chain of an encoded segment (recon[k-1][f]: frame f with k layers)
// against the original frames and counts the bytes of units 0..k-1. A chain's means leave
// out the frames it lacks (nil: not reconstructed, SegmentEncoder.TopOnlyUnreferenced).
func LevelsOf(recon [][]*decoder.Frame, orig []*decoder.Frame, unitBytes []int) []stream.Level {
	K := len(recon)
	out := make([]stream.Level, K)
	total := 0
	for k := 1; k <= K; k++ {
		total += unitBytes[k-1]
		var y, yuv, ss float64
		worst := 0.0
		n := 0.0
		for f, o := range orig {
			r := recon[k-1][f]
			if r == nil {
				continue
			}
			q := Measure(o, r)
			y += q.PSNRY
			yuv += q.PSNRYUV()
			ss += q.SSIMY
			if n == 0 || q.PSNRY < worst {
				worst = q.PSNRY
			}
			n++
		}
		n = max(n, 1)
		out[k-1] = stream.Level{Layers: k, Bytes: total, PSNRY: y / n, PSNRYUV: yuv / n, SSIMY: ss / n, WorstY: worst}
	}
	return out
}
