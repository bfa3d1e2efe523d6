package decoder_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/testenc"
)

// FuzzParseBaseUnit feeds unit-0 bodies with a valid CRC appended (so the parser itself is
// exercised, not just the checksum): it never panics, every error wraps ErrBitstream, and a
// unit that parses serialises back to one that parses to the same segment.
func FuzzParseBaseUnit(f *testing.F) {
	m, err := decoder.Default()
	if err != nil {
		f.Fatal(err)
	}
	frames := testenc.Synthetic(48, 32, 5)
	for _, s := range []int{2, 4} {
		out, err := (&encoder.SegmentEncoder{Model: m, S: s, Layers: 1, Workers: 1, IntraAnchors: true}).Encode(frames, 0)
		if err != nil {
			f.Fatal(err)
		}
		u, err := out.Segment.AppendUnit(nil, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(u[:len(u)-4])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u := binary.BigEndian.AppendUint32(append([]byte(nil), body...), crc32.ChecksumIEEE(body))
		s, err := decoder.ParseBaseUnit(u)
		if err != nil {
			if !errors.Is(err, decoder.ErrBitstream) {
				t.Fatalf("error %v does not wrap ErrBitstream", err)
			}
			return
		}
		again, err := s.AppendUnit(nil, 0)
		if err != nil {
			t.Fatalf("a parsed unit does not serialise: %v", err)
		}
		s2, err := decoder.ParseBaseUnit(again)
		if err != nil {
			t.Fatalf("a re-serialised unit does not parse: %v", err)
		}
		for fr := range s.Intra {
			if s.Intra[fr] != s2.Intra[fr] || len(s.MVs[fr]) != len(s2.MVs[fr]) || !bytes.Equal(s.Modes[fr], s2.Modes[fr]) {
				t.Fatalf("frame %d changed in a round trip", fr)
			}
		}
	})
}

// FuzzAddUnit feeds layer-unit bodies (valid CRC appended) to a segment whose leaf frames
// carry their motion in unit 1 (bitstream version 5): AddUnit never panics and every error
// wraps ErrBitstream; a unit it accepts gives every leaf its motion, and the segment decodes
// with two layers.
func FuzzAddUnit(f *testing.F) {
	m, err := decoder.Default()
	if err != nil {
		f.Fatal(err)
	}
	out, err := (&encoder.SegmentEncoder{Model: m, S: 4, Layers: 2, Workers: 1, IntraAnchors: true, DeferLambda: 1e-12}).Encode(testenc.Synthetic(48, 32, 5), 0)
	if err != nil {
		f.Fatal(err)
	}
	base, err := out.Segment.AppendUnit(nil, 0)
	if err != nil {
		f.Fatal(err)
	}
	layer, err := out.Segment.AppendUnit(nil, 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(layer[:len(layer)-4])
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decoder.ParseBaseUnit(base)
		if err != nil {
			t.Fatal(err)
		}
		u := binary.BigEndian.AppendUint32(append([]byte(nil), body...), crc32.ChecksumIEEE(body))
		if err := s.AddUnit(u); err != nil {
			if !errors.Is(err, decoder.ErrBitstream) {
				t.Fatalf("error %v does not wrap ErrBitstream", err)
			}
			return
		}
		for fr := range s.Intra {
			if s.Deferrable(fr) && (s.MVs[fr] == nil || s.Modes[fr] == nil) {
				t.Fatalf("leaf frame %d has no motion after unit 1", fr)
			}
		}
		if _, err := decoder.NewSegmentDecoder(m, 1).Decode(s, 2); err != nil && !errors.Is(err, decoder.ErrBitstream) {
			t.Logf("decode: %v", err) // a payload the range decoder rejects is fine; no panic
		}
	})
}

// TestOldVersionsRefused: units of bitstream versions 1–4 are refused with a message that
// says to re-encode, base and layer units alike.
func TestOldVersionsRefused(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&encoder.SegmentEncoder{Model: m, S: 2, Layers: 2, Workers: 1, IntraAnchors: true}).Encode(testenc.Synthetic(48, 32, 3), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := out.Segment.AppendUnit(nil, 0)
	layer, _ := out.Segment.AppendUnit(nil, 1)
	relabel := func(u []byte, v byte) []byte {
		b := append([]byte(nil), u[:len(u)-4]...)
		b[4] = v
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	}
	for v := byte(1); v < decoder.BitstreamVersion; v++ {
		if _, err := decoder.ParseBaseUnit(relabel(base, v)); !errors.Is(err, decoder.ErrBitstream) || !strings.Contains(err.Error(), "re-encode") {
			t.Errorf("base unit of version %d: %v", v, err)
		}
		s, err := decoder.ParseBaseUnit(base)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddUnit(relabel(layer, v)); !errors.Is(err, decoder.ErrBitstream) || !strings.Contains(err.Error(), "re-encode") {
			t.Errorf("layer unit of version %d: %v", v, err)
		}
	}
}
