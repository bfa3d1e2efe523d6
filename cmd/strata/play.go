package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/assets"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/origin"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/player"
	"github.com/strata-player/strata/render"
)

func runPlay(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	headless := fs.Bool("headless", false, "play without a window (the desktop player is strata-player)")
	policy := fs.String("abr", "mpc", "ABR policy: "+policyNames())
	ca := fs.String("ca", "", "PEM certificate to trust for the origin (strata serve --ca writes it)")
	untimed := fs.Bool("untimed", false, "decode and present as fast as possible (no media clock)")
	asJSON := fs.Bool("json", false, "print the session summary as one JSON object")
	subgop := fs.Int("subgop", 0, "sub-GOP variant to play (0: the largest available)")
	maxBuffer := fs.Duration("max-buffer", 30*time.Second, "stop downloading this far ahead of the playhead")
	hwdec := fs.String("hwdec", "auto", "decoder: auto, cuda or no (CPU)")
	statsFile := fs.String("stats-file", "", "write one JSON line per presented segment here")
	retries := fs.Int("retries", 3, "retries per request (exponential backoff from 200 ms)")
	logLevel := fs.String("log-level", "warn", "log level on stderr: debug (every transfer and decision), info (stalls, summary), warn, error")
	trace := fs.String("trace", "", "with the built-in demo: shape its in-process origin by this bandwidth trace")
	// Flags may come before or after the URL.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if !*headless {
		return errors.New("strata play needs --headless (the window is strata-player)")
	}
	if len(pos) > 1 {
		fs.Usage()
		return errors.New("give at most one MPD URL (none plays the built-in demo)")
	}
	if len(pos) == 1 && *trace != "" {
		return errors.New("--trace shapes the built-in demo's origin; for a URL, shape the server (strata serve --trace)")
	}
	if *maxBuffer <= 0 || *maxBuffer > time.Hour || *retries < 0 || *retries > 20 || *subgop < 0 || *subgop > 16 {
		return errors.New("--max-buffer, --retries or --subgop out of range")
	}
	switch *hwdec {
	case "auto", "no":
	case "cuda":
		fmt.Fprintln(stderr, "strata: this build has no CUDA backend; decoding on the CPU")
	default:
		return fmt.Errorf("--hwdec %q: want auto, cuda or no", *hwdec)
	}
	spec, err := abr.Lookup(*policy)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var caPEM []byte
	if *ca != "" {
		if caPEM, err = os.ReadFile(*ca); err != nil {
			return err
		}
	}
	if len(pos) == 0 {
		url, pem, closeDemo, err := serveDemo(ctx, *trace)
		if err != nil {
			return err
		}
		defer closeDemo()
		pos, caPEM = []string{url}, pem
	}
	client, tr, err := h3.NewClient(caPEM, 60*time.Second)
	if err != nil {
		return err
	}
	defer tr.Close()
	m, err := decoder.Default()
	if err != nil {
		return err
	}
	var stats *json.Encoder
	if *statsFile != "" {
		f, err := os.Create(*statsFile)
		if err != nil {
			return err
		}
		defer f.Close()
		stats = json.NewEncoder(f)
	}
	level, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).Level(level).With().Timestamp().Logger()
	onEvent := func(e player.Event) {
		switch e.Kind {
		case "transfer":
			log.Debug().Str("url", e.URL).Int("bytes", e.Bytes).Int("status", e.Status).Str("proto", e.Proto).
				Float64("trequest_ms", e.TRequest).Float64("tresponse_ms", e.TResponse).Float64("tfinish_ms", e.TFinish).Msg("transfer")
		case "decision":
			log.Debug().Str("action", e.Action).Int("segment", e.Segment).Int("layers", e.Layers).Float64("buffer_s", e.BufferS).Msg("decision")
		case "stall":
			log.Info().Int("segment", e.Segment).Float64("stall_s", e.StallS).Msg("stall")
		}
	}
	sink := &render.Headless{}
	sum, err := player.Run(ctx, player.Config{
		MPD: pos[0], Fetcher: &fetch.Fetcher{Client: client, Retries: *retries, Backoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second},
		Model: m, Policy: spec.New(), Sink: sink, SubGOP: *subgop, MaxBufferS: maxBuffer.Seconds(), Untimed: *untimed, OnEvent: onEvent,
		OnSegment: func(s player.SegmentStats) {
			if stats != nil {
				stats.Encode(s)
			}
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return &codedError{exitInterrupted, err}
		}
		return &codedError{exitPlayback, err}
	}
	if *asJSON {
		return printJSON(stdout, sum)
	}
	fmt.Fprintf(stdout, "%s: %d segments, %d frames (%d dropped), startup %.0f ms, %d stalls (%.2f s), %.2f layers, PSNR-Y %.2f dB, QoE %.3f, decode %.1f frames/s, %d requests, %.2f MB\n",
		sum.Policy, sum.Segments, sum.Frames, sum.DroppedFrames, sum.StartupMS, sum.Stalls, sum.StallS, sum.AvgLayers, sum.AvgPSNRY, sum.QoE, sum.DecodeFPS, sum.Requests, float64(sum.Bytes)/1e6)
	return nil
}

// serveDemo copies the embedded demo to a temporary directory and serves it over HTTP/3 on
// loopback with a fresh certificate (shaped by trace if given). It returns the MPD URL,
// the certificate to trust and a function that stops everything.
func serveDemo(ctx context.Context, trace string) (string, []byte, func(), error) {
	dir, err := os.MkdirTemp("", "strata-demo")
	if err != nil {
		return "", nil, nil, err
	}
	cleanup := []func(){func() { os.RemoveAll(dir) }}
	undo := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	fail := func(err error) (string, []byte, func(), error) { undo(); return "", nil, nil, err }
	if err := os.CopyFS(dir, assets.Demo()); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.mpd")); err != nil {
		return fail(errors.New("this binary has no demo stream (run make demo, then rebuild)"))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() { root.Close() })
	cfg := origin.Config{Dir: dir, Virtual: packager.JoinedSource(root)}
	if trace != "" {
		tr, err := abr.LoadTrace(trace, abr.FormatAuto)
		if err != nil {
			return fail(err)
		}
		cfg.Link = shape.NewLink(tr, 0, time.Now)
	}
	h, err := origin.New(cfg)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() { h.Close() })
	cert, pemCert, err := h3.SelfSigned([]string{"127.0.0.1"}, time.Hour, time.Now())
	if err != nil {
		return fail(err)
	}
	srv, err := h3.Listen("127.0.0.1:0", cert, h)
	if err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		srv.Serve(sctx, time.Second)
		close(done)
	}()
	cleanup = append(cleanup, func() { cancel(); <-done })
	return "https://" + srv.Addr() + "/manifest.mpd", pemCert, undo, nil
}
