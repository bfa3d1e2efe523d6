package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/player"
	"github.com/strata-player/strata/player/manifest"
)

// loadStream turns an encoded (stream.json) or packaged (manifest.mpd) directory into the
// stream the simulators play (level k is layers 0..k−1) and its quality table.
func loadStream(dir string, subgop int) (*abr.Video, *stream.Info, error) {
	var si *stream.Info
	var err error
	if _, statErr := os.Stat(filepath.Join(dir, "stream.json")); statErr == nil {
		si, err = stream.Read(dir)
	} else {
		si, err = packagedQuality(dir, subgop)
	}
	if err != nil {
		return nil, nil, err
	}
	if si.Segments == 0 || len(si.Quality) != si.Segments {
		return nil, nil, fmt.Errorf("%s: the quality table lists %d of %d segments", dir, len(si.Quality), si.Segments)
	}
	segS := float64(si.SegmentFrame) * float64(si.FPSDen) / float64(si.FPSNum)
	v, err := player.LayeredVideo(filepath.Base(dir), si, segS)
	return v, si, err
}

func packagedQuality(dir string, subgop int) (*stream.Info, error) {
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
	name := filepath.Join(dir, v.QualityURL)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return stream.Parse(name, b)
}

// layeredConfig is the layered simulator's configuration from sim's flags; the decode
// speed comes from --decode-fps or from a `strata bench decode --json` file (the entry for
// the stream's sub-GOP size; fps scaled by pixel count when the resolution differs).
func layeredConfig(v *abr.Video, si *stream.Info, fps float64, modelFile string, scale, maxBuf, window float64, decodedBuf bool) (*sim.LayeredConfig, error) {
	if !(fps >= 0 && fps < 1e6) || !(scale > 0 && scale <= 1000) || !(maxBuf > 0 && maxBuf <= 3600) || !(window >= 0 && window <= 3600) {
		return nil, fmt.Errorf("--decode-fps %v, --device-scale %v, --max-buffer %v or --decode-window %v out of range", fps, scale, maxBuf, window)
	}
	if modelFile != "" {
		if fps != 0 {
			return nil, errors.New("give --decode-fps or --decode-model, not both")
		}
		raw, err := os.ReadFile(modelFile)
		if err != nil {
			return nil, err
		}
		results, err := parseBenchJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", modelFile, err)
		}
		if fps, err = decodeFPSFor(results, si.SubGOP, si.Width, si.Height); err != nil {
			return nil, fmt.Errorf("%s: %w", modelFile, err)
		}
	}
	return &sim.LayeredConfig{Video: v, MaxBufferS: maxBuf, DecodeWindowS: window, DecodeFPS: fps * scale, DecodedBuffer: decodedBuf}, nil
}
