package decoder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/strata-player/strata/assets"
)

// TestVersion1WeightsRefused: weights of format version 1 are refused with a clear error.
func TestVersion1WeightsRefused(t *testing.T) {
	w, man := assets.ModelWeights(), assets.ModelManifest()
	// The same weights relabelled format version 1 (same header length), with a manifest
	// that vouches for them: refused for their version, not their hash.
	old := bytes.Replace(w, []byte(`"version":"2"`), []byte(`"version":"1"`), 1)
	if bytes.Equal(old, w) {
		t.Fatal(`weights.safetensors has no "version":"2" in its metadata`)
	}
	sum := sha256.Sum256(old)
	var m map[string]any
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	m["sha256"] = hex.EncodeToString(sum[:])
	oldMan, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadModel(old, oldMan)
	if err == nil || !strings.Contains(err.Error(), "version \"1\"") || !strings.Contains(err.Error(), "reads strata-nvc version 2") {
		t.Fatalf("version 1 weights: err = %v, want a format-version error", err)
	}
}

// TestTruncatedLayer: every truncation of a real payload is an ErrPayload error or decodes
// (a range coder cannot always tell); it never panics.
func TestTruncatedLayer(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	want := gridOf(g["i.ints"])
	b, err := m.EncodeLayer(m.I, want, 0)
	if err != nil {
		t.Fatal(err)
	}
	errs := 0
	for n := 1; n < len(b); n++ {
		got := &Grid{H: want.H, W: want.W}
		if err := m.DecodeLayer(m.I, got, 0, b[:n]); err != nil {
			if !errors.Is(err, ErrPayload) {
				t.Fatalf("truncated to %d bytes: %v does not wrap ErrPayload", n, err)
			}
			errs++
		}
	}
	if errs < len(b)/2 {
		t.Errorf("only %d of %d truncations detected", errs, len(b))
	}
	// The empty payload (version 4) is a layer of zeros, and a zero layer codes as it.
	z := NewGrid(want.H, want.W)
	z.Q[0][3], z.F[0][0][0] = 7, true
	if err := m.DecodeLayer(m.I, z, 0, nil); err != nil {
		t.Fatalf("empty payload: %v", err)
	}
	if z.Q[0][3] != 0 || z.F[0][0][0] {
		t.Error("the empty payload left integers or flags set")
	}
	if b, err := m.EncodeLayer(m.I, NewGrid(want.H, want.W), 0); err != nil || len(b) != 0 {
		t.Errorf("a zero layer codes as %d bytes (%v), want none", len(b), err)
	}
}

func FuzzDecodeLayer(f *testing.F) {
	m := loadTestModel(f)
	g := loadGolden(f, m)
	want := gridOf(g["p.ints"])
	for l := 0; l < Layers; l++ {
		b, err := m.EncodeLayer(m.P, want, l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(l), true)
	}
	f.Add([]byte{0, 1, 2, 3, 4, 5}, uint8(0), false)
	f.Fuzz(func(t *testing.T, b []byte, layer uint8, inter bool) {
		c := m.I
		if inter {
			c = m.P
		}
		grid := NewGrid(3, 5)
		l := int(layer % Layers)
		if err := m.DecodeLayer(c, grid, l, b); err != nil && !errors.Is(err, ErrPayload) {
			t.Fatalf("error %v does not wrap ErrPayload", err)
		}
	})
}
