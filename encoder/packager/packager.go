// Package packager turns encoded streams (strata encode's directories, one per sub-GOP
// variant) into CMAF + DASH: per variant one Representation per layer chained with
// @dependencyId, joined Representations (layers 0..k−1 in one object), a SupplementalProperty
// naming the sub-GOP size, and the quality table as a sidecar the MPD references
// (docs/PACKAGING.md).
package packager

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/stream"
)

// Scheme URIs of our MPD descriptors.
const (
	SubGOPScheme  = "urn:strata:subgop:2026"
	QualityScheme = "urn:strata:quality:2026"
	Codecs        = "nvc1"
)

// JoinedMode says how joined Representations (layers 0..k−1 in one object) are provided.
type JoinedMode int

// Joined modes.
const (
	// JoinedNone leaves joined Representations out of the MPD.
	JoinedNone JoinedMode = iota
	// JoinedFiles writes their media segments (the layers are stored twice or more).
	JoinedFiles
	// JoinedVirtual lists them and writes their init segments only; strata serve builds
	// their media segments from the layer files on request (JoinedSource).
	JoinedVirtual
)

// Options tune the output.
type Options struct {
	Joined JoinedMode
}

// LayerID and JoinedID name Representations (and their directories).
func LayerID(s, l int) string  { return fmt.Sprintf("s%d-l%d", s, l) }
func JoinedID(s, k int) string { return fmt.Sprintf("s%d-j%d", s, k) }

// InitName and MediaName are the segment file names inside a Representation's directory;
// segment numbers start at 1 (DASH $Number$).
const InitName = "init.mp4"

// MediaName is the file name of media segment n (1-based).
func MediaName(n int) string { return fmt.Sprintf("seg-%d.m4s", n) }

// Package reads every encoded directory in dirs (distinct sub-GOP sizes, same source) and
// writes the DASH presentation to out/manifest.mpd. It returns the MPD.
func Package(dirs []string, out string, opt Options) (*mpd.MPD, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("package: no encoded directories")
	}
	m := mpd.NewMPD("static")
	m.Profiles = m.Profiles.AddProfile(mpd.PROFILE_LIVE)
	m.MinBufferTime = mpd.Ptr(mpd.Duration(2e9))
	period := mpd.NewPeriod()
	period.Id = "0"
	m.AppendPeriod(period)
	seen := map[int]bool{}
	var first *stream.Info
	for i, dir := range dirs {
		si, err := stream.Read(dir)
		if err != nil {
			return nil, err
		}
		if seen[si.SubGOP] {
			return nil, fmt.Errorf("package: two variants with sub-GOP %d", si.SubGOP)
		}
		seen[si.SubGOP] = true
		if first == nil {
			first = si
			dur := float64(si.Frames) * float64(si.FPSDen) / float64(si.FPSNum)
			m.MediaPresentationDuration = mpd.Ptr(mpd.Duration(dur * 1e9))
		} else if si.Width != first.Width || si.Height != first.Height || si.Frames != first.Frames || si.SegmentFrame != first.SegmentFrame {
			return nil, fmt.Errorf("package: %s does not match %s (size, frames or segment length)", dir, dirs[0])
		}
		as, err := packageVariant(dir, si, out, uint32(i), opt)
		if err != nil {
			return nil, err
		}
		period.AppendAdaptationSet(as)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(out, "manifest.mpd"))
	if err != nil {
		return nil, err
	}
	if _, err := m.Write(f, "  ", true); err != nil {
		f.Close()
		return nil, err
	}
	return m, f.Close()
}

func packageVariant(dir string, si *stream.Info, out string, id uint32, opt Options) (*mpd.AdaptationSetType, error) {
	s := si.SubGOP
	model, err := hex.DecodeString(si.ModelSHA256[:16])
	if err != nil {
		return nil, fmt.Errorf("%s/stream.json: model hash: %v", dir, err)
	}
	base := cmaf.Config{Version: 1, Width: uint16(si.Width), Height: uint16(si.Height), FPSNum: uint32(si.FPSNum),
		FPSDen: uint32(si.FPSDen), SegmentFrames: uint16(si.SegmentFrame), SubGOP: uint8(s), Layers: uint8(si.Layers)}
	copy(base.Model[:], model)
	segSeconds := float64(base.SegmentDuration()) / float64(base.Timescale())
	qname := QualityName(s)
	// Per-layer peak rate over segments, and the same for joined objects.
	layerPeak := make([]float64, si.Layers)
	joinedPeak := make([]float64, si.Layers)
	si.JoinedBytes = make([][]int, si.Segments)
	for seg := 0; seg < si.Segments; seg++ {
		si.JoinedBytes[seg] = make([]int, si.Layers)
		units := make([][]byte, si.Layers)
		for l := range units {
			b, err := os.ReadFile(filepath.Join(dir, stream.UnitName(seg, l)))
			if err != nil {
				return nil, err
			}
			units[l] = b
		}
		for l, u := range units {
			cfg := base
			cfg.Layer = uint8(l)
			if err := writeMedia(out, LayerID(s, l), cfg, seg, u); err != nil {
				return nil, err
			}
			layerPeak[l] = max(layerPeak[l], float64(len(u))*8/segSeconds)
			cfg.Layer, cfg.JoinedLayers = cmaf.Joined, uint8(l+1)
			joined, err := cmaf.BuildMedia(cfg, uint32(seg), cmaf.Join(units[:l+1]))
			if err != nil {
				return nil, err
			}
			si.JoinedBytes[seg][l] = len(joined)
			joinedPeak[l] = max(joinedPeak[l], float64(len(joined))*8/segSeconds)
			if opt.Joined == JoinedFiles {
				if err := writeFile(out, JoinedID(s, l+1), MediaName(seg+1), joined); err != nil {
					return nil, err
				}
			}
		}
	}
	for l := 0; l < si.Layers; l++ {
		cfg := base
		cfg.Layer = uint8(l)
		if err := writeInit(out, LayerID(s, l), cfg); err != nil {
			return nil, err
		}
	}
	layerBPS := make([]int, si.Layers)
	var joinedBPS []int
	for l := range layerBPS {
		layerBPS[l] = int(layerPeak[l]) + 1
	}
	if opt.Joined != JoinedNone {
		for k := 1; k <= si.Layers; k++ {
			cfg := base
			cfg.Layer, cfg.JoinedLayers = cmaf.Joined, uint8(k)
			if err := writeInit(out, JoinedID(s, k), cfg); err != nil {
				return nil, err
			}
			joinedBPS = append(joinedBPS, int(joinedPeak[k-1])+1)
		}
	}
	as := VariantSet(base, id, qname, layerBPS, joinedBPS)
	q, err := json.MarshalIndent(si, "", " ")
	if err != nil {
		return nil, err
	}
	return as, os.WriteFile(filepath.Join(out, qname), append(q, '\n'), 0o644)
}

// QualityName is the quality sidecar of the sub-GOP s variant.
func QualityName(s int) string { return fmt.Sprintf("quality-s%d.json", s) }

// VariantSet is the AdaptationSet of one sub-GOP variant (base: its layers' common
// configuration): one Representation per layer chained with @dependencyId (bandwidths
// layerBPS), the joined Representations 1..K when joinedBPS is set, the SegmentTemplate and
// the sub-GOP and quality-sidecar descriptors. Static and live presentations share it.
func VariantSet(base cmaf.Config, id uint32, qualityName string, layerBPS, joinedBPS []int) *mpd.AdaptationSetType {
	s := int(base.SubGOP)
	as := mpd.NewAdaptationSetWithParams("video", "video/mp4", true, 1)
	as.Id = mpd.Ptr(id)
	as.Codecs = Codecs
	as.MaxWidth, as.MaxHeight = uint32(base.Width), uint32(base.Height)
	as.FrameRate = mpd.FrameRateType(fmt.Sprintf("%d/%d", base.FPSNum, base.FPSDen))
	as.SupplementalProperties = append(as.SupplementalProperties,
		mpd.NewDescriptor(SubGOPScheme, fmt.Sprint(s), ""), mpd.NewDescriptor(QualityScheme, qualityName, ""))
	st := mpd.NewSegmentTemplate()
	st.Timescale = mpd.Ptr(base.Timescale())
	st.Duration = mpd.Ptr(base.SegmentDuration())
	st.StartNumber = mpd.Ptr(uint32(1))
	st.Initialization = "$RepresentationID$/" + InitName
	st.Media = "$RepresentationID$/seg-$Number$.m4s"
	as.SegmentTemplate = st
	var deps []string
	for l, bps := range layerBPS {
		r := mpd.NewRepresentation()
		r.Id = LayerID(s, l)
		r.Bandwidth = uint32(bps)
		if len(deps) > 0 {
			r.DependencyId = mpd.Ptr(mpd.StringVectorType(strings.Join(deps, " ")))
		}
		deps = append(deps, r.Id)
		as.AppendRepresentation(r)
	}
	for k, bps := range joinedBPS {
		r := mpd.NewRepresentation()
		r.Id = JoinedID(s, k+1)
		r.Bandwidth = uint32(bps)
		as.AppendRepresentation(r)
	}
	return as
}

func writeInit(out, rep string, cfg cmaf.Config) error {
	b, err := cmaf.BuildInit(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, rep), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, rep, InitName), b, 0o644)
}

func writeMedia(out, rep string, cfg cmaf.Config, seg int, data []byte) error {
	b, err := cmaf.BuildMedia(cfg, uint32(seg), data)
	if err != nil {
		return err
	}
	return writeFile(out, rep, MediaName(seg+1), b)
}

func writeFile(out, rep, name string, b []byte) error {
	if err := os.MkdirAll(filepath.Join(out, rep), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, rep, name), b, 0o644)
}
