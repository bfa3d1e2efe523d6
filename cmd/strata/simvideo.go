package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/player"
	"github.com/strata-player/strata/player/manifest"
)

// loadStreamVideo turns an encoded (stream.json) or packaged (manifest.mpd) directory into
// the ladder the simulator's single-layer policies decide on: level k is layers 0..k−1.
func loadStreamVideo(dir string, subgop int) (*abr.Video, error) {
	var si *encoder.StreamInfo
	var err error
	if _, statErr := os.Stat(filepath.Join(dir, "stream.json")); statErr == nil {
		si, err = encoder.ReadStreamInfo(dir)
	} else {
		si, err = packagedQuality(dir, subgop)
	}
	if err != nil {
		return nil, err
	}
	if si.Segments == 0 || len(si.Quality) != si.Segments {
		return nil, fmt.Errorf("%s: the quality table lists %d of %d segments", dir, len(si.Quality), si.Segments)
	}
	segS := float64(si.SegmentFrame) * float64(si.FPSDen) / float64(si.FPSNum)
	return abr.LadderFromLayers(filepath.Base(dir), segS, player.CumBytes(si))
}

func packagedQuality(dir string, subgop int) (*encoder.StreamInfo, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.mpd"))
	if err != nil {
		return nil, fmt.Errorf("%s: neither stream.json nor manifest.mpd: %w", dir, err)
	}
	p, err := manifest.Parse(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	v := p.Variants[len(p.Variants)-1]
	if subgop != 0 {
		if v = p.Variant(subgop); v == nil {
			return nil, fmt.Errorf("%s has no sub-GOP %d variant", dir, subgop)
		}
	}
	if v.QualityURL == "" || filepath.IsAbs(v.QualityURL) || !filepath.IsLocal(v.QualityURL) {
		return nil, errors.New(dir + ": the variant's quality table is not a local file")
	}
	tmp, err := os.MkdirTemp("", "strata-quality")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	b, err := os.ReadFile(filepath.Join(dir, v.QualityURL))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "stream.json"), b, 0o644); err != nil {
		return nil, err
	}
	return encoder.ReadStreamInfo(tmp)
}
