package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-player/strata/internal/playcli"
	"github.com/strata-player/strata/player"
	"github.com/strata-player/strata/render"
)

func runPlay(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	headless := fs.Bool("headless", false, "play without a window (the desktop player is strata-player)")
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
	sum, err := player.Run(ctx, s.Config)
	if err != nil {
		if ctx.Err() != nil {
			return &codedError{exitInterrupted, err}
		}
		return &codedError{exitPlayback, err}
	}
	if o.JSON {
		return printJSON(stdout, sum)
	}
	_, err = fmt.Fprintln(stdout, playcli.Summary(sum))
	return err
}
