// Command strata-player is the desktop player: a window (Ebiten) showing a DASH
// presentation coded with strata's layered neural codec, fetched over HTTP/3, under the
// QoE overlay. With no URL it plays the built-in demo from an in-process HTTP/3 origin.
//
// Keys: space/p pause, q/Esc quit, f fullscreen, ←/→ seek 5 s, i/I stats once/toggle,
// 1–3 stats pages, A cycle the ABR policy, r/R lock the ABR one layer lower/higher.
// Exit codes (as mpv's): 0 ok, 1 usage or initialisation error, 2 playback failed,
// 4 interrupted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/internal/playcli"
	"github.com/strata-player/strata/player"
	"github.com/strata-player/strata/render/overlay"
	"github.com/strata-player/strata/render/window"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// cycleOrder is the order the A key walks through.
var cycleOrder = []string{"swift", "lifter", "learned", "mpc", "bola", "bba", "rate"}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata-player", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o playcli.Options
	o.Register(fs)
	geometry := fs.String("geometry", "960x540", "window size WxH")
	fullscreen := fs.Bool("fullscreen", false, "start in fullscreen")
	stats := fs.Bool("stats", true, "show the stats overlay from the start (i/I toggle it)")
	page := fs.Int("stats-page", 1, "first overlay page: 1 video, 2 ABR, 3 network")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: strata-player [flags] [MPD URL]   (no URL: the built-in demo over HTTP/3 on loopback)")
		fs.PrintDefaults()
	}
	if err := o.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "strata-player:", err)
		return playcli.ExitUsage
	}
	w, h, err := parseGeometry(*geometry)
	if err == nil && (*page < 1 || *page > overlay.Pages) {
		err = fmt.Errorf("--stats-page %d: want 1..%d", *page, overlay.Pages)
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata-player:", err)
		return playcli.ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := playcli.Prepare(ctx, &o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "strata-player:", err)
		return playcli.ExitUsage
	}
	defer s.Close()

	a := &app{opts: &o, base: s.Config, clock: player.NewPausableClock(), policies: make(chan abr.Policy, 1),
		policy: s.Config.Policy.Name(), seek: -1, log: s}
	a.model = overlay.New(s.URL, s.Backend, a.policy)
	if s.Notice != "" {
		a.model.SetNotice(s.Notice)
	}
	a.win = window.New(window.Options{Title: "strata — " + s.URL, Width: w, Height: h, Fullscreen: *fullscreen,
		Page: *page, Stats: *stats, OnPause: a.paused}, a.model, a)
	sessCtx, cancel := context.WithCancel(ctx)
	a.quit = cancel
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.play(sessCtx)
		a.win.Stop()
	}()
	if err := a.win.Run(); err != nil {
		cancel()
		<-done
		fmt.Fprintln(stderr, "strata-player: window:", err)
		return playcli.ExitUsage
	}
	cancel() // the window closed: end the session
	<-done
	switch {
	case ctx.Err() != nil:
		return playcli.ExitInterrupted
	case a.err != nil && !a.quitByKey:
		fmt.Fprintln(stderr, "strata-player: playback failed:", a.err)
		return playcli.ExitPlayback
	}
	if a.sum != nil {
		if o.JSON {
			b, _ := json.Marshal(a.sum)
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintln(stdout, playcli.Summary(a.sum))
		}
	}
	return 0
}

// app runs sessions (a seek restarts one at another segment) and implements the window's
// Controls.
type app struct {
	opts     *playcli.Options
	base     player.Config
	clock    *player.PausableClock
	policies chan abr.Policy
	model    *overlay.Model
	win      *window.Window
	log      *playcli.Session
	quit     context.CancelFunc

	mu        sync.Mutex
	policy    string             // the policy playing now
	seek      int                // segment to restart at (−1: none)
	cancel    context.CancelFunc // the running session's
	quitByKey bool

	// set by play when it returns
	sum *player.Summary
	err error
}

// play runs the session, restarting it at the requested segment after a seek.
func (a *app) play(ctx context.Context) {
	start := 0
	for {
		sctx, cancel := context.WithCancel(ctx)
		a.mu.Lock()
		a.cancel = cancel
		newPolicy, err := playcli.LookupPolicy(a.policy)
		a.mu.Unlock()
		if err != nil {
			a.err = err
			cancel()
			return
		}
		cfg := a.base
		cfg.Policy, cfg.Policies, cfg.Clock, cfg.Sink, cfg.StartSegment = a.opts.Limit(newPolicy()), a.policies, a.clock, a.win, start
		onEvent, onSegment := cfg.OnEvent, cfg.OnSegment
		cfg.OnEvent = func(e player.Event) {
			onEvent(e)
			a.model.OnEvent(e)
		}
		cfg.OnSegment = func(ss player.SegmentStats) {
			onSegment(ss)
			a.model.OnSegment(ss)
		}
		onFrame := cfg.OnFrame // the stats file's per-second samples
		cfg.OnFrame = func(sn player.Snapshot) {
			if onFrame != nil {
				onFrame(sn)
			}
			a.model.OnFrame(sn)
		}
		sum, err := player.Run(sctx, cfg)
		cancel()
		a.mu.Lock()
		seek := a.seek
		a.seek = -1
		a.mu.Unlock()
		if seek >= 0 && ctx.Err() == nil {
			a.log.Log.Info().Int("segment", seek).Msg("seek")
			start = seek
			continue
		}
		if errors.Is(err, window.ErrClosed) {
			err = nil
		}
		a.sum, a.err = sum, err
		if sum != nil {
			a.log.Log.Info().Int("frames", sum.Frames).Int("stalls", sum.Stalls).Float64("qoe_quality", sum.QoEQuality).Msg("summary")
		}
		return
	}
}

// paused logs what the window shows once a pause has settled.
func (a *app) paused(pts time.Duration) {
	s := a.model.Snapshot()
	a.log.Log.Info().Float64("pts_ms", float64(pts)/1e6).Int("segment", s.Segment).Int("layers", s.Layers).
		Int("subgop", s.SubGOP).Msg("paused")
}

// TogglePause implements window.Controls.
func (a *app) TogglePause() bool {
	p := !a.clock.Paused()
	a.clock.SetPaused(p)
	return p
}

// CycleABR implements window.Controls: the next policy of cycleOrder takes over.
func (a *app) CycleABR() {
	a.mu.Lock()
	next := cycleOrder[0]
	for i, n := range cycleOrder {
		if n == a.policy {
			next = cycleOrder[(i+1)%len(cycleOrder)]
		}
	}
	a.mu.Unlock()
	a.switchTo(next)
}

// Lock implements window.Controls: fixed:<layers> one below (−1) or above (+1) the
// layers on screen.
func (a *app) Lock(delta int) {
	s := a.model.Snapshot()
	k := s.Layers + delta
	if s.LayersMax > 0 {
		k = max(1, min(k, s.LayersMax))
	}
	a.switchTo("fixed:" + strconv.Itoa(max(k, 1)))
}

func (a *app) switchTo(name string) {
	newPolicy, err := playcli.LookupPolicy(name)
	if err != nil {
		return
	}
	select { // replace a switch the downloader has not taken yet
	case <-a.policies:
	default:
	}
	a.policies <- a.opts.Limit(newPolicy())
	a.mu.Lock()
	a.policy = name
	a.mu.Unlock()
	a.model.SetPolicy(name)
	a.log.Log.Info().Str("policy", name).Msg("abr switch")
}

// Seek implements window.Controls: restart the session at the segment holding the
// target time.
func (a *app) Seek(delta time.Duration) {
	s := a.model.Snapshot()
	if s.SegmentS <= 0 || s.Segments == 0 {
		return
	}
	t := s.PTS + delta
	seg := int(math.Floor(t.Seconds() / s.SegmentS))
	seg = max(0, min(seg, s.Segments-1))
	a.mu.Lock()
	a.seek = seg
	cancel := a.cancel
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Quit implements window.Controls.
func (a *app) Quit() {
	a.mu.Lock()
	a.quitByKey = true
	a.mu.Unlock()
	a.quit()
}

func parseGeometry(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || w < 64 || h < 64 || w > 16384 || h > 16384 {
		return 0, 0, fmt.Errorf("--geometry %q: want WxH between 64x64 and 16384x16384", s)
	}
	return w, h, nil
}
