package decoder

import (
	"fmt"
)

// Frame is an 8-bit YUV 4:2:0 picture: Y is W×H, U and V are W/2×H/2 (W and H even).
type Frame struct {
	W, H    int
	Y, U, V []byte
}

// NewFrame allocates a w×h frame.
func NewFrame(w, h int) *Frame {
	return &Frame{W: w, H: h, Y: make([]byte, w*h), U: make([]byte, w*h/4), V: make([]byte, w*h/4)}
}

func (f *Frame) check() error {
	if f.W <= 0 || f.H <= 0 || f.W%2 != 0 || f.H%2 != 0 || len(f.Y) != f.W*f.H || len(f.U) != f.W*f.H/4 || len(f.V) != f.W*f.H/4 {
		return fmt.Errorf("frame %dx%d with planes of %d/%d/%d bytes is not 4:2:0", f.W, f.H, len(f.Y), len(f.U), len(f.V))
	}
	return nil
}

// PadTo16 returns f extended by edge replication so both sides are multiples of 16
// (f itself when they already are).
func PadTo16(f *Frame) (*Frame, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	w, h := (f.W+15)&^15, (f.H+15)&^15
	if w == f.W && h == f.H {
		return f, nil
	}
	g := NewFrame(w, h)
	padPlane(f.Y, f.W, f.H, g.Y, w, h)
	padPlane(f.U, f.W/2, f.H/2, g.U, w/2, h/2)
	padPlane(f.V, f.W/2, f.H/2, g.V, w/2, h/2)
	return g, nil
}

func padPlane(src []byte, sw, sh int, dst []byte, dw, dh int) {
	for y := 0; y < dh; y++ {
		sy := min(y, sh-1)
		row := dst[y*dw : (y+1)*dw]
		copy(row, src[sy*sw:(sy+1)*sw])
		for x := sw; x < dw; x++ {
			row[x] = src[sy*sw+sw-1]
		}
	}
}

// Crop copies the display area w×h of a coded frame into dst (allocated if nil).
func Crop(src *Frame, w, h int, dst *Frame) *Frame {
	if dst == nil || dst.W != w || dst.H != h {
		dst = NewFrame(w, h)
	}
	for y := 0; y < h; y++ {
		copy(dst.Y[y*w:(y+1)*w], src.Y[y*src.W:])
	}
	for y := 0; y < h/2; y++ {
		copy(dst.U[y*w/2:(y+1)*w/2], src.U[y*src.W/2:])
		copy(dst.V[y*w/2:(y+1)*w/2], src.V[y*src.W/2:])
	}
	return dst
}
