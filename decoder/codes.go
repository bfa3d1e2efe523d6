package decoder

import "fmt"

// Code layout (docs/MODEL.md): one layer's payload holds, for each 16×16 luma block in
// raster order, Bits sign bits, most significant bit of each byte first; bit j of a block
// is code channel layer·Bits + j, a set bit is +1 and a clear bit −1. A payload is
// ceil(blocks·Bits/8) bytes; unused trailing bits are zero.

// PayloadBytes is the size of one layer's payload for a frame of bw×bh blocks.
func PayloadBytes(bits, bw, bh int) int { return (bw*bh*bits + 7) / 8 }

// UnpackCodes fills codes (Layers·Bits × bh × bw) from the payloads of the first
// len(layers) layers; the channels of missing layers are zero.
func UnpackCodes(layers [][]byte, bits, totalLayers, bw, bh int, out *Tensor) (Tensor, error) {
	if len(layers) < 1 || len(layers) > totalLayers {
		return Tensor{}, fmt.Errorf("%d layers received, want 1..%d", len(layers), totalLayers)
	}
	need := PayloadBytes(bits, bw, bh)
	for i, p := range layers {
		if len(p) != need {
			return Tensor{}, fmt.Errorf("layer %d payload is %d bytes, want %d for %dx%d blocks", i, len(p), need, bw, bh)
		}
	}
	t := ensure(out, totalLayers*bits, bh, bw)
	clear(t.Data)
	nb := bw * bh
	for l, p := range layers {
		for b := 0; b < nb; b++ {
			for j := 0; j < bits; j++ {
				k := b*bits + j
				v := float32(-1)
				if p[k>>3]&(0x80>>(k&7)) != 0 {
					v = 1
				}
				t.Data[(l*bits+j)*nb+b] = v
			}
		}
	}
	return t, nil
}

// PackCodes binarises logits (Bits × bh × bw) — logit ≥ 0 is +1 — into a layer payload,
// appended to dst. It returns the payload and writes the ±1 codes into codes' channels
// [layer·Bits, (layer+1)·Bits) when codes is not nil.
func PackCodes(dst []byte, logits Tensor, layer int, codes *Tensor) []byte {
	nb := logits.H * logits.W
	bits := logits.C
	start := len(dst)
	dst = append(dst, make([]byte, PayloadBytes(bits, logits.W, logits.H))...)
	p := dst[start:]
	for b := 0; b < nb; b++ {
		for j := 0; j < bits; j++ {
			v := float32(-1)
			if logits.Data[j*nb+b] >= 0 {
				k := b*bits + j
				p[k>>3] |= 0x80 >> (k & 7)
				v = 1
			}
			if codes != nil {
				codes.Data[(layer*bits+j)*nb+b] = v
			}
		}
	}
	return dst
}
