package decoder

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-player/strata/decoder/tensor"
)

// TestRefitTables: counting a grid's symbols and re-fitting the tables to them shortens
// their ideal code, the rewritten weights load with only the entropy tensors changed, and
// the refit model codes the same grid in fewer bytes, decodably.
func TestRefitTables(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	grids := map[*Codec]*Grid{m.I: gridOf(g["i.ints"]), m.P: gridOf(g["p.ints"])}
	st := NewStats()
	for c, gr := range grids {
		for l := 0; l < Layers; l++ {
			if err := m.Count(c, gr, l, st); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := m.RefitTables(st, 1, m.BaseTables(), 8)
	if !(r.After < r.Before) {
		t.Fatalf("refit: %.0f → %.0f bits", r.Before, r.After)
	}
	if len(r.Freqs) <= r.Base || r.Base != m.BaseTables() {
		t.Fatalf("refit: %d tables, %d of them the base family (%d): none fitted", len(r.Freqs), r.Base, m.BaseTables())
	}
	w, err := os.ReadFile(filepath.Join("..", "assets", "model", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	nw, err := WithEntropy(w, r)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nw)
	m2, err := LoadModel(nw, []byte(`{"sha256":"`+hex.EncodeToString(sum[:])+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Tables) != len(r.Freqs) {
		t.Fatalf("rewritten weights hold %d tables, want %d", len(m2.Tables), len(r.Freqs))
	}
	a1, _, err := tensor.ParseSafetensors(w)
	if err != nil {
		t.Fatal(err)
	}
	a2, meta2, err := tensor.ParseSafetensors(nw)
	if err != nil {
		t.Fatal(err)
	}
	if meta2["format"] == "" {
		t.Errorf("rewrite lost the metadata: %v", meta2)
	}
	entropy := map[string]bool{"tables.sizes": true, "tables.freqs": true, "i.ent.table": true, "p.ent.table": true,
		"i.ent.flag_freq": true, "p.ent.flag_freq": true}
	for name, a := range a1 {
		b, ok := a2[name]
		switch {
		case !ok:
			t.Fatalf("rewrite dropped %s", name)
		case !entropy[name] && !slices.Equal(a.Data, b.Data):
			t.Fatalf("rewrite changed %s", name)
		}
	}
	var n1, n2 int
	for c, gr := range grids {
		c2 := m2.I
		if c.Inter {
			c2 = m2.P
		}
		back := &Grid{H: gr.H, W: gr.W}
		for l := 0; l < Layers; l++ {
			b1, err := m.EncodeLayer(c, gr, l)
			if err != nil {
				t.Fatal(err)
			}
			b2 := codeLayer(t, m2, c2, gr, back, l)
			n1, n2 = n1+len(b1), n2+len(b2)
		}
	}
	if n2 >= n1 {
		t.Errorf("refit tables code the grids in %d bytes, the model's in %d", n2, n1)
	}
	t.Logf("ideal %.0f → %.0f bits (%d fitted tables); coded %d → %d bytes", r.Before, r.After, len(r.Freqs)-r.Base, n1, n2)
}
