package main

import (
	"cmp"
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
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/live"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

// stdin is what `strata ingest --source -` reads (tests substitute it).
var stdin io.Reader = os.Stdin

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "go live from raw frames: a Y4M stream to encode as it arrives (- for stdin, e.g. ffmpeg -re -i CLIP -f yuv4mpegpipe -; a file is read at its frame rate); instead of --stream")
	dir := fs.String("stream", "assets/demo", "the pre-encoded layered stream to publish, looped (a strata package directory)")
	subgops := fs.String("subgops", "", "--stream: sub-GOP variants to publish, comma-separated (default: the largest the stream has)")
	preset := fs.String("preset", "live", "--source: encoder preset (live or quality)")
	subgop := fs.Int("subgop", 32, "--source: sub-GOP size")
	layers := fs.Int("layers", 0, "--source: most layers coded (0: all the codec has; fewer while the encoder is behind)")
	segment := fs.Duration("segment", 2*time.Second, "--source: segment duration")
	parallel := fs.Int("parallel", 0, "--source: segments encoded at once (0: 2 on two or more CPUs; each adds a segment of latency)")
	queue := fs.Int("queue", 2, "--source: captured segments that may wait for the encoder before the oldest is dropped")
	hold := fs.Duration("hold", -1, "--source: publish each segment this long after its capture, for a steady latency (negative: --parallel segment durations, the encoders' share of real time)")
	to := fs.String("to", "https://127.0.0.1:4433/ingest/", "the live origin's ingest URL (strata serve --live)")
	caFile := fs.String("ca", "", "PEM certificate to trust for the origin (strata serve --ca writes it)")
	token := fs.String("token", os.Getenv("STRATA_INGEST_TOKEN"), "the origin's ingest token (default $STRATA_INGEST_TOKEN)")
	duration := fs.Duration("duration", 60*time.Second, "--stream: how long to stream (the stream loops); --source streams until its input ends")
	uplink := fs.String("uplink-trace", "", "shape the uploads through this bandwidth trace (cooked, mahimahi or sabre JSON)")
	depth := fs.Duration("bucket", shape.DefaultDepth, "token-bucket depth of the shaped uplink")
	jsonOut := fs.Bool("json", false, "one JSON line per published segment on stdout")
	enhancePatches := fs.Bool("enhance", false, "--source: send high-quality patches of the source beside the video for the origin's online-trained enhancement (serve --live --enhance)")
	patchSource := fs.String("patch-source", "", "--stream: the stream's source clip (Y4M, frame for frame): send high-quality patches beside the video for the origin's online-trained enhancement (serve --live --enhance)")
	patches := fs.Int("patches", 6, "patches per segment (half where the codec did worst)")
	patchSize := fs.Int("patch-size", 48, "patch size in pixels")
	patchShare := fs.Float64("patch-share", 0.15, "the most of the uplink's bytes the patches may take")
	enhLayers := fs.Int("enhance-layers", 1, "the layer count the enhancement is trained for (patches are ranked on that decode)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the session here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *source != "" && (set["stream"] || set["subgops"] || set["patch-source"] || set["duration"]) {
		return errors.New("--source encodes a live input: --stream, --subgops, --patch-source and --duration are for a pre-encoded stream")
	}
	if *duration <= 0 || *duration > 24*time.Hour || *depth <= 0 || *depth > 10*time.Second {
		return errors.New("--duration must be in (0, 24h] and --bucket in (0, 10s]")
	}
	if *patches < 1 || *patches > 64 || *patchSize < 16 || *patchSize > 128 || *patchSize%2 != 0 || !(*patchShare > 0 && *patchShare <= 0.5) || *enhLayers < 1 || *enhLayers > decoder.Layers {
		return fmt.Errorf("--patches must be in 1..64, --patch-size even in 16..128, --patch-share in (0, 0.5], --enhance-layers in 1..%d", decoder.Layers)
	}
	if *layers < 0 || *layers > decoder.Layers || *segment <= 0 || *segment > time.Minute || *parallel < 0 || *parallel > 16 || *queue < 1 || *queue > 16 || *hold > time.Minute {
		return fmt.Errorf("--layers must be in 0..%d, --segment in (0, 1m], --parallel in 0..16, --queue in 1..16, --hold at most 1m", decoder.Layers)
	}
	u, err := url.Parse(*to)
	if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(u.Path, "/") {
		return fmt.Errorf("--to %q: want an https URL ending in /", *to)
	}
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
	s := &live.Streamer{Client: client, Ingest: u.String(), Token: *token}
	var what string
	if *source != "" {
		p, err := encoder.PresetByName(*preset)
		if err != nil {
			return fmt.Errorf("--preset: %w", err)
		}
		m, err := decoder.Default()
		if err != nil {
			return err
		}
		in := stdin
		if *source != "-" {
			f, err := os.Open(*source)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		// A file stands in for a camera: read at its frame rate.
		cfg := live.EncodeConfig{Model: m, Preset: p, S: *subgop, Layers: *layers, Segment: *segment, Parallel: *parallel, Queue: *queue, Pace: *source != "-"}
		if *enhancePatches {
			n, size, k := *patches, *patchSize, *enhLayers
			cfg.Patches = func(i int, e *encoder.Encoded, frames []*decoder.Frame) ([]byte, error) {
				if k > len(e.Recon) {
					return nil, fmt.Errorf("segment %d has %d layers, the enhancement is trained on %d", i, len(e.Recon), k)
				}
				return segmentPatches(i, frames, e.Recon[k-1], n, size)
			}
			s.PatchShare = *patchShare
		}
		feed, err := live.NewEncodeFeed(ctx, in, cfg)
		if err != nil {
			return err
		}
		s.Feed = feed
		s.Hold = *hold
		if *hold < 0 {
			s.Hold = feed.Latency()
		}
		defer func() {
			if t := feed.Tail(); t > 0 {
				fmt.Fprintf(stderr, "the last %d frames (less than a segment) were not encoded\n", t)
			}
		}()
		what = fmt.Sprintf("encoding %s live (preset %s, S=%d, segments of %d frames)", *source, p.Name, *subgop, feed.SegmentFrames())
	} else {
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
		s.Source = src
		s.Segments = int(math.Ceil(duration.Seconds()/segS - 1e-9))
		if *patchSource != "" {
			if s.Patches, err = patchMaker(*patchSource, src.Variants[0], *enhLayers, *patches, *patchSize); err != nil {
				return err
			}
			s.PatchShare = *patchShare
		}
		what = fmt.Sprintf("streaming %s (S=%d, %d segments of %.1f s, looped)", *dir, base.SubGOP, s.Segments, segS)
	}
	if *uplink != "" {
		t, err := trace.Load(*uplink, trace.FormatAuto)
		if err != nil {
			return err
		}
		s.Uplink = shape.NewLink(t, *depth, time.Now)
	}
	var sum ingestSummary
	s.OnSegment = func(r live.Report) {
		sum.add(r)
		if *jsonOut {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
		if e := r.Encoded; e != nil && (e.Why != "" || e.Dropped > sum.dropped) {
			fmt.Fprintf(stderr, "segment %d: %s; %d captured segments dropped so far\n", r.Segment, cmp.Or(e.Why, "encoder behind"), e.Dropped)
		}
		if e := r.Encoded; e != nil {
			sum.dropped = e.Dropped
		}
	}
	fmt.Fprintf(stderr, "%s to %s\n", what, u)
	if err := s.Run(ctx); err != nil {
		return err
	}
	if !*jsonOut {
		fmt.Fprintln(stdout, sum.String())
	}
	return nil
}

// ingestSummary is `strata ingest`'s closing line.
type ingestSummary struct {
	segs, layers, patchBytes, videoBytes, dropped int
	late, lateSum                                 time.Duration
	encoded, frames, reduced, maxQueue            int
	encodeS                                       float64
}

func (s *ingestSummary) add(r live.Report) {
	s.segs++
	s.layers += r.Layers[0]
	s.late = max(s.late, r.Late)
	s.lateSum += r.Late
	s.patchBytes += r.PatchBytes
	s.videoBytes += r.Bytes
	if e := r.Encoded; e != nil {
		s.encoded++
		s.frames += e.Frames
		s.encodeS += e.EncodeS
		s.maxQueue = max(s.maxQueue, e.Queue)
		if e.Why != "" {
			s.reduced++
		}
	}
}

func (s *ingestSummary) String() string {
	line := fmt.Sprintf("published %d segments, %.2f layers on average, %.2f s after capture on average (at most %.2f s); patches %.1f %% of the bytes sent",
		s.segs, float64(s.layers)/float64(max(s.segs, 1)), s.lateSum.Seconds()/float64(max(s.segs, 1)), s.late.Seconds(),
		100*float64(s.patchBytes)/float64(max(1, s.patchBytes+s.videoBytes)))
	if s.encoded > 0 {
		line += fmt.Sprintf("; encoded %d frames at %.1f frames/s per encoder, at most %d segments waiting, fewer layers in %d segments, %d dropped",
			s.frames, float64(s.frames)/max(s.encodeS, 1e-9), s.maxQueue, s.reduced, s.dropped)
	}
	return line
}

// segmentPatches bundles crops of two frames of live segment i (source frames and their
// decode at the enhancement's layer count, dec; nil where not reconstructed) where the
// decode did worst, and some elsewhere.
func segmentPatches(i int, frames, dec []*decoder.Frame, n, size int) ([]byte, error) {
	var pick []int
	for _, f := range []int{len(frames) / 4, 3 * len(frames) / 4} {
		for f < len(frames)-1 && dec[f] == nil {
			f++ // a never-referenced frame's lower chain is not reconstructed: the next is
		}
		if dec[f] != nil {
			pick = append(pick, f)
		}
	}
	r := rand.New(rand.NewPCG(uint64(i), 5))
	var out []live.SourcePatch
	for _, f := range pick {
		s := frames[f]
		d := decoder.Crop(dec[f], s.W, s.H, nil)
		for _, c := range enhance.WorstCrops(s, d, size, (n+1)/2, r) {
			p := enhance.Cut(s, d, c)
			out = append(out, live.SourcePatch{Frame: f, X: c.X, Y: c.Y, Size: size, Luma: p.Source})
		}
	}
	return live.MarshalPatches(out[:min(len(out), n)])
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
