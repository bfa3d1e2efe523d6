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

// ladder is the single-layer view the classic policies decide on: level k−1 is "layers
// 0..k−1", sized by the quality table's bytes per segment, rated by their mean bitrate.
func ladder(si *encoder.StreamInfo, segS float64) *abr.Video {
	K := len(si.Quality[0].Levels)
	v := &abr.Video{Name: "stream", ChunkS: segS, Chunks: len(si.Quality)}
	for k := 0; k < K; k++ {
		sizes := make([]int64, len(si.Quality))
		var sum float64
		for n, q := range si.Quality {
			sizes[n] = int64(q.Levels[k].Bytes)
			sum += float64(q.Levels[k].Bytes)
		}
		v.BitratesKbps = append(v.BitratesKbps, sum*8/segS/1000/float64(len(sizes)))
		v.Sizes = append(v.Sizes, sizes)
	}
	return v
}
