package player

import (
	"encoding/json"
	"fmt"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/encoder"
)

// parseQuality reads a quality sidecar (the stream.json that strata encode wrote).
func parseQuality(b []byte, segments, layers int) (*encoder.StreamInfo, error) {
	var si encoder.StreamInfo
	if err := json.Unmarshal(b, &si); err != nil {
		return nil, fmt.Errorf("quality table: %w", err)
	}
	if len(si.Quality) != segments {
		return nil, fmt.Errorf("quality table has %d segments, the MPD %d", len(si.Quality), segments)
	}
	for i, q := range si.Quality {
		if len(q.Levels) != layers {
			return nil, fmt.Errorf("quality table segment %d has %d levels, want %d", i, len(q.Levels), layers)
		}
	}
	return &si, nil
}

// ladder is the single-layer view the classic policies decide on (abr.LadderFromLayers).
func ladder(si *encoder.StreamInfo, segS float64) (*abr.Video, error) {
	return abr.LadderFromLayers("stream", segS, CumBytes(si))
}

// CumBytes lists, per segment, the bytes of layers 0..k−1 for every k: the joined objects'
// sizes when the packager recorded them, else the units' sizes.
func CumBytes(si *encoder.StreamInfo) [][]int64 {
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
