package eval

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/internal/y4m"
)

// TestCodecOnASyntheticClip runs the whole measurement on 16 frames of 64×48: strata at
// S = 1 and 8, every layer count, and the ffmpeg anchors on the same frames.
func TestCodecOnASyntheticClip(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffmpeg is missing (make setup installs it)")
		}
		t.Skip("ffmpeg is missing (make setup installs it)")
	}
	frames := testenc.Synthetic(64, 48, 16)
	clip := filepath.Join(t.TempDir(), "clip.y4m")
	f, err := os.Create(clip)
	if err != nil {
		t.Fatal(err)
	}
	w, err := y4m.NewWriter(f, y4m.Header{Width: 64, Height: 48, FPSNum: 20, FPSDen: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.Write(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	var told int
	res, err := Codec(context.Background(), NewCoder(m, 1, true), frames, Options{Clip: clip, Anchors: "intra", GOP: 16, SubGOPs: []int{1, 8}, Compare: 8, Progress: func(string) { told++ }})
	if err != nil {
		t.Fatal(err)
	}
	strata := 0
	for _, p := range res.Points {
		if p.BPP <= 0 || p.PSNRY < 10 || p.PSNRY > 80 {
			t.Errorf("implausible point %+v", p)
		}
		if p.Codec == "strata-S1" || p.Codec == "strata-S8" {
			strata++
		}
	}
	if strata != 2*decoder.Layers || len(res.Curves["strata-S8"]) != decoder.Layers || told == 0 {
		t.Fatalf("%d strata points, curves %v, progress told %d times", strata, res.Curves, told)
	}
	if res.DecodeFPSCPU <= 0 || res.DecodeFPSS1 <= 0 || res.MACsPerLumaPixel <= 0 || res.Compared != "strata-S8" {
		t.Fatalf("result %+v", res)
	}
}

// TestRungs measures the rungs of a 64×64 clip: five curves, one point per layer count, the
// half-resolution rungs cheaper at each layer count than the full one.
func TestRungs(t *testing.T) {
	src := testenc.Synthetic(64, 64, 8)
	up, err := enhance.New(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	up.Scale = 2
	up.Prepare()
	curves, err := Rungs(src, 20, 8, enhance.BicubicDown, up)
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != 5 {
		t.Fatalf("%d curves", len(curves))
	}
	for _, c := range curves {
		if len(c.Points) != decoder.Layers || len(c.Kbps) != decoder.Layers {
			t.Fatalf("%s: %d points", c.Name, len(c.Points))
		}
		for k, p := range c.Points {
			if p.PSNR < 15 || p.PSNR > 80 || (c.Name != "full resolution" && p.BPP >= curves[0].Points[k].BPP) {
				t.Errorf("%s k=%d: %+v (full: %+v)", c.Name, k+1, p, curves[0].Points[k])
			}
		}
	}
	if bds := RungBDRates(curves); len(bds) != 5 {
		t.Fatalf("%d BD-rates", len(bds))
	}
}
