package player

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/player/manifest"
)

var errNoBase = errors.New("player: a segment's base layer could not be fetched")

// Sink receives frames in presentation order (render.Headless, render/window). The frame
// is only valid during the call.
type Sink interface {
	Present(f *decoder.Frame, pts time.Duration) error
}

// Config configures a Session. Defaults are documented per field.
type Config struct {
	MPD     string         // URL of the presentation
	Fetcher *fetch.Fetcher // its Client decides the protocol (HTTP/3 in strata play)
	Model   *decoder.Model
	Policy  abr.Policy
	Sink    Sink
	// SubGOP picks the variant; 0 takes the largest S available, SubGOPAuto probes.
	SubGOP int
	// MaxBufferS stops downloading this far ahead of the playhead. It defaults to 30 s.
	MaxBufferS float64
	// DecodeWindowS commits a segment this long before its presentation time. By default
	// the player chooses it: one segment duration, or three while decoding a segment takes
	// more than half its duration (a lead that keeps a decoder near real time at the full
	// frame rate).
	DecodeWindowS float64
	// Untimed plays as fast as possible (no media clock; the buffer cap does not apply).
	Untimed bool
	Clock   Clock // It defaults to WallClock.
	Workers int   // decoder goroutines (0: one per CPU)
	// OnSegment, if set, is called by the player goroutine after each presented segment.
	OnSegment func(SegmentStats)
	// QoE is the per-segment model on the ladder's bitrates (the simulator's). It defaults
	// to abr.QoELin. As in Pensieve, segment 0's rebuffering is the startup delay.
	QoE *abr.QoE
	// OnEvent, if set, sees every transfer, decision and stall (from the downloader and
	// player goroutines, possibly concurrently): the feed for logs and the overlay.
	OnEvent func(Event)
	// OnFrame, if set, is called by the player goroutine after every presented frame with
	// a snapshot of the session (what an overlay shows).
	OnFrame func(Snapshot)
	// MaxFrames, if positive, ends the session after that many presented frames.
	MaxFrames int
	// StartSegment starts playback at that segment (a seek); earlier ones are skipped.
	StartSegment int
	// NewDecoder, if set, makes the session's segment decoders (two, used alternately by
	// the decode goroutine): a GPU backend, say. Nil means the Go CPU engine.
	NewDecoder func() (SegmentDecoder, error)
	// Backend names the decoder backend for the summary ("cpu" when empty).
	Backend string
	// Policies, if set, hands the downloader a new ABR policy (the player's `A` key); it
	// takes over at the next decision with the session's history.
	Policies <-chan abr.Policy
	// LiveDelayS is the latency a live stream is played at, behind its live edge. It
	// defaults to the MPD's suggestedPresentationDelay, else two segments.
	LiveDelayS float64
	// Enhance applies a live origin's online-trained enhancement model (fetched when the
	// buffer allows) to the frames decoded with the layer count it was trained for.
	Enhance bool
	// Upsampler is a half-resolution stream's learned upsampler (enhance.Net of scale 2,
	// prepared): every decoded frame is doubled by it, unless a live model applies.
	Upsampler *enhance.Net

	// held, set by a Player, carries fetched units from one of its sessions to the next.
	held *held
}

// SegmentDecoder decodes a parsed segment with k layers (decoder.SegmentDecoder and
// gpu.Decoder are two): every frame (Decode), or every Schedule.Step(drop)-th frame
// without the drop deepest LFR levels (DecodeRate, a reduced frame rate). Frames stay
// valid until its next call.
type SegmentDecoder interface {
	Decode(s *decoder.Segment, k int) ([]*decoder.Frame, error)
	DecodeRate(s *decoder.Segment, k, drop int) ([]*decoder.Frame, error)
}

// Snapshot is the session's state at a presented frame.
type Snapshot struct {
	PTS           time.Duration
	Segment       int
	Layers        int     // layers the current segment was decoded with
	LayersMax     int     // layers the stream has
	PSNRY         float64 // the current segment's decoded quality (quality table)
	BufferS       float64 // media downloaded ahead of the playhead (base layers)
	Stalls        int
	StallS        float64
	Frames        int
	DroppedFrames int
	DecodeFPS     float64
	BitrateKbps   float64
	// DecodedS is the decoded part of BufferS; SubGOP the variant playing, SegmentS its
	// segment duration and Segments its segment count.
	DecodedS  float64
	SubGOP    int
	SegmentS  float64
	Segments  int
	StartupMS float64
	// QoE and QoEQuality sum the segments presented before this one.
	QoE, QoEQuality float64
	// Live is set for a live stream; LiveLatencyS is then how far behind the live edge
	// this frame is shown (wall clock minus the frame's availability-start time).
	Live         bool
	LiveLatencyS float64
	// Enhance and Upscaled: the current segment's (SegmentStats).
	Enhance  int
	Upscaled bool
	// FrameStep is the current segment's (SegmentStats): 1 at the stream's frame rate FPS,
	// 2 or 4 at ½ or ¼ of it.
	FrameStep int
	FPS       float64
}

// Event is one thing that happened in a session.
type Event struct {
	Kind string `json:"kind"` // "transfer", "decision", "stall", "rate"
	// transfer: the request (DASH Annex D) and its outcome
	URL       string  `json:"url,omitempty"`
	Bytes     int     `json:"bytes,omitempty"`
	Status    int     `json:"status,omitempty"`
	Proto     string  `json:"proto,omitempty"`
	TRequest  float64 `json:"trequest_ms,omitempty"` // ms since the session started
	TResponse float64 `json:"tresponse_ms,omitempty"`
	TFinish   float64 `json:"tfinish_ms,omitempty"`
	// decision: the policy's action and the state it saw
	Policy  string  `json:"policy,omitempty"`
	Action  string  `json:"action,omitempty"`
	Segment int     `json:"segment"`
	Layers  int     `json:"layers,omitempty"`
	BufferS float64 `json:"buffer_s,omitempty"`
	// stall
	StallS float64 `json:"stall_s,omitempty"`
	// rate: a segment decoded at a reduced frame rate (Action "1/2" or "1/4") and why
	Reason string `json:"reason,omitempty"`
}

// SegmentStats describes one presented segment.
type SegmentStats struct {
	Segment     int     `json:"segment"`
	Layers      int     `json:"layers"`
	PSNRY       float64 `json:"psnr_y"`
	BitrateKbps float64 `json:"bitrate_kbps"`
	StallS      float64 `json:"stall_s"`
	QoE         float64 `json:"qoe"`
	QoEQuality  float64 `json:"qoe_quality"`
	DecodeMS    float64 `json:"decode_ms"`
	Frames      int     `json:"frames"`
	// Enhance is the model that processed the segment's frames: a live model track's
	// version, −1 the player's Config.Upsampler, 0 none; Upscaled says its frames were
	// doubled from a half-resolution rung (PSNRY is still the coded rung's).
	Enhance  int  `json:"enhance,omitempty"`
	Upscaled bool `json:"upscaled,omitempty"`
	// FrameStep is the stride of the frames decoded and shown: 1, or 2 and 4 for ½ and ¼
	// of the frame rate when decoding fell behind (RateWhy says by how much).
	FrameStep int    `json:"frame_step"`
	RateWhy   string `json:"rate_why,omitempty"`
}

// Summary is a finished session.
type Summary struct {
	Policy  string `json:"policy"`
	Backend string `json:"backend"`
	URL     string `json:"url"`
	SubGOP  int    `json:"subgop"`
	// Probes are the sub-GOP probing measurements (with SubGOPAuto); FrameRate is the
	// frame rate the chosen variant sustains on this device.
	Probes    []Probe `json:"probes,omitempty"`
	FrameRate float64 `json:"frame_rate,omitempty"`
	Segments  int     `json:"segments"`
	Frames    int     `json:"frames"`
	StartupMS float64 `json:"startup_ms"`
	Stalls    int     `json:"stalls"`
	StallS    float64 `json:"stall_s"`
	AvgLayers float64 `json:"avg_layers"`
	AvgPSNRY  float64 `json:"avg_psnr_y"`
	AvgKbps   float64 `json:"avg_bitrate_kbps"`
	QoE       float64 `json:"qoe"` // sum over segments (lin on the ladder's bitrates unless configured)
	QoEMean   float64 `json:"qoe_mean"`
	// QoEQuality is the same model on decoded quality (Swift's QoE): utility PSNR-Y/10 dB,
	// 4.3 per second of rebuffering, 1 per unit of quality change between segments.
	QoEQuality    float64 `json:"qoe_quality"`
	DecodeFPS     float64 `json:"decode_fps"`
	DroppedFrames int     `json:"dropped_frames"`
	Bytes         int64   `json:"bytes"`
	Requests      int     `json:"requests"`
	Upgrades      int     `json:"upgrades"`
	WastedUpgrade int     `json:"wasted_upgrades"`
	// HalfRateSegments and QuarterRateSegments were shown at ½ and ¼ of the frame rate
	// because decoding fell behind (degrade, never freeze: the deepest LFR levels are not
	// decoded); ReducedFrames counts the frames so left out and RateWhy gives the last
	// reason.
	HalfRateSegments    int    `json:"half_rate_segments,omitempty"`
	QuarterRateSegments int    `json:"quarter_rate_segments,omitempty"`
	ReducedFrames       int    `json:"reduced_frames,omitempty"`
	RateWhy             string `json:"rate_why,omitempty"`
	// Refetches counts malformed segments fetched again; SkippedSegments those that could
	// not be played at all (their frames count as dropped).
	Refetches       int `json:"refetches"`
	SkippedSegments int `json:"skipped_segments"`
	// HeldSegments counts the segments played from units fetched before a seek (Player).
	HeldSegments int     `json:"held_segments,omitempty"`
	WallS        float64 `json:"wall_s"`
	// Live streams: the segment joined at, the target latency, and the latency behind the
	// live edge over the presented frames (mean and maximum, seconds).
	Live            bool    `json:"live,omitempty"`
	LiveJoin        int     `json:"live_join,omitempty"`
	LiveDelayS      float64 `json:"live_delay_s,omitempty"`
	LiveLatencyS    float64 `json:"live_latency_s,omitempty"`
	MaxLiveLatencyS float64 `json:"max_live_latency_s,omitempty"`
	// LiveSkippedS is the media dropped to get back to the target latency.
	LiveSkippedS float64 `json:"live_skipped_s,omitempty"`
	// Enhancement (live streams with a model track): models fetched, frames enhanced and
	// the newest model version applied.
	EnhanceModels  int `json:"enhance_models,omitempty"`
	EnhancedFrames int `json:"enhanced_frames,omitempty"`
	// UpsampledFrames were doubled by Config.Upsampler.
	UpsampledFrames int `json:"upsampled_frames,omitempty"`
	EnhanceVersion  int `json:"enhance_version,omitempty"`
}

// Session plays one presentation.
type Session struct {
	cfg     Config
	pres    *manifest.Presentation
	variant *manifest.Variant
	// view is the stream as far as it is known (the quality table, the ABR's video): set
	// once for a static presentation, replaced by the downloader as a live one grows.
	view atomic.Pointer[view]
	// live is the downloader's record of a live stream (nil: static).
	live *liveState
	// enh is the newest enhancement model fetched (downloader writes, decoder reads).
	enh atomic.Pointer[enhModel]
	// lag is a live stream's latency in nanoseconds as the presenter's media clock stands
	// (0 before the first frame): the decode goroutine drops segments while it exceeds the
	// target by more than a segment.
	lag atomic.Int64
	buf *buffer
	// autoWindow: the decode goroutine chooses the decode window (Config.DecodeWindowS 0).
	autoWindow bool
	// frames recycles the frame sets passed from the decode goroutine to the presenter.
	frames framePool

	start time.Time

	// sub-GOP probing results (set by open)
	probes    []Probe
	frameRate float64

	// dl is the downloader's (open's before the downloader starts; Run reads it after).
	dl downloads
	// decodeFailures are the segments that could not be decoded, with why; only the decode
	// loop writes them, Run reads them once it has ended.
	decodeFailures []error
	// policyName is the policy deciding now (the downloader switches it on the A key).
	policyName atomic.Value
}

// check refuses a configuration without the parts every session needs.
func (cfg *Config) check() error {
	if cfg.Fetcher == nil || cfg.Model == nil || cfg.Policy == nil || cfg.Sink == nil {
		return errors.New("player: Fetcher, Model, Policy and Sink are required")
	}
	return nil
}

// Run plays the presentation to the end (or until ctx ends) and returns the summary.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if cfg.MaxBufferS <= 0 {
		cfg.MaxBufferS = 30
	}
	if cfg.QoE == nil {
		cfg.QoE = &abr.QoELin
	}
	s := &Session{cfg: cfg, dl: downloads{inits: map[string]cmaf.Config{}}, frames: newFramePool()}
	s.policyName.Store(cfg.Policy.Name())
	start := cfg.Clock.Now()
	s.start = start
	if err := s.open(ctx); err != nil {
		return nil, err
	}
	if s.cfg.DecodeWindowS <= 0 {
		s.cfg.DecodeWindowS, s.autoWindow = s.pres.SegmentDurationS, true
	}
	s.buf.setWindow(s.cfg.DecodeWindowS)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := s.download(ctx)
		s.buf.finish(err)
	}()
	sum, err := s.play(ctx, start)
	cancel()
	wg.Wait()
	if sum != nil {
		sum.Bytes, sum.Requests, sum.Upgrades, sum.Refetches = s.dl.bytes, s.dl.requests, s.dl.upgrades, s.dl.refetches
		sum.Policy = s.policyName.Load().(string)
		sum.SkippedSegments = len(s.dl.failures) + len(s.decodeFailures)
		sum.HeldSegments = s.dl.heldSegments
		if err == nil && sum.Frames == 0 {
			why := errors.Join(append(s.dl.failures, s.decodeFailures...)...)
			if why == nil {
				why = errors.New("no segment reached the decoder")
			}
			err = fmt.Errorf("player: nothing could be played: %w", why)
		}
		sum.WastedUpgrade = s.buf.wasted()
		sum.EnhanceModels = s.dl.models
		sum.WallS = cfg.Clock.Now().Sub(start).Seconds()
	}
	return sum, err
}

// open fetches and parses the MPD and the chosen variant's quality table.
func (s *Session) open(ctx context.Context) error {
	r, err := s.cfg.Fetcher.Get(ctx, s.cfg.MPD)
	s.dl.requests += fetch.Attempts(r, err)
	if err != nil {
		return fmt.Errorf("player: fetching the MPD: %w", err)
	}
	base, err := url.Parse(s.cfg.MPD)
	if err != nil {
		return err
	}
	if s.pres, err = manifest.Parse(r.Body, base); err != nil {
		return fmt.Errorf("player: %w", err)
	}
	s.variant = s.pres.Variants[len(s.pres.Variants)-1]
	if s.cfg.SubGOP == SubGOPAuto {
		v, probes, fps, err := s.probe(ctx)
		if err != nil {
			return fmt.Errorf("player: %w", err)
		}
		s.variant, s.probes, s.frameRate = v, probes, fps
		detail := ""
		for _, p := range probes {
			detail += fmt.Sprintf("S=%d %.1f fps; ", p.SubGOP, p.FPS)
		}
		s.emit(Event{Kind: "probe", Action: fmt.Sprintf("%schose S=%d (%.1f fps)", detail, v.SubGOP, fps)})
	} else if s.cfg.SubGOP != 0 {
		if s.variant = s.pres.Variant(s.cfg.SubGOP); s.variant == nil {
			return fmt.Errorf("player: the presentation has no sub-GOP %d variant", s.cfg.SubGOP)
		}
	}
	if len(s.variant.Layers) == 0 || s.variant.QualityURL == "" {
		return errors.New("player: the variant lacks layer Representations or a quality table")
	}
	q, err := s.cfg.Fetcher.Get(ctx, s.variant.QualityURL)
	s.dl.requests += fetch.Attempts(q, err)
	if err != nil {
		return fmt.Errorf("player: fetching the quality table: %w", err)
	}
	if s.pres.Live != nil {
		return s.openLive(q.Body)
	}
	v := &view{known: s.pres.Segments, ended: true}
	if v.quality, err = parseQuality(q.Body, s.pres.Segments, len(s.variant.Layers)); err != nil {
		return fmt.Errorf("player: %w", err)
	}
	if v.video, err = ladder(v.quality, s.pres.SegmentDurationS); err != nil {
		return fmt.Errorf("player: %w", err)
	}
	s.view.Store(v)
	if s.cfg.StartSegment < 0 || s.cfg.StartSegment >= s.pres.Segments {
		return fmt.Errorf("player: start segment %d outside 0..%d", s.cfg.StartSegment, s.pres.Segments-1)
	}
	s.dl.reach = make([]int, s.pres.Segments)
	for n := range s.dl.reach {
		s.dl.reach[n] = len(s.variant.Layers)
	}
	s.buf = newBuffer(s.pres.Segments, s.pres.Segments, len(s.variant.Layers))
	s.buf.startAt(s.cfg.StartSegment, s.pres.SegmentDurationS)
	return nil
}

// openLive takes a live stream's first sidecar and picks the segment to join at.
func (s *Session) openLive(sidecar []byte) error {
	s.live = &liveState{}
	if err := s.takeLive(sidecar); err != nil {
		return err
	}
	join, err := s.joinLive()
	if err != nil {
		return err
	}
	v := s.view.Load()
	total := -1
	if v.ended {
		total = v.known
	}
	s.buf = newBuffer(v.known, total, len(s.variant.Layers))
	s.buf.startAt(join, s.pres.SegmentDurationS)
	s.cfg.StartSegment = join
	return nil
}

func (s *Session) emit(e Event) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(e)
	}
}

// play is the player goroutine: it presents each decoded segment on the media clock.
func (s *Session) play(ctx context.Context, start time.Time) (*Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	segments := make(chan decoded, maxAhead)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.decodeLoop(ctx, segments)
	}()
	defer wg.Wait()
	defer cancel()
	p := newPresenter(s, start)
	for d := range segments {
		if d.err != nil {
			return p.sum, d.err
		}
		err := p.segment(ctx, d)
		s.frames.put(d.frames)
		if err != nil {
			return p.sum, err
		}
		if p.stop {
			break
		}
	}
	if err := ctx.Err(); err != nil && !p.stop {
		return p.sum, err
	}
	return p.finish(), nil
}
