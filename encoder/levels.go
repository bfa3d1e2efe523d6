package encoder

import (
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/stream"
)

// LevelsOf measures every chain of an encoded segment (recon[k-1][f]: frame f with k layers)
// against the original frames and counts the bytes of units 0..k-1. A chain's means leave
// out the frames it lacks (nil).
func LevelsOf(recon [][]*decoder.Frame, orig []*decoder.Frame, unitBytes []int) []stream.Level {
	return levels(recon, nil, orig, unitBytes)
}

// Levels is LevelsOf for e, its lower chains' means weighted by e.Weights (a sample of the
// never-referenced frames standing for the rest, SegmentEncoder.SampleUnreferenced).
func (e *Encoded) Levels(orig []*decoder.Frame, unitBytes []int) []stream.Level {
	return levels(e.Recon, e.Weights, orig, unitBytes)
}

func levels(recon [][]*decoder.Frame, weights []float64, orig []*decoder.Frame, unitBytes []int) []stream.Level {
	K := len(recon)
	out := make([]stream.Level, K)
	total := 0
	for k := 1; k <= K; k++ {
		total += unitBytes[k-1]
		var y, yuv, ss, n float64
		worst := 0.0
		for f, o := range orig {
			r := recon[k-1][f]
			w := 1.0
			if weights != nil && k < K {
				w = weights[f]
			}
			if r == nil || w == 0 {
				continue
			}
			q := Measure(o, r)
			y += w * q.PSNRY
			yuv += w * q.PSNRYUV()
			ss += w * q.SSIMY
			if n == 0 || q.PSNRY < worst {
				worst = q.PSNRY
			}
			n += w
		}
		n = max(n, 1)
		out[k-1] = stream.Level{Layers: k, Bytes: total, PSNRY: y / n, PSNRYUV: yuv / n, SSIMY: ss / n, WorstY: worst}
	}
	return out
}
