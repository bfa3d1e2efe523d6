package encoder

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/testclip"
)

// roundTrip encodes frames, serialises every unit, parses them back and decodes with every
// k, requiring the decoder's frames to equal the encoder's chain-k reconstructions.
func roundTrip(t *testing.T, m *decoder.Model, frames []*decoder.Frame, s, layers int, own bool) {
	t.Helper()
	enc := &SegmentEncoder{Model: m, S: s, Layers: layers, OwnChains: own, IntraAnchors: s > 1 && !own}
	out, err := enc.Encode(frames, 7)
	if err != nil {
		t.Fatal(err)
	}
	var units [][]byte
	for l := 0; l < layers; l++ {
		u, err := out.Segment.AppendUnit(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
	seg, err := decoder.ParseBaseUnit(units[0])
	if err != nil {
		t.Fatal(err)
	}
	dec := decoder.NewSegmentDecoder(m, 0)
	for k := 1; k <= layers; k++ {
		if k > 1 {
			if err := seg.AddUnit(units[k-1]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dec.Decode(seg, k)
		if err != nil {
			t.Fatal(err)
		}
		for f, g := range got {
			want := out.Recon[k-1][f]
			if !bytes.Equal(g.Y, want.Y) || !bytes.Equal(g.U, want.U) || !bytes.Equal(g.V, want.V) {
				t.Fatalf("S=%d k=%d frame %d: decoder output differs from the encoder's reconstruction (drift)", s, k, f)
			}
		}
	}
}

func TestDriftFreeOnTestClips(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range testclip.Names(t, "test") {
		n := 10
		if name == "flower_540p" {
			n = 3 // 960x544: keep the test short; every k and both frame kinds still run
		}
		_, frames := testclip.Frames(t, "test", name, n)
		for _, s := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/S=%d", name, s), func(t *testing.T) {
				roundTrip(t, m, frames, s, m.P.Layers, false)
			})
		}
		if name == "carphone_qcif" {
			t.Run(name+"/S=4/own-chains", func(t *testing.T) { roundTrip(t, m, frames, 4, m.P.Layers, true) })
		}
	}
}

func TestCorruptUnitsAreRejected(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := []*decoder.Frame{synth(48, 32, 0), synth(48, 32, 1), synth(48, 32, 2)}
	out, err := (&SegmentEncoder{Model: m, S: 2, Layers: 3}).Encode(frames, 1)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := out.Segment.AppendUnit(nil, 0)
	l1, _ := out.Segment.AppendUnit(nil, 1)
	l2, _ := out.Segment.AppendUnit(nil, 2)
	for i := 0; i < len(base); i += 7 {
		b := append([]byte(nil), base...)
		b[i] ^= 0x10
		if _, err := decoder.ParseBaseUnit(b); !errors.Is(err, decoder.ErrBitstream) {
			t.Fatalf("flipped byte %d of the base unit: %v", i, err)
		}
	}
	for n := 0; n < len(base); n++ {
		if _, err := decoder.ParseBaseUnit(base[:n]); err == nil {
			t.Fatalf("base unit truncated to %d bytes accepted", n)
		}
	}
	seg, err := decoder.ParseBaseUnit(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := seg.AddUnit(l2); err == nil {
		t.Fatal("layer 2 accepted before layer 1")
	}
	if err := seg.AddUnit(l1[:len(l1)-1]); err == nil {
		t.Fatal("truncated layer unit accepted")
	}
	if _, err := decoder.NewSegmentDecoder(m, 1).Decode(seg, 2); err == nil {
		t.Fatal("decode with 2 layers of a segment holding 1")
	}
}
