package sim

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/net/trace"
)

// LayeredConfig configures the layered simulator, which models what the player does
// (player.Run): requests over the trace, a decoder that takes segments in order, one
// ahead of the presenter, and a media clock that stalls when a segment is not decoded in
// time.
type LayeredConfig struct {
	Video *abr.Video // must have Layers
	// Link is the per-request round trip and payload share (it defaults to PensieveLink).
	Link *LinkModel
	// MaxBufferS: fetches wait while the next segment would start more than this far
	// ahead of the playhead (the player's --max-buffer). It defaults to 30 s.
	MaxBufferS float64
	// DecodeWindowS: a segment not holding every layer is committed to the decoder this
	// long before its play time. It defaults to one segment.
	DecodeWindowS float64
	// DecodeFPS is the simulated device's decode speed (0: decoding takes no time).
	DecodeFPS float64
	// DecodedBuffer makes State.BufferS report decoded media only (a player that counts
	// decoded frames as its buffer); VirtualS always reports what was received.
	DecodedBuffer bool
}

// waitStepS is how long a Wait action, or a fetch held back by the buffer cap, idles the
// link (the player's downloader sleeps 100 ms too).
const waitStepS = 0.1

// maxActions bounds a session's policy decisions (a policy that only ever waits).
const maxActions = 1 << 20

// SimulateLayered plays cfg.Video (a layered stream) over tr with policy p. Classic
// policies fetch joined objects (layers 0..q); layered policies may also upgrade a buffered
// segment by one layer (one request for that layer) or wait. Rewards are QoE on decoded
// quality (u = PSNR-Y/10, 4.3 per stalled second, |Δu| per change; segment 0's stall is
// the startup delay), as the player's qoe_quality.
func SimulateLayered(p abr.Policy, tr *trace.Trace, cfg LayeredConfig) (TraceResult, error) {
	ls, err := NewLayeredSession(tr, cfg)
	if err != nil {
		return TraceResult{}, err
	}
	p.Reset()
	if f, ok := p.(Foresighted); ok {
		if err := f.Foresee(tr, SimConfig{Video: cfg.Video, QoE: abr.QoE{Name: "quality"}, Layered: &cfg}); err != nil {
			return TraceResult{}, err
		}
	}
	a := ls.FirstAction()
	for actions := 0; ; actions++ {
		if actions == maxActions {
			return ls.res, fmt.Errorf("policy %s on %s: %d decisions without finishing", p.Name(), tr.Name, maxActions)
		}
		if err := ls.Apply(a); err != nil {
			return ls.res, fmt.Errorf("policy %s on %s: %w", p.Name(), tr.Name, err)
		}
		a = p.Decide(context.Background(), ls.State())
		if ls.Done(a) {
			break
		}
	}
	return ls.Finish(), nil
}

// LayeredSession is one session of the layered simulator, advanced one action at a time
// (SimulateLayered drives it with a policy; the oracle clones it to search ahead).
type LayeredSession struct {
	cfg       LayeredConfig
	link      LinkModel
	env       Env
	pl        *playout
	st        abr.State
	res       TraceResult
	now       float64
	next      int
	stallSeen float64
	// quiet sessions (the oracle's search) keep no samples.
	quiet bool
}

// NewLayeredSession starts a session on tr (defaults of cfg filled in).
func NewLayeredSession(tr *trace.Trace, cfg LayeredConfig) (*LayeredSession, error) {
	v := cfg.Video
	if v == nil || v.Layers == nil {
		return nil, errors.New("layered simulator: the video has no layer table")
	}
	link := PensieveLink
	if cfg.Link != nil {
		link = *cfg.Link
	}
	if cfg.MaxBufferS <= 0 {
		cfg.MaxBufferS = 30
	}
	if cfg.DecodeWindowS <= 0 {
		cfg.DecodeWindowS = v.ChunkS
	}
	ls := &LayeredSession{cfg: cfg, link: link, env: *NewEnvLink(tr, link), pl: newPlayout(v, cfg), res: TraceResult{Trace: tr.Name}}
	ls.st = abr.State{Video: v, Samples: make([]abr.Sample, 0, v.Chunks), DecodeFPS: cfg.DecodeFPS,
		DecodeWindowS: cfg.DecodeWindowS, MaxBufferS: cfg.MaxBufferS, RTTMs: link.RTTMs}
	return ls, nil
}

// FirstAction is the session's first request: segment 0 at DefaultQuality.
func (ls *LayeredSession) FirstAction() abr.Action {
	return abr.Action{Kind: abr.Fetch, Segment: 0, Quality: min(abr.DefaultQuality, len(ls.cfg.Video.BitratesKbps)-1)}
}

// State is what a policy sees now (valid until the next Apply).
func (ls *LayeredSession) State() *abr.State { return &ls.st }

// Done reports whether the session ends instead of taking a (every segment fetched and a
// is not an upgrade).
func (ls *LayeredSession) Done(a abr.Action) bool {
	return ls.next == ls.cfg.Video.Chunks && a.Kind != abr.Upgrade
}

// Clone is an independent copy of the session.
func (ls *LayeredSession) Clone() *LayeredSession {
	c := *ls
	c.pl = ls.pl.clone()
	if !ls.quiet {
		c.st.Samples = append([]abr.Sample(nil), ls.st.Samples...)
	}
	c.st.Held = c.pl.held[:c.next]
	return &c
}

// searchClone is a clone for planning: it keeps no samples (policies do not run on it).
func (ls *LayeredSession) searchClone() *LayeredSession {
	q := *ls
	q.quiet, q.st.Samples = true, nil
	return q.Clone()
}

func (ls *LayeredSession) request(bytes int64) abr.Sample {
	d := ls.env.transfer(float64(bytes))
	delay := d + ls.link.RTTMs/1000
	ls.pl.advance(ls.now + delay) // commits before this arrival, which it cannot change
	ls.now += delay
	return abr.Sample{Bytes: bytes, DelayMs: delay * 1000, DownloadMs: d * 1000}
}

func (ls *LayeredSession) idle() {
	ls.env.idle(waitStepS * 1000)
	ls.now += waitStepS
	ls.pl.advance(ls.now)
}

// Apply carries out one action and updates the state.
func (ls *LayeredSession) Apply(a abr.Action) error {
	v, pl, st := ls.cfg.Video, ls.pl, &ls.st
	K := len(v.BitratesKbps)
	switch a.Kind {
	case abr.Fetch:
		if a.Segment != ls.next || a.Quality < 0 || a.Quality >= K {
			return fmt.Errorf("fetch %+v; the next segment is %d, qualities 0..%d", a, ls.next, K-1)
		}
		for pl.playhead(ls.now) < float64(ls.next)*v.ChunkS-ls.cfg.MaxBufferS {
			ls.idle()
		}
		smp := ls.request(v.Sizes[a.Quality][ls.next])
		pl.arrive(ls.next, a.Quality+1, ls.now)
		pl.bytes[ls.next] += smp.Bytes
		if !ls.quiet {
			st.Samples = append(st.Samples, smp)
		}
		st.LastQuality = a.Quality
		ls.next++
	case abr.Upgrade:
		n := a.Segment
		if n < 0 || n >= ls.next || a.Quality != pl.held[n] || a.Quality >= K {
			return fmt.Errorf("upgrade %+v is not the next layer of a fetched segment", a)
		}
		smp := ls.request(v.Layers.LayerBytes[n][a.Quality])
		ls.res.Upgrades++
		pl.bytes[n] += smp.Bytes
		if pl.committed(n) {
			ls.res.WastedUpgrades++
		} else {
			pl.arrive(n, a.Quality+1, ls.now)
		}
		if !ls.quiet {
			st.Samples = append(st.Samples, smp)
		}
	case abr.Wait:
		ls.idle()
	default:
		return fmt.Errorf("unknown action %+v", a)
	}
	pl.fill(st, ls.now, ls.next, ls.cfg.DecodedBuffer)
	st.RebufferS = pl.stallTotal() - ls.stallSeen
	ls.stallSeen += st.RebufferS
	return nil
}

// Finish ends the session (the downloader stops) and returns its result.
func (ls *LayeredSession) Finish() TraceResult {
	ls.pl.finish(ls.now)
	ls.res.Chunks = ls.pl.logs()
	return ls.res
}

// playout is the player side of the layered simulator: arrivals in, decode and
// presentation times out, decided in time order (a segment's decode start is final only
// once the simulation clock has passed it, since a later upgrade could still complete it).
type playout struct {
	v    *abr.Video
	cfg  LayeredConfig
	segS float64
	K    int
	decS []float64 // decode time per segment

	held   []int
	baseAt []float64 // arrival of the base layer (+Inf until fetched)
	fullAt []float64 // arrival of the last layer (+Inf until every layer is held)
	bytes  []int64
	doneAt float64 // the downloader finished (+Inf until then)

	// decided prefix: segments 0..dec−1 have a decode start, decode end and play start
	start, end, play []float64
	layers           []int // layers committed
	dec              int
}

func newPlayout(v *abr.Video, cfg LayeredConfig) *playout {
	N := v.Chunks
	p := &playout{v: v, cfg: cfg, segS: v.ChunkS, K: len(v.BitratesKbps), held: make([]int, N), baseAt: make([]float64, N),
		fullAt: make([]float64, N), bytes: make([]int64, N), doneAt: math.Inf(1), decS: make([]float64, N),
		start: make([]float64, N), end: make([]float64, N), play: make([]float64, N), layers: make([]int, N)}
	for n := range p.baseAt {
		p.baseAt[n], p.fullAt[n] = math.Inf(1), math.Inf(1)
		if cfg.DecodeFPS > 0 {
			p.decS[n] = float64(v.Layers.Frames[n]) / cfg.DecodeFPS
		}
	}
	return p
}

func (p *playout) clone() *playout {
	c := *p
	cp := func(x []float64) []float64 { return append([]float64(nil), x...) }
	c.held, c.layers, c.bytes = append([]int(nil), p.held...), append([]int(nil), p.layers...), append([]int64(nil), p.bytes...)
	c.baseAt, c.fullAt, c.start, c.end, c.play = cp(p.baseAt), cp(p.fullAt), cp(p.start), cp(p.end), cp(p.play)
	return &c // decS is never written after newPlayout: shared
}

func (p *playout) arrive(n, layers int, t float64) {
	if p.held[n] == 0 {
		p.baseAt[n] = t
	}
	p.held[n] = layers
	if layers == p.K {
		p.fullAt[n] = t
	}
}

func (p *playout) committed(n int) bool { return n < p.dec }

// advance decides every decode that starts by time t.
func (p *playout) advance(t float64) {
	for p.dec < len(p.held) {
		n := p.dec
		ready := math.Min(math.Min(p.fullAt[n], p.windowAt(n)), p.doneAt)
		ready = math.Max(ready, p.baseAt[n])
		if n > 0 {
			ready = math.Max(ready, p.play[n-1]) // the decoder runs one segment ahead
		}
		if ready > t || math.IsInf(ready, 1) {
			return
		}
		p.start[n], p.end[n], p.layers[n] = ready, ready+p.decS[n], p.held[n]
		if n == 0 {
			p.play[n] = p.end[n]
		} else {
			p.play[n] = math.Max(p.play[n-1]+p.segS, p.end[n])
		}
		p.dec++
	}
}

// windowAt is when the playhead reaches segment n's decode window (n's decode start is
// being decided, so every earlier play start is known).
func (p *playout) windowAt(n int) float64 {
	m := float64(n)*p.segS - p.cfg.DecodeWindowS
	if m <= 0 {
		return 0
	}
	j := int(m / p.segS)
	return p.play[j] + (m - float64(j)*p.segS)
}

// playhead is the media time presented by time t.
func (p *playout) playhead(t float64) float64 {
	j := -1
	for i := p.dec - 1; i >= 0; i-- {
		if p.play[i] <= t {
			j = i
			break
		}
	}
	if j < 0 {
		return 0
	}
	return float64(j)*p.segS + math.Min(t-p.play[j], p.segS)
}

// stallTotal sums the stalls (startup included) of the segments whose play start is decided.
func (p *playout) stallTotal() float64 {
	if p.dec == 0 {
		return 0
	}
	return p.play[p.dec-1] - float64(p.dec-1)*p.segS
}

// fill writes the layered part of the state at time t.
func (p *playout) fill(st *abr.State, t float64, next int, decodedView bool) {
	ph := p.playhead(t)
	decodedEnd := 0.0
	for i := p.dec - 1; i >= 0; i-- {
		if p.end[i] <= t {
			decodedEnd = float64(i+1) * p.segS
			break
		}
	}
	st.Next = next
	st.Held = p.held[:next]
	st.Committed = p.dec
	st.PlayheadS = ph
	st.VirtualS = math.Max(float64(next)*p.segS-ph, 0)
	st.DecodedS = math.Max(decodedEnd-ph, 0)
	st.BufferS = st.VirtualS
	if decodedView {
		st.BufferS = st.DecodedS
	}
}

// finish: the downloader stopped at t; every remaining segment commits as it can.
func (p *playout) finish(t float64) {
	p.doneAt = t
	p.advance(math.Inf(1))
}

func (p *playout) logs() []ChunkLog {
	v, L := p.v, p.v.Layers
	out := make([]ChunkLog, p.dec)
	prevU := 0.0
	for n := 0; n < p.dec; n++ {
		k := p.layers[n]
		u := L.Utility(n, k)
		if n == 0 {
			prevU = u
		}
		stall := p.play[n]
		if n > 0 {
			stall = p.play[n] - p.play[n-1] - p.segS
		}
		out[n] = ChunkLog{TimeS: p.play[n], Quality: k - 1, BitrateKbps: v.BitratesKbps[k-1], BufferS: 0,
			RebufferS: stall, Bytes: p.bytes[n], PSNRY: L.PSNRY[n][k-1],
			Reward: u - abr.QualityRebufPenalty*stall - math.Abs(u-prevU)}
		prevU = u
	}
	return out
}
