// Package stream is the description of an encoded strata stream (stream.json, and the
// packager's quality sidecars of the same form): geometry, frame rate, layers, segments and
// the per-segment quality table. The encoder writes it; the packager, the player and the
// simulator read it.
package stream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-player/strata/decoder"
)

// Info is DIR/stream.json: what a packager or decoder needs to know of an encoded
// stream besides its units.
type Info struct {
	Version      int    `json:"version"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FPSNum       int    `json:"fps_num"`
	FPSDen       int    `json:"fps_den"`
	SubGOP       int    `json:"subgop"`
	Layers       int    `json:"layers"`
	Segments     int    `json:"segments"`
	SegmentFrame int    `json:"segment_frames"`
	Frames       int    `json:"frames"`
	ModelSHA256  string `json:"model_sha256"`
	Quality      []SegQ `json:"quality"`
	// JoinedBytes[n][k-1] is the size of segment n's joined media segment of layers
	// 0..k-1 (written by the packager into its quality sidecars; the exact object a
	// single-request player fetches).
	JoinedBytes [][]int `json:"joined_bytes,omitempty"`
	// Live is set in a live origin's sidecar (live): Quality then covers segments
	// First.. of the origin's window only, Segments counts those published so far, and a
	// row without levels is a segment that was never completed.
	Live *LiveInfo `json:"live,omitempty"`
}

// LiveInfo is the live part of a sidecar.
type LiveInfo struct {
	First int  `json:"first_segment"`
	Ended bool `json:"ended"`
	// Enhance is set when the origin trains an enhancement model online (LiveNAS).
	Enhance *EnhanceInfo `json:"enhance,omitempty"`
}

// EnhanceInfo describes the newest enhancement model a live origin publishes, at
// enhance/model-<Version>.senh: Bytes long, for frames decoded with Layers layers, GainDB
// its measured gain on held-out patches, after Steps of online training (Paused: the
// trainer's gain saturated; Pauses and Resumes count its state changes).
type EnhanceInfo struct {
	Version int     `json:"version"`
	Bytes   int     `json:"bytes"`
	Layers  int     `json:"layers"`
	GainDB  float64 `json:"gain_db"`
	Steps   int     `json:"steps"`
	Paused  bool    `json:"paused"`
	Pauses  int     `json:"pauses"`
	Resumes int     `json:"resumes"`
}

// SegQ is one segment's quality table: entry k-1 is what a client with k layers gets.
type SegQ struct {
	Segment int     `json:"segment"`
	Frames  int     `json:"frames"`
	Levels  []Level `json:"levels"`
}

// Level is the exact outcome of decoding a segment with K layers.
type Level struct {
	Layers  int     `json:"layers"`
	Bytes   int     `json:"bytes"` // units 0..k-1
	PSNRY   float64 `json:"psnr_y"`
	PSNRYUV float64 `json:"psnr_yuv"`
	SSIMY   float64 `json:"ssim_y"`
	WorstY  float64 `json:"worst_psnr_y"` // the segment's worst frame
}

// UnitName is the file name of segment seg's unit l in a stream directory.
func UnitName(seg, l int) string { return fmt.Sprintf("seg%05d.l%d.nvc", seg, l) }

// Read reads DIR/stream.json.
func Read(dir string) (*Info, error) {
	name := filepath.Join(dir, "stream.json")
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, b)
}

// Parse parses a stream description (stream.json, or a packager's quality
// sidecar, which has the same form); name is for errors.
func Parse(name string, b []byte) (*Info, error) {
	var si Info
	if err := json.Unmarshal(b, &si); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if si.Version != decoder.BitstreamVersion || si.Segments < 0 || si.Layers < 1 || si.Width <= 0 || si.Height <= 0 {
		return nil, fmt.Errorf("%s: unsupported or invalid stream description", name)
	}
	return &si, nil
}

// Write writes DIR/stream.json.
func Write(dir string, si *Info) error {
	b, err := json.MarshalIndent(si, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "stream.json"), append(b, '\n'), 0o644)
}
