package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/learn"
	"github.com/strata-player/strata/abr/nn"
	"github.com/strata-player/strata/abr/sim"
)

func runTrainABR(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata train-abr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "classic", "classic (Pensieve's simulator, envivio, QoE lin) or layered (the layered simulator on --video)")
	root := fs.String("traces-root", "../shared/abr/traces", "directory holding the trace sets")
	sets := fs.String("sets", strings.Join(learn.DefaultSets, ","), "comma-separated training sets under --traces-root (split into train/dev/val by file name)")
	videoDir := fs.String("video-dir", "../shared/abr/video", "envivio chunk sizes (classic)")
	video := fs.String("video", "assets/demo", "layered: a strata stream directory")
	subgop := fs.Int("subgop", 0, "layered: the sub-GOP variant (0: the largest)")
	decodeRT := fs.String("decode-rt", "0,1.5,1.1", "layered: device speeds the sessions are drawn from, as multiples of real time (0: instant)")
	iters := fs.Int("iters", 4, "DAgger iterations after the first")
	epochs := fs.Int("epochs", 6, "passes over the data per iteration")
	hidden := fs.String("hidden", "64,64", "hidden layer sizes")
	lr := fs.Float64("lr", 1e-3, "Adam step size")
	labelRate := fs.Float64("label-rate", 0.5, "fraction of the states the oracle labels in DAgger rollouts")
	ceWeight := fs.Float64("ce-weight", 0.1, "the cross-entropy's share in the loss beside the expected regret")
	tie := fs.Float64("tie", 1e-3, "the planner's pick (robustMPC's, swift's) is the target when the oracle values it within this much QoE of its own choice")
	seed := fs.Uint64("seed", 1, "random seed (weights, shuffling, labelled states)")
	maxTraces := fs.Int("max-traces", 0, "use at most this many training and dev traces each (0: all; a quick run)")
	workers := fs.Int("workers", 0, "parallel rollouts (0: one per CPU)")
	tuneOnly := fs.Bool("tune-margin-only", false, "no training: choose the committed <kind> model's margin on the dev traces and write it to the manifest")
	checkpoint := fs.String("checkpoint", "", "write the network after every iteration here (default build/abr-train/<kind>.last.snn)")
	initFile := fs.String("init", "", "continue from this model file (a previous run's <kind>.snn; --hidden is then ignored)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	dataIn := fs.String("data", "", "start the data set with the labelled choices in this file (a previous run's --data-out)")
	ensemble := fs.Int("ensemble", 0, "with --data: no rollouts; fit this many networks to the data (from --init, seeds --seed, --seed+1, ...) and write their ensemble (mean score)")
	dataOut := fs.String("data-out", "", "write the whole labelled data set here after every iteration")
	out := fs.String("out", "abr/models", "directory of the models and manifest.json (the model file is <kind>.snn)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *kind != "classic" && *kind != "layered" {
		return fmt.Errorf("--kind %q: want classic or layered", *kind)
	}
	if *ensemble < 0 || *ensemble > nn.MaxMembers || (*ensemble > 0 && *dataIn == "") {
		return fmt.Errorf("--ensemble 0..%d, and it needs --data", nn.MaxMembers)
	}
	if *iters < 0 || *iters > 100 || *epochs < 1 || *epochs > 1000 || !(*lr > 0 && *lr < 1) || !(*labelRate > 0 && *labelRate <= 1) || !(*ceWeight >= 0 && *ceWeight <= 100) || !(*tie > 0 && *tie <= 100) || *maxTraces < 0 || *workers < 0 || *workers > 1024 {
		return errors.New("--iters 0..100, --epochs 1..1000, --lr in (0,1), --label-rate in (0,1], --ce-weight 0..100, --tie in (0,100], --max-traces ≥ 0, --workers 0..1024")
	}
	var hid []int
	for _, f := range strings.Split(*hidden, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("--hidden %q: want sizes 1..1024", *hidden)
		}
		hid = append(hid, n)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	setList := strings.Split(*sets, ",")
	train, err := learn.LoadSplit(*root, setList, "train")
	if err != nil {
		return err
	}
	dev, err := learn.LoadSplit(*root, setList, "dev")
	if err != nil {
		return err
	}
	if *maxTraces > 0 {
		train, dev = spread(train, *maxTraces), spread(dev, *maxTraces)
	}
	cfg := learn.Config{Train: train, Dev: dev, Iters: *iters, Epochs: *epochs, Hidden: hid, LR: *lr,
		LabelRate: *labelRate, CEWeight: *ceWeight, Tie: *tie, Seed: *seed, Workers: *workers}
	if *initFile != "" {
		b, err := os.ReadFile(*initFile)
		if err != nil {
			return err
		}
		if cfg.Init, err = nn.Unmarshal(b); err != nil {
			return fmt.Errorf("%s: %w", *initFile, err)
		}
	}
	if *dataIn != "" {
		if cfg.Data, err = learn.ReadData(*dataIn); err != nil {
			return fmt.Errorf("%s: %w", *dataIn, err)
		}
	}
	if *dataOut != "" {
		cfg.SaveData = func(data []nn.Choice) error { return learn.WriteData(*dataOut, data) }
	}
	if *kind == "classic" {
		v, err := abr.LoadEnvivio(*videoDir)
		if err != nil {
			return err
		}
		cfg.Sim = sim.SimConfig{Video: v, QoE: abr.QoELin}
	} else {
		v, si, err := loadStream(*video, *subgop)
		if err != nil {
			return err
		}
		if v.Layers == nil {
			return fmt.Errorf("%s is not a layered stream", *video)
		}
		l, err := layeredConfig(v, si, 0, "", 1, 30, 0, false)
		if err != nil {
			return err
		}
		cfg.Sim = sim.SimConfig{Video: v, QoE: abr.QoE{Name: "quality"}, Layered: l}
		for _, f := range strings.Split(*decodeRT, ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || x < 0 || x > 100 {
				return fmt.Errorf("--decode-rt %q: want multiples of real time in 0..100", *decodeRT)
			}
			cfg.DecodeFPS = append(cfg.DecodeFPS, x*v.Layers.FPS)
		}
	}
	fmt.Fprintf(stderr, "train-abr %s: %d training, %d dev traces from %s (seed %d)\n", *kind, len(train), len(dev), *sets, *seed)
	if *tuneOnly {
		return tuneCommitted(cfg, *kind, *out, stdout)
	}
	baselines := []string{"mpc", "oracle"}
	if *kind == "layered" {
		baselines = []string{"swift", "lifter", "oracle"}
	}
	for _, name := range baselines {
		spec, err := abr.Lookup(name)
		if err != nil {
			return err
		}
		s, err := learn.EvaluatePolicy(cfg.Sim, name, spec.New, dev, cfg.DecodeFPS, *workers)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "dev QoE of %s: %.4f\n", name, s.QoEMean)
	}
	start := time.Now()
	cfg.Progress = func(r learn.Report) {
		if r.Iter < 0 {
			fmt.Fprintf(stderr, "untrained network: dev QoE %.4f\n", r.DevQoE)
			return
		}
		fmt.Fprintf(stderr, "iter %d: %d choices, loss %.4f, agrees with the oracle %.1f %%, dev QoE %.4f (%.0f s)\n",
			r.Iter, r.Choices, r.Loss, 100*r.Acc, r.DevQoE, r.Seconds)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	ckpt := *checkpoint
	if ckpt == "" {
		ckpt = filepath.Join("build/abr-train", *kind+".last.snn")
	}
	if err := os.MkdirAll(filepath.Dir(ckpt), 0o755); err != nil {
		return err
	}
	cfg.Checkpoint = func(iter int, net *nn.MLP) error {
		// the network after each iteration; `--init` continues from it
		tmp := ckpt + ".tmp"
		if err := os.WriteFile(tmp, net.Marshal(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, ckpt)
	}
	var net nn.Scorer
	var reports []learn.Report
	if *ensemble > 0 {
		cfg.Progress = func(r learn.Report) {
			fmt.Fprintf(stderr, "member %d: %d choices, loss %.4f, agrees with the oracle %.1f %%, dev QoE %.4f (%.0f s)\n",
				r.Iter, r.Choices, r.Loss, 100*r.Acc, r.DevQoE, r.Seconds)
		}
		e, rs, err := learn.FitEnsemble(cfg, *ensemble)
		if err != nil {
			return err
		}
		r := rs[len(rs)-1]
		fmt.Fprintf(stderr, "ensemble of %d: dev QoE %.4f (%.0f s)\n", len(e), r.DevQoE, r.Seconds)
		// the manifest's eval: the ensemble's dev QoE, and the starting network's
		net, reports = e, []learn.Report{rs[0], r}
	} else {
		var err error
		var m *nn.MLP
		if m, reports, err = learn.Train(cfg); err != nil {
			return err
		}
		net = m
	}
	margin, err := tuneMargin(cfg, net, stderr)
	if err != nil {
		return err
	}
	file := *kind + ".snn"
	data := net.Marshal()
	if err := os.WriteFile(filepath.Join(*out, file), data, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	mpath := filepath.Join(*out, "manifest.json")
	man, err := readManifest(mpath)
	if errors.Is(err, os.ErrNotExist) {
		man, err = abr.ModelManifest{}, nil
	}
	if err != nil {
		return err
	}
	if man.FeatureVersion != abr.FeatureVersion || man.Models == nil {
		// models of other feature layouts cannot be loaded with this one
		man = abr.ModelManifest{FeatureVersion: abr.FeatureVersion, Models: map[string]abr.ModelEntry{}}
	}
	best := reports[1]
	for _, r := range reports[1:] {
		if r.DevQoE > best.DevQoE {
			best = r
		}
	}
	sizes, members := []int(nil), 1
	switch n := net.(type) {
	case *nn.MLP:
		sizes = n.Sizes
	case nn.Ensemble:
		sizes, members = n[0].Sizes, len(n)
	}
	man.Models[*kind] = abr.ModelEntry{File: file, SHA256: hex.EncodeToString(sum[:]), Sizes: sizes, Members: members, Params: net.Params(),
		Command: "strata train-abr " + strings.Join(args, " "), Seed: *seed, Train: setList, Validation: "learn.Split == val (20 % of each set, never trained on)",
		TrainSeconds: time.Since(start).Seconds(), Margin: margin, Eval: map[string]any{"dev_qoe": best.DevQoE, "iter": best.Iter, "untrained_dev_qoe": reports[0].DevQoE}}
	if err := writeManifest(mpath, man); err != nil {
		return err
	}
	which := fmt.Sprintf("iteration %d", best.Iter)
	if members > 1 {
		which = fmt.Sprintf("the ensemble of %d", members)
	}
	fmt.Fprintf(stdout, "%s: %d parameters, best dev QoE %.4f (%s), margin %.2f, %.0f s\n", filepath.Join(*out, file), net.Params(), best.DevQoE, which, margin, time.Since(start).Seconds())
	return nil
}

// tuneMargin chooses net's margin on the training and dev traces and reports each one's QoE.
func tuneMargin(cfg learn.Config, net nn.Scorer, w io.Writer) (float64, error) {
	margin, mq, err := learn.TuneMargin(cfg, net)
	if err != nil {
		return 0, err
	}
	for i, m := range learn.Margins {
		fmt.Fprintf(w, "margin %.2f: QoE %.4f on the training and dev traces\n", m, mq[i])
	}
	return margin, nil
}

// readManifest reads a models directory's manifest.json.
func readManifest(path string) (abr.ModelManifest, error) {
	var man abr.ModelManifest
	b, err := os.ReadFile(path)
	if err != nil {
		return man, err
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return man, fmt.Errorf("%s: %w", path, err)
	}
	return man, nil
}

func writeManifest(path string, man abr.ModelManifest) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // commands quote <placeholders>
	enc.SetIndent("", "  ")
	if err := enc.Encode(man); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// tuneCommitted chooses the margin of the model in dir's manifest on the training and dev
// traces and writes it there.
func tuneCommitted(cfg learn.Config, kind, dir string, stdout io.Writer) error {
	mpath := filepath.Join(dir, "manifest.json")
	man, err := readManifest(mpath)
	if err != nil {
		return err
	}
	e, ok := man.Models[kind]
	if !ok {
		return fmt.Errorf("%s has no %s model", mpath, kind)
	}
	raw, err := os.ReadFile(filepath.Join(dir, e.File))
	if err != nil {
		return err
	}
	net, err := nn.UnmarshalScorer(raw)
	if err != nil {
		return err
	}
	margin, err := tuneMargin(cfg, net, stdout)
	if err != nil {
		return err
	}
	e.Margin = margin
	man.Models[kind] = e
	fmt.Fprintf(stdout, "%s: %s margin %.2f\n", mpath, kind, margin)
	return writeManifest(mpath, man)
}

// spread keeps n of the traces, evenly spaced (every set represented).
func spread[T any](x []T, n int) []T {
	if n >= len(x) {
		return x
	}
	out := make([]T, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, x[i*len(x)/n])
	}
	return out
}
