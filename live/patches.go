package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/strata-player/strata/internal/byteread"
)

// SourcePatch is a high-quality luma crop of a source frame the streamer sends beside the
// video (LiveNAS): the origin's trainer pairs it with the same crop of the decoded frame.
type SourcePatch struct {
	Frame int // frame index within its segment
	X, Y  int
	Size  int
	Luma  []byte // Size×Size
}

// The bundle of one segment's patches: "SPAT", version 1, a uint16 count, then per patch
// uint16 frame, x, y, size, a uint32 length and that many bytes of PNG (8-bit grey).
const (
	patchMagic      = "SPAT"
	patchVersion    = 1
	maxPatches      = 64
	maxPatchSize    = 128
	maxPatchPNG     = 64 << 10
	maxBundleBytes  = 1 << 20
	maxPatchFrames  = 1 << 12
	maxPatchCoordXY = 1 << 14
)

// ErrPatches is wrapped by every bundle error.
var ErrPatches = errors.New("live: patch bundle")

// MarshalPatches encodes patches as a bundle (PNG-compressed luma).
func MarshalPatches(ps []SourcePatch) ([]byte, error) {
	if len(ps) > maxPatches {
		return nil, fmt.Errorf("%w: %d patches, at most %d", ErrPatches, len(ps), maxPatches)
	}
	b := append([]byte(patchMagic), patchVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ps)))
	for _, p := range ps {
		if p.Size < 1 || p.Size > maxPatchSize || len(p.Luma) != p.Size*p.Size || p.Frame < 0 || p.Frame >= maxPatchFrames ||
			p.X < 0 || p.Y < 0 || p.X >= maxPatchCoordXY || p.Y >= maxPatchCoordXY {
			return nil, fmt.Errorf("%w: patch %+v", ErrPatches, p.Size)
		}
		var img bytes.Buffer
		if err := png.Encode(&img, &image.Gray{Pix: p.Luma, Stride: p.Size, Rect: image.Rect(0, 0, p.Size, p.Size)}); err != nil {
			return nil, err
		}
		for _, v := range []int{p.Frame, p.X, p.Y, p.Size} {
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		}
		b = binary.BigEndian.AppendUint32(b, uint32(img.Len()))
		b = append(b, img.Bytes()...)
	}
	return b, nil
}

// ParsePatches decodes a bundle (untrusted: counts, sizes and every PNG are checked).
func ParsePatches(b []byte) ([]SourcePatch, error) {
	if len(b) > maxBundleBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrPatches, len(b))
	}
	if len(b) < 7 || string(b[:4]) != patchMagic || b[4] != patchVersion {
		return nil, fmt.Errorf("%w: not a version-%d bundle", ErrPatches, patchVersion)
	}
	r := byteread.BigEndian(b[5:], ErrPatches)
	n := r.U16()
	if n > maxPatches {
		return nil, fmt.Errorf("%w: %d patches", ErrPatches, n)
	}
	out := make([]SourcePatch, 0, n)
	for i := 0; i < n; i++ {
		p := SourcePatch{Frame: r.U16(), X: r.U16(), Y: r.U16(), Size: r.U16()}
		l := int(r.U32())
		if r.Err() != nil {
			return nil, fmt.Errorf("patch %d: %w", i, r.Err())
		}
		if p.Size < 16 || p.Size > maxPatchSize || p.Frame >= maxPatchFrames || p.X >= maxPatchCoordXY || p.Y >= maxPatchCoordXY || l > maxPatchPNG || l > r.Left() {
			return nil, fmt.Errorf("%w: patch %d (frame %d, %d px at %d,%d, %d bytes)", ErrPatches, i, p.Frame, p.Size, p.X, p.Y, l)
		}
		pngBytes := r.Take(l)
		// The PNG's header is checked before decoding so a huge declared image is refused
		// without allocating it.
		cfg, err := png.DecodeConfig(bytes.NewReader(pngBytes))
		if err != nil || cfg.Width != p.Size || cfg.Height != p.Size {
			return nil, fmt.Errorf("%w: patch %d is not a %d×%d PNG", ErrPatches, i, p.Size, p.Size)
		}
		img, err := png.Decode(bytes.NewReader(pngBytes))
		if err != nil {
			return nil, fmt.Errorf("%w: patch %d: %v", ErrPatches, i, err)
		}
		p.Luma = make([]byte, p.Size*p.Size)
		for y := 0; y < p.Size; y++ {
			for x := 0; x < p.Size; x++ {
				r, _, _, _ := img.At(x, y).RGBA()
				if g, ok := img.(*image.Gray); ok {
					p.Luma[y*p.Size+x] = g.Pix[y*g.Stride+x]
				} else {
					p.Luma[y*p.Size+x] = uint8(r >> 8)
				}
			}
		}
		out = append(out, p)
	}
	if r.End("last patch"); r.Err() != nil {
		return nil, r.Err()
	}
	return out, nil
}
