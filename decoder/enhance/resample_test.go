package enhance

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/strata-player/strata/decoder"
)

// golden is encoder/train/resample.py --golden's output: what the trainer's D and U (torch)
// make of two small frames with random models.
type golden struct {
	SrcW        int `json:"src_w"`
	HalfW       int `json:"half_w"`
	SrcH, HalfH int `json:"-"`
	Src, Down   []int
	Half        []int
	Bicubic, Up []int
}

func loadGolden(t *testing.T) (golden, *Down, *Net) {
	t.Helper()
	var g golden
	b, err := os.ReadFile("testdata/resample.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	g.SrcH, g.HalfH = len(g.Src)/g.SrcW, len(g.Half)/g.HalfW
	db, err := os.ReadFile("testdata/resample.sdwn")
	if err != nil {
		t.Fatal(err)
	}
	d, err := UnmarshalDown(db)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := os.ReadFile("testdata/resample.senh")
	if err != nil {
		t.Fatal(err)
	}
	n, err := Unmarshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	return g, d, n
}

func frameOf(luma []int, w, h int) *decoder.Frame {
	f := decoder.NewFrame(w, h)
	for i, v := range luma {
		f.Y[i] = byte(v)
	}
	for i := range f.U {
		f.U[i], f.V[i] = byte(100+i%50), byte(90+i%70)
	}
	return f
}

// compare counts pixels that differ from want, failing on any difference over 1 level
// (float summation order differs between torch and Go; a tie can round either way).
func compare(t *testing.T, what string, got []byte, want []int, w, x0, y0, x1, y1 int) {
	t.Helper()
	off := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			d := int(got[y*w+x]) - want[y*w+x]
			if d > 1 || d < -1 {
				t.Fatalf("%s: pixel (%d,%d) = %d, torch says %d", what, x, y, got[y*w+x], want[y*w+x])
			}
			if d != 0 {
				off++
			}
		}
	}
	if n := (x1 - x0) * (y1 - y0); off*50 > n {
		t.Fatalf("%s: %d of %d pixels off by one", what, off, n)
	}
}

func TestDownMatchesTrainer(t *testing.T) {
	g, d, _ := loadGolden(t)
	src := frameOf(g.Src, g.SrcW, g.SrcH)
	half := d.Apply(src)
	if hw, hh := HalfSize(g.SrcW, g.SrcH); half.W != hw || half.H != hh || hw*hh != len(g.Down) {
		t.Fatalf("half is %dx%d, want %dx%d (%d pixels)", half.W, half.H, hw, hh, len(g.Down))
	}
	compare(t, "down", half.Y, g.Down, half.W, 0, 0, half.W, half.H)
	// Chroma: 2×2 means of the edge-padded source chroma.
	if half.U[0] != byte((int(src.U[0])+int(src.U[1])+int(src.U[src.W/2])+int(src.U[src.W/2+1])+2)/4) {
		t.Fatalf("chroma %d is not the 2×2 mean", half.U[0])
	}
}

func TestUpscaleMatchesTrainer(t *testing.T) {
	g, _, n := loadGolden(t)
	for i := range n.Layers {
		n.Layers[i].Prepare()
	}
	half := frameOf(g.Half, g.HalfW, g.HalfH)
	w, h := 2*g.HalfW, 2*g.HalfH
	up := Upscale2(nil, half, w, h)
	compare(t, "bicubic", up.Y, g.Bicubic, w, 0, 0, w, h)
	if n.Scale != 2 {
		t.Fatalf("the trainer's upsampler has scale %d", n.Scale)
	}
	var s Scratch
	up = n.Enhance(nil, half, w, h, &s, 1)
	// The trainer pads the half-resolution frame, Apply the upscaled one: they agree away
	// from the edge (and Apply keeps the outer Margin pixels as upscaled).
	compare(t, "learned up", up.Y, g.Up, w, 2*Margin, 2*Margin, w-2*Margin, h-2*Margin)
	// A crop (the source's size when the rung was padded) is the same pixels.
	c := Upscale2(nil, half, w-2, h-4)
	for y := 0; y < h-4; y++ {
		for x := 0; x < w-2; x++ {
			if c.Y[y*(w-2)+x] != byte(g.Bicubic[y*w+x]) {
				t.Fatalf("cropped upscale differs at (%d,%d)", x, y)
			}
		}
	}
}

func TestUpsamplerRoundTrip(t *testing.T) {
	n, _ := New(4, 3)
	n.Scale = 2
	b := n.Marshal()
	if b[4] != versionUp || b[6] != 2 {
		t.Fatalf("an upsampler is written as version %d", b[4])
	}
	m, err := Unmarshal(b)
	if err != nil || m.Scale != 2 {
		t.Fatalf("round trip: scale %v, %v", m, err)
	}
	n.Scale = 1
	if m, err := Unmarshal(n.Marshal()); err != nil || m.Scale != 1 || n.Marshal()[4] != version {
		t.Fatalf("a post-filter must stay version 1: %v", err)
	}
	b[6] = 3
	if _, err := Unmarshal(b); !errors.Is(err, ErrModel) {
		t.Fatalf("scale 3: %v", err)
	}
	f := decoder.NewFrame(40, 32)
	m.Scale = 1
	if g := m.Enhance(nil, f, 0, 0, &Scratch{}, 1); g.W != 40 || g.H != 32 {
		t.Fatalf("a post-filter changed the size to %dx%d", g.W, g.H)
	}
	m.Scale = 2
	if g := m.Enhance(nil, f, 78, 62, &Scratch{}, 1); g.W != 78 || g.H != 62 {
		t.Fatalf("an upsampler made %dx%d, want 78x62", g.W, g.H)
	}
}

func TestBicubicDownFlat(t *testing.T) {
	f := decoder.NewFrame(30, 22)
	for i := range f.Y {
		f.Y[i] = 77
	}
	for i := range f.U {
		f.U[i], f.V[i] = 11, 250
	}
	h := BicubicDown(f)
	if hw, hh := HalfSize(30, 22); h.W != hw || h.H != hh {
		t.Fatalf("size %dx%d", h.W, h.H)
	}
	for i := range h.Y {
		if h.Y[i] != 77 {
			t.Fatalf("flat luma became %d", h.Y[i])
		}
	}
	for i := range h.U {
		if h.U[i] != 11 || h.V[i] != 250 {
			t.Fatalf("flat chroma became %d/%d", h.U[i], h.V[i])
		}
	}
	if b := BoxDown().Apply(f); b.Y[0] != 77 || b.U[len(b.U)-1] != 11 {
		t.Fatal("box of a flat frame is not flat")
	}
}

func TestUnmarshalDown(t *testing.T) {
	good := BoxDown().Marshal()
	d, err := UnmarshalDown(good)
	if err != nil || *d != *BoxDown() {
		t.Fatalf("round trip: %v", err)
	}
	bad := [][]byte{nil, good[:10], append(append([]byte(nil), good...), 0), []byte("SENH" + string(good[4:]))}
	flip := append([]byte(nil), good...)
	flip[20] ^= 1
	bad = append(bad, flip)
	for i, b := range bad {
		if _, err := UnmarshalDown(b); !errors.Is(err, ErrModel) {
			t.Errorf("case %d: %v, want ErrModel", i, err)
		}
	}
}

func FuzzUnmarshalDown(f *testing.F) {
	f.Add(BoxDown().Marshal())
	f.Add([]byte("SDWN"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := UnmarshalDown(b)
		if err != nil {
			if !errors.Is(err, ErrModel) {
				t.Fatalf("error %v does not wrap ErrModel", err)
			}
			return
		}
		if again, err := UnmarshalDown(d.Marshal()); err != nil || *again != *d {
			t.Fatalf("re-encoding a parsed model: %v", err)
		}
	})
}
