package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
)

// encodeResult is one `strata bench encode` measurement.
type encodeResult struct {
	Codec  string `json:"codec"`  // strata, x264
	Preset string `json:"preset"` // strata's preset or x264's
	Res    string `json:"res"`
	Frames int    `json:"frames"`
	Layers int    `json:"layers,omitempty"`
	// Parallel is how many segments were encoded at once.
	Parallel int     `json:"parallel,omitempty"`
	Seconds  float64 `json:"seconds"`
	FPS      float64 `json:"fps"`
	Cores    int     `json:"cores"`
}

// runBenchEncode is `strata bench encode`: encode speed per preset on a clip's frames (the
// encoding alone, frames in memory), beside x264's presets through ffmpeg on the same frames
// with as many threads.
func runBenchEncode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata bench encode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "input Y4M (8-bit 4:2:0)")
	frames := fs.Int("frames", 96, "frames to encode")
	presets := fs.String("presets", "quality,live", "strata presets to measure, comma-separated")
	subgop := fs.Int("subgop", 32, "sub-GOP size")
	layers := fs.Int("layers", 0, "layers K (0: all the codec has)")
	segment := fs.Duration("segment", 2*time.Second, "segment duration")
	x264 := fs.String("x264", "veryfast,medium", "x264 presets to run through ffmpeg on the same frames (empty: none)")
	parallel := fs.Int("parallel", 0, "segments encoded at once, each on cores/parallel goroutines (0: 2 on two or more cores, as strata ingest --source does)")
	asJSON := fs.Bool("json", false, "one JSON object per measurement")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of strata's encoding here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--in is required")
	}
	if *frames < 1 || *frames > 100000 {
		return fmt.Errorf("--frames %d out of range 1..100000", *frames)
	}
	if *layers < 0 || *layers > decoder.Layers {
		return fmt.Errorf("--layers %d: the codec has 1..%d", *layers, decoder.Layers)
	}
	if *segment <= 0 || *segment > time.Hour {
		return fmt.Errorf("--segment %v out of range", *segment)
	}
	if *parallel < 0 || *parallel > 64 {
		return fmt.Errorf("--parallel %d out of range 0..64", *parallel)
	}
	if *parallel == 0 {
		*parallel = min(2, runtime.GOMAXPROCS(0))
	}
	var ps []encoder.Preset
	for _, name := range strings.Split(*presets, ",") {
		p, err := encoder.PresetByName(strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("--presets: %w", err)
		}
		ps = append(ps, p)
	}
	if _, err := decoder.NewSchedule(1, *subgop); err != nil {
		return fmt.Errorf("--subgop: %w", err)
	}
	hdr, orig, err := readY4M(*in, *frames)
	if err != nil {
		return err
	}
	segFrames := int(math.Round(segment.Seconds() * float64(hdr.FPSNum) / float64(hdr.FPSDen)))
	segFrames = max(1, min(segFrames, 65535))
	m, err := decoder.Default()
	if err != nil {
		return err
	}
	K := *layers
	if K == 0 {
		K = decoder.Layers
	}
	res := fmt.Sprintf("%dx%d", orig[0].W, orig[0].H)
	cores := runtime.GOMAXPROCS(0)
	emit := func(r encodeResult) error {
		if *asJSON {
			return printJSON(stdout, r)
		}
		_, err := fmt.Fprintf(stdout, "BenchmarkEncode/codec:%s/preset:%s/res:%s-%d\t%8d\t%12.0f ns/frame\t%8.2f frames/s\n",
			r.Codec, r.Preset, r.Res, r.Cores, r.Frames, r.Seconds/float64(r.Frames)*1e9, r.FPS)
		return err
	}
	segs := (len(orig) + segFrames - 1) / segFrames
	for _, p := range ps {
		// Closed GOPs are independent: parallel segments at once, like the live encoder.
		t0 := time.Now()
		jobs := make(chan int)
		errs := make(chan error, *parallel)
		for range *parallel {
			go func() {
				enc := &encoder.SegmentEncoder{Model: m, S: *subgop, Layers: K, IntraAnchors: *subgop > 1, Workers: max(1, cores / *parallel)}
				p.Apply(enc)
				var first error
				for s := range jobs {
					if _, err := enc.Encode(orig[s*segFrames:min((s+1)*segFrames, len(orig))], uint32(s)); err != nil && first == nil {
						first = fmt.Errorf("preset %s, segment %d: %w", p.Name, s, err)
					}
				}
				errs <- first
			}()
		}
		for s := range segs {
			jobs <- s
		}
		close(jobs)
		for range *parallel {
			if err := <-errs; err != nil {
				return err
			}
		}
		sec := time.Since(t0).Seconds()
		if err := emit(encodeResult{Codec: "strata", Preset: p.Name, Res: res, Frames: len(orig), Layers: K, Parallel: *parallel, Seconds: sec, FPS: float64(len(orig)) / sec, Cores: cores}); err != nil {
			return err
		}
	}
	if *x264 == "" {
		return nil
	}
	for _, preset := range strings.Split(*x264, ",") {
		preset = strings.TrimSpace(preset)
		args := []string{"-v", "error", "-i", *in, "-frames:v", strconv.Itoa(len(orig)), "-an", "-threads", strconv.Itoa(cores),
			"-c:v", "libx264", "-preset", preset, "-g", strconv.Itoa(segFrames), "-f", "null", "-"}
		t0 := time.Now()
		if b, err := exec.CommandContext(context.Background(), "ffmpeg", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ffmpeg x264 %s: %v: %s", preset, err, strings.TrimSpace(string(b)))
		}
		sec := time.Since(t0).Seconds()
		if err := emit(encodeResult{Codec: "x264", Preset: preset, Res: res, Frames: len(orig), Seconds: sec, FPS: float64(len(orig)) / sec, Cores: cores}); err != nil {
			return err
		}
	}
	return nil
}
