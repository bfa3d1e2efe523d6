package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/encoder/eval"
	"github.com/strata-player/strata/internal/y4m"
)

// runCodecEval measures the codec on a clip against the x264/x265 anchors (encoder/eval).
func runCodecEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata codec-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "input Y4M clip")
	frames := fs.Int("frames", 60, "frames to code (0: all)")
	segment := fs.Duration("segment", 2*time.Second, "segment = GOP duration (anchors use the same GOP length)")
	subgops := fs.String("subgops", "1,8,16,32", "sub-GOP sizes to code")
	compare := fs.Int("compare", 32, "the sub-GOP size whose curve is compared with the anchors (BD-rates); must be in --subgops")
	asJSON := fs.Bool("json", false, "print one JSON object")
	plot := fs.String("plot", "", "write an RD plot (PNG)")
	workers := fs.Int("workers", 0, "goroutines (0: one per CPU)")
	weights := fs.String("weights", "", "a model directory (weights.safetensors, manifest.json) instead of the shipped one")
	anchors := fs.String("anchors", "intra", "sub-GOP anchors: intra (I-frames) or predicted (from the previous anchor)")
	presetName := fs.String("preset", "quality", "encoder preset: quality or live (strata encode --preset)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--in is required")
	}
	if *anchors != "intra" && *anchors != "predicted" {
		return fmt.Errorf("--anchors %q: want intra or predicted", *anchors)
	}
	if *frames < 0 || *workers < 0 || *workers > 256 || *segment <= 0 {
		return errors.New("--frames, --workers and --segment must be positive (or 0 where documented)")
	}
	var sList []int
	for _, s := range strings.Split(*subgops, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--subgops %q: %v", *subgops, err)
		}
		if _, err := decoder.NewSchedule(1, v); err != nil {
			return fmt.Errorf("--subgops: %w", err)
		}
		sList = append(sList, v)
	}
	if !slices.Contains(sList, *compare) {
		return fmt.Errorf("--compare %d: not one of --subgops %s", *compare, *subgops)
	}
	preset, err := encoder.PresetByName(*presetName)
	if err != nil {
		return fmt.Errorf("--preset: %w", err)
	}
	m, err := loadModel(*weights)
	if err != nil {
		return err
	}
	hdr, orig, err := readY4M(*in, *frames)
	if err != nil {
		return err
	}
	gop := int(math.Round(segment.Seconds() * float64(hdr.FPSNum) / float64(hdr.FPSDen)))
	gop = max(1, min(gop, len(orig), 65535))
	prog := newProgress(stderr)
	coder := eval.NewCoder(m, *workers, *anchors == "intra")
	coder.Preset = preset
	res, err := eval.Codec(context.Background(), coder, orig, eval.Options{
		Clip: *in, Anchors: *anchors, GOP: gop, SubGOPs: sList, Compare: *compare,
		Progress: func(msg string) { prog.update("codec-eval: " + msg) }})
	prog.clear()
	if err != nil {
		return err
	}
	if *plot != "" {
		if err := plotRD(*plot, res.Clip, res.Curves); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(stdout, res)
	}
	printEval(stdout, res)
	return nil
}

// writeY4M writes frames (of the header's size) to a new Y4M file at path.
func writeY4M(path string, h y4m.Header, frames []*decoder.Frame) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := y4m.NewWriter(f, h)
	if err != nil {
		return err
	}
	for _, fr := range frames {
		if err := w.Write(fr); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

func readY4M(path string, limit int) (y4m.Header, []*decoder.Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return y4m.Header{}, nil, err
	}
	defer f.Close()
	r, err := y4m.NewReader(f)
	if err != nil {
		return y4m.Header{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []*decoder.Frame
	for limit == 0 || len(out) < limit {
		fr, err := r.Next(nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			return r.Header, nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, fr)
	}
	if len(out) == 0 {
		return r.Header, nil, fmt.Errorf("%s: no frames", path)
	}
	return r.Header, out, nil
}

func printEval(w io.Writer, r *eval.Result) {
	fmt.Fprintf(w, "%s: %dx%d, %d frames, GOP %d\n", r.Clip, r.Width, r.Height, r.Frames, r.GOP)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "codec\tparam\tbpp\tPSNR-Y dB\tPSNR-YUV dB\tworst frame Y dB")
	for _, p := range r.Points {
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.2f\t%.2f\t%.2f\n", p.Codec, p.Param, p.BPP, p.PSNRY, p.PSNRYUV, p.WorstY)
	}
	tw.Flush()
	for _, a := range encoder.Anchors {
		c, p, yuv := "n/a (no PSNR overlap)", "n/a", "n/a"
		if v := r.BDRate[a.Name]; v != nil {
			c = fmt.Sprintf("%+.1f %%", *v)
		}
		if v := r.BDRatePCHIP[a.Name]; v != nil {
			p = fmt.Sprintf("%+.1f %%", *v)
		}
		if v := r.BDRateYUV[a.Name]; v != nil {
			yuv = fmt.Sprintf("%+.1f %%", *v)
		}
		fmt.Fprintf(w, "BD-rate %s vs %-13s PSNR-Y %s (PCHIP %s), PSNR-YUV %s\n", r.Compared, a.Name+":", c, p, yuv)
	}
	names := make([]string, 0, len(r.BDRateByS))
	for n := range r.BDRateByS {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		line := "BD-rate " + n + " (PSNR-Y):"
		for _, a := range encoder.Anchors {
			if v := r.BDRateByS[n][a.Name]; v != nil {
				line += fmt.Sprintf(" vs %s %+.1f %%", a.Name, *v)
			}
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "decode (CPU): S=8 all layers %.1f frames/s, k=1 %.1f frames/s; S=1 chain %.1f frames/s\n",
		r.DecodeFPSCPU, r.DecodeFPSByK["k=1"], r.DecodeFPSS1)
	bd := "n/a"
	if r.BDRateS8vsS1 != nil {
		bd = fmt.Sprintf("%+.1f %%", *r.BDRateS8vsS1)
	}
	fmt.Fprintf(w, "S=8 (intra anchors) vs the S=1 chain: %+.1f %% bits at all layers, BD-rate %s; decoder %.0f MACs/luma pixel\n",
		r.ExtraBitsS8vsS1, bd, r.MACsPerLumaPixel)
}
