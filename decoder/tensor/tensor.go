package tensor

import "fmt"

// Tensor is a float32 feature map in CHW order (one image; no batch dimension).
type Tensor struct {
	C, H, W int
	Data    []float32
}

// NewTensor allocates a zeroed C×H×W tensor.
func NewTensor(c, h, w int) Tensor {
	return Tensor{C: c, H: h, W: w, Data: make([]float32, c*h*w)}
}

// Plane is channel c's H×W values.
func (t Tensor) Plane(c int) []float32 { return t.Data[c*t.H*t.W : (c+1)*t.H*t.W] }

// Ensure returns t resized to c×h×w, reusing its storage when it is large enough.
func Ensure(t *Tensor, c, h, w int) Tensor {
	n := c * h * w
	if cap(t.Data) < n {
		t.Data = make([]float32, n)
	}
	t.Data = t.Data[:n]
	t.C, t.H, t.W = c, h, w
	return *t
}

func (t Tensor) sameShape(u Tensor) bool { return t.C == u.C && t.H == u.H && t.W == u.W }

func (t Tensor) String() string { return fmt.Sprintf("%dx%dx%d", t.C, t.H, t.W) }

// ReLU clamps negatives to zero in place.
func ReLU(d []float32) {
	for i, v := range d {
		d[i] = max(v, 0) // branch-free (half the values are negative); max(−0, 0) = 0
	}
}

// PixelShuffle is depth-to-space by r, as torch.nn.functional.pixel_shuffle:
// out[c][y·r+i][x·r+j] = in[c·r²+i·r+j][y][x].
func PixelShuffle(in Tensor, r int, out *Tensor) Tensor {
	o := Ensure(out, in.C/(r*r), in.H*r, in.W*r)
	for c := 0; c < o.C; c++ {
		for i := 0; i < r; i++ {
			for j := 0; j < r; j++ {
				src := in.Plane(c*r*r + i*r + j)
				dst := o.Plane(c)
				for y := 0; y < in.H; y++ {
					row := dst[(y*r+i)*o.W+j:]
					s := src[y*in.W : (y+1)*in.W]
					for x, v := range s {
						row[x*r] = v
					}
				}
			}
		}
	}
	return o
}

// PixelUnshuffle is space-to-depth by r, as torch.nn.functional.pixel_unshuffle, writing
// into channels [c0, c0+in.C·r²) of out (which must already have the right H and W).
func PixelUnshuffle(in Tensor, r int, out Tensor, c0 int) {
	for c := 0; c < in.C; c++ {
		src := in.Plane(c)
		for i := 0; i < r; i++ {
			for j := 0; j < r; j++ {
				dst := out.Plane(c0 + c*r*r + i*r + j)
				for y := 0; y < out.H; y++ {
					row := src[(y*r+i)*in.W+j:]
					d := dst[y*out.W : (y+1)*out.W]
					for x := range d {
						d[x] = row[x*r]
					}
				}
			}
		}
	}
}
