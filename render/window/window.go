// Package window is the desktop player's window (Ebiten): it is a player.Sink that shows
// the latest presented frame, scaled to fit with its aspect ratio kept, under the QoE
// overlay, and turns the viewer's keys into Controls. Ebiten owns the main goroutine
// (Run); the player's presenter goroutine calls Present.
package window

import (
	"errors"
	"image/color"
	"sync"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/render/overlay"
)

// ErrClosed is what Present returns once the window is gone.
var ErrClosed = errors.New("window: closed")

// Controls is what the keys ask of the player. Calls come from Ebiten's goroutine.
type Controls interface {
	TogglePause() bool // returns the new pause state
	CycleABR()         // A
	Lock(delta int)    // r (−1) / R (+1): fix the ABR one layer below/above the current
	Seek(delta time.Duration)
	Quit()
}

// Options configure a Window.
type Options struct {
	Title         string
	Width, Height int // window size in pixels
	Fullscreen    bool
	Page          int  // first overlay page (1..3)
	Stats         bool // overlay shown from the start
	// OnPause, if set, is called one second of ticks after a pause with the pts of the
	// frame on screen (what the window actually drew), for logs and tests.
	OnPause func(pts time.Duration)
	// OnPage, if set, is called a tenth of a second of ticks after the screen was first
	// drawn with a new overlay page (the page key), with that page: for logs and tests.
	OnPage func(page int)
}

// Window implements player.Sink and ebiten.Game.
type Window struct {
	opt   Options
	model *overlay.Model
	ctl   Controls

	mu      sync.Mutex // guards the frame handed over by Present
	rgba    []byte
	w, h    int
	pts     time.Duration
	fresh   bool
	closed  bool
	stopped bool // the session ended: Update terminates

	// owned by Ebiten's goroutine
	img        *ebiten.Image
	drawnPTS   time.Duration
	page       int
	stats      bool
	statsUntil time.Time // i: stats shown once, until then
	pauseTicks int       // ticks since the last pause (−1: not paused or reported)
	pageTicks  int       // ticks since a new page was first drawn (−1: none to report)
	pageShown  int       // the page last drawn
	drawn      drawKey   // what the retained screen shows
}

// drawKey is what a drawn screen depends on: the screen is retained between frames and
// redrawn only when it changes (a software-rendered window otherwise spends a core
// redrawing the same picture at the display's rate, which the decoder needs).
type drawKey struct {
	pts         time.Duration
	w, h, page  int
	stats       bool
	overlayTick int64 // the overlay refreshes at least twice a second
	hasImage    bool
}

// New returns a window; call Run on the main goroutine.
func New(opt Options, model *overlay.Model, ctl Controls) *Window {
	if opt.Page < 1 || opt.Page > overlay.Pages {
		opt.Page = 1
	}
	return &Window{opt: opt, model: model, ctl: ctl, page: opt.Page, stats: opt.Stats, pauseTicks: -1, pageTicks: -1, pageShown: opt.Page}
}

// Present implements player.Sink: it converts the frame to RGBA for the next draw.
func (w *Window) Present(f *decoder.Frame, pts time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if len(w.rgba) != 4*f.W*f.H {
		w.rgba = make([]byte, 4*f.W*f.H)
		w.model.SetSize(f.W, f.H)
	}
	if err := decoder.ToRGBA(f, w.rgba); err != nil {
		return err
	}
	w.w, w.h, w.pts, w.fresh = f.W, f.H, pts, true
	return nil
}

// Stop ends Run at the next tick (the session is over).
func (w *Window) Stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// Run opens the window and blocks until it is closed or Stop is called.
func (w *Window) Run() error {
	ebiten.SetWindowTitle(w.opt.Title)
	ebiten.SetWindowSize(w.opt.Width, w.opt.Height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetFullscreen(w.opt.Fullscreen)
	ebiten.SetRunnableOnUnfocused(true)
	ebiten.SetScreenClearedEveryFrame(false)
	err := ebiten.RunGame(w)
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return err
}

// Update implements ebiten.Game: keys.
func (w *Window) Update() error {
	w.mu.Lock()
	stopped := w.stopped
	w.mu.Unlock()
	if stopped {
		return ebiten.Termination
	}
	shift := ebiten.IsKeyPressed(ebiten.KeyShift)
	for _, k := range inpututil.AppendJustPressedKeys(nil) {
		switch k {
		case ebiten.KeySpace, ebiten.KeyP:
			paused := w.ctl.TogglePause()
			w.model.SetPaused(paused)
			w.pauseTicks = -1
			if paused {
				w.pauseTicks = 0
			}
		case ebiten.KeyQ, ebiten.KeyEscape:
			w.ctl.Quit()
			return ebiten.Termination
		case ebiten.KeyF:
			ebiten.SetFullscreen(!ebiten.IsFullscreen())
		case ebiten.KeyArrowLeft:
			w.ctl.Seek(-5 * time.Second)
		case ebiten.KeyArrowRight:
			w.ctl.Seek(5 * time.Second)
		case ebiten.KeyI:
			if shift {
				w.stats = !w.stats
			} else {
				w.statsUntil = time.Now().Add(5 * time.Second)
			}
		case ebiten.KeyDigit1, ebiten.KeyDigit2, ebiten.KeyDigit3:
			w.page = int(k-ebiten.KeyDigit1) + 1
			if !w.stats {
				w.statsUntil = time.Now().Add(5 * time.Second)
			}
		case ebiten.KeyA:
			w.ctl.CycleABR()
		case ebiten.KeyR:
			if shift {
				w.ctl.Lock(+1)
			} else {
				w.ctl.Lock(-1)
			}
		}
	}
	if w.pageTicks >= 0 {
		if w.pageTicks++; w.pageTicks >= max(1, ebiten.TPS()/10) {
			w.pageTicks = -1
			if w.opt.OnPage != nil {
				w.opt.OnPage(w.pageShown)
			}
		}
	}
	if w.pauseTicks >= 0 {
		if w.pauseTicks++; w.pauseTicks == ebiten.TPS() {
			w.pauseTicks = -1
			if w.opt.OnPause != nil {
				w.opt.OnPause(w.drawnPTS)
			}
		}
	}
	return nil
}

// Draw implements ebiten.Game: the frame scaled to fit, then the overlay.
func (w *Window) Draw(screen *ebiten.Image) {
	w.mu.Lock()
	if w.fresh {
		if w.img == nil || w.img.Bounds().Dx() != w.w || w.img.Bounds().Dy() != w.h {
			w.img = ebiten.NewImage(w.w, w.h)
		}
		w.img.WritePixels(w.rgba)
		w.drawnPTS, w.fresh = w.pts, false
	}
	w.mu.Unlock()
	showStats := w.stats || time.Now().Before(w.statsUntil)
	key := drawKey{pts: w.drawnPTS, w: screen.Bounds().Dx(), h: screen.Bounds().Dy(), page: w.page, stats: showStats,
		hasImage: w.img != nil}
	if showStats {
		key.overlayTick = time.Now().UnixMilli() / 500
	}
	if key == w.drawn {
		return
	}
	w.drawn = key
	screen.Fill(color.Black)
	if w.img != nil {
		sw, sh := screen.Bounds().Dx(), screen.Bounds().Dy()
		r := overlay.Fit(w.img.Bounds().Dx(), w.img.Bounds().Dy(), sw, sh)
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(r.Dx())/float64(w.img.Bounds().Dx()), float64(r.Dy())/float64(w.img.Bounds().Dy()))
		op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
		screen.DrawImage(w.img, op)
	}
	if showStats {
		w.drawOverlay(screen)
		if w.page != w.pageShown {
			w.pageShown, w.pageTicks = w.page, 0
		}
	}
}

func (w *Window) drawOverlay(screen *ebiten.Image) {
	lines := w.model.Lines(w.page, ebiten.ActualFPS())
	r := overlay.Rect(lines)
	vector.FillRect(screen, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), color.RGBA{0, 0, 0, 190}, false)
	for i, l := range lines {
		p := overlay.LineAt(i)
		ebitenutil.DebugPrintAt(screen, l, p.X, p.Y)
	}
}

// Layout implements ebiten.Game: one screen pixel per window pixel.
func (w *Window) Layout(outsideWidth, outsideHeight int) (int, int) {
	return outsideWidth, outsideHeight
}
