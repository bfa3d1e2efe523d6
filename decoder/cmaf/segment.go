package cmaf

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// Timescale of a track is the frame-rate numerator; a frame lasts FPSDen ticks.
func (c Config) Timescale() uint32 { return c.FPSNum }

// SegmentDuration is one segment's duration in timescale ticks.
func (c Config) SegmentDuration() uint32 { return uint32(c.SegmentFrames) * c.FPSDen }

// TrackID is 1 for the base layer and joined tracks, l+1 for layer l.
func (c Config) TrackID() uint32 {
	if c.Layer == Joined {
		return 1
	}
	return uint32(c.Layer) + 1
}

// BuildInit returns the CMAF init segment (ftyp + moov) of a track carrying cfg. Enhancement
// layers reference the base layer's track with tref/sbas.
func BuildInit(cfg Config) ([]byte, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	init := mp4.NewMP4Init()
	init.AddChild(mp4.NewFtyp("cmf2", 0, []string{"cmfc", "iso6", "cmf2"}))
	moov := mp4.NewMoovBox()
	init.AddChild(moov)
	moov.AddChild(mp4.CreateMvhd())
	moov.AddChild(mp4.NewMvexBox())
	id := cfg.TrackID()
	trak := mp4.CreateEmptyTrak(id, cfg.Timescale(), "video", "und")
	moov.AddChild(trak)
	moov.Mvex.AddChild(mp4.CreateTrex(id))
	moov.Mvhd.NextTrackID = id + 1
	if cfg.Layer != Joined && cfg.Layer > 0 {
		tref := &mp4.TrefBox{}
		tref.AddChild(&mp4.TrefTypeBox{Name: "sbas", TrackIDs: []uint32{1}})
		trak.AddChild(tref)
	}
	trak.Tkhd.Width = mp4.Fixed32(uint32(cfg.Width) << 16)
	trak.Tkhd.Height = mp4.Fixed32(uint32(cfg.Height) << 16)
	vse := mp4.CreateVisualSampleEntryBox(SampleEntry, cfg.Width, cfg.Height, &NvcCBox{cfg})
	vse.CompressorName = "strata nvc"
	trak.Mdia.Minf.Stbl.Stsd.AddChild(vse)
	var b bytes.Buffer
	if err := init.Encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ParseInit reads the nvcC configuration of an init segment.
func ParseInit(b []byte) (Config, error) {
	f, err := decodeFile(b)
	if err != nil {
		return Config{}, fmt.Errorf("%w: init segment: %v", ErrCMAF, err)
	}
	if f.Init == nil || f.Init.Moov == nil || len(f.Init.Moov.Traks) != 1 {
		return Config{}, fmt.Errorf("%w: not an init segment with one track", ErrCMAF)
	}
	stsd := sampleDescriptions(f.Init.Moov.Trak)
	if stsd == nil {
		return Config{}, fmt.Errorf("%w: init segment's track has no trak/mdia/minf/stbl/stsd", ErrCMAF)
	}
	for _, c := range stsd.Children {
		vse, ok := c.(*mp4.VisualSampleEntryBox)
		if !ok || vse.Type() != SampleEntry {
			continue
		}
		for _, ch := range vse.Children {
			if n, ok := ch.(*NvcCBox); ok {
				return n.Config, nil
			}
		}
	}
	return Config{}, fmt.Errorf("%w: no %s sample entry with an %s box", ErrCMAF, SampleEntry, ConfigBox)
}

// sampleDescriptions is trak/mdia/minf/stbl/stsd, or nil when any box on the path is missing.
func sampleDescriptions(trak *mp4.TrakBox) *mp4.StsdBox {
	if trak == nil || trak.Mdia == nil || trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil {
		return nil
	}
	return trak.Mdia.Minf.Stbl.Stsd
}

// BuildMedia returns the media segment (styp + moof + mdat) of segment number seg (0-based)
// of a track carrying cfg, whose single sample is data.
func BuildMedia(cfg Config, seg uint32, data []byte) ([]byte, error) {
	ms := mp4.NewMediaSegmentWithStyp(mp4.NewStyp("cmfs", 0, []string{"cmfs", "msdh", "msix"}))
	frag, err := mp4.CreateFragment(seg+1, cfg.TrackID())
	if err != nil {
		return nil, err
	}
	ms.AddFragment(frag)
	frag.AddFullSample(mp4.FullSample{
		Sample:     mp4.Sample{Flags: mp4.SyncSampleFlags, Dur: cfg.SegmentDuration(), Size: uint32(len(data))},
		DecodeTime: uint64(seg) * uint64(cfg.SegmentDuration()),
		Data:       data,
	})
	var b bytes.Buffer
	if err := ms.Encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ParseMedia returns the segment number and the single sample of a media segment of a
// track carrying cfg. The sample aliases b.
func ParseMedia(cfg Config, b []byte) (seg uint32, data []byte, err error) {
	f, err := decodeFile(b)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: media segment: %v", ErrCMAF, err)
	}
	if len(f.Segments) != 1 || len(f.Segments[0].Fragments) != 1 {
		return 0, nil, fmt.Errorf("%w: want one fragment in the media segment", ErrCMAF)
	}
	frag := f.Segments[0].Fragments[0]
	moof, mdat := frag.Moof, frag.Mdat
	if moof == nil || mdat == nil || len(moof.Trafs) != 1 || moof.Traf.Tfhd == nil || moof.Traf.Tfdt == nil {
		return 0, nil, fmt.Errorf("%w: want moof with one traf (tfhd, tfdt) and an mdat", ErrCMAF)
	}
	traf := moof.Traf
	if traf.Tfhd.TrackID != cfg.TrackID() {
		return 0, nil, fmt.Errorf("%w: fragment of track %d, want %d", ErrCMAF, traf.Tfhd.TrackID, cfg.TrackID())
	}
	if len(traf.Truns) != 1 || len(traf.Trun.Samples) != 1 || !traf.Trun.HasDataOffset() {
		return 0, nil, fmt.Errorf("%w: want one trun with one sample and a data offset", ErrCMAF)
	}
	size := uint64(traf.Trun.Samples[0].Size)
	off := int64(moof.StartPos) + int64(traf.Trun.DataOffset) - int64(mdat.PayloadAbsoluteOffset())
	if off != 0 || size != uint64(len(mdat.Data)) {
		return 0, nil, fmt.Errorf("%w: sample of %d bytes at %d does not fill the mdat of %d bytes", ErrCMAF, size, off, len(mdat.Data))
	}
	d := uint64(cfg.SegmentDuration())
	t := traf.Tfdt.BaseMediaDecodeTime()
	if t%d != 0 || t/d > 1<<31 {
		return 0, nil, fmt.Errorf("%w: decode time %d is not on a segment boundary", ErrCMAF, t)
	}
	return uint32(t / d), mdat.Data, nil
}

// decodeFile parses boxes with mp4ff, turning a panic on hostile input into an error.
func decodeFile(b []byte) (f *mp4.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("malformed boxes: %v", r)
		}
	}()
	return mp4.DecodeFileSR(bits.NewFixedSliceReader(b))
}

// Join concatenates units 0..k−1 of a segment as the sample of a joined track: each unit
// preceded by its length (u32, big-endian).
func Join(units [][]byte) []byte {
	n := 0
	for _, u := range units {
		n += 4 + len(u)
	}
	out := make([]byte, 0, n)
	for _, u := range units {
		out = binary.BigEndian.AppendUint32(out, uint32(len(u)))
		out = append(out, u...)
	}
	return out
}

// Split is the inverse of Join; the units alias b. It wants exactly k units.
func Split(b []byte, k int) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: joined sample truncated", ErrCMAF)
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, fmt.Errorf("%w: joined unit of %d bytes exceeds the sample", ErrCMAF, n)
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	if len(out) != k {
		return nil, fmt.Errorf("%w: joined sample holds %d units, want %d", ErrCMAF, len(out), k)
	}
	return out, nil
}
