package decoder

import (
	"testing"

	"github.com/strata-player/strata/decoder/tensor"
)

// layerCost codes every layer of g, checks that each decodes to its integers and returns
// each layer's bits and D_l, the synthesis-weighted squared coefficient error after layers
// 0..l (QuantizeRD's distortion).
func layerCost(t *testing.T, m *Model, c *Codec, y tensor.Tensor, g *Grid) (bits, dist [Layers]float64) {
	t.Helper()
	hw := y.H * y.W
	yhat := make([]float64, len(y.Data))
	back := &Grid{H: g.H, W: g.W}
	for l := 0; l < Layers; l++ {
		b := codeLayer(t, m, c, g, back, l)
		for i := range yhat {
			ch := i / hw
			yhat[i] += float64(g.Q[l][i]) * float64(c.Steps[l*Channels+ch])
			e := float64(y.Data[i]) - yhat[i]
			dist[l] += c.gains[ch] * e * e
		}
		bits[l] = 8 * float64(len(b))
	}
	return bits, dist
}

// TestQuantizeRD: with λ = 0 it is the dead-zone quantizer (RDDeadZone); with the encoder's λ each layer
// costs at most 0.5 % more (bits + λ_l·D_l; the decisions estimate the contexts from the
// dead-zone integers) than the dead-zone integers would from the same lower layers and the
// layers together cost less, every layer decodes, and the whole grid takes fewer bits.
func TestQuantizeRD(t *testing.T) {
	m := loadTestModel(t)
	g := loadGolden(t, m)
	for _, tag := range []string{"i", "p"} {
		c := m.I
		if tag == "p" {
			c = m.P
		}
		want := gridOf(g[tag+".ints"])
		y := tensor.Tensor{C: Channels, H: want.H, W: want.W, Data: g[tag+".y"].Data}
		dz := NewGrid(want.H, want.W)
		c.quantizeDZ(y, dz, RDDeadZone)
		rd := NewGrid(want.H, want.W)
		if err := m.QuantizeRD(c, y, rd, [Layers]float64{}); err != nil {
			t.Fatal(err)
		}
		for l := range dz.Q {
			for i := range dz.Q[l] {
				if rd.Q[l][i] != dz.Q[l][i] {
					t.Fatalf("%s: λ = 0: layer %d integer %d is %d, the dead zone's %d", tag, l, i, rd.Q[l][i], dz.Q[l][i])
				}
			}
		}
		lam := m.Lambdas()
		for l := range lam {
			lam[l] *= 3
		}
		if err := m.QuantizeRD(c, y, rd, lam); err != nil {
			t.Fatal(err)
		}
		bits, dist := layerCost(t, m, c, y, rd)
		sumJ, sumRef := 0.0, 0.0
		for l := 0; l < Layers; l++ {
			// The same lower layers, layer l by the dead zone alone.
			alt := lam
			alt[l] = 0
			ref := NewGrid(want.H, want.W)
			if err := m.QuantizeRD(c, y, ref, alt); err != nil {
				t.Fatal(err)
			}
			rb, rdist := layerCost(t, m, c, y, ref)
			j, jref := bits[l]+lam[l]*dist[l], rb[l]+lam[l]*rdist[l]
			sumJ, sumRef = sumJ+j, sumRef+jref
			if j > jref*1.005 {
				t.Errorf("%s layer %d: J = %.0f (%.0f bits), dead zone from the same layers %.0f (%.0f bits)", tag, l, j, bits[l], jref, rb[l])
			}
			t.Logf("%s layer %d: J %.0f → %.0f, bits %.0f → %.0f", tag, l, jref, j, rb[l], bits[l])
		}
		if sumJ >= sumRef {
			t.Errorf("%s: the layers cost J = %.0f, each from the dead zone %.0f", tag, sumJ, sumRef)
		}
		dzBits, _ := layerCost(t, m, c, y, dz)
		sum := func(a [Layers]float64) float64 { return a[0] + a[1] + a[2] + a[3] }
		if sum(bits) >= sum(dzBits) {
			t.Errorf("%s: %.0f bits with QuantizeRD, %.0f with the dead zone", tag, sum(bits), sum(dzBits))
		}
	}
}
