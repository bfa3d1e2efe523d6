package decoder

import (
	"os"
	"testing"
)

// TestParityWithPyTorch runs both networks of both codecs on the golden inputs that
// encoder/train/export.py saved with PyTorch's outputs, and requires agreement to 1e-4
// before any 8-bit rounding. No Python is needed.
func TestParityWithPyTorch(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	g, meta, err := ParseSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	if meta["weights_sha256"] != m.SHA256 {
		t.Fatalf("golden vectors belong to weights %s, assets/model has %s: rerun make export", meta["weights_sha256"], m.SHA256)
	}
	const tol = 1e-4
	for _, tag := range []string{"i", "p"} {
		c := m.I
		if tag == "p" {
			c = m.P
		}
		arr := func(name string) Tensor {
			a, ok := g[tag+"."+name]
			if !ok {
				t.Fatalf("golden %s.%s missing", tag, name)
			}
			if len(a.Shape) != 3 {
				t.Fatalf("golden %s.%s shape %v", tag, name, a.Shape)
			}
			return Tensor{C: a.Shape[0], H: a.Shape[1], W: a.Shape[2], Data: a.Data}
		}
		kd := g[tag+".k_d"].Data
		k, dc := int(kd[0]), int(kd[1])
		pred, x, codes := arr("pred"), arr("x"), arr("codes")

		var out Tensor
		dec := NewDecoder(c.Dec)
		if err := dec.Decode(codes, k, dc, pred, &out); err != nil {
			t.Fatal(err)
		}
		want := arr("dec_out")
		if !out.sameShape(want) {
			t.Fatalf("%s decoder output %v, PyTorch %v", tag, out, want)
		}
		if d := maxDiff(out.Data, want.Data); d > tol {
			t.Errorf("%s decoder differs from PyTorch by %g (> %g)", tag, d, tol)
		} else {
			t.Logf("%s decoder: max |Go − PyTorch| = %.2g over %d values", tag, d, len(out.Data))
		}
		// Decoding twice with the same Decoder reuses its buffers and must not change the result.
		again := Tensor{}
		if err := dec.Decode(codes, k, dc, pred, &again); err != nil || maxDiff(again.Data, out.Data) != 0 {
			t.Errorf("%s decoder: second decode differs", tag)
		}

		resid := NewTensor(6, x.H, x.W)
		for i := range resid.Data {
			resid.Data[i] = x.Data[i] - pred.Data[i]
		}
		var logits Tensor
		if err := NewEncoder(c.Enc).Logits(resid, pred, k-1, dc, &logits); err != nil {
			t.Fatal(err)
		}
		want = arr("enc_logits")
		if !logits.sameShape(want) {
			t.Fatalf("%s encoder output %v, PyTorch %v", tag, logits, want)
		}
		if d := maxDiff(logits.Data, want.Data); d > tol {
			t.Errorf("%s encoder differs from PyTorch by %g (> %g)", tag, d, tol)
		} else {
			t.Logf("%s encoder: max |Go − PyTorch| = %.2g over %d values", tag, d, len(logits.Data))
		}
	}
}

func TestLoadModelRejectsBadInput(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.P.Dec.MACsPerLumaPixel(); got != 1232 {
		t.Errorf("P decoder %g MACs per luma pixel, docs/MODEL.md says 1232", got)
	}
	w := append([]byte(nil), assetsWeights()...)
	w[len(w)-1] ^= 1
	if _, err := LoadModel(w, assetsManifest()); err == nil {
		t.Error("weights with a flipped bit passed the SHA-256 check")
	}
	if _, err := LoadModel(assetsWeights(), []byte("{")); err == nil {
		t.Error("broken manifest accepted")
	}
	dec := NewDecoder(m.P.Dec)
	var out Tensor
	pred := NewTensor(6, 16, 16)
	if err := dec.Decode(NewTensor(64, 2, 2), 9, 0, pred, &out); err == nil {
		t.Error("9 layers accepted by an 8-layer decoder")
	}
	if err := dec.Decode(NewTensor(64, 3, 2), 1, 0, pred, &out); err == nil {
		t.Error("codes of the wrong size accepted")
	}
}
