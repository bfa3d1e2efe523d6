package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/assets"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/live"
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
	liveMode := fs.Bool("live", false, "publish a live stream that a streamer (strata ingest) uploads to /ingest/, as a dynamic MPD at /manifest.mpd (instead of --dir)")
	token := fs.String("ingest-token", os.Getenv("STRATA_INGEST_TOKEN"), "--live: the streamer's bearer token, at least 16 bytes (default $STRATA_INGEST_TOKEN)")
	window := fs.Duration("window", 60*time.Second, "--live: how long segments stay available behind the live edge (timeShiftBufferDepth)")
	enh := fs.Bool("enhance", true, "--live: train an enhancement model online from the streamer's patches (LiveNAS) and publish it as a model track")
	enhInit := fs.String("enhance-init", "", "--enhance: the model training starts from (default: the generic model in assets/enhance)")
	enhSteps := fs.Int("enhance-steps", 150, "--enhance: training steps per published segment")
	enhLayers := fs.Int("enhance-layers", 1, "--enhance: the layer count the model enhances")
	delay := fs.Duration("live-delay", 0, "--live: the latency the MPD suggests to players (0: three segments)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*dir == "") == !*liveMode || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("want --dir DIR or --live")
	}
	if *liveMode && (*window < time.Second || *window > 24*time.Hour || *delay < 0 || *delay > time.Hour) {
		return errors.New("--window must be in [1s, 24h] and --live-delay in [0, 1h]")
	}
	if *enhSteps < 1 || *enhSteps > 100000 || *enhLayers < 1 || *enhLayers > 8 {
		return errors.New("--enhance-steps must be in 1..100000 and --enhance-layers in 1..8")
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
	var handler http.Handler
	var channel *live.Channel
	var err error
	if *liveMode {
		lc := live.Config{Token: *token, Window: *window, Delay: *delay}
		if *enh {
			ec, err := enhanceConfig(*enhInit, *enhSteps, *enhLayers)
			if err != nil {
				return err
			}
			lc.Enhance = ec
		}
		if channel, err = live.NewChannel(lc); err != nil {
			return fmt.Errorf("%w (--ingest-token or $STRATA_INGEST_TOKEN)", err)
		}
		defer channel.Close()
		cfg.Dir, cfg.Virtual = "", channel.Source
	} else {
		root, err := os.OpenRoot(*dir)
		if err != nil {
			return err
		}
		defer root.Close()
		cfg.Virtual = packager.JoinedSource(root)
	}
	h, err := origin.New(cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	handler = h
	if channel != nil {
		mux := http.NewServeMux()
		mux.Handle("/ingest/", logIngest(log, channel, http.StripPrefix("/ingest", channel.IngestHandler())))
		mux.Handle("/", h)
		handler = mux
	}
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
	srv, err := h3.Listen(*addr, cert, handler)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	what := *dir
	if *liveMode {
		what = fmt.Sprintf("a live channel (MPD https://%s/manifest.mpd, ingest https://%s/ingest/)", srv.Addr(), srv.Addr())
	}
	fmt.Fprintf(stdout, "serving %s on https://%s (HTTP/3 over UDP, HTTP/1.1 and HTTP/2 over TCP); Ctrl-C stops\n", what, srv.Addr())
	err = srv.Serve(ctx, 5*time.Second)
	log.Info().Msg("stopped")
	return err
}

// logIngest logs every ingest request with its outcome and the channel's live edge.
func logIngest(log zerolog.Logger, c *live.Channel, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		st := c.Status()
		ev := log.Info()
		if rec.status >= 400 {
			ev = log.Warn()
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).Int64("bytes", r.ContentLength).
			Dur("took", time.Since(start)).Int("live_edge", st.Edge).Int("held", st.Held).Int("train_dropped", st.TrainDropped).Msg("ingest")
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// interruptible is the context long-running commands (serve, ingest) stop on: Ctrl-C or
// SIGTERM. Tests replace it to stop them.
var interruptible = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// enhanceConfig is the origin's online-training setup: the codec, the starting model.
func enhanceConfig(initPath string, steps, layers int) (*live.EnhanceConfig, error) {
	b := assets.EnhanceGeneric()
	if initPath != "" {
		var err error
		if b, err = os.ReadFile(initPath); err != nil {
			return nil, err
		}
	}
	init, err := enhance.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	m, err := decoder.Default()
	if err != nil {
		return nil, err
	}
	return &live.EnhanceConfig{Codec: m, Layers: layers, Init: init, StepsPerSegment: steps}, nil
}
