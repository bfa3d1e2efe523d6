package player

import (
	"fmt"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder/stream"
)

// parseQuality reads a quality sidecar (the stream.json that strata encode wrote).
func parseQuality(b []byte, segments, layers int) (*stream.Info, error) {
	si, err := stream.Parse("quality table", b)
	if err != nil {
		return nil, err
	}
	if len(si.Quality) != segments {
		return nil, fmt.Errorf("quality table has %d segments, the MPD %d", len(si.Quality), segments)
	}
	for i, q := range si.Quality {
		if len(q.Levels) != layers {
			return nil, fmt.Errorf("quality table segment %d has %d levels, want %d", i, len(q.Levels), layers)
		}
	}
	return si, nil
}

// ladder is the single-layer view the classic policies decide on (abr.LadderFromLayers).
func ladder(si *stream.Info, segS float64) (*abr.Video, error) {
	return LayeredVideo("stream", si, segS)
}

// LayeredVideo is the stream as the ABR policies and the layered simulator see it: the
// ladder of joined objects, each layer's size as an upgrade request and the decoded
// quality of every layer count. An upgrade's size is its units plus the container bytes a
// media segment adds (measured on the joined base object when the packager recorded it).
func LayeredVideo(name string, si *stream.Info, segS float64) (*abr.Video, error) {
	cum := CumBytes(si)
	layer := make([][]int64, len(si.Quality))
	psnr := make([][]float64, len(si.Quality))
	frames := make([]int, len(si.Quality))
	for n, q := range si.Quality {
		frames[n] = q.Frames
		over := int64(0)
		if len(q.Levels) > 0 && len(cum[n]) > 0 {
			over = max(cum[n][0]-int64(q.Levels[0].Bytes), 0)
		}
		prev := 0
		for _, l := range q.Levels {
			layer[n] = append(layer[n], int64(l.Bytes-prev)+over)
			psnr[n] = append(psnr[n], l.PSNRY)
			prev = l.Bytes
		}
	}
	if si.FPSDen <= 0 {
		return nil, fmt.Errorf("stream %s: frame rate %d/%d", name, si.FPSNum, si.FPSDen)
	}
	return abr.NewLayeredVideo(name, segS, cum, layer, psnr, frames, float64(si.FPSNum)/float64(si.FPSDen))
}

// CumBytes lists, per segment, the bytes of layers 0..k−1 for every k: the joined objects'
// sizes when the packager recorded them, else the units' sizes.
func CumBytes(si *stream.Info) [][]int64 {
	out := make([][]int64, len(si.Quality))
	for n, q := range si.Quality {
		for k, l := range q.Levels {
			b := l.Bytes
			if n < len(si.JoinedBytes) && k < len(si.JoinedBytes[n]) {
				b = si.JoinedBytes[n][k]
			}
			out[n] = append(out[n], int64(b))
		}
	}
	return out
}
