// Package cmaf carries strata's neural-codec units in CMAF fragmented MP4 (ISO/IEC 14496-12
// and 23000-19): a visual sample entry "nvc1" with an "nvcC" configuration box, init
// segments, and media segments of one sample per segment (the whole unit of a layer, or
// of layers 0..k−1 joined). docs/PACKAGING.md describes the layout.
package cmaf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// SampleEntry and ConfigBox are the four-character codes of our sample entry and its
// configuration box.
const (
	SampleEntry = "nvc1"
	ConfigBox   = "nvcC"
)

// Joined marks a track that carries layers 0..Layers−1 joined in one sample.
const Joined = 255

// ErrCMAF is wrapped by every error about malformed segments.
var ErrCMAF = errors.New("cmaf")

// Config is the content of the nvcC box: what a decoder needs before the first sample.
type Config struct {
	Version       uint8
	Layer         uint8 // the layer this track carries, or Joined
	JoinedLayers  uint8 // with Layer == Joined: how many layers are joined
	Width, Height uint16
	FPSNum        uint32
	FPSDen        uint32
	SegmentFrames uint16
	SubGOP        uint8
	Layers        uint8
	Model         [8]byte
}

const configLen = 1 + 1 + 1 + 2 + 2 + 4 + 4 + 2 + 1 + 1 + 8

// NvcCBox is the nvcC box.
type NvcCBox struct{ Config }

// Type implements mp4.Box.
func (b *NvcCBox) Type() string { return ConfigBox }

// Size implements mp4.Box.
func (b *NvcCBox) Size() uint64 { return 8 + configLen }

// Encode implements mp4.Box.
func (b *NvcCBox) Encode(w io.Writer) error {
	sw := bits.NewFixedSliceWriter(int(b.Size()))
	if err := b.EncodeSW(sw); err != nil {
		return err
	}
	_, err := w.Write(sw.Bytes())
	return err
}

// EncodeSW implements mp4.Box.
func (b *NvcCBox) EncodeSW(sw bits.SliceWriter) error {
	sw.WriteUint32(uint32(b.Size()))
	sw.WriteString(ConfigBox, false)
	c := b.Config
	sw.WriteUint8(c.Version)
	sw.WriteUint8(c.Layer)
	sw.WriteUint8(c.JoinedLayers)
	sw.WriteUint16(c.Width)
	sw.WriteUint16(c.Height)
	sw.WriteUint32(c.FPSNum)
	sw.WriteUint32(c.FPSDen)
	sw.WriteUint16(c.SegmentFrames)
	sw.WriteUint8(c.SubGOP)
	sw.WriteUint8(c.Layers)
	sw.WriteBytes(c.Model[:])
	return sw.AccError()
}

// Info implements mp4.Box.
func (b *NvcCBox) Info(w io.Writer, specificBoxLevels, indent, indentStep string) error {
	_, err := fmt.Fprintf(w, "%s[%s] size=%d layer=%d joined=%d %dx%d %d/%d fps seg=%d S=%d K=%d model=%x\n", indent,
		ConfigBox, b.Size(), b.Layer, b.JoinedLayers, b.Width, b.Height, b.FPSNum, b.FPSDen, b.SegmentFrames, b.SubGOP, b.Layers, b.Model)
	return err
}

// ParseConfig decodes an nvcC payload (without the box header).
func ParseConfig(p []byte) (Config, error) {
	var c Config
	if len(p) != configLen {
		return c, fmt.Errorf("%w: nvcC payload of %d bytes, want %d", ErrCMAF, len(p), configLen)
	}
	c.Version, c.Layer, c.JoinedLayers = p[0], p[1], p[2]
	c.Width = binary.BigEndian.Uint16(p[3:])
	c.Height = binary.BigEndian.Uint16(p[5:])
	c.FPSNum = binary.BigEndian.Uint32(p[7:])
	c.FPSDen = binary.BigEndian.Uint32(p[11:])
	c.SegmentFrames = binary.BigEndian.Uint16(p[15:])
	c.SubGOP, c.Layers = p[17], p[18]
	copy(c.Model[:], p[19:27])
	return c, c.validate()
}

func (c Config) validate() error {
	switch {
	case c.Version != 1:
		return fmt.Errorf("%w: nvcC version %d, want 1", ErrCMAF, c.Version)
	case c.Width == 0 || c.Height == 0 || c.FPSNum == 0 || c.FPSDen == 0 || c.SegmentFrames == 0:
		return fmt.Errorf("%w: nvcC with zero size, rate or segment length", ErrCMAF)
	case c.Layers == 0 || (c.Layer != Joined && c.Layer >= c.Layers):
		return fmt.Errorf("%w: nvcC layer %d of %d", ErrCMAF, c.Layer, c.Layers)
	case c.Layer == Joined && (c.JoinedLayers == 0 || c.JoinedLayers > c.Layers):
		return fmt.Errorf("%w: nvcC joins %d of %d layers", ErrCMAF, c.JoinedLayers, c.Layers)
	}
	return nil
}

func decodeNvcCSR(hdr mp4.BoxHeader, startPos uint64, sr bits.SliceReader) (mp4.Box, error) {
	n := int(hdr.Size) - hdr.Hdrlen
	p := sr.ReadBytes(n)
	if err := sr.AccError(); err != nil {
		return nil, err
	}
	c, err := ParseConfig(p)
	if err != nil {
		return nil, err
	}
	return &NvcCBox{c}, nil
}

func decodeNvcC(hdr mp4.BoxHeader, startPos uint64, r io.Reader) (mp4.Box, error) {
	n := int(hdr.Size) - hdr.Hdrlen
	if n < 0 || n > 1<<10 {
		return nil, fmt.Errorf("%w: nvcC box of %d bytes", ErrCMAF, hdr.Size)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	return decodeNvcCSR(hdr, startPos, bits.NewFixedSliceReader(p))
}

func init() {
	mp4.SetBoxDecoder(SampleEntry, mp4.DecodeVisualSampleEntry, mp4.DecodeVisualSampleEntrySR)
	mp4.SetBoxDecoder(ConfigBox, decodeNvcC, decodeNvcCSR)
}
