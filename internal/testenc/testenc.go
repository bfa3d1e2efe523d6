// Package testenc writes small real encoded streams (strata encode's directory layout) for
// tests of the packager, the origin and the player.
package testenc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder"
)

// Synthetic returns n frames of a w×h moving test pattern.
func Synthetic(w, h, n int) []*decoder.Frame {
	frames := make([]*decoder.Frame, n)
	for i := range frames {
		f := decoder.NewFrame(w, h)
		for j := range f.Y {
			x, y := j%w, j/w
			f.Y[j] = byte((x+2*i)*5 ^ (y+i)*3)
		}
		for j := range f.U {
			f.U[j], f.V[j] = byte(100+j%9+i), byte(140-j%7)
		}
		frames[i] = f
	}
	return frames
}

// EncodeDir encodes frames with sub-GOP s, `layers` layers and segments of segFrames
// frames into a new temporary directory and returns it with the encoder's output per segment.
func EncodeDir(t testing.TB, m *decoder.Model, frames []*decoder.Frame, s, layers, segFrames int) (string, []*encoder.Encoded) {
	t.Helper()
	dir := t.TempDir()
	enc := &encoder.SegmentEncoder{Model: m, S: s, Layers: layers}
	si := &stream.Info{Version: decoder.BitstreamVersion, Width: frames[0].W, Height: frames[0].H, FPSNum: 25, FPSDen: 1,
		SubGOP: s, Layers: layers, SegmentFrame: segFrames, ModelSHA256: m.SHA256}
	var outs []*encoder.Encoded
	for seg := 0; seg*segFrames < len(frames); seg++ {
		batch := frames[seg*segFrames : min((seg+1)*segFrames, len(frames))]
		e, err := enc.Encode(batch, uint32(seg))
		if err != nil {
			t.Fatal(err)
		}
		sizes := make([]int, layers)
		for l := 0; l < layers; l++ {
			u, err := e.Segment.AppendUnit(nil, l)
			if err != nil {
				t.Fatal(err)
			}
			sizes[l] = len(u)
			if err := os.WriteFile(filepath.Join(dir, stream.UnitName(seg, l)), u, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		si.Quality = append(si.Quality, stream.SegQ{Segment: seg, Frames: len(batch), Levels: encoder.LevelsOf(e.Recon, batch, sizes)})
		si.Frames += len(batch)
		si.Segments++
		outs = append(outs, e)
	}
	if err := stream.Write(dir, si); err != nil {
		t.Fatal(err)
	}
	return dir, outs
}
