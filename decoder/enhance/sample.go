package enhance

import (
	"math/rand/v2"
	"sort"

	"github.com/strata-player/strata/decoder"
)

// Crop is a patch position in a frame.
type Crop struct {
	X, Y, Size int
	// MSE is the decoded crop's mean squared error against the source (luma, 0..255²).
	MSE float64
}

// WorstCrops is LiveNAS's patch sampler: it tiles the frame into size×size crops, ranks
// them by the decoded picture's error against the source, and draws half of the n from
// the 2n worst (the codec handled them worst, so they teach the most) and half from the
// rest (a model that only ever saw the hardest texture over-sharpens the flat parts).
func WorstCrops(src, dec *decoder.Frame, size, n int, r *rand.Rand) []Crop {
	var all []Crop
	// The tiling starts at a random even offset: a static scene's worst tiles would
	// otherwise be the same crops every segment, and an online model fitted to a few
	// places (its validation patches, from the same places, agreeing) loses elsewhere.
	// Even, so an upsampler's patches keep the 2×2 phase of the half-resolution grid.
	ox, oy := 2*r.IntN(max(1, min(size, src.W-size+1)/2)), 2*r.IntN(max(1, min(size, src.H-size+1)/2))
	for y := oy; y+size <= src.H; y += size {
		for x := ox; x+size <= src.W; x += size {
			c := Crop{X: x, Y: y, Size: size}
			sum := 0.0
			for yy := y; yy < y+size; yy++ {
				a, b := src.Y[yy*src.W+x:yy*src.W+x+size], dec.Y[yy*dec.W+x:yy*dec.W+x+size]
				for i := range a {
					d := float64(a[i]) - float64(b[i])
					sum += d * d
				}
			}
			c.MSE = sum / float64(size*size)
			all = append(all, c)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].MSE > all[j].MSE })
	worst := (n + 1) / 2
	pool := all[:min(len(all), 2*worst)]
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out := append([]Crop(nil), pool[:min(worst, len(pool))]...)
	rest := all[len(pool):]
	r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(out, rest[:min(n-len(out), len(rest))]...)
}

// Cut returns the patch at c of a source and decoded frame pair.
func Cut(src, dec *decoder.Frame, c Crop) Patch {
	p := Patch{W: c.Size, H: c.Size, Decoded: make([]byte, c.Size*c.Size), Source: make([]byte, c.Size*c.Size)}
	for y := 0; y < c.Size; y++ {
		copy(p.Source[y*c.Size:(y+1)*c.Size], src.Y[(c.Y+y)*src.W+c.X:])
		copy(p.Decoded[y*c.Size:(y+1)*c.Size], dec.Y[(c.Y+y)*dec.W+c.X:])
	}
	return p
}
