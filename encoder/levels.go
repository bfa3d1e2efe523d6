package encoder

import (
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/stream"
)

// LevelsOf measures every chain of an encoded segment against the original frames and
// counts the bytes of units 0..k-1.
func LevelsOf(e *Encoded, orig []*decoder.Frame, unitBytes []int) []stream.Level {
	K := len(e.Recon)
	out := make([]stream.Level, K)
	total := 0
	for k := 1; k <= K; k++ {
		total += unitBytes[k-1]
		var y, yuv, ss float64
		for f, o := range orig {
			q := Measure(o, e.Recon[k-1][f])
			y += q.PSNRY
			yuv += q.PSNRYUV()
			ss += q.SSIMY
		}
		n := float64(len(orig))
		out[k-1] = stream.Level{Layers: k, Bytes: total, PSNRY: y / n, PSNRYUV: yuv / n, SSIMY: ss / n}
	}
	return out
}
