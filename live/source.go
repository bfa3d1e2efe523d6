package live

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder/packager"
)

// Source is a pre-encoded layered stream a streamer publishes live: per variant, each
// layer's track configuration, every segment's units and its quality row.
type Source struct {
	Variants []*SourceVariant // ascending sub-GOP
}

// SourceVariant is one sub-GOP variant of a Source.
type SourceVariant struct {
	Base  cmaf.Config   // Layer 0's track
	Units [][][]byte    // Units[n][l]: segment n's layer l payload
	Rows  []stream.SegQ // Rows[n]: segment n's quality table
}

// Segments is the source's segment count.
func (s *Source) Segments() int { return len(s.Variants[0].Rows) }

// ReadPackaged reads the variants subGOPs (all when empty) of a packaged presentation
// directory (strata package's output, e.g. assets/demo).
func ReadPackaged(dir string, subGOPs []int) (*Source, error) {
	if len(subGOPs) == 0 {
		names, _ := filepath.Glob(filepath.Join(dir, "quality-s*.json"))
		for _, n := range names {
			var s int
			if _, err := fmt.Sscanf(filepath.Base(n), "quality-s%d.json", &s); err == nil {
				subGOPs = append(subGOPs, s)
			}
		}
	}
	slices.Sort(subGOPs)
	if len(subGOPs) == 0 {
		return nil, fmt.Errorf("live: %s has no quality sidecars (quality-s*.json): not a packaged presentation", dir)
	}
	src := &Source{}
	for _, s := range subGOPs {
		v, err := readVariant(dir, s)
		if err != nil {
			return nil, err
		}
		if len(src.Variants) > 0 && len(v.Rows) != src.Segments() {
			return nil, fmt.Errorf("live: %s: variants with different segment counts", dir)
		}
		src.Variants = append(src.Variants, v)
	}
	return src, nil
}

func readVariant(dir string, s int) (*SourceVariant, error) {
	qname := filepath.Join(dir, packager.QualityName(s))
	b, err := os.ReadFile(qname)
	if err != nil {
		return nil, err
	}
	si, err := stream.Parse(qname, b)
	if err != nil {
		return nil, err
	}
	if si.SubGOP != s || len(si.Quality) != si.Segments || si.Segments < 1 {
		return nil, fmt.Errorf("live: %s: sub-GOP %d, %d rows for %d segments", qname, si.SubGOP, len(si.Quality), si.Segments)
	}
	v := &SourceVariant{Rows: si.Quality, Units: make([][][]byte, si.Segments)}
	for l := 0; l < si.Layers; l++ {
		rep := packager.LayerID(s, l)
		ib, err := os.ReadFile(filepath.Join(dir, rep, packager.InitName))
		if err != nil {
			return nil, err
		}
		cfg, err := cmaf.ParseInit(ib)
		if err != nil {
			return nil, fmt.Errorf("live: %s: %w", rep, err)
		}
		if l == 0 {
			v.Base = cfg
		}
		for n := range v.Units {
			mb, err := os.ReadFile(filepath.Join(dir, rep, packager.MediaName(n+1)))
			if err != nil {
				return nil, err
			}
			num, data, err := cmaf.ParseMedia(cfg, mb)
			if err != nil || int(num) != n {
				return nil, fmt.Errorf("live: %s segment %d: %v (number %d)", rep, n+1, err, num)
			}
			v.Units[n] = append(v.Units[n], data)
		}
	}
	return v, nil
}
