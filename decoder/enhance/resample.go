package enhance

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/byteread"
)

// Codec-aware resampling (the part 3): a half-resolution rung made by a learned
// downsampler (Down) and shown through the matching learned upsampler: Upscale2 (bicubic)
// followed by a Net trained on the codec's decoded half-resolution frames. Both were trained
// end to end through the real codec (encoder/train/resample.py). Sizes: a w×h source is
// edge-padded to multiples of 4, so its half has even sides (4:2:0).

// bicubic (a = −0.75) taps of a 2× upsampling: even outputs sit a quarter pixel before
// their source pixel i (taps i−2 … i+1), odd ones a quarter after (i−1 … i+2).
var (
	tapsEven = [4]float32{-0.03515625, 0.26171875, 0.87890625, -0.10546875}
	tapsOdd  = [4]float32{-0.10546875, 0.87890625, 0.26171875, -0.03515625}
)

// HalfSize is the half-resolution rung's size for a w×h source.
func HalfSize(w, h int) (int, int) { return (w + 3) / 4 * 2, (h + 3) / 4 * 2 }

// Upscale2 is the bicubic 2× of src cropped to w×h (w ≤ 2·src.W, h ≤ 2·src.H, both even),
// every plane, edges clamped: rows first, then columns, in float32, rounded once. dst is
// reused when it has the size.
func Upscale2(dst, src *decoder.Frame, w, h int) *decoder.Frame {
	var tmp []float32
	return upscale2(dst, src, w, h, &tmp)
}

// upscale2 is Upscale2 with its row buffer kept in *tmp (a player's per-frame path).
func upscale2(dst, src *decoder.Frame, w, h int, tmp *[]float32) *decoder.Frame {
	if w > 2*src.W || h > 2*src.H || w%2 != 0 || h%2 != 0 || w <= 0 || h <= 0 {
		panic(fmt.Sprintf("enhance: upscale %dx%d to %dx%d", src.W, src.H, w, h))
	}
	if dst == nil || dst.W != w || dst.H != h {
		dst = decoder.NewFrame(w, h)
	}
	if cap(*tmp) < src.H*w {
		*tmp = make([]float32, src.H*w)
	}
	up2Plane(dst.Y, w, h, src.Y, src.W, src.H, *tmp)
	up2Plane(dst.U, w/2, h/2, src.U, src.W/2, src.H/2, *tmp)
	up2Plane(dst.V, w/2, h/2, src.V, src.W/2, src.H/2, *tmp)
	return dst
}

func up2Plane(dst []byte, dw, dh int, src []byte, sw, sh int, buf []float32) {
	// rows: sh × dw floats
	tmp := buf[:sh*dw]
	for y := 0; y < sh; y++ {
		row := src[y*sw : (y+1)*sw]
		out := tmp[y*dw : (y+1)*dw]
		for x := 0; x < dw; x++ {
			i := x >> 1
			taps, first := &tapsEven, i-2
			if x&1 == 1 {
				taps, first = &tapsOdd, i-1
			}
			var s float32
			for j := 0; j < 4; j++ {
				s += taps[j] * float32(row[min(max(first+j, 0), sw-1)])
			}
			out[x] = s
		}
	}
	for y := 0; y < dh; y++ {
		i := y >> 1
		taps, first := &tapsEven, i-2
		if y&1 == 1 {
			taps, first = &tapsOdd, i-1
		}
		out := dst[y*dw : (y+1)*dw]
		var rows [4][]float32
		for j := 0; j < 4; j++ {
			r := min(max(first+j, 0), sh-1)
			rows[j] = tmp[r*dw : (r+1)*dw]
		}
		for x := 0; x < dw; x++ {
			s := taps[0]*rows[0][x] + taps[1]*rows[1][x] + taps[2]*rows[2][x] + taps[3]*rows[3][x]
			out[x] = uint8(min(max(math.Round(float64(s)), 0), 255))
		}
	}
}

// Down is a learned 2× downsampler of luma: a linear 6×6 filter at stride 2, stored as one
// 3×3 convolution (4 → 1) on the 2×2 blocks of space-to-depth (torch's layout). Chroma is
// the 2×2 mean. It is linear on purpose (encoder/train/resample.py says why).
type Down struct {
	Weight [4 * 9]float32
	Bias   float32
}

// BoxDown is the 2×2 mean (a Down with one non-zero tap per block channel).
func BoxDown() *Down {
	d := &Down{}
	for c := 0; c < 4; c++ {
		d.Weight[c*9+4] = 0.25
	}
	return d
}

// Apply returns src at half resolution (HalfSize); pixels outside src repeat its edge.
func (d *Down) Apply(src *decoder.Frame) *decoder.Frame {
	hw, hh := HalfSize(src.W, src.H)
	out := decoder.NewFrame(hw, hh)
	at := func(y, x int) float32 {
		return float32(src.Y[min(max(y, 0), src.H-1)*src.W+min(max(x, 0), src.W-1)]) * (1.0 / 255)
	}
	for i := 0; i < hh; i++ {
		for j := 0; j < hw; j++ {
			s := d.Bias
			for c := 0; c < 4; c++ {
				dy, dx := c>>1, c&1
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						s += d.Weight[c*9+ky*3+kx] * at(2*(i+ky-1)+dy, 2*(j+kx-1)+dx)
					}
				}
			}
			out.Y[i*hw+j] = uint8(min(max(math.Round(float64(s*255)), 0), 255))
		}
	}
	boxHalf(out.U, hw/2, hh/2, src.U, src.W/2, src.H/2)
	boxHalf(out.V, hw/2, hh/2, src.V, src.W/2, src.H/2)
	return out
}

// boxHalf writes the 2×2 means (rounded half up) of src, edges repeated, into dst.
func boxHalf(dst []byte, dw, dh int, src []byte, sw, sh int) {
	at := func(y, x int) int { return int(src[min(y, sh-1)*sw+min(x, sw-1)]) }
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			s := at(2*y, 2*x) + at(2*y, 2*x+1) + at(2*y+1, 2*x) + at(2*y+1, 2*x+1)
			dst[y*dw+x] = uint8((s + 2) >> 2)
		}
	}
}

// BicubicDown is the plain half-resolution rung's downsampler, the baseline a learned one
// is compared with: the bicubic kernel (a = −0.75) stretched to 8 taps (antialiased, as
// image resizers do when shrinking), separable, edges clamped, every plane; chroma planes
// are filtered the same way at their own resolution.
func BicubicDown(src *decoder.Frame) *decoder.Frame {
	hw, hh := HalfSize(src.W, src.H)
	out := decoder.NewFrame(hw, hh)
	down2Plane(out.Y, hw, hh, src.Y, src.W, src.H)
	down2Plane(out.U, hw/2, hh/2, src.U, src.W/2, src.H/2)
	down2Plane(out.V, hw/2, hh/2, src.V, src.W/2, src.H/2)
	return out
}

// tapsDown are the 8 taps of output i over source 2i−3 … 2i+4.
var tapsDown = [8]float32{-0.017578125, -0.052734375, 0.130859375, 0.439453125, 0.439453125, 0.130859375, -0.052734375, -0.017578125}

func down2Plane(dst []byte, dw, dh int, src []byte, sw, sh int) {
	tmp := make([]float32, sh*dw)
	for y := 0; y < sh; y++ {
		row := src[y*sw : (y+1)*sw]
		for x := 0; x < dw; x++ {
			var s float32
			for j := 0; j < 8; j++ {
				s += tapsDown[j] * float32(row[min(max(2*x-3+j, 0), sw-1)])
			}
			tmp[y*dw+x] = s
		}
	}
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var s float32
			for j := 0; j < 8; j++ {
				s += tapsDown[j] * tmp[min(max(2*y-3+j, 0), sh-1)*dw+x]
			}
			dst[y*dw+x] = uint8(min(max(math.Round(float64(s)), 0), 255))
		}
	}
}

// Down's binary form: "SDWN", version 1, 1 (its channel count byte, as Net's form has), the
// 36 weights and the bias (little-endian float32), CRC-32 (IEEE) of everything before.
const downMagic = "SDWN"

// Marshal encodes d.
func (d *Down) Marshal() []byte {
	b := append([]byte(downMagic), version, 1)
	for _, v := range d.Weight {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(d.Bias))
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// UnmarshalDown decodes a downsampler (untrusted input: size, checksum, values checked).
func UnmarshalDown(b []byte) (*Down, error) {
	const want = 6 + 4*37 + 4
	if len(b) < 6 || string(b[:4]) != downMagic {
		return nil, fmt.Errorf("%w: not a downsampler", ErrModel)
	}
	if b[4] != version || b[5] != 1 {
		return nil, fmt.Errorf("%w: downsampler version %d/%d, want %d/1", ErrModel, b[4], b[5], version)
	}
	if len(b) != want {
		return nil, fmt.Errorf("%w: downsampler of %d bytes, want %d", ErrModel, len(b), want)
	}
	if crc32.ChecksumIEEE(b[:want-4]) != binary.LittleEndian.Uint32(b[want-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrModel)
	}
	d := &Down{}
	r := byteread.LittleEndian(b[6:want-4], ErrModel)
	for i := 0; i < 37; i++ {
		v := r.F32()
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 16 {
			return nil, fmt.Errorf("%w: downsampler weight %v", ErrModel, v)
		}
		if i < 36 {
			d.Weight[i] = v
		} else {
			d.Bias = v
		}
	}
	return d, nil
}

// Double is the player's half-resolution path: bicubic 2× of half to w×h, then the
// upsampler net if there is one (nil: the plain bicubic double). dst is reused when it fits.
func Double(dst, half *decoder.Frame, w, h int, net *Net, s *Scratch, threads int) *decoder.Frame {
	if net != nil {
		return net.Enhance(dst, half, w, h, s, threads)
	}
	return Upscale2(dst, half, w, h)
}
