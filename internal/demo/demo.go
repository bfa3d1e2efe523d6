// Package demo reads the embedded demo presentation's coded segments directly (no HTTP):
// for benchmarks and for tests that compare a player's output with the decoder's.
package demo

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/strata-player/strata/assets"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/player/manifest"
)

// Segments returns every segment of the demo's sub-GOP s variant with all its layers,
// or none when the demo has no such variant.
func Segments(s int) ([]*decoder.Segment, error) {
	fsys := assets.Demo()
	raw, err := fs.ReadFile(fsys, "manifest.mpd")
	if err != nil {
		return nil, err
	}
	p, err := manifest.Parse(raw, nil)
	if err != nil {
		return nil, err
	}
	v := p.Variant(s)
	if v == nil {
		return nil, nil
	}
	var segs []*decoder.Segment
	for n := 0; n < p.Segments; n++ {
		var units [][]byte
		for _, rep := range v.Layers {
			init, err := fs.ReadFile(fsys, path.Clean(rep.InitURL()))
			if err != nil {
				return nil, err
			}
			cfg, err := cmaf.ParseInit(init)
			if err != nil {
				return nil, err
			}
			b, err := fs.ReadFile(fsys, path.Clean(rep.MediaURL(n)))
			if err != nil {
				return nil, err
			}
			_, data, err := cmaf.ParseMedia(cfg, b)
			if err != nil {
				return nil, fmt.Errorf("%s segment %d: %w", rep.ID, n, err)
			}
			units = append(units, data)
		}
		seg, err := ParseUnits(units)
		if err != nil {
			return nil, err
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

// ParseUnits parses a segment's units, base first.
func ParseUnits(units [][]byte) (*decoder.Segment, error) {
	seg, err := decoder.ParseBaseUnit(units[0])
	if err != nil {
		return nil, err
	}
	for _, u := range units[1:] {
		if err := seg.AddUnit(u); err != nil {
			return nil, err
		}
	}
	return seg, nil
}
