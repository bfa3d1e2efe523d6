package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/encoder/eval"
)

// loadDown reads --down: "bicubic", "box" or a learned downsampler's file.
func loadDown(spec string) (func(*decoder.Frame) *decoder.Frame, error) {
	switch spec {
	case "bicubic":
		return enhance.BicubicDown, nil
	case "box":
		return enhance.BoxDown().Apply, nil
	}
	b, err := os.ReadFile(spec)
	if err != nil {
		return nil, err
	}
	d, err := enhance.UnmarshalDown(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return d.Apply, nil
}

// loadUp reads --up: "bicubic" (nil net) or an upsampler's network (decoder/enhance's Net,
// applied after the bicubic 2×).
func loadUp(spec string) (*enhance.Net, error) {
	if spec == "bicubic" {
		return nil, nil
	}
	b, err := os.ReadFile(spec)
	if err != nil {
		return nil, err
	}
	n, err := enhance.UnmarshalUpsampler(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return n, nil
}

// matchSource brings decoded frames to the source's w×h in place: a half-resolution rung's
// become their bicubic doubles (scale 2: a model for them is an upsampler); frames of the
// source's size stay (scale 1).
func matchSource(dec []*decoder.Frame, w, h int) (scale int, err error) {
	if dec[0].W == w && dec[0].H == h {
		return 1, nil
	}
	if 2*dec[0].W < w || 2*dec[0].H < h || dec[0].W > w {
		return 0, fmt.Errorf("decoded frames of %dx%d for a %dx%d source: want the same size or half", dec[0].W, dec[0].H, w, h)
	}
	for i, f := range dec {
		dec[i] = enhance.Upscale2(nil, f, w, h)
	}
	return 2, nil
}

// runResample converts a clip to the half-resolution rung (--down) or back (--up).
func runResample(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata resample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "input Y4M")
	out := fs.String("out", "", "output Y4M")
	down := fs.String("down", "", "halve the resolution: bicubic, box or a learned downsampler (.sdwn)")
	up := fs.String("up", "", "double the resolution: bicubic or a learned upsampler (.senh)")
	size := fs.String("size", "", "with --up: the output size WxH (default twice the input; the source's size crops the rung's padding)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() > 0 || (*down == "") == (*up == "") {
		fs.Usage()
		return errors.New("--in, --out and one of --down or --up are required")
	}
	hdr, frames, err := readY4M(*in, 0)
	if err != nil {
		return err
	}
	var conv func(*decoder.Frame) *decoder.Frame
	ow, oh := 0, 0
	if *down != "" {
		d, err := loadDown(*down)
		if err != nil {
			return err
		}
		conv = d
		ow, oh = enhance.HalfSize(hdr.Width, hdr.Height)
	} else {
		net, err := loadUp(*up)
		if err != nil {
			return err
		}
		ow, oh = 2*hdr.Width, 2*hdr.Height
		if *size != "" {
			if ow, oh, err = parseRes(*size); err != nil {
				return fmt.Errorf("--size: %w", err)
			}
			if ow > 2*hdr.Width || oh > 2*hdr.Height {
				return fmt.Errorf("--size %s: want even sides of at most twice %dx%d", *size, hdr.Width, hdr.Height)
			}
		}
		var s enhance.Scratch
		conv = func(f *decoder.Frame) *decoder.Frame { return enhance.Double(nil, f, ow, oh, net, &s, 0) }
	}
	for i, fr := range frames {
		frames[i] = conv(fr)
	}
	hdr.Width, hdr.Height = ow, oh
	if err := writeY4M(*out, hdr, frames); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d frames -> %dx%d\n", len(frames), ow, oh)
	return nil
}

// rungCurve is one rung's rate-distortion points (k = 1..K), rate in bits per source pixel.
// runResampleEval measures the half-resolution rungs against each other and the
// full-resolution one on a clip: the codec, every layer count, PSNR-Y against the source.
func runResampleEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata resample-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the source clip (Y4M)")
	nframes := fs.Int("frames", 400, "frames measured (0: all)")
	down := fs.String("down", "", "the learned downsampler (.sdwn)")
	up := fs.String("up", "", "the learned upsampler (.senh)")
	subgop := fs.Int("subgop", 32, "sub-GOP size S")
	jsonPath := fs.String("json", "", "also write the curves and BD-rates here")
	plotPath := fs.String("plot", "", "also draw the RD curves here (PNG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *down == "" || *up == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--in, --down and --up are required")
	}
	if *nframes < 0 {
		return errors.New("--frames must not be negative")
	}
	if _, err := decoder.NewScheduleAnchors(2, *subgop, *subgop > 1); err != nil {
		return fmt.Errorf("--subgop: %w", err)
	}
	hdr, src, err := readY4M(*in, *nframes)
	if err != nil {
		return err
	}
	learnedDown, err := loadDown(*down)
	if err != nil {
		return err
	}
	net, err := loadUp(*up)
	if err != nil {
		return err
	}
	t0 := time.Now()
	fps := float64(hdr.FPSNum) / float64(hdr.FPSDen)
	curves, err := eval.Rungs(src, fps, *subgop, learnedDown, net)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rung\tk\tkbit/s\tbpp (source)\tPSNR-Y\n")
	for _, c := range curves {
		for k, p := range c.Points {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.4f\t%.2f\n", c.Name, k+1, c.Kbps[k], p.BPP, p.PSNR)
		}
	}
	tw.Flush()
	bds := eval.RungBDRates(curves)
	for _, b := range bds {
		line := fmt.Sprintf("BD-rate of %q against %q:", b.Test, b.Anchor)
		if b.Cubic != nil {
			line += fmt.Sprintf(" %+.1f %% (cubic)", *b.Cubic)
		} else {
			line += " " + b.Err
		}
		if b.PCHIP != nil {
			line += fmt.Sprintf(", %+.1f %% (PCHIP)", *b.PCHIP)
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stderr, "%d frames %dx%d, S=%d, %.1f s\n", len(src), hdr.Width, hdr.Height, *subgop, time.Since(t0).Seconds())
	if *jsonPath != "" {
		b, _ := json.MarshalIndent(map[string]any{"clip": *in, "frames": len(src), "curves": curves, "bd_rate": bds}, "", " ")
		if err := os.WriteFile(*jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		m := map[string][]encoder.RDPoint{}
		for _, c := range curves {
			m[c.Name] = c.Points
		}
		if err := plotRD(*plotPath, "half-resolution rungs, "+filepath.Base(*in), m, true); err != nil {
			return err
		}
	}
	return nil
}
