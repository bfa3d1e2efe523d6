package decoder

import (
	"reflect"
	"testing"
)

func TestScheduleS8(t *testing.T) {
	sc, err := NewSchedule(17, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0}, {8}, {16}, {4, 12}, {2, 6, 10, 14}, {1, 3, 5, 7, 9, 11, 13, 15}}
	if !reflect.DeepEqual(sc.Batches, want) {
		t.Fatalf("batches %v, want %v", sc.Batches, want)
	}
	refs := map[int]int{4: 0, 2: 0, 6: 4, 1: 0, 3: 2, 5: 4, 7: 6, 8: 0, 12: 8, 15: 14, 16: 8}
	for f, r := range refs {
		if sc.Frames[f].Ref != r {
			t.Errorf("frame %d references %d, want %d", f, sc.Frames[f].Ref, r)
		}
	}
	if c := sc.Frames[8].Class; c != 3 {
		t.Errorf("anchor class %d", c)
	}
	if sc.Frames[7].Depth != 3 || sc.Frames[6].Depth != 2 || sc.Frames[4].Depth != 1 {
		t.Errorf("depths %+v", sc.Frames[4:8])
	}
	// No frame of a batch references a frame of the same or a later batch.
	seen := map[int]bool{}
	for _, b := range sc.Batches {
		for _, f := range b {
			if r := sc.Frames[f].Ref; r >= 0 && !seen[r] {
				t.Errorf("frame %d decodes before its reference %d", f, r)
			}
		}
		for _, f := range b {
			seen[f] = true
		}
	}
	// The deepest level is never referenced.
	for _, fr := range sc.Frames {
		if fr.Ref >= 0 && sc.Frames[fr.Ref].Depth == sc.Deepest() && sc.Deepest() > 0 {
			t.Errorf("frame %d references deepest frame %d", fr.Index, fr.Ref)
		}
	}
}

func TestScheduleChainAndErrors(t *testing.T) {
	sc, err := NewSchedule(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sc.Batches, [][]int{{0}, {1}, {2}, {3}}) || sc.Frames[3].Ref != 2 {
		t.Fatalf("S=1 is not a chain: %v", sc.Batches)
	}
	for _, c := range [][2]int{{0, 8}, {8, 3}, {8, 48}, {8, 128}, {70000, 8}} {
		if _, err := NewSchedule(c[0], c[1]); err == nil {
			t.Errorf("NewSchedule(%d, %d) accepted", c[0], c[1])
		}
	}
}

func TestScheduleIntraAnchors(t *testing.T) {
	sc, err := NewScheduleAnchors(17, 8, true)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 8, 16}, {4, 12}, {2, 6, 10, 14}, {1, 3, 5, 7, 9, 11, 13, 15}}
	if !reflect.DeepEqual(sc.Batches, want) {
		t.Fatalf("batches %v, want %v", sc.Batches, want)
	}
	if !sc.Intra(8) || sc.Intra(4) || sc.Frames[12].Ref != 8 {
		t.Fatalf("frames %+v", sc.Frames)
	}
	if _, err := NewScheduleAnchors(5, 1, true); err == nil {
		t.Fatal("intra anchors with S=1 accepted")
	}
}

// TestFutureFrames: every non-anchor frame's future frame is the frame at the same distance
// on the other side, decoded in an earlier batch; it is −1 past the segment's end and for
// anchors.
func TestFutureFrames(t *testing.T) {
	sc, err := NewScheduleAnchors(12, 8, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int{0: -1, 1: 2, 2: 4, 3: 4, 4: 8, 5: 6, 6: 8, 7: 8, 8: -1, 9: 10, 10: -1, 11: -1}
	batch := map[int]int{}
	for b, fs := range sc.Batches {
		for _, f := range fs {
			batch[f] = b
		}
	}
	for f, fu := range want {
		if got := sc.Frames[f].Future; got != fu {
			t.Errorf("frame %d: future %d, want %d", f, got, fu)
		}
		if fu >= 0 && batch[fu] >= batch[f] {
			t.Errorf("frame %d (batch %d) has future frame %d in batch %d", f, batch[f], fu, batch[fu])
		}
	}
	for _, s := range []int{1, 2, 4, 8, 16, 32, 64} {
		for _, intra := range []bool{true, false} {
			if s == 1 && intra {
				continue
			}
			n := 41 + s
			sc, err := NewScheduleAnchors(n, s, intra)
			if err != nil {
				t.Fatal(err)
			}
			pos := map[int]int{}
			for i, f := range sc.DecodeOrder() {
				pos[f] = i
			}
			for f, fr := range sc.Frames {
				if fr.Future >= 0 && (fr.Future >= n || pos[fr.Future] >= pos[f] || fr.Future-f != f-fr.Ref) {
					t.Errorf("S=%d intra=%v frame %d: future %d (ref %d) is not decoded before it or not symmetric", s, intra, f, fr.Future, fr.Ref)
				}
			}
		}
	}
}
