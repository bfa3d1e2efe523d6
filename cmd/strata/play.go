package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/playcli"
	"github.com/strata-player/strata/player"
	"github.com/strata-player/strata/render"
)

func runPlay(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	headless := fs.Bool("headless", false, "play without a window (the desktop player is strata-player)")
	refPath := fs.String("reference", "", "measure PSNR-Y of every presented frame against this clip (Y4M, frame for frame the stream's source, looped; a half-resolution frame is measured as its bicubic double)")
	var o playcli.Options
	o.Register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: strata play --headless [flags] [MPD URL]   (no URL: the built-in demo over HTTP/3 on loopback)")
		fs.PrintDefaults()
	}
	if err := o.Parse(fs, args); err != nil {
		return err
	}
	if !*headless {
		return errors.New("strata play needs --headless (the window is strata-player)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := playcli.Prepare(ctx, &o, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	s.Config.Sink = &render.Headless{}
	var ref *refSink
	if *refPath != "" {
		hdr, frames, err := readY4M(*refPath, 0)
		if err != nil {
			return err
		}
		ref = &refSink{next: s.Config.Sink, ref: frames, fps: float64(hdr.FPSNum) / float64(hdr.FPSDen)}
		s.Config.Sink = ref
	}
	sum, err := player.Run(ctx, s.Config)
	if err != nil {
		if ctx.Err() != nil {
			return &codedError{exitInterrupted, err}
		}
		return &codedError{exitPlayback, err}
	}
	if ref != nil {
		mean, last, n := ref.result()
		if o.JSON {
			return printJSON(stdout, struct {
				*player.Summary
				RefPSNRY       float64 `json:"reference_psnr_y"`
				RefPSNRYLast30 float64 `json:"reference_psnr_y_last30s"`
				RefFrames      int     `json:"reference_frames"`
			}{sum, mean, last, n})
		}
		fmt.Fprintf(stdout, "reference: PSNR-Y %.2f dB over %d frames, %.2f dB in the last 30 s\n", mean, n, last)
	}
	if o.JSON {
		return printJSON(stdout, sum)
	}
	_, err = fmt.Fprintln(stdout, playcli.Summary(sum))
	return err
}

// refSink measures what a viewer sees against the source: PSNR-Y of every presented frame
// against the reference frame at its presentation time (half-resolution frames doubled
// with the bicubic the player would otherwise leave to the display's scaler; frames larger
// than the source by a rung's padding on their top-left part).
type refSink struct {
	next    player.Sink
	ref     []*decoder.Frame
	fps     float64
	up      *decoder.Frame
	psnr    []float64
	pts     []time.Duration
	badSize int
}

func (r *refSink) Present(f *decoder.Frame, pts time.Duration) error {
	want := r.ref[int(math.Round(pts.Seconds()*r.fps))%len(r.ref)]
	g := f
	// A frame as large as the source or a little larger (an upsampler's double of a
	// padded half-resolution rung) is measured on its top-left part.
	if f.W < want.W || f.H < want.H || f.W > want.W+16 || f.H > want.H+16 {
		if 2*f.W < want.W || 2*f.H < want.H || f.W > want.W || f.H > want.H {
			r.badSize++
			return r.next.Present(f, pts)
		}
		r.up = enhance.Upscale2(r.up, f, want.W, want.H)
		g = r.up
	}
	r.psnr = append(r.psnr, encoder.MeasurePSNR(want, g).PSNRY)
	r.pts = append(r.pts, pts)
	return r.next.Present(f, pts)
}

// result is the mean PSNR-Y, the mean over the last 30 s of media, and the frames measured.
func (r *refSink) result() (mean, last30 float64, n int) {
	if len(r.psnr) == 0 {
		return 0, 0, 0
	}
	end := r.pts[len(r.pts)-1]
	var s, sl float64
	nl := 0
	for i, v := range r.psnr {
		s += v
		if end-r.pts[i] < 30*time.Second {
			sl += v
			nl++
		}
	}
	return s / float64(len(r.psnr)), sl / float64(nl), len(r.psnr)
}
