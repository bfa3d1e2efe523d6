package byteread

import (
	"errors"
	"strings"
	"testing"
)

var errTest = errors.New("test format")

func TestReads(t *testing.T) {
	r := BigEndian([]byte{1, 0, 2, 0, 0, 0, 3, 0x3f, 0x80, 0, 0}, errTest)
	if r.U8() != 1 || r.U16() != 2 || r.U32() != 3 || r.F32() != 1 || r.Err() != nil {
		t.Fatalf("big-endian reads wrong or failed: %v", r.Err())
	}
	r.End("record")
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	l := LittleEndian([]byte{2, 0, 3, 0, 0, 0}, errTest)
	if l.U16() != 2 || l.U32() != 3 || l.Left() != 0 {
		t.Fatal("little-endian reads wrong")
	}
}

func TestStickyTruncation(t *testing.T) {
	r := BigEndian([]byte{1, 2, 3}, errTest)
	r.U16()
	if v := r.U32(); v != 0 {
		t.Fatalf("read past the end gave %d", v)
	}
	if r.U8() != 0 || r.Take(0) != nil {
		t.Fatal("reads after an error must return zeros")
	}
	err := r.Err()
	if !errors.Is(err, errTest) || !strings.Contains(err.Error(), "truncated at byte 2") {
		t.Fatalf("err = %v", err)
	}
	r.Fail("later finding")
	if r.Err() != err {
		t.Fatal("the first error must stick")
	}
}

func TestFailAndEnd(t *testing.T) {
	r := BigEndian([]byte{9, 9}, errTest)
	r.U8()
	r.End("header")
	if err := r.Err(); !errors.Is(err, errTest) || !strings.Contains(err.Error(), "1 bytes after the header") {
		t.Fatalf("err = %v", err)
	}
	r = BigEndian([]byte{7}, errTest)
	if r.U8(); true {
		r.Fail("field %d out of range", 7)
	}
	if err := r.Err(); !strings.Contains(err.Error(), "field 7 out of range") {
		t.Fatalf("err = %v", err)
	}
	if r.Take(-1) != nil {
		t.Fatal("negative take")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 3)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		r := LittleEndian(b, errTest)
		for range 4 {
			r.U8()
			r.Take(n)
			r.F64()
		}
		if r.Err() == nil && r.Pos() > len(b) {
			t.Fatal("read past the end without an error")
		}
	})
}
