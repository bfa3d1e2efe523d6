package nvc2

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
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
	table, flags, before, after := m.RefitTables(st, 1)
	if !(after < before) {
		t.Fatalf("refit: %.0f → %.0f bits", before, after)
	}
	w, err := os.ReadFile(filepath.Join("..", "..", "assets", "model2", "nvc2.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	nw, err := WithEntropy(w, table, flags)
	if err != nil {
		t.Fatal(err)
	}
	if len(nw) != len(w) {
		t.Fatalf("rewritten weights are %d bytes, were %d", len(nw), len(w))
	}
	sum := sha256.Sum256(nw)
	m2, err := LoadModel(nw, []byte(`{"sha256":"`+hex.EncodeToString(sum[:])+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if m2.I.Steps[5] != m.I.Steps[5] || m2.P.Syn.Weight[7] != m.P.Syn.Weight[7] {
		t.Fatal("the rewrite changed more than the entropy tensors")
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
	t.Logf("ideal %.0f → %.0f bits; coded %d → %d bytes", before, after, n1, n2)
}
