package decoder

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-player/strata/decoder/tensor"
)

func loadTestModel(t testing.TB) *Model {
	t.Helper()
	dir := filepath.Join("..", "assets", "model")
	w, err := os.ReadFile(filepath.Join(dir, "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	man, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(w, man)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func loadGolden(t testing.TB, m *Model) map[string]tensor.Array {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g, meta, err := tensor.ParseSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	// The golden vectors hold for the exported weights and for their entropy-refit version
	// (strata refit-tables changes nothing but the tables).
	if meta["weights_sha256"] != m.SHA256 && meta["weights_sha256"] != m.RefitFrom() {
		t.Fatalf("golden vectors are for weights %s, assets/model is %s: rerun encoder/train/export.py", meta["weights_sha256"], m.SHA256)
	}
	return g
}

func frameOf(g map[string]tensor.Array, prefix string) *Frame {
	y := g[prefix+"_y"]
	h, w := y.Shape[0], y.Shape[1]
	f := NewFrame(w, h)
	for i, v := range y.Data {
		f.Y[i] = byte(v)
	}
	for i, v := range g[prefix+"_u"].Data {
		f.U[i] = byte(v)
	}
	for i, v := range g[prefix+"_v"].Data {
		f.V[i] = byte(v)
	}
	return f
}

func TestOBMCGolden(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	var out Frame
	if err := OBMC(frameOf(g, "obmc.ref"), mvsOf(g["obmc.mv"]), &out); err != nil {
		t.Fatal(err)
	}
	sameFrame(t, "OBMC", &out, frameOf(g, "obmc.pred"))
}

// sameFrame fails t at the first sample where got differs from the reference want.
func sameFrame(t *testing.T, what string, got, want *Frame) {
	t.Helper()
	for name, pair := range map[string][2][]byte{"Y": {got.Y, want.Y}, "U": {got.U, want.U}, "V": {got.V, want.V}} {
		for i := range pair[0] {
			if pair[0][i] != pair[1][i] {
				t.Fatalf("%s %s[%d] = %d, Python reference %d", what, name, i, pair[0][i], pair[1][i])
			}
		}
	}
}

func gridOf(a tensor.Array) *Grid {
	// ints: [Layers][Channels][h][w]
	h, w := a.Shape[2], a.Shape[3]
	g := NewGrid(h, w)
	n := Channels * h * w
	for l := 0; l < Layers; l++ {
		for i := 0; i < n; i++ {
			g.Q[l][i] = int32(a.Data[l*n+i])
		}
	}
	return g
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestDecoderParity: the Go decoder reproduces PyTorch's output for every k (I and P).
func TestDecoderParity(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	for _, tag := range []string{"i", "p"} {
		c, pred := m.I, (*Planes)(nil)
		if tag == "p" {
			c = m.P
			pred = &Planes{}
			if err := PlanesOf(frameOf(g, "obmc.pred"), pred); err != nil {
				t.Fatal(err)
			}
		}
		grid := gridOf(g[tag+".ints"])
		d := int(g[tag+".d"].Data[0])
		n := NewNet(c, 2)
		for k := 1; k <= Layers; k++ {
			var out Planes
			if err := n.Decode(grid, k, d, pred, &out); err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				name string
				got  []float32
			}{{"y", out.Y.Data}, {"u", out.U.Data}, {"v", out.V.Data}} {
				want := g[tag+".dec"+string(rune('0'+k))+"_"+p.name].Data
				if len(want) != len(p.got) {
					t.Fatalf("%s k=%d %s: %d values, want %d", tag, k, p.name, len(p.got), len(want))
				}
				if d := maxDiff(p.got, want); d > 2e-5 {
					t.Errorf("%s-frame k=%d plane %s: max |Go − PyTorch| = %.2e", tag, k, p.name, d)
				}
			}
		}
	}
}

// TestEncoderParity: the Go analysis transform and quantizer give PyTorch's integers.
func TestEncoderParity(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	for _, tag := range []string{"i", "p"} {
		c, pred := m.I, (*Planes)(nil)
		if tag == "p" {
			c = m.P
			pred = &Planes{}
			if err := PlanesOf(frameOf(g, "obmc.pred"), pred); err != nil {
				t.Fatal(err)
			}
		}
		var x Planes
		if err := PlanesOf(frameOf(g, tag+".x"), &x); err != nil {
			t.Fatal(err)
		}
		var y tensor.Tensor
		y, err := NewNet(c, 2).Analyze(&x, pred, &y)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(y.Data, g[tag+".y"].Data); d > 1e-4 {
			t.Errorf("%s-frame analysis: max |Go − PyTorch| = %.2e", tag, d)
		}
		want := gridOf(g[tag+".ints"])
		got := NewGrid(want.H, want.W)
		c.Quantize(y, got)
		diff, total := 0, 0
		for l := range got.Q {
			for i := range got.Q[l] {
				total++
				if got.Q[l][i] != want.Q[l][i] {
					diff++
				}
			}
		}
		// A coefficient within float noise of a rounding boundary may go either way.
		if diff*1000 > total {
			t.Errorf("%s-frame: %d of %d integers differ from PyTorch's", tag, diff, total)
		}
	}
}

// TestLayerRoundTrip: every layer's payload decodes to the integers coded, within a few
// percent of the ideal code length under the model's tables — PyTorch's, as exported, or
// the refit tables' (strata refit-tables fits them to the encoder's sparser integers, so
// these dead-zone integers may cost more than PyTorch's figure).
func TestLayerRoundTrip(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	for _, tag := range []string{"i", "p"} {
		c := m.I
		if tag == "p" {
			c = m.P
		}
		want := gridOf(g[tag+".ints"])
		got := &Grid{H: want.H, W: want.W}
		for l := 0; l < Layers; l++ {
			b := codeLayer(t, m, c, want, got, l)
			ideal := float64(g[tag+".bits"].Data[l]) / 8
			if m.RefitFrom() != "" {
				st := NewStats()
				if err := m.Count(c, want, l, st); err != nil {
					t.Fatal(err)
				}
				ideal = m.RefitTables(st, 1<<62, len(m.Tables), 0).Before / 8
			}
			if float64(len(b)) > ideal*1.03+8 {
				t.Errorf("%s layer %d: %d bytes, ideal %.1f", tag, l, len(b), ideal)
			}
			t.Logf("%s layer %d: %d bytes, ideal %.1f", tag, l, len(b), ideal)
		}
	}
}

// codeLayer encodes layer l of g, decodes the payload into back (which holds the layers
// below l) and fails unless every integer comes back; it returns the payload.
func codeLayer(t *testing.T, m *Model, c *Codec, g, back *Grid, l int) []byte {
	t.Helper()
	b, err := m.EncodeLayer(c, g, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DecodeLayer(c, back, l, b); err != nil {
		t.Fatalf("layer %d: %v", l, err)
	}
	for i, v := range back.Q[l] {
		if v != g.Q[l][i] {
			t.Fatalf("layer %d: integer %d decoded as %d, coded %d", l, i, v, g.Q[l][i])
		}
	}
	return b
}

func mvsOf(a tensor.Array) []MV {
	mvs := make([]MV, len(a.Data)/2)
	for i := range mvs {
		mvs[i] = MV{Y: int(a.Data[2*i]), X: int(a.Data[2*i+1])}
	}
	return mvs
}

func TestOBMCBiGolden(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	modes := make([]uint8, len(g["obmcbi.modes"].Data))
	for i, v := range g["obmcbi.modes"].Data {
		modes[i] = uint8(v)
	}
	var out Frame
	if err := OBMCBi(frameOf(g, "obmc.ref"), frameOf(g, "obmcbi.fut"), mvsOf(g["obmc.mv"]), mvsOf(g["obmcbi.mvb"]), modes, &out); err != nil {
		t.Fatal(err)
	}
	sameFrame(t, "OBMCBi", &out, frameOf(g, "obmcbi.pred"))
	if err := OBMCBi(frameOf(g, "obmc.ref"), frameOf(g, "obmcbi.fut"), mvsOf(g["obmc.mv"]), mvsOf(g["obmcbi.mvb"]), []uint8{3, 0, 0, 0, 0, 0}, &out); err == nil {
		t.Fatal("block mode 3 accepted")
	}
}
