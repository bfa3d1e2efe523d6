package decoder

import "fmt"

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

// Pack converts a frame whose sides are multiples of 16 into the codec's signal: 6 × H/2 ×
// W/2 channels in [0, 1], luma phases (0,0), (0,1), (1,0), (1,1), then U and V.
func Pack(f *Frame, out *Tensor) (Tensor, error) {
	if err := f.check(); err != nil {
		return Tensor{}, err
	}
	if f.W%16 != 0 || f.H%16 != 0 {
		return Tensor{}, fmt.Errorf("frame %dx%d: sides must be multiples of 16 (pad first)", f.W, f.H)
	}
	h, w := f.H/2, f.W/2
	t := ensure(out, 6, h, w)
	const s = 1.0 / 255
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			p := t.Plane(i*2 + j)
			for y := 0; y < h; y++ {
				row := f.Y[(2*y+i)*f.W+j:]
				d := p[y*w : (y+1)*w]
				for x := range d {
					d[x] = float32(row[2*x]) * s
				}
			}
		}
	}
	for c, pl := range [][]byte{f.U, f.V} {
		p := t.Plane(4 + c)
		for i, v := range pl {
			p[i] = float32(v) * s
		}
	}
	return t, nil
}

// Unpack converts the codec's signal back to 8 bits, clamping to [0, 1] and rounding to
// nearest (halves up). f must have the matching size.
func Unpack(t Tensor, f *Frame) error {
	if err := f.check(); err != nil {
		return err
	}
	if t.C != 6 || t.H*2 != f.H || t.W*2 != f.W {
		return fmt.Errorf("signal %v does not fit frame %dx%d", t, f.W, f.H)
	}
	h, w := t.H, t.W
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			p := t.Plane(i*2 + j)
			for y := 0; y < h; y++ {
				row := f.Y[(2*y+i)*f.W+j:]
				src := p[y*w : (y+1)*w]
				for x, v := range src {
					row[2*x] = to8(v)
				}
			}
		}
	}
	for c, pl := range [][]byte{f.U, f.V} {
		p := t.Plane(4 + c)
		for i := range pl {
			pl[i] = to8(p[i])
		}
	}
	return nil
}

func to8(v float32) byte {
	x := v*255 + 0.5
	if !(x > 0) { // also maps NaN to 0
		return 0
	}
	if x >= 255 {
		return 255
	}
	return byte(x)
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
