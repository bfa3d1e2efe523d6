package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/live"
)

// runEnhanceEval simulates a live session's online-learned enhancement on a clip
// (live.SimulateEnhancement) and reports PSNR over time and the patches' rate.
func runEnhanceEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata enhance-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	srcPath := fs.String("source", "", "the source clip (Y4M)")
	decPath := fs.String("decoded", "", "the same clip as the player decodes it (strata decode --layers k)")
	segFrames := fs.Int("segment-frames", 40, "frames per segment")
	seconds := fs.Float64("seconds", 90, "stream length to simulate")
	channels := fs.Int("channels", 16, "hidden channels of a new model")
	initPath := fs.String("init", "", "start from this model (the generic one), also measured unchanged beside the online one")
	patch := fs.Int("patch", 48, "patch size (pixels)")
	patches := fs.Int("patches", 8, "patches the streamer sends per segment")
	steps := fs.Int("steps", 150, "training steps per segment (the trainer's budget; see the steps/s line)")
	lag := fs.Int("model-lag", 1, "a segment is enhanced with the model published this many segments after it")
	every := fs.Int("eval-every", 4, "measure every n-th frame")
	videoKbps := fs.Float64("video-kbps", 0, "the video's upload rate, for the patches' share of the uplink")
	seed := fs.Uint64("seed", 1, "random seed")
	lr := fs.Float64("lr", 1e-3, "the trainer's Adam step")
	batch := fs.Int("batch", 8, "patches per training step")
	pool := fs.Int("pool", 512, "training patches kept (the newest)")
	noPause := fs.Bool("no-pause", false, "train without pausing (no saturation detection)")
	jsonOut := fs.Bool("json", false, "one JSON line per segment")
	plotPath := fs.String("plot", "", "also draw PSNR-Y over time, patch rate and training here (PNG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *srcPath == "" || *decPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--source and --decoded are required")
	}
	if *segFrames < 1 || *patch < 16 || *patch > 256 || *patches < 0 || *patches > 256 || *steps < 0 || *lag < 0 || *every < 1 || *channels < 1 || *channels > enhance.MaxChannels {
		return errors.New("a flag is out of range")
	}
	hdr, src, err := readY4M(*srcPath, 0)
	if err != nil {
		return err
	}
	_, dec, err := readY4M(*decPath, 0)
	if err != nil {
		return err
	}
	// A half-resolution rung's plain frames are its bicubic doubles, the model an upsampler.
	scale, err := matchSource(dec, hdr.Width, hdr.Height)
	if err != nil {
		return fmt.Errorf("--decoded: %w", err)
	}
	fps := float64(hdr.FPSNum) / float64(hdr.FPSDen)
	segS := float64(*segFrames) / fps
	nseg := min(len(src), len(dec)) / *segFrames
	nseg = min(nseg, int(*seconds/segS))
	if nseg < 2 {
		return errors.New("the clips are shorter than two segments")
	}
	var net, generic *enhance.Net
	if *initPath != "" {
		b, err := os.ReadFile(*initPath)
		if err != nil {
			return err
		}
		if generic, err = enhance.Unmarshal(b); err != nil {
			return err
		}
		net = generic.Clone()
		generic.Prepare()
		if generic.Scale != scale {
			return fmt.Errorf("--init %s has scale %d, the decoded clip needs %d", *initPath, generic.Scale, scale)
		}
	} else if net, err = enhance.New(*channels, *seed); err != nil {
		return err
	}
	net.Scale = scale
	cfg := enhance.OnlineConfig{Seed: *seed, LR: *lr, Batch: *batch, Pool: *pool}
	if *noPause {
		cfg.SaturationDB = -1e9
	}
	t0 := time.Now()
	res, err := live.SimulateEnhancement(src, dec, nseg, live.EnhanceSimOptions{SegFrames: *segFrames, SegmentS: segS, Patch: *patch,
		Patches: *patches, Steps: *steps, Lag: *lag, Every: *every, Seed: *seed, Net: net, Generic: generic, Online: cfg})
	if err != nil {
		return err
	}
	rows := res.Segments
	if *jsonOut {
		for _, r := range rows {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
	}
	if *plotPath != "" {
		title := fmt.Sprintf("%s: online enhancement over time", filepath.Base(*srcPath))
		if scale == 2 {
			title = fmt.Sprintf("%s, half-resolution rung: online upsampler over time", filepath.Base(*srcPath))
		}
		if err := plotEnhance(*plotPath, title, rows, segS); err != nil {
			return err
		}
	}
	steps0 := res.Steps
	last := max(0, nseg-int(math.Round(30/segS)))
	var p30, g30, o30 float64
	for _, row := range rows[last:] {
		p30 += row.PlainY
		g30 += row.GenericY
		o30 += row.OnlineY
	}
	k := float64(nseg - last)
	patchKbps := float64(res.PatchBytes) * 8 / (float64(nseg) * segS) / 1000
	fmt.Fprintf(stderr, "%d segments of %.1f s; %d training steps in %.1f s (%.1f steps/s on one goroutine); %d pauses, %d resumes; %.1f s in all\n",
		nseg, segS, steps0, res.TrainTime.Seconds(), float64(steps0)/res.TrainTime.Seconds(), res.Pauses, res.Resumes, time.Since(t0).Seconds())
	share := ""
	if *videoKbps > 0 {
		share = fmt.Sprintf(" (%.1f %% of the uplink beside %.0f kbit/s of video)", 100*patchKbps/(patchKbps+*videoKbps), *videoKbps)
	}
	if !*jsonOut {
		fmt.Fprintf(stdout, "last 30 s: plain %.2f dB, online %.2f dB (%+.2f)", p30/k, o30/k, (o30-p30)/k)
		if generic != nil {
			fmt.Fprintf(stdout, ", generic %.2f dB (%+.2f)", g30/k, (g30-p30)/k)
		}
		fmt.Fprintf(stdout, "; patches %.1f kbit/s%s\n", patchKbps, share)
	}
	return nil
}
