package overlay

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/strata-player/strata/player"
)

func TestPages(t *testing.T) {
	m := New("https://127.0.0.1:4433/manifest.mpd", "cpu", "swift")
	m.SetSize(640, 360)
	m.OnEvent(player.Event{Kind: "transfer", URL: "x", Bytes: 250_000, Proto: "HTTP/3.0", TRequest: 0, TResponse: 20, TFinish: 1000})
	m.OnEvent(player.Event{Kind: "decision", Policy: "swift", Action: "upgrade", Segment: 3, Layers: 3, BufferS: 8})
	m.OnFrame(player.Snapshot{PTS: 2 * time.Second, Segment: 1, Layers: 2, LayersMax: 3, Frames: 40, SubGOP: 8, BufferS: 8, DecodedS: 2})
	m.OnFrame(player.Snapshot{PTS: 2050 * time.Millisecond, Segment: 1, Layers: 3, LayersMax: 3, Frames: 41, SubGOP: 8, BufferS: 8, DecodedS: 2})
	m.OnSegment(player.SegmentStats{Segment: 1, DecodeMS: 120})
	for page, want := range map[int][]string{
		1: {"640x360", "layers 3/3", "backend:     cpu", "2.0 s decoded, 8.0 s virtual"},
		2: {"swift: upgrade segment 3 to 3 layers", "2.00 Mbit/s", "upgrades:    1", "seg 1: 2→3"},
		3: {"HTTP/3.0", "RTT ≈ 20.0 ms", "250000 bytes in 1000.0 ms", "sub-GOP 8", "p50 120.0 ms"},
	} {
		text := strings.Join(m.Lines(page, 60), "\n")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("page %d lacks %q:\n%s", page, w, text)
			}
		}
	}
	if a, b := m.Lines(1, 60), m.Lines(2, 60); strings.Join(a, "") == strings.Join(b, "") {
		t.Error("pages 1 and 2 are the same")
	}
}

// TestPicture: the overlay says when a learned model made the picture, that PSNR-Y is then
// the coded rung's, and at which frame rate the segment is shown.
func TestPicture(t *testing.T) {
	for _, c := range []struct {
		snap       player.Snapshot
		want, lack string
	}{
		{player.Snapshot{Layers: 3, LayersMax: 4}, "", "picture:"},
		{player.Snapshot{Layers: 3, LayersMax: 4, Enhance: -1, Upscaled: true}, "(coded rung)", ""},
		{player.Snapshot{Layers: 3, LayersMax: 4, Enhance: -1, Upscaled: true}, "learned 2x upsampler (--upsampler)", ""},
		{player.Snapshot{Layers: 3, LayersMax: 4, Enhance: 7, Upscaled: true}, "learned 2x upsampler (live model v7)", ""},
		{player.Snapshot{Layers: 1, LayersMax: 4, Enhance: 5}, "learned post-filter (live model v5)", "(coded rung)"},
		{player.Snapshot{Layers: 2, LayersMax: 4, FrameStep: 1, FPS: 20}, "frame rate:  20 fps (full)", "fell behind"},
		{player.Snapshot{Layers: 2, LayersMax: 4, FrameStep: 2, FPS: 20}, "frame rate:  10 of 20 fps (1/2: the decoder fell behind)", "(full)"},
		{player.Snapshot{Layers: 2, LayersMax: 4, FrameStep: 4, FPS: 24}, "6 of 24 fps (1/4", ""},
	} {
		m := New("https://127.0.0.1:4433/manifest.mpd", "cpu", "swift")
		m.OnFrame(c.snap)
		text := strings.Join(m.Lines(1, 80), "\n")
		if c.want != "" && !strings.Contains(text, c.want) {
			t.Errorf("%+v: lacks %q:\n%s", c.snap, c.want, text)
		}
		if c.lack != "" && strings.Contains(text, c.lack) {
			t.Errorf("%+v: shows %q:\n%s", c.snap, c.lack, text)
		}
	}
}

func TestFit(t *testing.T) {
	for _, c := range []struct {
		vw, vh, sw, sh int
		want           image.Rectangle
	}{
		{640, 360, 960, 540, image.Rect(0, 0, 960, 540)},
		{640, 360, 1000, 1000, image.Rect(0, 219, 1000, 781)},
		{640, 480, 1280, 720, image.Rect(160, 0, 1120, 720)},
		{0, 360, 960, 540, image.Rectangle{}},
	} {
		if got := Fit(c.vw, c.vh, c.sw, c.sh); got != c.want {
			t.Errorf("Fit(%d,%d,%d,%d) = %v, want %v", c.vw, c.vh, c.sw, c.sh, got, c.want)
		}
	}
}
