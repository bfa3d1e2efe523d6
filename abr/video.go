package abr

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Video is what the network model and the policies know of a stream: the bitrate ladder,
// the chunk length and every chunk's size at every quality.
type Video struct {
	Name         string
	BitratesKbps []float64 // ascending; index = quality
	ChunkS       float64
	// Sizes[q][i] is chunk i's size in bytes at quality q. It may hold more entries than
	// Chunks (Pensieve's envivio files have 49 for 48 simulated chunks; robustMPC's
	// one-ahead look-up reads the extra one).
	Sizes [][]int64
	// SizeFunc, if set, replaces Sizes (a long stream whose sizes are computed, e.g. the
	// daemon's nominal ladder: memory independent of the stream's length).
	SizeFunc func(q, i int) int64
	Chunks   int
	// Layers describes a layered stream (nil for single-layer videos such as envivio).
	Layers *Layered
}

// EnvivioBitratesKbps is the ladder of Pensieve's envivio benchmark video.
var EnvivioBitratesKbps = []float64{300, 750, 1200, 1850, 2850, 4300}

// EnvivioChunks is how many chunks of the envivio video Pensieve simulates.
const EnvivioChunks = 48

// LoadEnvivio reads Pensieve's envivio chunk sizes from dir/video_size_{0..5} (one size
// per line; the first field counts).
func LoadEnvivio(dir string) (*Video, error) {
	v := &Video{Name: "envivio", BitratesKbps: EnvivioBitratesKbps, ChunkS: 4, Chunks: EnvivioChunks}
	for q := range v.BitratesKbps {
		path := filepath.Join(dir, fmt.Sprintf("video_size_%d", q))
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sizes, err := ParseSizes(path, data)
		if err != nil {
			return nil, err
		}
		v.Sizes = append(v.Sizes, sizes)
	}
	return v, v.Validate()
}

// ParseSizes parses one chunk size in bytes per line (further fields are ignored).
func ParseSizes(name string, data []byte) ([]int64, error) {
	var out []int64
	line := 0
	for l := range bytes.Lines(data) {
		line++
		f := bytes.Fields(l)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s:%d: want a positive chunk size in bytes, got %q", name, line, clip(f[0]))
		}
		out = append(out, n)
	}
	return out, nil
}

// Validate checks the ladder and the size table (or that SizeFunc stands in for it).
func (v *Video) Validate() error {
	if len(v.BitratesKbps) == 0 || (v.SizeFunc == nil && len(v.Sizes) != len(v.BitratesKbps)) {
		return fmt.Errorf("video %s: %d bitrates but %d size lists", v.Name, len(v.BitratesKbps), len(v.Sizes))
	}
	for q := 1; q < len(v.BitratesKbps); q++ {
		if !(v.BitratesKbps[q] > v.BitratesKbps[q-1]) {
			return fmt.Errorf("video %s: bitrates must ascend", v.Name)
		}
	}
	if v.BitratesKbps[0] <= 0 || !(v.ChunkS > 0) || v.Chunks <= 0 {
		return fmt.Errorf("video %s: bitrates, chunk length and chunk count must be positive", v.Name)
	}
	if v.SizeFunc != nil {
		return nil
	}
	for q, s := range v.Sizes {
		if len(s) < v.Chunks {
			return fmt.Errorf("video %s: quality %d has %d sizes, need %d", v.Name, q, len(s), v.Chunks)
		}
	}
	return nil
}

// Size is chunk i's size at quality q, or 0 outside the table (as mpc.py's get_chunk_size).
func (v *Video) Size(q, i int) int64 {
	if v.SizeFunc != nil {
		return v.SizeFunc(q, i)
	}
	if i < 0 || i >= len(v.Sizes[q]) {
		return 0
	}
	return v.Sizes[q][i]
}

// LadderFromLayers builds the single-layer view of a layered stream that classic policies
// decide on: quality k−1 is "layers 0..k−1", whose size for segment n is cumBytes[n][k−1]
// (the bytes of layers 0..k−1) and whose bitrate is the mean over segments.
func LadderFromLayers(name string, segS float64, cumBytes [][]int64) (*Video, error) {
	if len(cumBytes) == 0 || len(cumBytes[0]) == 0 || !(segS > 0) {
		return nil, fmt.Errorf("video %s: no segments or layers", name)
	}
	K := len(cumBytes[0])
	v := &Video{Name: name, ChunkS: segS, Chunks: len(cumBytes)}
	for k := 0; k < K; k++ {
		sizes := make([]int64, len(cumBytes))
		var sum float64
		for n, seg := range cumBytes {
			if len(seg) != K {
				return nil, fmt.Errorf("video %s: segment %d has %d layers, want %d", name, n, len(seg), K)
			}
			sizes[n] = seg[k]
			sum += float64(seg[k])
		}
		v.BitratesKbps = append(v.BitratesKbps, sum*8/segS/1000/float64(len(sizes)))
		v.Sizes = append(v.Sizes, sizes)
	}
	return v, v.Validate()
}

// clip shortens a field quoted in an error message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
