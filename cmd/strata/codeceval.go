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
	"github.com/strata-player/strata/internal/y4m"
)

// evalPoint is one RD point of one codec configuration.
type evalPoint struct {
	Codec   string  `json:"codec"`
	Param   string  `json:"param"` // layers k or CRF
	BPP     float64 `json:"bpp"`
	PSNRY   float64 `json:"psnr_y"`
	PSNRYUV float64 `json:"psnr_yuv"` // (6·Y + U + V)/8 of per-frame PSNRs
	WorstY  float64 `json:"worst_frame_psnr_y"`
}

type evalResult struct {
	Clip             string                         `json:"clip"`
	Anchors          string                         `json:"anchors"`
	Width            int                            `json:"width"`
	Height           int                            `json:"height"`
	Frames           int                            `json:"frames"`
	GOP              int                            `json:"gop"`
	Points           []evalPoint                    `json:"points"`
	Compared         string                         `json:"compared"`          // the strata curve in the BD-rates (strata-S<compare>)
	BDRate           map[string]*float64            `json:"bd_rate"`           // Compared vs each anchor, cubic (VCEG-M33)
	BDRatePCHIP      map[string]*float64            `json:"bd_rate_pchip"`     // the PCHIP cross-check
	BDRateYUV        map[string]*float64            `json:"bd_rate_yuv"`       // on PSNR-YUV, cubic
	BDRateByS        map[string]map[string]*float64 `json:"bd_rate_by_subgop"` // every coded S (strata-S<s>) vs each anchor, PSNR-Y, cubic
	BDvsX264Medium   *float64                       `json:"bd_rate_vs_x264_medium"`
	BDvsX265Medium   *float64                       `json:"bd_rate_vs_x265_medium"`
	DecodeFPSCPU     float64                        `json:"decode_fps_cpu"` // S=8, all layers
	DecodeFPSByK     map[string]float64             `json:"decode_fps_by_k"`
	DecodeFPSS1      float64                        `json:"decode_fps_s1"`
	ExtraBitsS8vsS1  float64                        `json:"extra_bits_s8_vs_s1_percent"`
	BDRateS8vsS1     *float64                       `json:"bd_rate_s8_vs_s1"`
	MACsPerLumaPixel float64                        `json:"decoder_macs_per_luma_pixel"`
	EncodeSeconds    float64                        `json:"encode_seconds"`
}

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
	sc, err := newSegCoder(*weights, *workers, *anchors == "intra")
	if err != nil {
		return err
	}
	hdr, orig, err := readY4M(*in, *frames)
	if err != nil {
		return err
	}
	gop := int(math.Round(segment.Seconds() * float64(hdr.FPSNum) / float64(hdr.FPSDen)))
	gop = max(1, min(gop, len(orig), 65535))
	res := &evalResult{Clip: *in, Anchors: *anchors, Width: hdr.Width, Height: hdr.Height, Frames: len(orig), GOP: gop,
		DecodeFPSByK: map[string]float64{}, MACsPerLumaPixel: sc.macs(),
		BDRate: map[string]*float64{}, BDRatePCHIP: map[string]*float64{}, BDRateYUV: map[string]*float64{}}
	pixels := float64(hdr.Width * hdr.Height * len(orig))
	curves := map[string][]encoder.RDPoint{}
	curvesYUV := map[string][]encoder.RDPoint{}
	bits := map[int]float64{}
	prog := newProgress(stderr)
	start := time.Now()
	for _, s := range sList {
		prog.update(fmt.Sprintf("codec-eval: strata S=%d", s))
		K := sc.layers()
		bytesK := make([]float64, K)
		qK := make([]encoder.ClipQuality, K)
		var segs [][][]byte
		for at := 0; at < len(orig); at += gop {
			batch := orig[at:min(at+gop, len(orig))]
			units, recon, err := sc.encode(batch, uint32(at/gop), s)
			if err != nil {
				return err
			}
			segs = append(segs, units)
			total := 0
			for k := 1; k <= K; k++ {
				total += len(units[k-1])
				bytesK[k-1] += float64(total)
				for f, o := range batch {
					qK[k-1].Add(encoder.MeasurePSNR(o, recon[k-1][f]), at == 0 && f == 0)
				}
			}
		}
		name := fmt.Sprintf("strata-S%d", s)
		for k := 1; k <= K; k++ {
			qK[k-1].Mean(len(orig))
			q := qK[k-1]
			p := evalPoint{Codec: name, Param: fmt.Sprintf("k=%d", k), BPP: bytesK[k-1] * 8 / pixels, PSNRY: q.PSNRY, PSNRYUV: q.PSNRYUV, WorstY: q.WorstY}
			res.Points = append(res.Points, p)
			curves[name] = append(curves[name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRY})
			curvesYUV[name] = append(curvesYUV[name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRYUV})
		}
		bits[s] = bytesK[K-1]
		if s == 8 || s == 1 {
			for _, k := range []int{1, K} {
				if s == 1 && k != K {
					continue
				}
				fps, err := sc.decodeFPS(segs, k)
				if err != nil {
					return err
				}
				if s == 1 {
					res.DecodeFPSS1 = fps
				} else {
					res.DecodeFPSByK[fmt.Sprintf("k=%d", k)] = fps
					if k == K {
						res.DecodeFPSCPU = fps
					}
				}
			}
		}
	}
	res.EncodeSeconds = time.Since(start).Seconds()
	if b1, b8 := bits[1], bits[8]; b1 > 0 && b8 > 0 {
		res.ExtraBitsS8vsS1 = (b8/b1 - 1) * 100
	}
	tmp, err := os.MkdirTemp("", "strata-codec-eval")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, a := range encoder.Anchors {
		for _, crf := range a.CRFs {
			prog.update(fmt.Sprintf("codec-eval: %s crf %d", a.Name, crf))
			n, q, err := encoder.RunAnchor(context.Background(), a, *in, orig, crf, gop, tmp)
			if err != nil {
				return err
			}
			p := evalPoint{Codec: a.Name, Param: fmt.Sprintf("crf=%d", crf), BPP: float64(n) * 8 / pixels, PSNRY: q.PSNRY, PSNRYUV: q.PSNRYUV, WorstY: q.WorstY}
			res.Points = append(res.Points, p)
			curves[a.Name] = append(curves[a.Name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRY})
			curvesYUV[a.Name] = append(curvesYUV[a.Name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRYUV})
		}
	}
	prog.clear()
	if s1, s8 := curves["strata-S1"], curves["strata-S8"]; s1 != nil && s8 != nil {
		if v, err := encoder.BDRate(s1, s8); err == nil {
			res.BDRateS8vsS1 = &v
		}
	}
	res.BDRateByS = map[string]map[string]*float64{}
	for _, sv := range sList {
		name := fmt.Sprintf("strata-S%d", sv)
		res.BDRateByS[name] = map[string]*float64{}
		for _, a := range encoder.Anchors {
			if v, err := encoder.BDRate(curves[a.Name], curves[name]); err == nil {
				res.BDRateByS[name][a.Name] = &v
			}
		}
	}
	res.Compared = fmt.Sprintf("strata-S%d", *compare)
	if ours := curves[res.Compared]; ours != nil {
		res.BDRate = res.BDRateByS[res.Compared]
		for _, a := range encoder.Anchors {
			if v, err := encoder.BDRatePCHIP(curves[a.Name], ours); err == nil {
				res.BDRatePCHIP[a.Name] = &v
			}
			if v, err := encoder.BDRate(curvesYUV[a.Name], curvesYUV[res.Compared]); err == nil {
				res.BDRateYUV[a.Name] = &v
			}
		}
		res.BDvsX264Medium = res.BDRate["x264-medium"]
		res.BDvsX265Medium = res.BDRate["x265-medium"]
	}
	if *plot != "" {
		if err := plotRD(*plot, res.Clip, curves); err != nil {
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

func printEval(w io.Writer, r *evalResult) {
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
