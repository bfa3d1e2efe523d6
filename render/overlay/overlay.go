// Package overlay is the QoE overlay's model: it collects a session's events, segment
// statistics and per-frame snapshots (from the player's goroutines) and renders the three
// stats pages of the desktop player as text lines (docs: PLAYER-UX.md). It draws nothing
// itself, so it is tested without a display.
package overlay

import (
	"fmt"
	"image"
	"math"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/strata-player/strata/player"
)

// Pages is the number of stats pages.
const Pages = 3

// Model is safe for concurrent use: the player's goroutines feed it, the window reads it.
type Model struct {
	mu sync.Mutex

	url, backend, notice string
	width, height        int
	policy               string
	paused               bool

	snap      player.Snapshot
	transfers []player.Event // the last 16
	decisions []player.Event // the last 8
	layerHist []string       // the last 8 layer changes "seg n: a→b"
	decodeMS  []float64      // per segment
	lastSeg   player.SegmentStats
	upgrades  int
	lastLayer int
	probe     string
}

// New starts a model for a session playing url on backend.
func New(url, backend, policy string) *Model {
	return &Model{url: url, backend: backend, policy: policy}
}

// SetSize records the video's display size.
func (m *Model) SetSize(w, h int) {
	m.mu.Lock()
	m.width, m.height = w, h
	m.mu.Unlock()
}

// SetPolicy records the policy the viewer switched to.
func (m *Model) SetPolicy(name string) {
	m.mu.Lock()
	m.policy = name
	m.mu.Unlock()
}

// SetPaused records the pause state.
func (m *Model) SetPaused(p bool) {
	m.mu.Lock()
	m.paused = p
	m.mu.Unlock()
}

// SetNotice shows a one-line message (a fallback, a lock) on every page.
func (m *Model) SetNotice(s string) {
	m.mu.Lock()
	m.notice = s
	m.mu.Unlock()
}

// OnEvent records a session event.
func (m *Model) OnEvent(e player.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e.Kind {
	case "transfer":
		m.transfers = appendLast(m.transfers, e, 16)
	case "probe":
		m.probe = e.Action
	case "decision":
		m.decisions = appendLast(m.decisions, e, 8)
		if e.Action == "upgrade" {
			m.upgrades++
		}
	}
}

// OnFrame records the snapshot of the frame just presented.
func (m *Model) OnFrame(s player.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snap.Frames > 0 && s.Layers != m.lastLayer {
		m.layerHist = appendLast(m.layerHist, fmt.Sprintf("seg %d: %d→%d", s.Segment, m.lastLayer, s.Layers), 8)
	}
	m.lastLayer = s.Layers
	m.snap = s
}

// OnSegment records a presented segment's statistics.
func (m *Model) OnSegment(s player.SegmentStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSeg = s
	m.decodeMS = append(m.decodeMS, s.DecodeMS)
}

// Snapshot returns the last frame's snapshot.
func (m *Model) Snapshot() player.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap
}

func appendLast[T any](s []T, v T, n int) []T {
	if len(s) == n {
		copy(s, s[1:])
		s = s[:n-1]
	}
	return append(s, v)
}

// Lines renders page (1..Pages) with the window's measured render rate.
func (m *Model) Lines(page int, renderFPS float64) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var l []string
	state := "playing"
	if m.paused {
		state = "paused"
	}
	l = append(l, fmt.Sprintf("strata  [page %d/%d: 1 video  2 ABR  3 network]  %s", page, Pages, state))
	s := m.snap
	switch page {
	case 2:
		l = append(l,
			"policy:      "+m.policy+"   (A cycles, r/R lock lower/higher)",
			fmt.Sprintf("throughput:  %s (harmonic mean of 5), last %s", mbps(m.estimateBps()), mbps(m.lastBps())),
			"decision:    "+m.lastDecision(),
			fmt.Sprintf("upgrades:    %d   layer changes: %s", m.upgrades, orNone(strings.Join(m.layerHist, ", "))),
			fmt.Sprintf("stalls:      %d (%.2f s)   startup %.0f ms", s.Stalls, s.StallS, s.StartupMS),
			fmt.Sprintf("QoE:         %.3f on decoded quality, %.3f on bitrate (segments so far)", s.QoEQuality, s.QoE),
		)
	case 3:
		p50, p99 := percentile(m.decodeMS, 50), percentile(m.decodeMS, 99)
		proto, rtt, bytes, took := "-", math.NaN(), 0, math.NaN()
		if n := len(m.transfers); n > 0 {
			t := m.transfers[n-1]
			proto, bytes, took = t.Proto, t.Bytes, t.TFinish-t.TRequest
			rtt = math.Inf(1)
			for _, t := range m.transfers {
				rtt = math.Min(rtt, t.TResponse-t.TRequest)
			}
		}
		l = append(l,
			fmt.Sprintf("protocol:    %s   RTT ≈ %s (fastest first byte)", proto, msStr(rtt)),
			fmt.Sprintf("last object: %d bytes in %s", bytes, msStr(took)),
			fmt.Sprintf("decoder:     %s, sub-GOP %d, per segment p50 %s p99 %s", m.backend, s.SubGOP, msStr(p50), msStr(p99)),
		)
		if m.probe != "" {
			l = append(l, "probe:       "+m.probe)
		}
	default:
		l = append(l,
			"url:         "+shortURL(m.url),
			fmt.Sprintf("video:       %dx%d  nvc1  layers %d/%d  PSNR-Y %.2f dB%s", m.width, m.height, s.Layers, s.LayersMax, s.PSNRY, codedNote(s)),
			fmt.Sprintf("backend:     %s   decode %.1f fps   render %.1f fps", m.backend, s.DecodeFPS, renderFPS),
			fmt.Sprintf("frames:      %d shown, %d dropped   segment %d   t %.1f s", s.Frames, s.DroppedFrames, s.Segment, s.PTS.Seconds()),
			"frame rate:  "+frameRate(s),
			fmt.Sprintf("bitrate:     %.0f kbit/s", s.BitrateKbps),
			fmt.Sprintf("buffer:      %.1f s decoded, %.1f s virtual", s.DecodedS, s.BufferS),
		)
		if p := picture(s); p != "" {
			l = append(l, "picture:     "+p)
		}
		if s.Live {
			l = append(l, fmt.Sprintf("live:        %.1f s behind the live edge", s.LiveLatencyS))
		}
	}
	if m.notice != "" {
		l = append(l, m.notice)
	}
	return l
}

// frameRate is the rate the current segment is shown at, and why when reduced.
func frameRate(s player.Snapshot) string {
	step := max(s.FrameStep, 1)
	if step == 1 {
		return fmt.Sprintf("%.4g fps (full)", s.FPS)
	}
	return fmt.Sprintf("%.4g of %.4g fps (1/%d: the decoder fell behind)", s.FPS/float64(step), s.FPS, step)
}

// codedNote marks a PSNR-Y that is the coded rung's, not the picture's (upscaled frames).
func codedNote(s player.Snapshot) string {
	if s.Upscaled {
		return " (coded rung)"
	}
	return ""
}

// picture says what a learned model did to the frame shown ("" for the decoder's own).
func picture(s player.Snapshot) string {
	model := fmt.Sprintf("live model v%d", s.Enhance)
	if s.Enhance < 0 {
		model = "--upsampler"
	}
	switch {
	case s.Upscaled:
		return "half-resolution rung, learned 2x upsampler (" + model + ")"
	case s.Enhance != 0:
		return "learned post-filter (" + model + ")"
	}
	return ""
}

func (m *Model) lastDecision() string {
	if len(m.decisions) == 0 {
		return "-"
	}
	d := m.decisions[len(m.decisions)-1]
	switch d.Action {
	case "wait":
		return fmt.Sprintf("%s: wait (buffer %.1f s)", d.Policy, d.BufferS)
	case "upgrade":
		return fmt.Sprintf("%s: upgrade segment %d to %d layers (buffer %.1f s)", d.Policy, d.Segment, d.Layers, d.BufferS)
	}
	return fmt.Sprintf("%s: fetch segment %d with %d layers (buffer %.1f s)", d.Policy, d.Segment, d.Layers, d.BufferS)
}

// estimateBps is the harmonic mean of the last five media transfers' rates.
func (m *Model) estimateBps() float64 {
	var inv float64
	n := 0
	for i := len(m.transfers) - 1; i >= 0 && n < 5; i-- {
		if r := rate(m.transfers[i]); r > 0 {
			inv += 1 / r
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(n) / inv
}

func (m *Model) lastBps() float64 {
	if len(m.transfers) == 0 {
		return math.NaN()
	}
	return rate(m.transfers[len(m.transfers)-1])
}

func rate(e player.Event) float64 {
	d := (e.TFinish - e.TRequest) / 1000
	if d <= 0 || e.Bytes == 0 {
		return 0
	}
	return float64(e.Bytes) * 8 / d
}

func mbps(bps float64) string {
	if math.IsNaN(bps) {
		return "-"
	}
	return fmt.Sprintf("%.2f Mbit/s", bps/1e6)
}

func msStr(ms float64) string {
	if math.IsNaN(ms) || math.IsInf(ms, 0) {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", ms)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func shortURL(s string) string {
	if u, err := url.Parse(s); err == nil && len(s) > 60 {
		return u.Host + "/…/" + u.Path[strings.LastIndex(u.Path, "/")+1:]
	}
	return s
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Overlay geometry: Ebiten's debug font is 6×16 pixels per character.
const (
	charW, lineH = 6, 16
	margin       = 8
)

// Rect is the box the overlay covers for these lines (top left of the window).
func Rect(lines []string) image.Rectangle {
	width := 0
	for _, l := range lines {
		width = max(width, len([]rune(l)))
	}
	return image.Rect(margin, margin, margin+8+width*charW, margin+4+len(lines)*lineH)
}

// LineAt is where line i's text starts.
func LineAt(i int) image.Point { return image.Pt(margin+4, margin+2+i*lineH) }

// Fit is the largest rectangle with the aspect ratio of vw×vh centred in sw×sh: where the
// window draws the video.
func Fit(vw, vh, sw, sh int) image.Rectangle {
	if vw <= 0 || vh <= 0 || sw <= 0 || sh <= 0 {
		return image.Rectangle{}
	}
	w, h := sw, sw*vh/vw
	if h > sh {
		w, h = sh*vw/vh, sh
	}
	x, y := (sw-w)/2, (sh-h)/2
	return image.Rect(x, y, x+w, y+h)
}
