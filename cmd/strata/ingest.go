package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"math/rand/v2"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/live"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("stream", "assets/demo", "the pre-encoded layered stream to publish (a strata package directory)")
	subgops := fs.String("subgops", "", "sub-GOP variants to publish, comma-separated (default: the largest the stream has)")
	to := fs.String("to", "https://127.0.0.1:4433/ingest/", "the live origin's ingest URL (strata serve --live)")
	caFile := fs.String("ca", "", "PEM certificate to trust for the origin (strata serve --ca writes it)")
	token := fs.String("token", os.Getenv("STRATA_INGEST_TOKEN"), "the origin's ingest token (default $STRATA_INGEST_TOKEN)")
	duration := fs.Duration("duration", 60*time.Second, "how long to stream (the source loops)")
	uplink := fs.String("uplink-trace", "", "shape the uploads through this bandwidth trace (cooked, mahimahi or sabre JSON)")
	depth := fs.Duration("bucket", shape.DefaultDepth, "token-bucket depth of the shaped uplink")
	jsonOut := fs.Bool("json", false, "one JSON line per published segment on stdout")
	source := fs.String("source", "", "the stream's source clip (Y4M, frame for frame): send high-quality patches beside the video for the origin's online-trained enhancement (serve --live --enhance)")
	patches := fs.Int("patches", 6, "--source: patches per segment (half where the codec did worst)")
	patchSize := fs.Int("patch-size", 48, "--source: patch size in pixels")
	patchShare := fs.Float64("patch-share", 0.15, "--source: the most of the uplink's bytes the patches may take")
	enhLayers := fs.Int("enhance-layers", 1, "--source: the layer count the enhancement is trained for (patches are ranked on that decode)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *duration <= 0 || *duration > 24*time.Hour || *depth <= 0 || *depth > 10*time.Second {
		return errors.New("--duration must be in (0, 24h] and --bucket in (0, 10s]")
	}
	if *patches < 1 || *patches > 64 || *patchSize < 16 || *patchSize > 128 || *patchSize%2 != 0 || !(*patchShare > 0 && *patchShare <= 0.5) || *enhLayers < 1 {
		return errors.New("--patches must be in 1..64, --patch-size even in 16..128, --patch-share in (0, 0.5], --enhance-layers positive")
	}
	u, err := url.Parse(*to)
	if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(u.Path, "/") {
		return fmt.Errorf("--to %q: want an https URL ending in /", *to)
	}
	var want []int
	for _, f := range strings.Split(*subgops, ",") {
		if f == "" {
			continue
		}
		s, err := strconv.Atoi(f)
		if err != nil || s < 1 || s > 64 {
			return fmt.Errorf("--subgops %q: want sizes in 1..64", *subgops)
		}
		want = append(want, s)
	}
	src, err := live.ReadPackaged(*dir, want)
	if err != nil {
		return err
	}
	if len(want) == 0 {
		src.Variants = src.Variants[len(src.Variants)-1:]
	}
	base := src.Variants[0].Base
	segS := float64(base.SegmentDuration()) / float64(base.Timescale())
	var caPEM []byte
	if *caFile != "" {
		if caPEM, err = os.ReadFile(*caFile); err != nil {
			return err
		}
	}
	client, tr, err := h3.NewClient(caPEM, 0)
	if err != nil {
		return err
	}
	defer tr.Close()
	ctx, stop := interruptible()
	defer stop()
	s := &live.Streamer{Client: client, Ingest: u.String(), Token: *token, Source: src,
		Segments: int(math.Ceil(duration.Seconds()/segS - 1e-9))}
	if *uplink != "" {
		t, err := trace.Load(*uplink, trace.FormatAuto)
		if err != nil {
			return err
		}
		s.Uplink = shape.NewLink(t, *depth, time.Now)
	}
	if *source != "" {
		if s.Patches, err = patchMaker(*source, src.Variants[0], *enhLayers, *patches, *patchSize); err != nil {
			return err
		}
		s.PatchShare = *patchShare
	}
	layers, segs, late := 0, 0, time.Duration(0)
	patchBytes, videoBytes := 0, 0
	s.OnSegment = func(r live.Report) {
		segs++
		layers += r.Layers[0]
		late = max(late, r.Late)
		patchBytes += r.PatchBytes
		videoBytes += r.Bytes
		if *jsonOut {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
	}
	fmt.Fprintf(stderr, "streaming %s (S=%d, %d segments of %.1f s, looped) to %s\n", *dir, base.SubGOP, s.Segments, segS, u)
	if err := s.Run(ctx); err != nil {
		return err
	}
	if !*jsonOut {
		fmt.Fprintf(stdout, "published %d segments, %.2f layers on average, at most %.2f s after capture; patches %.1f %% of the bytes sent\n",
			segs, float64(layers)/float64(max(segs, 1)), late.Seconds(), 100*float64(patchBytes)/float64(max(1, patchBytes+videoBytes)))
	}
	return nil
}

// patchMaker returns the streamer's patch source: for each segment, crops of two of its
// source frames where the decode with layers layers did worst (and some elsewhere),
// bundled for the origin's trainer.
func patchMaker(sourcePath string, v *live.SourceVariant, layers, n, size int) (func(i, src int) ([]byte, error), error) {
	_, frames, err := readY4M(sourcePath, 0)
	if err != nil {
		return nil, err
	}
	segFrames := int(v.Base.SegmentFrames)
	if len(frames) < len(v.Units)*segFrames {
		return nil, fmt.Errorf("--source has %d frames, the stream %d", len(frames), len(v.Units)*segFrames)
	}
	sw, sh, bw, bh := frames[0].W, frames[0].H, int(v.Base.Width), int(v.Base.Height)
	if (sw != bw || sh != bh) && (sw <= bw || sh <= bh || sw > 2*bw || sh > 2*bh) {
		return nil, fmt.Errorf("--source is %dx%d, the stream %dx%d: want the same size, or up to twice it (a half-resolution rung)", sw, sh, bw, bh)
	}
	if int(v.Base.Layers) < layers {
		return nil, fmt.Errorf("--enhance-layers %d: the stream has %d", layers, v.Base.Layers)
	}
	m, err := decoder.Default()
	if err != nil {
		return nil, err
	}
	dec := decoder.NewSegmentDecoder(m, 1)
	return func(i, src int) ([]byte, error) {
		seg, err := decoder.ParseBaseUnit(v.Units[src][0])
		if err != nil {
			return nil, err
		}
		for _, u := range v.Units[src][1:layers] {
			if err := seg.AddUnit(u); err != nil {
				return nil, err
			}
		}
		decoded, err := dec.Decode(seg, layers)
		if err != nil {
			return nil, err
		}
		r := rand.New(rand.NewPCG(uint64(i), 5))
		var out []live.SourcePatch
		for _, f := range []int{segFrames / 4, 3 * segFrames / 4} {
			s := frames[src*segFrames+f]
			d := decoder.Crop(decoded[f], min(s.W, seg.Width), min(s.H, seg.Height), nil)
			if s.W > seg.Width {
				// A half-resolution stream: patches teach an upsampler, whose input is the
				// decode's bicubic double.
				if s.W > 2*d.W || s.H > 2*d.H {
					return nil, fmt.Errorf("segment %d is %dx%d, the source %dx%d", src, d.W, d.H, s.W, s.H)
				}
				d = enhance.Upscale2(nil, d, s.W, s.H)
			}
			for _, c := range enhance.WorstCrops(s, d, size, (n+1)/2, r) {
				p := enhance.Cut(s, d, c)
				out = append(out, live.SourcePatch{Frame: f, X: c.X, Y: c.Y, Size: size, Luma: p.Source})
			}
		}
		return live.MarshalPatches(out[:min(len(out), n)])
	}, nil
}
