package main

import (
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

	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/live"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("stream", "assets/demo", "the pre-encoded layered stream to publish (a strata package directory)")
	subgops := fs.String("subgops", "", "sub-GOP variants to publish, comma-separated (default: the largest the stream has)")
	to := fs.String("to", "https://127.0.0.1:4433/ingest/", "the live origin's ingest URL (strata serve --live)")
	caFile := fs.String("ca", "", "PEM certificate to trust for the origin (strata serve --ca writes it)")
	token := fs.String("token", os.Getenv("STRATA_INGEST_TOKEN"), "the origin's ingest token (default $STRATA_INGEST_TOKEN)")
	duration := fs.Duration("duration", 60*time.Second, "how long to stream (the source loops)")
	uplink := fs.String("uplink-trace", "", "shape the uploads through this bandwidth trace (cooked, mahimahi or sabre JSON)")
	depth := fs.Duration("bucket", shape.DefaultDepth, "token-bucket depth of the shaped uplink")
	jsonOut := fs.Bool("json", false, "one JSON line per published segment on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *duration <= 0 || *duration > 24*time.Hour || *depth <= 0 || *depth > 10*time.Second {
		return errors.New("--duration must be in (0, 24h] and --bucket in (0, 10s]")
	}
	u, err := url.Parse(*to)
	if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(u.Path, "/") {
		return fmt.Errorf("--to %q: want an https URL ending in /", *to)
	}
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
	s := &live.Streamer{Client: client, Ingest: u.String(), Token: *token, Source: src,
		Segments: int(math.Ceil(duration.Seconds()/segS - 1e-9))}
	if *uplink != "" {
		t, err := trace.Load(*uplink, trace.FormatAuto)
		if err != nil {
			return err
		}
		s.Uplink = shape.NewLink(t, *depth, time.Now)
	}
	layers, segs, late := 0, 0, time.Duration(0)
	s.OnSegment = func(r live.Report) {
		segs++
		layers += r.Layers[0]
		late = max(late, r.Late)
		if *jsonOut {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
	}
	fmt.Fprintf(stderr, "streaming %s (S=%d, %d segments of %.1f s, looped) to %s\n", *dir, base.SubGOP, s.Segments, segS, u)
	if err := s.Run(ctx); err != nil {
		return err
	}
	if !*jsonOut {
		fmt.Fprintf(stdout, "published %d segments, %.2f layers on average, at most %.2f s after capture\n",
			segs, float64(layers)/float64(max(segs, 1)), late.Seconds())
	}
	return nil
}
