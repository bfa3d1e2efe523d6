package decoder

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// testSegment builds a small valid segment with random codes and vectors.
func testSegment(r *rand.Rand, frames, s, layers int) *Segment {
	seg := &Segment{SegmentHeader: SegmentHeader{Width: 40, Height: 30, Frames: frames, S: s, Layers: layers,
		LayersI: min(2, layers), BitsI: 32, BitsP: 8, Segment: 3}, Have: layers}
	bw, bh := seg.Blocks()
	seg.MVs = make([][]MV, frames)
	for f := 1; f < frames; f++ {
		seg.MVs[f] = randMVs(r, bw*bh, 3)
	}
	seg.Codes = make([][][]byte, layers)
	for l := range seg.Codes {
		seg.Codes[l] = make([][]byte, frames)
		for i, f := range seg.Schedule().DecodeOrder() {
			if l < seg.layersOf(f == 0) {
				p := make([]byte, seg.payloadSize(f == 0))
				for j := range p {
					p[j] = byte(r.IntN(256))
				}
				seg.Codes[l][i] = p
			}
		}
	}
	return seg
}

func TestUnitsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	seg := testSegment(r, 9, 4, 3)
	var units [][]byte
	for l := 0; l < 3; l++ {
		u, err := seg.AppendUnit(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
	got, err := ParseBaseUnit(units[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units[1:] {
		if err := got.AddUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if got.SegmentHeader != seg.SegmentHeader || got.Have != 3 {
		t.Fatalf("header %+v, want %+v", got.SegmentHeader, seg.SegmentHeader)
	}
	for l := range seg.Codes {
		for i := range seg.Codes[l] {
			if string(got.Codes[l][i]) != string(seg.Codes[l][i]) {
				t.Fatalf("layer %d frame %d payload differs", l, i)
			}
		}
	}
	for f := 1; f < 9; f++ {
		for i := range seg.MVs[f] {
			if got.MVs[f][i] != seg.MVs[f][i] {
				t.Fatalf("frame %d vector %d", f, i)
			}
		}
	}
	if err := got.AddUnit(units[1]); !errors.Is(err, ErrBitstream) {
		t.Errorf("a fourth unit: %v", err)
	}
}

func FuzzParseBaseUnit(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, c := range [][3]int{{1, 1, 1}, {5, 2, 2}, {9, 8, 3}} {
		seg := testSegment(r, c[0], c[1], c[2])
		u, _ := seg.AppendUnit(nil, 0)
		f.Add(u)
	}
	f.Add([]byte("NVC0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		seg, err := ParseBaseUnit(b)
		if err != nil {
			if !errors.Is(err, ErrBitstream) {
				t.Fatalf("error %v does not wrap ErrBitstream", err)
			}
			return
		}
		// A unit that parses writes back identically.
		u, err := seg.AppendUnit(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseBaseUnit(u); err != nil {
			t.Fatalf("rewritten unit does not parse: %v", err)
		}
	})
}

func FuzzAddUnit(f *testing.F) {
	r := rand.New(rand.NewPCG(6, 6))
	seg := testSegment(r, 5, 2, 3)
	base, _ := seg.AppendUnit(nil, 0)
	l1, _ := seg.AppendUnit(nil, 1)
	f.Add(l1)
	f.Add(l1[:len(l1)-2])
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseBaseUnit(base)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddUnit(b); err != nil {
			if !errors.Is(err, ErrBitstream) {
				t.Fatalf("error %v does not wrap ErrBitstream", err)
			}
			if s.Have != 1 {
				t.Fatal("a rejected unit changed the segment")
			}
		}
	})
}

func TestUnitsRoundTripIntraAnchors(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	seg := testSegment(r, 1, 4, 2)
	seg.Frames, seg.IntraAnchors, seg.sched = 9, true, nil
	bw, bh := seg.Blocks()
	seg.MVs = make([][]MV, 9)
	for l := range seg.Codes {
		seg.Codes[l] = make([][]byte, 9)
	}
	sc := seg.Schedule()
	for i, f := range sc.DecodeOrder() {
		if !sc.Intra(f) {
			seg.MVs[f] = randMVs(r, bw*bh, 2)
		}
		for l := 0; l < 2; l++ {
			if l < seg.layersOf(sc.Intra(f)) {
				seg.Codes[l][i] = make([]byte, seg.payloadSize(sc.Intra(f)))
				seg.Codes[l][i][0] = byte(f)
			}
		}
	}
	u0, err := seg.AppendUnit(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseBaseUnit(u0)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IntraAnchors || got.MVs[4] != nil || got.MVs[3] == nil || got.Codes[0][1][0] != 4 {
		t.Fatalf("intra anchors lost: %+v", got.SegmentHeader)
	}
}
