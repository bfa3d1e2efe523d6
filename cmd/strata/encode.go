package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/y4m"
)

func runEncode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata encode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "input Y4M (8-bit 4:2:0)")
	out := fs.String("out", "", "output directory (units seg#####.l#.nvc and stream.json)")
	layers := fs.Int("layers", 0, "layers K (0: all the codec has)")
	subgop := fs.Int("subgop", 32, "sub-GOP size S: 1 (plain chain), 2, 4, 8, 16, 32 or 64")
	segment := fs.Duration("segment", 2*time.Second, "segment duration (each segment is a closed GOP)")
	frames := fs.Int("frames", 0, "encode at most this many frames (0: all)")
	workers := fs.Int("workers", 0, "goroutines (0: one per CPU)")
	anchors := fs.String("anchors", "intra", "sub-GOP anchors: intra (I-frames) or predicted (from the previous anchor); S=1 is always a chain")
	noModes := fs.Bool("no-modes", false, "code every frame that has a reference as a P-frame (default: intra when it costs less, J = R + λD)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the encoding here")
	presetName := fs.String("preset", "quality", "encoder decisions: quality (every decision by rate–distortion) or live (cheap decisions for real-time encoding)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	preset, err := encoder.PresetByName(*presetName)
	if err != nil {
		return fmt.Errorf("--preset: %w", err)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--in and --out are required")
	}
	m, err := decoder.Default()
	if err != nil {
		return err
	}
	if *layers == 0 {
		*layers = decoder.Layers
	}
	switch {
	case *layers < 1 || *layers > decoder.Layers:
		return fmt.Errorf("--layers %d: the codec has 1..%d", *layers, decoder.Layers)
	case *frames < 0:
		return fmt.Errorf("--frames %d must not be negative", *frames)
	case *workers < 0 || *workers > 256:
		return fmt.Errorf("--workers %d out of range 0..256", *workers)
	case *segment <= 0 || *segment > time.Hour:
		return fmt.Errorf("--segment %v out of range", *segment)
	}
	if *anchors != "intra" && *anchors != "predicted" {
		return fmt.Errorf("--anchors %q: want intra or predicted", *anchors)
	}
	intraAnchors := *anchors == "intra" && *subgop > 1
	if _, err := decoder.NewScheduleAnchors(2, *subgop, intraAnchors); err != nil {
		return fmt.Errorf("--subgop: %w", err)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := y4m.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	segFrames := int(math.Round(segment.Seconds() * float64(r.FPSNum) / float64(r.FPSDen)))
	if segFrames < 1 || segFrames > 65535 {
		return fmt.Errorf("--segment %v is %d frames at %d/%d fps: want 1..65535", *segment, segFrames, r.FPSNum, r.FPSDen)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	enc := &encoder.SegmentEncoder{Model: m, S: *subgop, Layers: *layers, Workers: *workers, NoModes: *noModes, IntraAnchors: intraAnchors}
	preset.Apply(enc)
	enc.ReconAll = true // the quality rows measure every frame of every chain
	si := &stream.Info{Version: decoder.BitstreamVersion, Width: r.Width, Height: r.Height,
		FPSNum: r.FPSNum, FPSDen: r.FPSDen, SubGOP: *subgop, Layers: *layers, SegmentFrame: segFrames, ModelSHA256: m.SHA256}
	prog := newProgress(stderr)
	start := time.Now()
	done := false
	for seg := 0; !done; seg++ {
		var batch []*decoder.Frame
		for len(batch) < segFrames && (*frames == 0 || si.Frames+len(batch) < *frames) {
			fr, err := r.Next(nil)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", *in, err)
			}
			batch = append(batch, fr)
		}
		if len(batch) < segFrames {
			done = true
		}
		if len(batch) == 0 {
			break
		}
		e, err := enc.Encode(batch, uint32(seg))
		if err != nil {
			return fmt.Errorf("segment %d: %w", seg, err)
		}
		sizes := make([]int, *layers)
		for l := 0; l < *layers; l++ {
			u, err := e.Segment.AppendUnit(nil, l)
			if err != nil {
				return err
			}
			sizes[l] = len(u)
			if err := os.WriteFile(filepath.Join(*out, stream.UnitName(seg, l)), u, 0o644); err != nil {
				return err
			}
		}
		si.Quality = append(si.Quality, stream.SegQ{Segment: seg, Frames: len(batch), Levels: encoder.LevelsOf(e.Recon, batch, sizes)})
		si.Frames += len(batch)
		si.Segments = seg + 1
		prog.update(fmt.Sprintf("encode: segment %d, %d frames, %.2f frames/s", seg, si.Frames, float64(si.Frames)/time.Since(start).Seconds()))
	}
	prog.clear()
	if si.Frames == 0 {
		return fmt.Errorf("%s: no frames", *in)
	}
	if err := stream.Write(*out, si); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d frames in %d segments of %d frames, S=%d, %d layers, %.1f s (%.2f frames/s)\n",
		si.Frames, si.Segments, segFrames, *subgop, *layers, time.Since(start).Seconds(), float64(si.Frames)/time.Since(start).Seconds())
	pixels := float64(si.Width * si.Height * si.Frames)
	fps := float64(si.FPSNum) / float64(si.FPSDen)
	for k := 1; k <= *layers; k++ {
		var bytes, y, yuv, ss float64
		for _, q := range si.Quality {
			l := q.Levels[k-1]
			bytes += float64(l.Bytes)
			w := float64(q.Frames) / float64(si.Frames)
			y += w * l.PSNRY
			yuv += w * l.PSNRYUV
			ss += w * l.SSIMY
		}
		fmt.Fprintf(stdout, "k=%d  %7.4f bpp  %8.1f kbps  PSNR-Y %.2f dB  PSNR-YUV %.2f dB  SSIM %.4f\n",
			k, bytes*8/pixels, bytes*8*fps/float64(si.Frames)/1000, y, yuv, ss)
	}
	return nil
}

func runDecode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "stream directory written by strata encode")
	layers := fs.Int("layers", 0, "decode with this many layers (0: all)")
	out := fs.String("out", "", "output Y4M")
	workers := fs.Int("workers", 0, "goroutines (0: one per CPU)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--in and --out are required")
	}
	if *workers < 0 || *workers > 256 {
		return fmt.Errorf("--workers %d out of range 0..256", *workers)
	}
	si, err := stream.Read(*in)
	if err != nil {
		return err
	}
	if *layers == 0 {
		*layers = si.Layers
	}
	if *layers < 1 || *layers > si.Layers {
		return fmt.Errorf("--layers %d: the stream has 1..%d", *layers, si.Layers)
	}
	m, err := decoder.Default()
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := y4m.NewWriter(f, y4m.Header{Width: si.Width, Height: si.Height, FPSNum: si.FPSNum, FPSDen: si.FPSDen})
	if err != nil {
		return err
	}
	dec := decoder.NewSegmentDecoder(m, *workers)
	var crop *decoder.Frame
	start := time.Now()
	n := 0
	for seg := 0; seg < si.Segments; seg++ {
		var s *decoder.Segment
		for l := 0; l < *layers; l++ {
			name := filepath.Join(*in, stream.UnitName(seg, l))
			b, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			if l == 0 {
				s, err = decoder.ParseBaseUnit(b)
			} else {
				err = s.AddUnit(b)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		frames, err := dec.Decode(s, *layers)
		if err != nil {
			return fmt.Errorf("segment %d: %w", seg, err)
		}
		for _, fr := range frames {
			crop = decoder.Crop(fr, s.Width, s.Height, crop)
			if err := w.Write(crop); err != nil {
				return err
			}
			n++
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d frames decoded with %d layers in %.2f s (%.1f frames/s)\n", n, *layers, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
	return nil
}
