package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cuda"
	"github.com/strata-player/strata/decoder/gpu"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/demo"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/player"
)

// benchResult is one configuration of `strata bench decode --json`.
type benchResult struct {
	Backend  string  `json:"backend"`
	Device   string  `json:"device"`
	Res      string  `json:"res"`
	SubGOP   int     `json:"subgop"`
	Layers   int     `json:"layers"`
	FPS      float64 `json:"fps"`
	Frames   int     `json:"frames"`
	Seconds  float64 `json:"seconds"`
	Source   string  `json:"source"`
	Launches float64 `json:"launches_per_frame,omitempty"`
	// GMACs is the decoder network's multiply-accumulates per second (P-frame count per
	// luma pixel × pixels × frames/s).
	GMACs float64 `json:"gmac_per_s,omitempty"`
	// Cores is GOMAXPROCS during the run; Scaling, on runs with more than one core under
	// --cores, is FPS over the same configuration's at one core.
	Cores   int     `json:"cores"`
	Scaling float64 `json:"scaling,omitempty"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "encode" {
		return runBenchEncode(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "decode" {
		fmt.Fprintln(stderr, "usage: strata bench decode [--backend cpu] [--res WxH] [--subgop S|all] [--json] [--plot out.png]")
		fmt.Fprintln(stderr, "       strata bench encode --in clip.y4m [--frames 40] [--presets quality,live] [--x264 veryfast,medium] [--json]")
		return errors.New("bench: want the subcommand decode or encode")
	}
	fs := flag.NewFlagSet("strata bench decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backend := fs.String("backend", "cpu", "decode backend: cpu (the Go engine), emu (the CUDA kernels compiled for the CPU), cuda (the GPU; needs a -tags cuda build)")
	res := fs.String("res", "640x360", "resolution WxH; 640x360 decodes the embedded demo stream, others a synthetic clip encoded first")
	subgop := fs.String("subgop", "all", "sub-GOP size 1, 2, 4, 8, 16, 32, 64, or all (1, 8, 16, 32)")
	benchtime := fs.Duration("benchtime", 3*time.Second, "decode each configuration at least this long")
	workers := fs.Int("workers", 0, "decoder goroutines (0: one per CPU)")
	asJSON := fs.Bool("json", false, "print one JSON object per configuration instead of Go benchmark lines")
	plot := fs.String("plot", "", "write a PNG of frames/s per backend and sub-GOP size")
	coresFlag := fs.String("cores", "", "comma-separated core counts to run each configuration at (GOMAXPROCS), e.g. 1,2: reports the scaling over one core (default: all cores once)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the decoding here")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *backend != "cpu" && *backend != "emu" && *backend != "cuda" {
		return fmt.Errorf("--backend %q: want cpu, emu or cuda", *backend)
	}
	w, h, err := parseRes(*res)
	if err != nil {
		return fmt.Errorf("--res %w", err)
	}
	sizes := []int{1, 8, 16, 32}
	if *subgop != "all" {
		s, err := strconv.Atoi(*subgop)
		if err != nil || s < 1 || s > 64 || s&(s-1) != 0 {
			return fmt.Errorf("--subgop %q: want 1, 2, 4, 8, 16, 32, 64 or all", *subgop)
		}
		sizes = []int{s}
	}
	if *benchtime <= 0 || *benchtime > time.Hour {
		return fmt.Errorf("--benchtime %v out of range", *benchtime)
	}
	if *workers < 0 || *workers > 1024 {
		return fmt.Errorf("--workers %d out of range 0..1024", *workers)
	}
	cores := []int{runtime.GOMAXPROCS(0)}
	if *coresFlag != "" {
		cores = cores[:0]
		for _, c := range strings.Split(*coresFlag, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(c))
			if err != nil || n < 1 || n > 1024 {
				return fmt.Errorf("--cores %q: want counts from 1 to 1024, comma-separated", *coresFlag)
			}
			cores = append(cores, n)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	m, err := decoder.Default()
	if err != nil {
		return err
	}
	newDec, dev, closeDev, err := benchBackend(*backend, m, *workers)
	if err != nil {
		return err
	}
	defer closeDev()
	if !*asJSON {
		fmt.Fprintf(stdout, "goos: %s\ngoarch: %s\npkg: strata/bench/decode\ncpu: %s\ndevice: %s\nmodel: %.12s\n", runtime.GOOS, runtime.GOARCH, gpu.CPUName(), dev, m.SHA256)
	}
	var results []benchResult
	profiling := false
	for _, s := range sizes {
		segs, src, err := benchSegments(m, w, h, s)
		if err != nil {
			return err
		}
		if !profiling && *cpuProfile != "" {
			// The profile covers decoding (it starts once the first clip is ready).
			stop, err := startCPUProfile(*cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			profiling = true
		}
		one := 0.0 // frames/s at one core
		for _, c := range cores {
			runtime.GOMAXPROCS(c)
			r, err := benchDecode(newDec, segs, *benchtime)
			if err != nil {
				return err
			}
			r.Backend, r.Device, r.Res, r.SubGOP, r.Source, r.Cores = *backend, dev, *res, s, src, c
			r.GMACs = r.FPS * max(m.I.MACsPerLumaPixel(), m.P.MACsPerLumaPixel()) * float64(w*h) / 1e9
			if c == 1 {
				one = r.FPS
			} else if one > 0 {
				r.Scaling = r.FPS / one
			}
			results = append(results, r)
			if *asJSON {
				if err := printJSON(stdout, r); err != nil {
					return err
				}
				continue
			}
			line := fmt.Sprintf("BenchmarkDecode/backend:%s/res:%s/subgop:%d-%d\t%8d\t%12.0f ns/op\t%8.2f frames/s\t%6.2f GMAC/s",
				r.Backend, r.Res, r.SubGOP, c, r.Frames, r.Seconds/float64(r.Frames)*1e9, r.FPS, r.GMACs)
			if r.Launches > 0 {
				line += fmt.Sprintf("\t%8.2f launches/frame", r.Launches)
			}
			if r.Scaling > 0 {
				line += fmt.Sprintf("\t%5.2fx over 1 core", r.Scaling)
			}
			fmt.Fprintln(stdout, line)
		}
	}
	if *plot != "" {
		return plotBench(*plot, results)
	}
	return nil
}

func parseRes(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || w < 16 || h < 16 || w > 7680 || h > 4320 || w%2 != 0 || h%2 != 0 {
		return 0, 0, fmt.Errorf("%q: want even WxH between 16x16 and 7680x4320", s)
	}
	return w, h, nil
}

// benchSegments returns parsed segments of sub-GOP size s at w×h: the embedded demo's
// when it has that resolution and variant, else one synthetic segment encoded now.
func benchSegments(m *decoder.Model, w, h, s int) ([]*decoder.Segment, string, error) {
	segs, err := demo.Segments(s)
	if err != nil {
		return nil, "", fmt.Errorf("the embedded demo: %w", err)
	}
	if len(segs) > 0 && segs[0].Width == w && segs[0].Height == h {
		return segs, "demo", nil
	}
	n := max(2*s, 16)
	enc := &encoder.SegmentEncoder{Model: m, S: s, Layers: decoder.Layers, IntraAnchors: s > 1}
	e, err := enc.Encode(testenc.Synthetic(w, h, n), 0)
	if err != nil {
		return nil, "", err
	}
	var units [][]byte
	for l := 0; l < e.Segment.Have; l++ {
		u, err := e.Segment.AppendUnit(nil, l)
		if err != nil {
			return nil, "", err
		}
		units = append(units, u)
	}
	seg, err := demo.ParseUnits(units)
	return []*decoder.Segment{seg}, "synthetic", err
}

// benchBackend opens the backend and returns a maker of segment decoders on it, the device
// name and a closer.
func benchBackend(backend string, m *decoder.Model, workers int) (func() (player.SegmentDecoder, error), string, func(), error) {
	if backend == "cpu" {
		return func() (player.SegmentDecoder, error) { return decoder.NewSegmentDecoder(m, workers), nil },
			"cpu:" + gpu.CPUName(), func() {}, nil
	}
	var dev gpu.Device
	if backend == "emu" {
		e, err := gpu.NewEmu(workers)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--backend emu: %w", err)
		}
		dev = e
	} else {
		d, err := cuda.Open(0)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--backend cuda: %w", err)
		}
		dev = d
	}
	return func() (player.SegmentDecoder, error) {
		return gpu.NewDecoder(dev, m)
	}, dev.Name(), func() { dev.Close() }, nil
}

// benchDecode decodes the segments in turn, with every layer, for at least d (and at
// least one segment after a warm-up decode).
func benchDecode(newDec func() (player.SegmentDecoder, error), segs []*decoder.Segment, d time.Duration) (benchResult, error) {
	dec, err := newDec()
	if err != nil {
		return benchResult{}, err
	}
	gd, onGPU := dec.(*gpu.Decoder) // the GPU backends count kernel launches
	if onGPU {
		defer gd.Close()
	}
	if _, err := dec.Decode(segs[0], segs[0].Have); err != nil { // warm-up: buffers allocated
		return benchResult{}, err
	}
	launches0 := 0
	if onGPU {
		launches0 = gd.Launches
	}
	var r benchResult
	start := time.Now()
	for i := 0; i == 0 || time.Since(start) < d; i++ {
		s := segs[i%len(segs)]
		frames, err := dec.Decode(s, s.Have)
		if err != nil {
			return r, err
		}
		r.Frames += len(frames)
		r.Layers = s.Have
	}
	r.Seconds = time.Since(start).Seconds()
	r.FPS = float64(r.Frames) / r.Seconds
	if onGPU {
		r.Launches = float64(gd.Launches-launches0) / float64(r.Frames)
	}
	return r, nil
}

// parseBenchJSON reads `strata bench decode --json` output.
func parseBenchJSON(raw []byte) ([]benchResult, error) {
	var out []benchResult
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	for dec.More() {
		var r benchResult
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("bench results: %w", err)
		}
		if !(r.FPS > 0) || r.SubGOP <= 0 {
			return nil, fmt.Errorf("bench results: entry %+v lacks fps or subgop", r)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("bench results: empty")
	}
	return out, nil
}

// decodeFPSFor picks the entry for sub-GOP s, scaling its fps by pixel count to w×h.
func decodeFPSFor(rs []benchResult, s, w, h int) (float64, error) {
	for _, r := range rs {
		if r.SubGOP != s {
			continue
		}
		rw, rh, err := parseRes(r.Res)
		if err != nil {
			return 0, err
		}
		return r.FPS * float64(rw*rh) / float64(w*h), nil
	}
	return 0, fmt.Errorf("no result for sub-GOP size %d", s)
}
