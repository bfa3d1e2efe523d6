package decoder

import (
	"testing"
)

func TestToRGBA(t *testing.T) {
	f := NewFrame(2, 2)
	for _, c := range []struct {
		y, u, v byte
		rgb     [3]byte
	}{{16, 128, 128, [3]byte{0, 0, 0}}, {235, 128, 128, [3]byte{255, 255, 255}}, {81, 90, 240, [3]byte{255, 0, 0}}, {41, 240, 110, [3]byte{0, 0, 255}}} {
		for i := range f.Y {
			f.Y[i] = c.y
		}
		f.U[0], f.V[0] = c.u, c.v
		dst := make([]byte, 16)
		if err := ToRGBA(f, dst); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 3; j++ {
			if d := int(dst[j]) - int(c.rgb[j]); d < -2 || d > 2 || dst[3] != 255 {
				t.Fatalf("YUV %d,%d,%d → %v, want about %v", c.y, c.u, c.v, dst[:4], c.rgb)
			}
		}
	}
	if err := ToRGBA(f, make([]byte, 3)); err == nil {
		t.Fatal("short destination accepted")
	}
}
