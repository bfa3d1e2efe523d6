package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/abr/daemon"
)

func runABRD(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata abrd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8333", "listen address (loopback by default)")
	remote := fs.Bool("allow-remote", false, "allow a non-loopback --addr")
	maxSessions := fs.Int("max-sessions", 1000, "concurrent sessions")
	idle := fs.Duration("idle", 10*time.Minute, "drop sessions idle this long")
	maxBody := fs.Int64("max-body", 64<<10, "request body limit in bytes")
	var origins originList
	fs.Var(&origins, "allow-origin", "a web origin (scheme://host:port) whose pages may use the API; repeatable; * for any (default: loopback pages only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *maxSessions < 1 || *maxSessions > 1e6 || *idle <= 0 || *maxBody < 256 || *maxBody > 16<<20 {
		return errors.New("--max-sessions, --idle or --max-body out of range")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if ip := net.ParseIP(host); !*remote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--addr %s is not loopback; pass --allow-remote to serve other hosts", *addr)
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).With().Timestamp().Logger()
	d := daemon.New(daemon.Config{MaxSessions: *maxSessions, IdleTimeout: *idle, MaxBody: *maxBody, AllowOrigins: origins,
		OnDecision: func(s string, seq int, dec daemon.Decision) {
			log.Info().Str("session", s).Int("seq", seq).Str("representation_id", dec.RepresentationID).
				Float64("estimate_bps", dec.EstimateBPS).Str("reason", dec.Reason).Msg("decision")
		}})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(stdout, "ABR daemon on http://%s (POST /v1/sessions, /v1/sessions/{id}/decisions, POST /pensieve)\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// originList is a repeatable flag of web origins.
type originList []string

func (o *originList) String() string { return strings.Join(*o, ",") }

func (o *originList) Set(v string) error {
	if v != "*" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("want an origin such as https://player.example:8443 or *, got %q", v)
		}
		v = u.Scheme + "://" + u.Host
	}
	*o = append(*o, v)
	return nil
}
