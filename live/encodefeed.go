package live

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/y4m"
)

// EncodeConfig configures an EncodeFeed.
type EncodeConfig struct {
	Model  *decoder.Model
	Preset encoder.Preset // applied to every segment's encoder (the zero Preset: quality)
	S      int            // sub-GOP size
	// Layers is the most layers a segment is coded with (0: all the codec has); fewer while
	// the encoder is behind.
	Layers int
	// Segment is the segment duration (each segment a closed GOP); 0: 2 s.
	Segment time.Duration
	// Parallel is how many segments are encoded at once (0: 2, or 1 on one CPU), each on
	// GOMAXPROCS/Parallel goroutines: closed GOPs are independent, and whole segments use
	// the cores better than the frames of one LFR batch; the latency grows by a segment
	// per extra one.
	Parallel int
	// Queue is how many captured segments may wait for an encoder; beyond it the oldest is
	// dropped (and reported). 0: 2.
	Queue int
	// Pace reads the input at its frame rate (a file standing in for a camera); without
	// it the input is taken to arrive in real time (a pipe from a capture).
	Pace  bool
	Clock Clock // defaults to WallClock
	// Cost, if set, is waited on Clock after each segment's encoding (tests inject an
	// encoder speed with it: under testing/synctest the encoding itself takes no time).
	Cost func(frames, layers int) time.Duration
	// OnEncoded, if set, sees every segment's encoder output and source frames (from the
	// encoding goroutines, one segment at a time per goroutine).
	OnEncoded func(live int, e *encoder.Encoded, frames []*decoder.Frame)
	// Patches, if set, makes the bundle of source patches sent beside each segment (from
	// its source frames and the encoder's reconstructions; called from the encoding
	// goroutines).
	Patches func(live int, e *encoder.Encoded, frames []*decoder.Frame) ([]byte, error)
}

// sampleUnreferenced is EncodeFeed's SegmentEncoder.SampleUnreferenced. On the first four
// 48-frame segments of the demo's source (S = 32) the rows' PSNR-Y at k = 1, 2, 3 read up to
// 0.23, 0.61 and 0.75 dB high when they leave the never-referenced frames out, and at most
// 0.12, 0.18 and 0.15 dB off with one in four of them standing for the rest.
const sampleUnreferenced = 4

// EncodeReport is what the encoder says of one live segment.
type EncodeReport struct {
	Source int `json:"source"` // captured segment number (counts dropped ones)
	Frames int `json:"frames"`
	Layers int `json:"layers"` // coded
	// EncodeS is the segment's encoding time; FPS its frames over it.
	EncodeS float64 `json:"encode_s"`
	FPS     float64 `json:"fps"`
	// Queue is how many captured segments were waiting when its encoding began.
	Queue int `json:"queue"`
	// Dropped counts captured segments dropped so far because the encoder was too far
	// behind; Why says why Layers is below the most (empty: it is not).
	Dropped int    `json:"dropped"`
	Why     string `json:"why,omitempty"`
}

// EncodeFeed encodes raw frames as they arrive (a Y4M stream: a camera or a screen through
// ffmpeg) into a live layered stream for a Streamer. A reader goroutine cuts the frames
// into segments and stamps their capture time; Parallel encoding goroutines code them
// with the preset. When segments wait for an encoder it codes fewer layers (one fewer per
// segment while any wait, one more per segment once none do and the last one took less than
// its share of real time); when more than Queue wait, the oldest is dropped. Both are
// reported, never silent.
type EncodeFeed struct {
	cfg       EncodeConfig
	hdr       y4m.Header
	segFrames int
	segD      time.Duration
	base      cmaf.Config
	maxLayers int

	mu   sync.Mutex
	cond *sync.Cond
	// queue holds the captured segments waiting for an encoder (oldest first); readDone
	// says the reader ended.
	queue    []job
	readDone bool
	done     map[int]Captured // encoded, by live number, until Next takes them
	next     int              // the live number the next dequeued segment gets
	// workersLeft counts running encoding goroutines; when none is left, total is how
	// many live segments there are.
	workersLeft int
	total       int
	err         error
	layers      int // layers the next segment gets
	dropped     int
	tail        int // frames of an incomplete last segment, not encoded
}

type job struct {
	src    int
	frames []*decoder.Frame
	at     time.Time
}

// NewEncodeFeed reads the Y4M header from in and starts reading frames and encoding them;
// ctx stops it.
func NewEncodeFeed(ctx context.Context, in io.Reader, cfg EncodeConfig) (*EncodeFeed, error) {
	if cfg.Model == nil {
		return nil, errors.New("live: an encode feed needs a model")
	}
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if cfg.Layers == 0 {
		cfg.Layers = decoder.Layers
	}
	if cfg.Layers < 1 || cfg.Layers > decoder.Layers {
		return nil, fmt.Errorf("live: %d layers, the codec has 1..%d", cfg.Layers, decoder.Layers)
	}
	if cfg.Segment == 0 {
		cfg.Segment = 2 * time.Second
	}
	if cfg.Parallel == 0 {
		cfg.Parallel = min(2, runtime.GOMAXPROCS(0))
	}
	if cfg.Queue == 0 {
		cfg.Queue = 2
	}
	if cfg.Parallel < 1 || cfg.Parallel > 64 || cfg.Queue < 1 || cfg.Queue > 64 {
		return nil, fmt.Errorf("live: %d parallel encoders and a queue of %d: want 1..64 each", cfg.Parallel, cfg.Queue)
	}
	if _, err := decoder.NewScheduleAnchors(2, cfg.S, cfg.S > 1); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	r, err := y4m.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("live: the source: %w", err)
	}
	segFrames := int(math.Round(cfg.Segment.Seconds() * float64(r.FPSNum) / float64(r.FPSDen)))
	if segFrames < 1 || segFrames > 1024 || cfg.Segment > time.Minute {
		return nil, fmt.Errorf("live: segments of %v are %d frames at %d/%d fps: want 1..1024 frames and at most a minute", cfg.Segment, segFrames, r.FPSNum, r.FPSDen)
	}
	if r.Width%2 != 0 || r.Height%2 != 0 || r.Width > 4096 || r.Height > 4096 {
		return nil, fmt.Errorf("live: the source is %dx%d: want even sides up to 4096", r.Width, r.Height)
	}
	model, err := hex.DecodeString(cfg.Model.SHA256[:16])
	if err != nil {
		return nil, err
	}
	f := &EncodeFeed{cfg: cfg, hdr: r.Header, segFrames: segFrames, maxLayers: cfg.Layers, layers: cfg.Layers,
		done: map[int]Captured{}, workersLeft: cfg.Parallel, total: -1}
	f.cond = sync.NewCond(&f.mu)
	f.base = cmaf.Config{Version: 1, Width: uint16(r.Width), Height: uint16(r.Height), FPSNum: uint32(r.FPSNum), FPSDen: uint32(r.FPSDen),
		SegmentFrames: uint16(segFrames), SubGOP: uint8(cfg.S), Layers: uint8(cfg.Layers)}
	copy(f.base.Model[:], model)
	f.segD = time.Duration(float64(f.base.SegmentDuration()) / float64(f.base.Timescale()) * float64(time.Second))
	go f.read(ctx, r)
	workers := max(1, runtime.GOMAXPROCS(0)/cfg.Parallel)
	for range cfg.Parallel {
		go f.encode(ctx, workers)
	}
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.err = cmp.Or(f.err, ctx.Err())
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	return f, nil
}

// Latency is the time from a segment's capture to its encoding's end that the encoders
// keep up with when they keep up at all: Parallel segment durations (a Streamer's Hold).
func (f *EncodeFeed) Latency() time.Duration { return time.Duration(f.cfg.Parallel) * f.segD }

// SegmentFrames is the frames per segment.
func (f *EncodeFeed) SegmentFrames() int { return f.segFrames }

// Configs implements Feed.
func (f *EncodeFeed) Configs(context.Context) ([]cmaf.Config, error) {
	return []cmaf.Config{f.base}, nil
}

// Next implements Feed.
func (f *EncodeFeed) Next(ctx context.Context, i int) (Captured, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if c, ok := f.done[i]; ok {
			delete(f.done, i)
			return c, nil
		}
		if f.err != nil {
			return Captured{}, f.err
		}
		if f.total >= 0 && i >= f.total {
			return Captured{}, io.EOF
		}
		f.cond.Wait()
	}
}

// Tail is the frames of the source's incomplete last segment, which are not encoded.
func (f *EncodeFeed) Tail() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tail
}

// read owns the Y4M reader: it cuts segments and queues them, dropping the oldest waiting
// one when the queue is full.
func (f *EncodeFeed) read(ctx context.Context, r *y4m.Reader) {
	defer func() {
		f.mu.Lock()
		f.readDone = true
		f.cond.Broadcast()
		f.mu.Unlock()
	}()
	t0 := f.cfg.Clock.Now()
	n := 0
	for src := 0; ctx.Err() == nil; src++ {
		frames := make([]*decoder.Frame, 0, f.segFrames)
		for len(frames) < f.segFrames {
			if f.cfg.Pace {
				due := t0.Add(time.Duration(float64(n) * float64(time.Second) * float64(f.hdr.FPSDen) / float64(f.hdr.FPSNum)))
				if err := f.cfg.Clock.Sleep(ctx, due.Sub(f.cfg.Clock.Now())); err != nil {
					return
				}
			}
			n++
			fr, err := r.Next(nil)
			if errors.Is(err, io.EOF) {
				f.mu.Lock()
				f.tail = len(frames)
				f.mu.Unlock()
				return
			}
			if err != nil {
				f.fail(fmt.Errorf("live: the source: %w", err))
				return
			}
			frames = append(frames, fr)
		}
		f.mu.Lock()
		if len(f.queue) >= f.cfg.Queue {
			// The encoder is Queue segments behind: the oldest waiting goes.
			f.queue = f.queue[1:]
			f.dropped++
		}
		f.queue = append(f.queue, job{src: src, frames: frames, at: f.cfg.Clock.Now()})
		f.cond.Broadcast()
		f.mu.Unlock()
	}
}

func (f *EncodeFeed) fail(err error) {
	f.mu.Lock()
	f.err = cmp.Or(f.err, err)
	f.cond.Broadcast()
	f.mu.Unlock()
}

// take waits for a captured segment and numbers it, with the layers it is to be coded
// with; ok is false when there will be none.
func (f *EncodeFeed) take() (j job, live, layers, waiting int, why string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.queue) == 0 && !f.readDone && f.err == nil {
		f.cond.Wait()
	}
	if len(f.queue) == 0 || f.err != nil {
		return j, 0, 0, 0, "", false
	}
	j, f.queue = f.queue[0], f.queue[1:]
	live = f.next
	f.next++
	waiting = len(f.queue)
	if waiting > 0 && f.layers > 1 {
		f.layers--
	}
	layers = f.layers
	if layers < f.maxLayers {
		why = fmt.Sprintf("encoder behind: %d of %d layers (%d segments waiting)", layers, f.maxLayers, waiting)
	}
	return j, live, layers, waiting, why, true
}

// encode is one encoding goroutine.
func (f *EncodeFeed) encode(ctx context.Context, workers int) {
	defer func() {
		f.mu.Lock()
		f.workersLeft--
		if f.workersLeft == 0 && f.total < 0 {
			f.total = f.next
		}
		f.cond.Broadcast()
		f.mu.Unlock()
	}()
	for {
		j, live, layers, waiting, why, ok := f.take()
		if !ok {
			return
		}
		t0 := f.cfg.Clock.Now()
		c, err := f.code(j, live, layers, workers)
		if err == nil && f.cfg.Cost != nil {
			err = f.cfg.Clock.Sleep(ctx, f.cfg.Cost(len(j.frames), layers))
		}
		if err != nil {
			f.fail(fmt.Errorf("live: segment %d: %w", live, err))
			return
		}
		took := f.cfg.Clock.Now().Sub(t0)
		f.mu.Lock()
		c.Report.Queue, c.Report.Dropped, c.Report.Why = waiting, f.dropped, why
		c.Report.EncodeS = took.Seconds()
		c.Report.FPS = float64(len(j.frames)) / max(took.Seconds(), 1e-9)
		// Back up a layer once nothing waits and a segment takes less than its share of
		// real time (Parallel segment durations, less a margin).
		if len(f.queue) == 0 && f.layers < f.maxLayers && took < time.Duration(float64(f.cfg.Parallel)*0.8*float64(f.segD)) {
			f.layers++
		}
		f.done[live] = c
		f.cond.Broadcast()
		f.mu.Unlock()
	}
}

// code encodes job j as live segment live with layers layers.
func (f *EncodeFeed) code(j job, live, layers, workers int) (Captured, error) {
	enc := &encoder.SegmentEncoder{Model: f.cfg.Model, S: f.cfg.S, Layers: layers, Workers: workers, IntraAnchors: f.cfg.S > 1}
	f.cfg.Preset.Apply(enc)
	// The quality rows: with the live preset's top-only reconstructions, one in four
	// never-referenced frames is still reconstructed in every chain to stand for the rest.
	enc.SampleUnreferenced = sampleUnreferenced
	e, err := enc.Encode(j.frames, uint32(live))
	if err != nil {
		return Captured{}, err
	}
	units := make([][]byte, layers)
	sizes := make([]int, layers)
	for l := range units {
		if units[l], err = e.Segment.AppendUnit(nil, l); err != nil {
			return Captured{}, err
		}
		sizes[l] = len(units[l])
	}
	row := stream.SegQ{Segment: live, Frames: len(j.frames), Levels: e.Levels(j.frames, sizes)}
	c := Captured{Units: [][][]byte{units}, Rows: []stream.SegQ{row}, At: j.at,
		Report: &EncodeReport{Source: j.src, Frames: len(j.frames), Layers: layers}}
	if f.cfg.OnEncoded != nil {
		f.cfg.OnEncoded(live, e, j.frames)
	}
	if f.cfg.Patches != nil {
		c.Patches, c.PatchErr = f.cfg.Patches(live, e, j.frames)
	}
	return c, nil
}
