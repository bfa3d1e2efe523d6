package encoder

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/testclip"
)

// roundTrip encodes frames with the codec, serialises every unit, parses them back and
// decodes with every k, requiring the decoder's frames to equal the encoder's chain-k
// reconstructions (drift test), with one worker and with two.
func roundTrip(t *testing.T, m *decoder.Model, frames []*decoder.Frame, s, layers int, modes bool) *Encoded {
	t.Helper()
	return roundTripEnc(t, &SegmentEncoder{Model: m, S: s, Layers: layers, IntraAnchors: s > 1, NoModes: !modes}, frames)
}

// roundTripEnc is roundTrip with a configured encoder.
func roundTripEnc(t *testing.T, enc *SegmentEncoder, frames []*decoder.Frame) *Encoded {
	t.Helper()
	m, s, layers := enc.Model, enc.S, enc.Layers
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
	for k := 1; k <= layers; k++ {
		if k > 1 {
			if err := seg.AddUnit(units[k-1]); err != nil {
				t.Fatal(err)
			}
		}
		for _, workers := range []int{1, 2} {
			got, err := decoder.NewSegmentDecoder(m, workers).Decode(seg, k)
			if err != nil {
				t.Fatal(err)
			}
			for f, g := range got {
				want := out.Recon[k-1][f]
				if !bytes.Equal(g.Y, want.Y) || !bytes.Equal(g.U, want.U) || !bytes.Equal(g.V, want.V) {
					t.Fatalf("S=%d k=%d frame %d (%d workers): decoder output differs from the encoder's reconstruction (drift)", s, k, f, workers)
				}
			}
		}
		// Reduced frame rates: without the deepest levels, every step-th frame, unchanged.
		sc := seg.Schedule()
		for drop := 1; drop <= sc.Deepest(); drop++ {
			step := sc.Step(drop)
			got, err := decoder.NewSegmentDecoder(m, 2).DecodeRate(seg, k, drop)
			if err != nil {
				t.Fatal(err)
			}
			if want := (len(frames) + step - 1) / step; len(got) != want {
				t.Fatalf("S=%d k=%d drop %d: %d frames, want %d", s, k, drop, len(got), want)
			}
			for i, g := range got {
				want := out.Recon[k-1][i*step]
				if !bytes.Equal(g.Y, want.Y) || !bytes.Equal(g.U, want.U) || !bytes.Equal(g.V, want.V) {
					t.Fatalf("S=%d k=%d drop %d: frame %d differs from the full decode's", s, k, drop, i*step)
				}
			}
		}
	}
	return out
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
		n := 9
		if name == "flower_540p" {
			n = 3
		}
		_, frames := testclip.Frames(t, "test", name, n)
		// S = 16 on 9 frames: frame 8 has no future frame (a P-frame at distance 8) and the
		// B-frames 4, 2, 6, … predict from it.
		for _, s := range []int{1, 4, 8, 16} {
			t.Run(fmt.Sprintf("%s/S=%d", name, s), func(t *testing.T) {
				out := roundTrip(t, m, frames, s, decoder.Layers, true)
				if s != 8 {
					return
				}
				// The layers (issue #14): every added layer raises the mean PSNR-Y, and k = 1 → K
				// spans at least 4 dB.
				var psnr []float64
				for k := 1; k <= decoder.Layers; k++ {
					sum := 0.0
					for f, o := range frames {
						sum += MeasurePSNR(o, out.Recon[k-1][f]).PSNRY
					}
					psnr = append(psnr, sum/float64(len(frames)))
				}
				t.Logf("%s S=8 mean PSNR-Y per k: %.2f", name, psnr)
				for k := 1; k < len(psnr); k++ {
					if psnr[k] <= psnr[k-1] {
						t.Errorf("layer %d lowers PSNR-Y: %.2f → %.2f dB", k+1, psnr[k-1], psnr[k])
					}
				}
				if span := psnr[len(psnr)-1] - psnr[0]; span < 4 {
					t.Errorf("k = 1 → %d spans %.2f dB, want ≥ 4", len(psnr), span)
				}
			})
		}
	}
	// S = 32 on 18 frames: frame 16 is a P-frame at distance 16 (distance class 3, like 8),
	// frames 8, 4, … are B-frames from it, frame 17 follows it.
	_, frames := testclip.Frames(t, "test", "carphone_qcif", 18)
	roundTrip(t, m, frames, 32, decoder.Layers, true)
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
	for i := 0; i < len(base); i += 3 {
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

// TestAllIntraSegment: a segment whose every frame is intra-coded (no vectors at all: here
// one frame) serialises and parses (the vector payload is empty).
func TestAllIntraSegment(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&SegmentEncoder{Model: m, S: 1, Layers: 2}).Encode([]*decoder.Frame{synth(48, 32, 0)}, 3)
	if err != nil {
		t.Fatal(err)
	}
	u, err := out.Segment.AppendUnit(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decoder.ParseBaseUnit(u); err != nil {
		t.Fatal(err)
	}
}
