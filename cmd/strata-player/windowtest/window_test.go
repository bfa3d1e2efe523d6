package windowtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/demo"
	"github.com/strata-player/strata/render/overlay"
)

// need skips (or under CI=true fails) when a program the window test runs is missing.
func need(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (make setup installs it)", prog)
		}
		t.Skipf("%s is not installed (make setup installs it)", prog)
	}
	return p
}

// startXvfb starts a virtual X server and returns its display (":N").
func startXvfb(t *testing.T) string {
	xvfb := need(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x720x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not report its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// logWatch reads the player's JSON log file.
type logWatch struct{ path string }

// wait returns the first log line with message msg for which ok holds, polling up to d.
func (l logWatch) wait(t *testing.T, msg string, d time.Duration, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(l.path)
		for _, line := range bytes.Split(b, []byte("\n")) {
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["message"] == msg && (ok == nil || ok(m)) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(l.path)
	t.Fatalf("no %q log line within %v; log:\n%s", msg, d, b)
	return nil
}

// x is a client connection to the test's X server.
type x struct {
	c    *xgb.Conn
	root xproto.Window
	keys map[xproto.Keysym]xproto.Keycode
}

func dialX(t *testing.T, display string) *x {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := xtest.Init(c); err != nil {
		t.Fatal(err)
	}
	setup := xproto.Setup(c)
	X := &x{c: c, root: setup.DefaultScreen(c).Root, keys: map[xproto.Keysym]xproto.Keycode{}}
	n := byte(setup.MaxKeycode - setup.MinKeycode + 1)
	km, err := xproto.GetKeyboardMapping(c, setup.MinKeycode, n).Reply()
	if err != nil {
		t.Fatal(err)
	}
	per := int(km.KeysymsPerKeycode)
	for i := 0; i < int(n); i++ {
		for j := 0; j < per; j++ {
			if ks := km.Keysyms[i*per+j]; ks != 0 {
				if _, ok := X.keys[ks]; !ok {
					X.keys[ks] = xproto.Keycode(int(setup.MinKeycode) + i)
				}
			}
		}
	}
	return X
}

// findWindow returns the position of the mapped top-level window of size w×h.
func (X *x) findWindow(t *testing.T, w, h int, d time.Duration) (xproto.Window, image.Point) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		tree, err := xproto.QueryTree(X.c, X.root).Reply()
		if err != nil {
			t.Fatal(err)
		}
		for _, win := range tree.Children {
			attr, err := xproto.GetWindowAttributes(X.c, win).Reply()
			if err != nil || attr.MapState != xproto.MapStateViewable {
				continue
			}
			g, err := xproto.GetGeometry(X.c, xproto.Drawable(win)).Reply()
			if err != nil || int(g.Width) != w || int(g.Height) != h {
				continue
			}
			tr, err := xproto.TranslateCoordinates(X.c, win, X.root, 0, 0).Reply()
			if err != nil {
				t.Fatal(err)
			}
			return win, image.Pt(int(tr.DstX), int(tr.DstY))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %dx%d window appeared within %v", w, h, d)
	return 0, image.Point{}
}

// key types one key (XTEST) into the focused window.
func (X *x) key(t *testing.T, win xproto.Window, sym xproto.Keysym) {
	code, ok := X.keys[sym]
	if !ok {
		t.Fatalf("no keycode for keysym %#x", sym)
	}
	xproto.SetInputFocus(X.c, xproto.InputFocusPointerRoot, win, xproto.TimeCurrentTime)
	for _, typ := range []byte{xproto.KeyPress, xproto.KeyRelease} {
		if err := xtest.FakeInputChecked(X.c, typ, byte(code), 0, X.root, 0, 0, 0).Check(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// grab reads the screen's w×h pixels at p back from the X server.
func (X *x) grab(t *testing.T, p image.Point, w, h int) *image.RGBA {
	rep, err := xproto.GetImage(X.c, xproto.ImageFormatZPixmap, xproto.Drawable(X.root), int16(p.X), int16(p.Y), uint16(w), uint16(h), 0xffffffff).Reply()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Data) != 4*w*h {
		t.Fatalf("screen read back %d bytes for %dx%d (depth %d)", len(rep.Data), w, h, rep.Depth)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ { // ZPixmap at depth 24: B, G, R, pad
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = rep.Data[4*i+2], rep.Data[4*i+1], rep.Data[4*i], 255
	}
	return img
}

// reference is the demo's frame at pts (sub-GOP s, k layers) as RGBA, scaled bilinearly
// (texel centres, edges clamped: what a GPU's linear filter does) into rect r of a w×h
// black screen.
func reference(t *testing.T, s, k int, pts time.Duration, r image.Rectangle, w, h int) *image.RGBA {
	segs, err := demo.Segments(s)
	if err != nil || len(segs) == 0 {
		t.Fatalf("demo sub-GOP %d: %v", s, err)
	}
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	const fps = 20 // the demo's frame rate
	frame := int(math.Round(pts.Seconds() * fps))
	n, i := frame/segs[0].Frames, frame%segs[0].Frames
	frames, err := decoder.NewSegmentDecoder(m, 0).Decode(segs[n], k)
	if err != nil {
		t.Fatal(err)
	}
	f := decoder.Crop(frames[i], segs[n].Width, segs[n].Height, nil)
	src := make([]byte, 4*f.W*f.H)
	if err := decoder.ToRGBA(f, src); err != nil {
		t.Fatal(err)
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			o := out.PixOffset(x, y)
			out.Pix[o+3] = 255
			if !image.Pt(x, y).In(r) {
				continue
			}
			u := (float64(x-r.Min.X)+0.5)*float64(f.W)/float64(r.Dx()) - 0.5
			v := (float64(y-r.Min.Y)+0.5)*float64(f.H)/float64(r.Dy()) - 0.5
			x0, y0 := int(math.Floor(u)), int(math.Floor(v))
			fx, fy := u-float64(x0), v-float64(y0)
			at := func(xx, yy, c int) float64 {
				xx, yy = max(0, min(xx, f.W-1)), max(0, min(yy, f.H-1))
				return float64(src[4*(yy*f.W+xx)+c])
			}
			for c := 0; c < 3; c++ {
				top := at(x0, y0, c)*(1-fx) + at(x0+1, y0, c)*fx
				bot := at(x0, y0+1, c)*(1-fx) + at(x0+1, y0+1, c)*fx
				out.Pix[o+c] = uint8(math.Round(top*(1-fy) + bot*fy))
			}
		}
	}
	return out
}

// psnr compares RGB over region r.
func psnr(a, b *image.RGBA, r image.Rectangle) float64 {
	var se float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			oa, ob := a.PixOffset(x, y), b.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				d := float64(a.Pix[oa+c]) - float64(b.Pix[ob+c])
				se += d * d
				n++
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

func savePNG(t *testing.T, img image.Image, path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestWindowShowsDecodedFramesAndOverlay plays the demo in a real window under Xvfb,
// pauses it, reads the screen back from the X server and compares the video region with
// the decoder's frame (same scaling), then checks the overlay is drawn and changes with
// the page key. Screenshots go to build/screenshots/ (README's picture is one).
func TestWindowShowsDecodedFramesAndOverlay(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	display := startXvfb(t)
	bin := filepath.Join(t.TempDir(), "strata-player")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logPath := filepath.Join(t.TempDir(), "player.log")
	const W, H = 960, 540
	cmd := exec.Command(bin, "--geometry", fmt.Sprintf("%dx%d", W, H), "--log-file", logPath, "--log-level", "debug", "--abr", "fixed:3")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	reaped := false
	defer func() {
		if !reaped {
			cmd.Process.Kill()
			<-exited
		}
	}()
	logs := logWatch{logPath}
	X := dialX(t, display)
	win, at := X.findWindow(t, W, H, 30*time.Second)
	// Play until the third segment is on screen (the first plays with two layers), then pause.
	logs.wait(t, "segment", 60*time.Second, func(m map[string]any) bool { return m["segment"].(float64) >= 1 })
	time.Sleep(500 * time.Millisecond)
	X.key(t, win, ' ')
	p := logs.wait(t, "paused", 10*time.Second, nil)
	pts := time.Duration(p["pts_ms"].(float64) * 1e6)
	s, k := int(p["subgop"].(float64)), int(p["layers"].(float64))
	shot1 := X.grab(t, at, W, H)
	savePNG(t, shot1, "../../../build/screenshots/strata-player.png")

	videoRect := overlay.Fit(640, 360, W, H)
	ref := reference(t, s, k, pts, videoRect, W, H)
	below := image.Rect(0, 200, W, H) // under the overlay box
	if got := psnr(shot1, ref, below); got < 35 {
		savePNG(t, ref, "../../../build/screenshots/reference.png")
		t.Fatalf("video region: PSNR %.2f dB against the decoded frame at %v (S=%d, k=%d), want ≥ 35", got, pts, s, k)
	} else {
		t.Logf("video region: PSNR %.2f dB against the decoded frame at %v (S=%d, k=%d)", got, pts, s, k)
	}
	box := image.Rect(8, 8, 8+6*40, 8+16*5) // the overlay's first lines
	if got := psnr(shot1, ref, box); got > 20 {
		t.Fatalf("overlay region matches the video (PSNR %.2f dB): no overlay drawn", got)
	}
	// Page 2 (ABR): the overlay changes, the paused video does not.
	X.key(t, win, '2')
	logs.wait(t, "page", 20*time.Second, func(m map[string]any) bool { return m["page"] == 2.0 })
	shot2 := X.grab(t, at, W, H)
	savePNG(t, shot2, "../../../build/screenshots/strata-player-page2.png")
	changed := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if shot1.RGBAAt(x, y) != shot2.RGBAAt(x, y) {
				changed++
			}
		}
	}
	if changed < 200 {
		t.Fatalf("page key: only %d overlay pixels changed", changed)
	}
	if got := psnr(shot2, ref, below); got < 35 {
		t.Fatalf("after the page key the video region is at %.2f dB", got)
	}
	t.Logf("page 2: %d overlay pixels changed", changed)
	// A cycles the ABR policy live: from fixed:3 to the first of the cycle, swift.
	X.key(t, win, 'a')
	sw := logs.wait(t, "abr switch", 10*time.Second, nil)
	if sw["policy"] != "swift" {
		t.Fatalf("A switched to %v, want swift", sw["policy"])
	}
	X.key(t, win, 'q')
	select {
	case err := <-exited:
		reaped = true
		if err != nil {
			t.Fatalf("player exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the player did not quit on q")
	}
}
