package main

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/internal/y4m"
)

// TestResampleRoundTrip: strata resample halves a clip (the rung's padded size) and doubles
// it back to the source's size with the shipped learned pair; the learned pair beats
// bicubic on this smooth content; bad flags and a post-filter as --up are refused.
func TestResampleRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.y4m")
	frames := testenc.Synthetic(98, 62, 3)
	if err := writeY4M(src, y4m.Header{Width: 98, Height: 62, FPSNum: 20, FPSDen: 1}, frames); err != nil {
		t.Fatal(err)
	}
	psnr := map[string]float64{}
	for _, m := range []struct{ name, down, up string }{
		{"bicubic", "bicubic", "bicubic"},
		{"learned", "../../assets/resample/down.sdwn", "../../assets/resample/up.senh"},
	} {
		half, up := filepath.Join(dir, m.name+"-half.y4m"), filepath.Join(dir, m.name+"-up.y4m")
		var out, errb bytes.Buffer
		if err := run([]string{"resample", "--in", src, "--out", half, "--down", m.down}, &out, &errb); err != nil {
			t.Fatalf("%s down: %v %s", m.name, err, errb.String())
		}
		hdr, h, err := readY4M(half, 0)
		if err != nil || hdr.Width != 50 || hdr.Height != 32 || len(h) != 3 {
			t.Fatalf("%s: half is %dx%d, %d frames (%v), want 50x32", m.name, hdr.Width, hdr.Height, len(h), err)
		}
		if err := run([]string{"resample", "--in", half, "--out", up, "--up", m.up, "--size", "98x62"}, &out, &errb); err != nil {
			t.Fatalf("%s up: %v %s", m.name, err, errb.String())
		}
		_, u, err := readY4M(up, 0)
		if err != nil || u[0].W != 98 || u[0].H != 62 {
			t.Fatalf("%s: up %v", m.name, err)
		}
		for i := range u {
			psnr[m.name] += encoder.MeasurePSNR(frames[i], u[i]).PSNRY / 3
		}
	}
	t.Logf("PSNR-Y after halving and doubling: bicubic %.2f dB, learned %.2f dB", psnr["bicubic"], psnr["learned"])
	if psnr["learned"] < psnr["bicubic"] || psnr["bicubic"] < 20 {
		t.Fatalf("round trip: %v", psnr)
	}
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"resample", "--in", src, "--out", filepath.Join(dir, "x.y4m")},
		{"resample", "--in", src, "--out", filepath.Join(dir, "x.y4m"), "--down", "bicubic", "--up", "bicubic"},
		{"resample", "--in", src, "--out", filepath.Join(dir, "x.y4m"), "--up", "../../assets/enhance/generic.senh"},
		{"resample", "--in", src, "--out", filepath.Join(dir, "x.y4m"), "--up", "bicubic", "--size", "400x40"},
		{"resample", "--in", src, "--out", filepath.Join(dir, "x.y4m"), "--down", "../../assets/resample/up.senh"},
	} {
		if err := run(args, &out, &errb); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestRefSink: the player's reference measurement finds frames by presentation time,
// doubles half-resolution frames and reports the last 30 s apart.
func TestRefSink(t *testing.T) {
	ref := testenc.Synthetic(64, 48, 4)
	r := &refSink{next: discard{}, ref: ref, fps: 2}
	for i := 0; i < 80; i++ { // 40 s at 2 frames/s, the reference looped
		f := ref[i%4]
		switch {
		case i < 20:
			f = enhance.BicubicDown(f) // the first 10 s at half resolution
		case i < 40:
			// then a double of a padded rung: two rows more than the source
			g := decoder.NewFrame(64, 50)
			copy(g.Y, f.Y)
			f = g
		}
		if err := r.Present(f, time.Duration(i)*500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	mean, last, n := r.result()
	if n != 80 || last != 100 || mean >= 100 || mean < 60 {
		t.Fatalf("mean %.2f, last 30 s %.2f, %d frames", mean, last, n)
	}
}

type discard struct{}

func (discard) Present(*decoder.Frame, time.Duration) error { return nil }
