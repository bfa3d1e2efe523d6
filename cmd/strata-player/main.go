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
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

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

	a := &app{opts: &o, policy: s.Config.Policy.Name(), log: s}
	a.model = overlay.New(s.URL, s.Backend, a.policy)
	if s.Notice != "" {
		a.model.SetNotice(s.Notice)
	}
	a.win = window.New(window.Options{Title: "strata — " + s.URL, Width: w, Height: h, Fullscreen: *fullscreen,
		Page: *page, Stats: *stats, OnPause: a.paused, OnPage: a.pageShown}, a.model, a)
	if a.player, err = player.New(a.config(s.Config)); err != nil {
		fmt.Fprintln(stderr, "strata-player:", err)
		return playcli.ExitUsage
	}
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

// app turns the window's keys into calls on the player and feeds the overlay.
type app struct {
	opts   *playcli.Options
	player *player.Player
	model  *overlay.Model
	win    *window.Window
	log    *playcli.Session
	quit   context.CancelFunc

	mu        sync.Mutex
	policy    string // the policy named on the overlay (the A key cycles from it)
	quitByKey bool

	// set by play when it returns
	sum *player.Summary
	err error
}

// config is the session configuration with the window as the sink and the overlay fed.
func (a *app) config(base player.Config) player.Config {
	cfg := base
	cfg.Sink = a.win
	onEvent, onSegment, onFrame := cfg.OnEvent, cfg.OnSegment, cfg.OnFrame
	cfg.OnEvent = func(e player.Event) {
		onEvent(e)
		a.model.OnEvent(e)
	}
	cfg.OnSegment = func(ss player.SegmentStats) {
		onSegment(ss)
		a.model.OnSegment(ss)
	}
	cfg.OnFrame = func(sn player.Snapshot) {
		if onFrame != nil { // the stats file's per-second samples
			onFrame(sn)
		}
		a.model.OnFrame(sn)
	}
	return cfg
}

// play runs the player to the end.
func (a *app) play(ctx context.Context) {
	sum, err := a.player.Run(ctx)
	if errors.Is(err, window.ErrClosed) {
		err = nil
	}
	a.sum, a.err = sum, err
	if sum != nil {
		a.log.Log.Info().Int("frames", sum.Frames).Int("stalls", sum.Stalls).Float64("qoe_quality", sum.QoEQuality).Msg("summary")
	}
}

// paused logs what the window shows once a pause has settled.
func (a *app) paused(pts time.Duration) {
	s := a.model.Snapshot()
	a.log.Log.Info().Float64("pts_ms", float64(pts)/1e6).Int("segment", s.Segment).Int("layers", s.Layers).
		Int("subgop", s.SubGOP).Msg("paused")
}

// pageShown logs the overlay page the window now shows.
func (a *app) pageShown(page int) { a.log.Log.Info().Int("page", page).Msg("page") }

// TogglePause implements window.Controls.
func (a *app) TogglePause() bool {
	p := !a.player.Paused()
	a.player.SetPaused(p)
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
	a.player.SetPolicy(a.opts.Limit(newPolicy()))
	a.mu.Lock()
	a.policy = name
	a.mu.Unlock()
	a.model.SetPolicy(name)
	a.log.Log.Info().Str("policy", name).Msg("abr switch")
}

// Seek implements window.Controls.
func (a *app) Seek(delta time.Duration) {
	to := a.player.Snapshot().PTS + delta
	a.log.Log.Info().Float64("to_s", to.Seconds()).Msg("seek")
	a.player.Seek(to)
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
