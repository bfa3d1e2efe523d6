package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/strata-player/strata/decoder/enhance"
)

// runEnhanceTrain pre-trains the generic enhancement model (the one a live stream's online
// training starts from) on pairs of source and decoded clips.
func runEnhanceTrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata enhance-train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pairs := fs.String("pairs", "", "comma-separated SOURCE.y4m:DECODED.y4m pairs (strata decode --layers k of the source's encoding)")
	out := fs.String("out", "", "write the model here")
	channels := fs.Int("channels", 16, "hidden channels")
	steps := fs.Int("steps", 20000, "training steps")
	patch := fs.Int("patch", 48, "patch size (pixels)")
	perFrame := fs.Int("patches", 6, "patches drawn per sampled frame")
	every := fs.Int("frame-every", 5, "sample every n-th frame")
	lr := fs.Float64("lr", 2e-3, "Adam step (halved at 60 % and 85 % of the steps)")
	batch := fs.Int("batch", 8, "patches per step")
	seed := fs.Uint64("seed", 1, "random seed")
	initPath := fs.String("init", "", "start from this model instead of a new one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pairs == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--pairs and --out are required")
	}
	if *steps < 1 || *patch < 16 || *patch > 256 || *perFrame < 1 || *every < 1 || *batch < 1 || *lr <= 0 {
		return errors.New("a flag is out of range")
	}
	r := rand.New(rand.NewPCG(*seed, 9))
	var data []enhance.Patch
	scale := 0 // 1: post-filter pairs, 2: half-resolution decodes (an upsampler)
	for _, pr := range strings.Split(*pairs, ",") {
		s, d, ok := strings.Cut(pr, ":")
		if !ok {
			return fmt.Errorf("--pairs: %q is not SOURCE:DECODED", pr)
		}
		_, src, err := readY4M(s, 0)
		if err != nil {
			return err
		}
		_, dec, err := readY4M(d, 0)
		if err != nil {
			return err
		}
		sc, err := matchSource(dec, src[0].W, src[0].H)
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		if scale != 0 && sc != scale {
			return errors.New("--pairs mixes half- and full-resolution decodes")
		}
		scale = sc
		n := min(len(src), len(dec))
		for f := 0; f < n; f += *every {
			for _, c := range enhance.WorstCrops(src[f], dec[f], *patch, *perFrame, r) {
				data = append(data, enhance.Cut(src[f], dec[f], c))
			}
		}
		fmt.Fprintf(stderr, "%s: %d frames, %d patches so far\n", s, n, len(data))
	}
	if len(data) < 10 {
		return errors.New("too few patches")
	}
	r.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	nval := len(data) / 10
	val, train := data[:nval], data[nval:]
	net, err := enhance.New(*channels, *seed)
	if err != nil {
		return err
	}
	if *initPath != "" {
		b, err := os.ReadFile(*initPath)
		if err != nil {
			return err
		}
		if net, err = enhance.Unmarshal(b); err != nil {
			return fmt.Errorf("%s: %w", *initPath, err)
		}
		if net.Scale != scale {
			return fmt.Errorf("--init %s has scale %d, the pairs %d", *initPath, net.Scale, scale)
		}
	}
	net.Scale = scale
	tr := enhance.NewTrainer(net, *lr)
	plain := enhance.PlainMSE(val)
	b := make([]enhance.Patch, *batch)
	t0 := time.Now()
	for s := 1; s <= *steps; s++ {
		if s == *steps*6/10 || s == *steps*85/100 {
			tr.SetLR(tr.LR() / 2)
		}
		for i := range b {
			b[i] = enhance.Augment(train[r.IntN(len(train))], r.IntN(8))
		}
		tr.Step(b)
		if s%1000 == 0 || s == *steps {
			fmt.Fprintf(stderr, "step %d: validation gain %+.3f dB (%.0f s)\n", s, enhance.GainDB(plain, tr.Loss(val)), time.Since(t0).Seconds())
		}
	}
	if err := os.WriteFile(*out, tr.Snapshot().Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d channels, %d parameters, %d MACs per pixel; %d training and %d validation patches; validation gain %+.3f dB\n",
		*out, net.C, net.Params(), net.MACs(), len(train), len(val), enhance.GainDB(plain, tr.Loss(val)))
	return nil
}
