package decoder

import "fmt"

// ToRGBA converts a frame to 8-bit RGBA (alpha 255) for rendering, with the BT.601
// limited-range matrix that Y4M/ffmpeg's yuv420p content uses, in integer arithmetic
// (coefficients ×256, rounded): chroma is nearest-neighbour upsampled. dst must hold
// 4·W·H bytes.
func ToRGBA(f *Frame, dst []byte) error {
	if err := f.check(); err != nil {
		return err
	}
	if len(dst) != 4*f.W*f.H {
		return fmt.Errorf("rgba: destination of %d bytes for a %dx%d frame", len(dst), f.W, f.H)
	}
	cw := f.W / 2
	for y := 0; y < f.H; y++ {
		yr := f.Y[y*f.W : (y+1)*f.W]
		ur, vr := f.U[(y/2)*cw:], f.V[(y/2)*cw:]
		out := dst[4*y*f.W : 4*(y+1)*f.W]
		for x, yv := range yr {
			c := 298 * (int(yv) - 16)
			d, e := int(ur[x/2])-128, int(vr[x/2])-128
			o := out[4*x : 4*x+4]
			o[0] = clip8((c + 409*e + 128) >> 8)
			o[1] = clip8((c - 100*d - 208*e + 128) >> 8)
			o[2] = clip8((c + 516*d + 128) >> 8)
			o[3] = 255
		}
	}
	return nil
}

func clip8(v int) byte {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}
