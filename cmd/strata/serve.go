package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/origin"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory to serve (strata package --out)")
	addr := fs.String("addr", "127.0.0.1:4433", "UDP (HTTP/3) and TCP (HTTP/1.1, HTTP/2) address")
	tracePath := fs.String("trace", "", "shape all responses through one bottleneck following this bandwidth trace (cooked, mahimahi or sabre JSON)")
	depth := fs.Duration("bucket", shape.DefaultDepth, "token-bucket depth of the shaped link")
	certFile := fs.String("cert", "", "TLS certificate (PEM); with --key. Default: a new self-signed one")
	keyFile := fs.String("key", "", "TLS private key (PEM)")
	caOut := fs.String("ca", "strata-ca.pem", "where to write the generated self-signed certificate, for clients' --ca")
	maxFile := fs.Int64("max-file-bytes", 1<<30, "refuse to serve larger files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--dir is required")
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("--cert and --key go together")
	}
	if *depth <= 0 || *depth > 10*time.Second || *maxFile <= 0 {
		return errors.New("--bucket must be in (0, 10s] and --max-file-bytes positive")
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).With().Timestamp().Logger()
	cfg := origin.Config{Dir: *dir, MaxFileBytes: *maxFile, OnAccess: func(a origin.Access) {
		log.Info().Str("proto", a.Proto).Str("method", a.Method).Str("path", a.Path).Int("status", a.Status).
			Int64("bytes", a.Bytes).Dur("took", a.Duration).Str("remote", a.Remote).Msg("access")
	}}
	if *tracePath != "" {
		tr, err := trace.Load(*tracePath, trace.FormatAuto)
		if err != nil {
			return err
		}
		cfg.Link = shape.NewLink(tr, *depth, time.Now)
		log.Info().Str("trace", *tracePath).Float64("mean_mbps", tr.MeanMbps()).Dur("bucket", *depth).Msg("shaping every response through one bottleneck")
	}
	root, err := os.OpenRoot(*dir)
	if err != nil {
		return err
	}
	defer root.Close()
	cfg.Virtual = packager.JoinedSource(root)
	h, err := origin.New(cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	var cert tls.Certificate
	if *certFile != "" {
		if cert, err = tls.LoadX509KeyPair(*certFile, *keyFile); err != nil {
			return err
		}
	} else {
		host, _, err := net.SplitHostPort(*addr)
		if err != nil {
			return fmt.Errorf("--addr: %w", err)
		}
		hosts := []string{"localhost", "127.0.0.1", "::1"}
		if host != "" {
			hosts = append(hosts, host)
		}
		var pemCert []byte
		if cert, pemCert, err = h3.SelfSigned(hosts, 30*24*time.Hour, time.Now()); err != nil {
			return err
		}
		if err := os.WriteFile(*caOut, pemCert, 0o644); err != nil {
			return err
		}
		log.Info().Str("ca", *caOut).Msg("self-signed certificate written; clients trust it with --ca")
	}
	srv, err := h3.Listen(*addr, cert, h)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "serving %s on https://%s (HTTP/3 over UDP, HTTP/1.1 and HTTP/2 over TCP); Ctrl-C stops\n", *dir, srv.Addr())
	err = srv.Serve(ctx, 5*time.Second)
	log.Info().Msg("stopped")
	return err
}
