// Package playcli holds what `strata play --headless` and the desktop player
// (strata-player) share: their flags, their checks, the in-process demo origin and the
// wiring of a player.Config (HTTP/3 client, model, ABR policy, logs, stats file).
package playcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/daemon"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/player"
)

// Exit codes (as mpv's): 1 usage or initialisation error, 2 playback failed, 4 interrupted.
const (
	ExitUsage       = 1
	ExitPlayback    = 2
	ExitInterrupted = 4
)

// Options are the player flags.
type Options struct {
	ABR          string
	CA           string
	Untimed      bool
	JSON         bool
	SubGOP       string
	MaxBuffer    time.Duration
	DecodeWindow time.Duration
	HWDec        string
	StatsFile    string
	LogFile      string
	LogLevel     string
	Retries      int
	Trace        string
	Frames       int
	MaxKbps      float64
	InitialKbps  float64
	LiveDelay    time.Duration
	Enhance      bool
	Upsampler    string

	URL string // the positional argument (empty: the built-in demo)
}

// Register defines the flags on fs.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.ABR, "abr", "swift", "ABR policy: "+PolicyNames()+", fixed:<layers>, or remote:<abrd URL>[#policy]")
	fs.StringVar(&o.CA, "ca", "", "PEM certificate to trust for the origin (strata serve --ca writes it)")
	fs.BoolVar(&o.Untimed, "untimed", false, "decode and present as fast as possible (no media clock)")
	fs.BoolVar(&o.JSON, "json", false, "print the session summary as one JSON object")
	fs.StringVar(&o.SubGOP, "subgop", "0", "sub-GOP variant: 0 (the largest available), 1, 2, 4, 8, 16, or auto (probe: time each variant's first segment on this decoder and take the smallest S decoding 1.2× real time)")
	fs.DurationVar(&o.MaxBuffer, "max-buffer", 30*time.Second, "stop downloading this far ahead of the playhead")
	fs.DurationVar(&o.DecodeWindow, "decode-window", 0, "commit a segment lacking layers to the decoder this long before its play time (0: one segment)")
	fs.StringVar(&o.HWDec, "hwdec", "auto", "decoder: auto (CUDA if usable, else CPU), cuda, no (CPU), or emu (the CUDA kernels emulated on the CPU; slow, for testing)")
	fs.StringVar(&o.StatsFile, "stats-file", "", "write JSON lines here: one per presented segment (kind segment) and one per second of playback (kind second)")
	fs.StringVar(&o.LogFile, "log-file", "", "write the log (JSON lines) here instead of to stderr")
	fs.StringVar(&o.LogLevel, "log-level", "warn", "log level: debug (every transfer and decision), info (stalls, summary), warn, error")
	fs.IntVar(&o.Retries, "retries", 3, "retries per request (exponential backoff from 200 ms)")
	fs.StringVar(&o.Trace, "trace", "", "with the built-in demo: shape its in-process origin by this bandwidth trace")
	fs.IntVar(&o.Frames, "frames", 0, "stop after presenting this many frames (0: play to the end)")
	fs.Float64Var(&o.MaxKbps, "abr-max-bitrate", 0, "never fetch a level above this many kbit/s (0: no cap)")
	fs.BoolVar(&o.Enhance, "enhance", true, "live streams with a model track: fetch the origin's online-trained enhancement model and apply it to the frames it was trained for")
	fs.StringVar(&o.Upsampler, "upsampler", "", "a half-resolution stream's learned upsampler (.senh of scale 2, e.g. assets/resample/up.senh): doubles every decoded frame (a live model track's newer model wins where it applies)")
	fs.DurationVar(&o.LiveDelay, "live-delay", 0, "live streams: play this far behind the live edge (0: the MPD's suggestedPresentationDelay, else two segments)")
	fs.Float64Var(&o.InitialKbps, "abr-initial-bitrate", 0, "fetch the first segment at the highest level at or below this many kbit/s (0: the policy's default)")
}

// PolicyNames lists the registered ABR policies a player can run (not the simulator-only
// oracle).
func PolicyNames() string {
	var n []string
	for _, s := range abr.Policies() {
		if !s.SimOnly {
			n = append(n, s.Name)
		}
	}
	return strings.Join(n, ", ")
}

// Parse parses args (flags before or after the one optional URL) into o and checks them.
func (o *Options) Parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > 1 {
		fs.Usage()
		return errors.New("give at most one MPD URL (none plays the built-in demo)")
	}
	if len(pos) == 1 {
		o.URL = pos[0]
	}
	return o.check()
}

func (o *Options) check() error {
	if o.URL != "" && o.Trace != "" {
		return errors.New("--trace shapes the built-in demo's origin; for a URL, shape the server (strata serve --trace)")
	}
	if o.MaxBuffer <= 0 || o.MaxBuffer > time.Hour {
		return fmt.Errorf("--max-buffer %v out of range (0, 1h]", o.MaxBuffer)
	}
	if o.LiveDelay < 0 || o.LiveDelay > time.Hour {
		return fmt.Errorf("--live-delay %v out of range [0, 1h]", o.LiveDelay)
	}
	if o.DecodeWindow < 0 || o.DecodeWindow > time.Hour {
		return fmt.Errorf("--decode-window %v out of range [0, 1h]", o.DecodeWindow)
	}
	if o.Retries < 0 || o.Retries > 20 {
		return fmt.Errorf("--retries %d out of range 0..20", o.Retries)
	}
	if _, err := o.subGOP(); err != nil {
		return err
	}
	if !(o.MaxKbps >= 0 && o.MaxKbps < 1e9) || !(o.InitialKbps >= 0 && o.InitialKbps < 1e9) {
		return fmt.Errorf("--abr-max-bitrate %v or --abr-initial-bitrate %v out of range [0, 1e9)", o.MaxKbps, o.InitialKbps)
	}
	if o.Frames < 0 {
		return fmt.Errorf("--frames %d must not be negative", o.Frames)
	}
	switch o.HWDec {
	case "auto", "no", "cuda", "emu":
	default:
		return fmt.Errorf("--hwdec %q: want auto, cuda, no or emu", o.HWDec)
	}
	if _, err := zerolog.ParseLevel(o.LogLevel); err != nil || o.LogLevel == "" {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", o.LogLevel)
	}
	_, err := LookupPolicy(o.ABR)
	return err
}

// Limit wraps p in the --abr-max-bitrate and --abr-initial-bitrate bounds, if any.
func (o *Options) Limit(p abr.Policy) abr.Policy {
	if o.MaxKbps == 0 && o.InitialKbps == 0 {
		return p
	}
	return &abr.Limited{Policy: p, MaxKbps: o.MaxKbps, InitialKbps: o.InitialKbps}
}

// LookupPolicy returns a maker of the named policy: a registered one, fixed:<layers>, or
// remote:<url>[#policy] (decisions from an ABR daemon, strata abrd).
func LookupPolicy(name string) (func() abr.Policy, error) {
	if r, ok, err := daemon.ParseRemote(name); ok {
		if err != nil {
			return nil, err
		}
		return func() abr.Policy { c := *r; return &c }, nil
	}
	spec, err := abr.LookupLive(name)
	if err != nil {
		return nil, err
	}
	return spec.New, nil
}

// subGOP is --subgop as player.Config wants it.
func (o *Options) subGOP() (int, error) {
	switch o.SubGOP {
	case "auto":
		return player.SubGOPAuto, nil
	case "0", "1", "2", "4", "8", "16", "32", "64":
		return strconv.Atoi(o.SubGOP)
	}
	return 0, fmt.Errorf("--subgop %q: want auto, 0 (largest), 1, 2, 4, 8, 16, 32 or 64", o.SubGOP)
}

// Session is a prepared playback: the player configuration and what to release after.
type Session struct {
	Config  player.Config
	Log     zerolog.Logger
	Backend string // the decoder backend in use: "cpu", "cuda:<gpu>" or "emu:<cpu>"
	Notice  string // a line for the overlay (a fallback to the CPU)
	// URL is what plays (the demo's loopback URL when no URL was given).
	URL     string
	closers []func()
}

// Close releases the origin, the client, the stats and log files.
func (s *Session) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// Prepare wires o into a player configuration (Sink left to the caller). Without a URL it
// starts the built-in demo's HTTP/3 origin on loopback. stderr gets the log unless
// --log-file is set.
func Prepare(ctx context.Context, o *Options, stderr io.Writer) (*Session, error) {
	s := &Session{URL: o.URL, Backend: "cpu"}
	fail := func(err error) (*Session, error) { s.Close(); return nil, err }
	level, _ := zerolog.ParseLevel(o.LogLevel)
	var logOut io.Writer = zerolog.ConsoleWriter{Out: stderr, NoColor: true}
	if o.LogFile != "" {
		f, err := os.Create(o.LogFile)
		if err != nil {
			return fail(err)
		}
		s.closers = append(s.closers, func() { f.Close() })
		logOut = f
	}
	s.Log = zerolog.New(logOut).Level(level).With().Timestamp().Logger()
	var caPEM []byte
	var err error
	if o.CA != "" {
		if caPEM, err = os.ReadFile(o.CA); err != nil {
			return fail(err)
		}
	}
	if s.URL == "" {
		url, pem, closeDemo, err := ServeDemo(ctx, o.Trace)
		if err != nil {
			return fail(err)
		}
		s.closers = append(s.closers, closeDemo)
		s.URL, caPEM = url, pem
	}
	client, tr, err := h3.NewClient(caPEM, 60*time.Second)
	if err != nil {
		return fail(err)
	}
	s.closers = append(s.closers, func() { tr.Close() })
	m, err := decoder.Default()
	if err != nil {
		return fail(err)
	}
	be := openBackend(o.HWDec, m, s.Log, stderr)
	s.closers = append(s.closers, be.close)
	s.Backend, s.Notice = be.name, be.notice
	newPolicy, err := LookupPolicy(o.ABR)
	if err != nil {
		return fail(err)
	}
	var stats *json.Encoder
	if o.StatsFile != "" {
		f, err := os.Create(o.StatsFile)
		if err != nil {
			return fail(err)
		}
		s.closers = append(s.closers, func() { f.Close() })
		stats = json.NewEncoder(f)
	}
	var up *enhance.Net
	if o.Upsampler != "" {
		b, err := os.ReadFile(o.Upsampler)
		if err != nil {
			return fail(err)
		}
		if up, err = enhance.UnmarshalUpsampler(b); err != nil {
			return fail(fmt.Errorf("--upsampler %s: %w", o.Upsampler, err))
		}
	}
	log := s.Log
	subgop, _ := o.subGOP()
	s.Config = player.Config{
		MPD: s.URL, Fetcher: &fetch.Fetcher{Client: client, Retries: o.Retries, Backoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second},
		Model: m, Policy: o.Limit(newPolicy()), SubGOP: subgop, MaxBufferS: o.MaxBuffer.Seconds(), DecodeWindowS: o.DecodeWindow.Seconds(), LiveDelayS: o.LiveDelay.Seconds(), Enhance: o.Enhance, Upsampler: up,
		Untimed: o.Untimed, MaxFrames: o.Frames, NewDecoder: be.newDec, Backend: be.name,
		OnEvent: func(e player.Event) { logEvent(log, e) },
		OnFrame: perSecond(stats),
		OnSegment: func(ss player.SegmentStats) {
			log.Debug().Int("segment", ss.Segment).Int("layers", ss.Layers).Float64("psnr_y", ss.PSNRY).Float64("stall_s", ss.StallS).
				Float64("decode_ms", ss.DecodeMS).Msg("segment")
			if stats != nil {
				stats.Encode(struct {
					Kind string `json:"kind"`
					player.SegmentStats
				}{"segment", ss})
			}
		},
	}
	return s, nil
}

// perSecond returns an OnFrame hook writing one sample per second of media to stats
// (nil when there is no stats file).
func perSecond(stats *json.Encoder) func(player.Snapshot) {
	if stats == nil {
		return nil
	}
	next := time.Duration(0)
	return func(s player.Snapshot) {
		if s.PTS < next {
			return
		}
		next = s.PTS.Truncate(time.Second) + time.Second
		stats.Encode(struct {
			Kind          string  `json:"kind"`
			TS            float64 `json:"t_s"`
			Segment       int     `json:"segment"`
			Layers        int     `json:"layers"`
			PSNRY         float64 `json:"psnr_y"`
			BufferS       float64 `json:"buffer_s"`
			DecodedS      float64 `json:"decoded_s"`
			DecodeFPS     float64 `json:"decode_fps"`
			Frames        int     `json:"frames"`
			DroppedFrames int     `json:"dropped_frames"`
			Stalls        int     `json:"stalls"`
			StallS        float64 `json:"stall_s"`
			BitrateKbps   float64 `json:"bitrate_kbps"`
		}{"second", s.PTS.Seconds(), s.Segment, s.Layers, s.PSNRY, s.BufferS, s.DecodedS, s.DecodeFPS, s.Frames,
			s.DroppedFrames, s.Stalls, s.StallS, s.BitrateKbps})
	}
}

// logEvent writes one session event with stable field names (units in the names).
func logEvent(log zerolog.Logger, e player.Event) {
	switch e.Kind {
	case "transfer":
		log.Debug().Str("url", e.URL).Int("bytes", e.Bytes).Int("status", e.Status).Str("proto", e.Proto).
			Float64("trequest_ms", e.TRequest).Float64("tresponse_ms", e.TResponse).Float64("tfinish_ms", e.TFinish).Msg("transfer")
	case "decision":
		log.Debug().Str("policy", e.Policy).Str("action", e.Action).Int("segment", e.Segment).Int("layers", e.Layers).Float64("buffer_s", e.BufferS).Msg("decision")
	case "stall":
		log.Info().Int("segment", e.Segment).Float64("stall_s", e.StallS).Msg("stall")
	case "probe":
		log.Info().Str("result", e.Action).Msg("sub-GOP probe")
	case "rate":
		log.Info().Int("segment", e.Segment).Str("frame_rate", e.Action).Str("why", e.Reason).Msg("frame rate")
	}
}

// Summary formats a finished session on one line.
func Summary(sum *player.Summary) string {
	live := ""
	if sum.Live {
		live = fmt.Sprintf(", live from segment %d at %.1f s latency (mean %.2f s, max %.2f s)", sum.LiveJoin, sum.LiveDelayS, sum.LiveLatencyS, sum.MaxLiveLatencyS)
	}
	rate := ", full frame rate"
	if sum.HalfRateSegments+sum.QuarterRateSegments > 0 {
		rate = fmt.Sprintf(", frame rate ½ in %d segments and ¼ in %d (%d frames not decoded: the decoder fell behind)",
			sum.HalfRateSegments, sum.QuarterRateSegments, sum.ReducedFrames)
	}
	return fmt.Sprintf("%s on %s: %d segments, %d frames (%d dropped), startup %.0f ms, %d stalls (%.2f s), %.2f layers, PSNR-Y %.2f dB, QoE %.3f, decode %.1f frames/s, %d requests (%d upgrades), %.2f MB",
		sum.Policy, sum.Backend, sum.Segments, sum.Frames, sum.DroppedFrames, sum.StartupMS, sum.Stalls, sum.StallS, sum.AvgLayers, sum.AvgPSNRY, sum.QoE, sum.DecodeFPS, sum.Requests, sum.Upgrades, float64(sum.Bytes)/1e6) + rate + live
}
