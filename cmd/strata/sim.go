package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/learn"
	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/net/trace"
	"golang.org/x/term"
)

func runSim(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	policy := fs.String("policy", "all", "ABR policy, comma-separated list, or all: "+policyNames())
	traces := fs.String("traces", "", "directory of trace files (cooked, mahimahi or sabre JSON; all files, sorted by name), or a comma-separated list of them")
	split := fs.String("split", "all", "keep only this part of each trace set: train, dev, val (the learned policy's split, by set and file name) or all")
	format := fs.String("trace-format", "auto", "trace format: auto, cooked, mahimahi or sabre")
	video := fs.String("video", "envivio", "video: envivio (Pensieve's benchmark video, 48 chunks of 4 s), or a directory of strata encode (stream.json) or strata package (manifest.mpd + quality tables)")
	subgop := fs.Int("subgop", 0, "with a packaged --video: the sub-GOP variant (0: the largest)")
	videoDir := fs.String("video-dir", "../shared/abr/video", "directory holding video_size_0..5 for --video envivio")
	qoe := fs.String("qoe", "", "QoE model: lin, log or hd on the ladder's bitrates (Pensieve's simulator; the default for envivio), or quality: decoded quality in the layered simulator (the default for a strata --video)")
	decodeFPS := fs.Float64("decode-fps", 0, "layered: the simulated device decodes this many frames/s (0: instant, unless --decode-model)")
	decodeModel := fs.String("decode-model", "", "layered: JSON lines of `strata bench decode --json`; the device's fps for the stream's sub-GOP size and resolution")
	deviceScale := fs.Float64("device-scale", 1, "layered: multiply the decode model's fps (0.5 = a device half as fast)")
	decodedBuffer := fs.Bool("decoded-buffer", false, "layered: policies' buffer_s counts decoded media only (a conventional player); swift and lifter read the virtual buffer regardless")
	maxBuffer := fs.Float64("max-buffer", 30, "layered: seconds of media fetched ahead of the playhead at most")
	decodeWindow := fs.Float64("decode-window", 0, "layered: seconds before play time a segment lacking layers is committed to the decoder (0: one segment)")
	logDir := fs.String("log-dir", "", "write per-chunk logs in Pensieve's column format to this directory")
	plot := fs.String("plot", "", "write a PNG of each policy's per-trace QoE CDF to this file")
	asJSON := fs.Bool("json", false, "print one JSON object per policy, one per line")
	workers := fs.Int("workers", 0, "parallel traces for policies without cross-trace state (0: one per CPU)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: strata sim --traces DIR [--policy P] [--qoe lin|log|hd] [--json] [--log-dir D] [--plot out.png]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *traces == "" {
		fs.Usage()
		return errors.New("--traces is required")
	}
	switch *split {
	case "all", "train", "dev", "val":
	default:
		return fmt.Errorf("--split %q: want all, train, dev or val", *split)
	}
	if *workers < 0 || *workers > 1024 {
		return fmt.Errorf("--workers %d out of range 0..1024", *workers)
	}
	specs, err := selectPolicies(*policy)
	if err != nil {
		return err
	}
	var tf trace.Format
	switch *format {
	case "auto":
		tf = trace.FormatAuto
	case "cooked", "mahimahi", "sabre":
		tf = trace.Format(*format)
	default:
		return fmt.Errorf("unknown --trace-format %q (want auto, cooked, mahimahi or sabre)", *format)
	}
	var v *abr.Video
	var si *stream.Info
	if *video == "envivio" {
		v, err = abr.LoadEnvivio(*videoDir)
	} else {
		v, si, err = loadStream(*video, *subgop)
	}
	if err != nil {
		return fmt.Errorf("loading video: %w", err)
	}
	var layered *sim.LayeredConfig
	qoeName := *qoe
	if qoeName == "" {
		qoeName = "lin"
		if v.Layers != nil {
			qoeName = "quality"
		}
	}
	if qoeName == "quality" {
		if v.Layers == nil {
			return errors.New("--qoe quality needs a layered --video (a strata stream directory)")
		}
		if layered, err = layeredConfig(v, si, *decodeFPS, *decodeModel, *deviceScale, *maxBuffer, *decodeWindow, *decodedBuffer); err != nil {
			return err
		}
	}
	model := abr.QoE{Name: qoeName}
	if layered == nil {
		if model, err = abr.QoEByName(qoeName, v); err != nil {
			return err
		}
	}
	var trs []*trace.Trace
	for _, dir := range strings.Split(*traces, ",") {
		all, err := trace.LoadDir(dir, tf)
		if err != nil {
			return err
		}
		set := filepath.Base(filepath.Clean(dir))
		for _, tr := range all {
			if *split == "all" || learn.Split(set, filepath.Base(tr.Name)) == *split {
				trs = append(trs, tr)
			}
		}
	}
	if len(trs) == 0 {
		return fmt.Errorf("no traces in %s (split %s)", *traces, *split)
	}
	if *logDir != "" {
		if err := os.MkdirAll(*logDir, 0o755); err != nil {
			return err
		}
	}
	progress := newProgress(stderr)
	var sums []sim.Summary
	for _, spec := range specs {
		start := time.Now()
		res, err := sim.Simulate(spec, trs, sim.SimConfig{Video: v, QoE: model, Layered: layered}, *workers, func(done int) {
			progress.update(fmt.Sprintf("sim %s: %d/%d traces", spec.Name, done, len(trs)))
		})
		progress.clear()
		if err != nil {
			return err
		}
		if *logDir != "" {
			if err := writeLogs(*logDir, spec.Name, res); err != nil {
				return err
			}
		}
		s := sim.Summarize(spec.Name, model.Name, res)
		sums = append(sums, s)
		if *asJSON {
			if err := printJSON(stdout, struct {
				sim.Summary
				Seconds float64 `json:"seconds"`
			}{s, time.Since(start).Seconds()}); err != nil {
				return err
			}
		}
	}
	if !*asJSON {
		label := *traces
		if *split != "all" {
			label += " (" + *split + " split)"
		}
		printTable(stdout, sums, len(trs), label)
	}
	if *plot != "" {
		if err := plotCDF(*plot, sums, model.Name, traceLabel(*traces, *split)); err != nil {
			return err
		}
	}
	return nil
}

// traceLabel names the trace sets in a plot title.
func traceLabel(dirs, split string) string {
	var n []string
	for _, d := range strings.Split(dirs, ",") {
		n = append(n, filepath.Base(filepath.Clean(d)))
	}
	l := strings.Join(n, "+")
	if len(n) > 2 {
		l = fmt.Sprintf("%d trace sets", len(n))
	}
	if split != "all" {
		l += " (" + split + ")"
	}
	return l
}

func policyNames() string {
	var n []string
	for _, s := range abr.Policies() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}

func selectPolicies(arg string) ([]abr.Spec, error) {
	if arg == "all" {
		return abr.Policies(), nil
	}
	var out []abr.Spec
	for _, name := range strings.Split(arg, ",") {
		s, err := abr.Lookup(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func writeLogs(dir, policy string, res []sim.TraceResult) error {
	for _, r := range res {
		f, err := os.Create(filepath.Join(dir, "log_sim_"+policy+"_"+r.Trace))
		if err != nil {
			return err
		}
		err = sim.WritePensieveLog(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func printTable(w io.Writer, sums []sim.Summary, traces int, dir string) {
	fmt.Fprintf(w, "%d traces from %s, QoE %s (per-trace values averaged over traces)\n", traces, dir, sums[0].QoE)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	layered := sums[0].QoE == "quality"
	head := "policy\tmean47\tsum47\tsum48\tbitrate kbps\trebuffer s\tstartup s\tswitches\t"
	if layered {
		head += "PSNR-Y dB\tstalls\tupgrades\twasted\t"
	}
	fmt.Fprintln(tw, head)
	for _, s := range sums {
		fmt.Fprintf(tw, "%s\t%.4f\t%.3f\t%.3f\t%.1f\t%.3f\t%.3f\t%.2f\t", s.Policy, s.QoEMean47, s.QoESum47, s.QoESum48,
			s.AvgBitrateKbps, s.RebufferS, s.StartupS, s.Switches)
		if layered {
			fmt.Fprintf(tw, "%.2f\t%.2f\t%.2f\t%.2f\t", s.AvgPSNRY, s.Stalls, s.Upgrades, s.WastedUpgrades)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// progress writes a single self-overwriting line to a terminal, and nothing otherwise.
type progress struct {
	w    io.Writer
	on   bool
	last time.Time
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(msg string) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s", msg)
}

func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
