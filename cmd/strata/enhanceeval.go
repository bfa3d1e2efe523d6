package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/live"
)

// enhanceSegment is one segment of an enhance-eval run.
type enhanceSegment struct {
	Segment    int     `json:"segment"`
	TimeS      float64 `json:"t_s"`
	PlainY     float64 `json:"psnr_y_plain"`
	GenericY   float64 `json:"psnr_y_generic,omitempty"`
	OnlineY    float64 `json:"psnr_y_online"`
	PatchBytes int     `json:"patch_bytes"`
	Steps      int     `json:"steps"`
	Paused     bool    `json:"paused"`
	Scene      bool    `json:"scene_change"`
	ValGainDB  float64 `json:"val_gain_db"`
	Published  bool    `json:"published"` // a new version beat the starting model
	// InteriorGain is the online model's gain away from the frame's edges (16 pixels).
	InteriorGain float64 `json:"interior_gain_db"`
}

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
	on := enhance.NewOnline(net, cfg)
	r := rand.New(rand.NewPCG(*seed, 3))
	models := make([]*enhance.Net, nseg)
	var rows []enhanceSegment
	patchBytes := 0
	t0 := time.Now()
	trainTime := time.Duration(0)
	for i := 0; i < nseg; i++ {
		row := enhanceSegment{Segment: i, TimeS: float64(i+1) * segS}
		lo, hi := i**segFrames, (i+1)**segFrames
		// The streamer: a scene change, and patches where the codec did worst on two frames.
		for f := lo + 1; f < hi; f++ {
			if encoder.MeasurePSNR(src[f], src[f-1]).PSNRY < 18 {
				row.Scene = true
			}
		}
		var ps []enhance.Patch
		for _, f := range []int{lo + *segFrames/4, lo + 3**segFrames/4} {
			for _, c := range enhance.WorstCrops(src[f], dec[f], *patch, (*patches+1)/2, r) {
				ps = append(ps, enhance.Cut(src[f], dec[f], c))
			}
		}
		ps = ps[:min(len(ps), *patches)]
		// The bytes are those of the bundle the streamer sends (live.MarshalPatches).
		sp := make([]live.SourcePatch, len(ps))
		for k, p := range ps {
			sp[k] = live.SourcePatch{Size: p.W, Luma: p.Source}
		}
		bundle, err := live.MarshalPatches(sp)
		if err != nil {
			return err
		}
		row.PatchBytes = len(bundle)
		patchBytes += row.PatchBytes
		// The origin's trainer, until the next segment is published.
		on.Add(ps, row.Scene)
		ts := time.Now()
		row.Steps = on.Train(*steps)
		trainTime += time.Since(ts)
		row.Paused, row.ValGainDB = on.Paused(), on.Gain()
		// The origin publishes a version only when it beats the starting model on the
		// held-out patches; until then players keep the last one published.
		switch {
		case on.BeatsStart() || (i == 0 && generic == nil):
			models[i] = on.Snapshot()
			row.Published = true
		case i == 0:
			models[i] = generic
		default:
			models[i] = models[i-1]
		}
		rows = append(rows, row)
	}
	// The player: segment i enhanced with the model published lag segments later.
	var sc enhance.Scratch
	work := decoder.NewFrame(hdr.Width, hdr.Height)
	for i := range rows {
		m := models[min(i+*lag, nseg-1)]
		var plain, gen, online, pin, oin float64
		n := 0
		for f := i * *segFrames; f < (i+1)**segFrames; f += *every {
			plain += encoder.MeasurePSNR(src[f], dec[f]).PSNRY
			copy(work.Y, dec[f].Y)
			m.Apply(work, &sc, 0)
			online += encoder.MeasurePSNR(src[f], work).PSNRY
			pin += psnrInterior(src[f].Y, dec[f].Y, hdr.Width, hdr.Height, 16)
			oin += psnrInterior(src[f].Y, work.Y, hdr.Width, hdr.Height, 16)
			if generic != nil {
				copy(work.Y, dec[f].Y)
				generic.Apply(work, &sc, 0)
				gen += encoder.MeasurePSNR(src[f], work).PSNRY
			}
			n++
		}
		rows[i].PlainY, rows[i].OnlineY = plain/float64(n), online/float64(n)
		rows[i].InteriorGain = (oin - pin) / float64(n)
		if generic != nil {
			rows[i].GenericY = gen / float64(n)
		}
		if *jsonOut {
			b, _ := json.Marshal(rows[i])
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
	steps0 := on.Steps()
	last := max(0, nseg-int(math.Round(30/segS)))
	var p30, g30, o30 float64
	for _, row := range rows[last:] {
		p30 += row.PlainY
		g30 += row.GenericY
		o30 += row.OnlineY
	}
	k := float64(nseg - last)
	patchKbps := float64(patchBytes) * 8 / (float64(nseg) * segS) / 1000
	fmt.Fprintf(stderr, "%d segments of %.1f s; %d training steps in %.1f s (%.1f steps/s on one goroutine); %d pauses, %d resumes; %.1f s in all\n",
		nseg, segS, steps0, trainTime.Seconds(), float64(steps0)/trainTime.Seconds(), on.Pauses, on.Resumes, time.Since(t0).Seconds())
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

// psnrInterior is the luma PSNR without a border of b pixels.
func psnrInterior(a, c []byte, w, h, b int) float64 {
	s, n := 0.0, 0
	for y := b; y < h-b; y++ {
		for x := b; x < w-b; x++ {
			d := float64(a[y*w+x]) - float64(c[y*w+x])
			s += d * d
			n++
		}
	}
	return encoder.PSNR(s / float64(n))
}
