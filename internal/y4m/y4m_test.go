package y4m

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/strata-player/strata/decoder"
)

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{Width: 4, Height: 2, FPSNum: 30000, FPSDen: 1001})
	if err != nil {
		t.Fatal(err)
	}
	f := decoder.NewFrame(4, 2)
	for i := range f.Y {
		f.Y[i] = byte(i)
	}
	f.U[0], f.V[1] = 7, 9
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(decoder.NewFrame(2, 2)); err == nil {
		t.Fatal("frame of the wrong size written")
	}
	w.Close()
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r.FPSNum != 30000 || r.FPSDen != 1001 {
		t.Fatalf("header %+v", r.Header)
	}
	g, err := r.Next(nil)
	if err != nil || !bytes.Equal(g.Y, f.Y) || g.U[0] != 7 || g.V[1] != 9 {
		t.Fatalf("frame %+v, %v", g, err)
	}
	if _, err := r.Next(nil); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{
		"", "YUV4MPEG2 W0 H2\n", "YUV4MPEG2 W3 H2\n", "YUV4MPEG2 W4 H2 C444\n", "YUV4MPEG2 W4 H2 Fx\n",
		"MPEG W4 H2\n", "YUV4MPEG2 W4 H2 F1:0\n",
	} {
		if _, err := NewReader(bytes.NewReader([]byte(in))); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v", in, err)
		}
	}
	r, err := NewReader(bytes.NewReader([]byte("YUV4MPEG2 W4 H2\nFRAME\nabc")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(nil); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated frame: %v", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("YUV4MPEG2 W176 H144 F25:1 Ip A1:1 C420jpeg"))
	f.Add([]byte("YUV4MPEG2 W-2 H2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h.Width <= 0 || h.Height <= 0 || h.Width%2 != 0 || h.FPSNum <= 0 || h.FPSDen <= 0 {
			t.Fatalf("accepted %+v", h)
		}
	})
}
