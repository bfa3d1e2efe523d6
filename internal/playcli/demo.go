package playcli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-player/strata/assets"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/origin"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

// ServeDemo copies the embedded demo to a temporary directory and serves it over HTTP/3 on
// loopback with a fresh certificate (shaped by the trace file tracePath if given). It returns the MPD URL,
// the certificate to trust and a function that stops everything.
func ServeDemo(ctx context.Context, tracePath string) (string, []byte, func(), error) {
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
	if tracePath != "" {
		tr, err := trace.Load(tracePath, trace.FormatAuto)
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
