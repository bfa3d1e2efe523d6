package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/clock"
	"github.com/strata-player/strata/net/shape"
)

// Clock is the streamer's time source (injected in tests).
type Clock = clock.Clock

// WallClock is the real clock.
type WallClock = clock.Wall

// Streamer publishes a live stream: a Feed's segments as they are ready (an encoder's,
// EncodeFeed), or a pre-encoded Source on a wall-clock schedule (segment i is captured at
// start + (i+1)·D, D the segment duration; the source loops when more segments are asked
// for than it has). For each segment it uploads the base layers, then the enhancement layers
// one by one for as long as the next segment is not due (an upload still running then is
// abandoned, with every layer above it), then the quality rows, which publish it. Uploads go
// through an optional trace-shaped uplink.
type Streamer struct {
	Client *http.Client
	// Ingest is the origin's ingest URL (https://host:port/ingest/).
	Ingest string
	Token  string
	// Feed, if set, gives the segments; else Source does.
	Feed   Feed
	Source *Source
	// Segments is how many live segments to publish from Source (0: the source's length).
	Segments int
	// Hold publishes each segment no sooner than this long after its capture: a steady
	// latency that absorbs an encoder's varying time (the origin's timeline is set by the
	// first segment, so a first segment faster than the rest would leave the player no
	// slack for them). 0: as soon as it is ready.
	Hold time.Duration
	// Uplink, if set, shapes every upload (the streamer's uplink).
	Uplink *shape.Link
	Clock  Clock // defaults to WallClock
	// videoBytes and patchBytes count what was uploaded; bundles are the patch maker's
	// output.
	videoBytes, patchBytes int
	bundles                chan bundle
	configs                []cmaf.Config // the feed's variants
	// OnSegment, if set, is called after each published segment.
	OnSegment func(Report)
	// Patches, if set, returns the bundle of high-quality patches (MarshalPatches) to send
	// beside live segment i, made from source segment src (called from a goroutine of its
	// own, in segment order); they go after the segment is published, for the first
	// variant, when they are ready, the link has time left before the next segment is due
	// and they fit PatchShare of the bytes uploaded (default 0.15).
	Patches    func(i, src int) ([]byte, error)
	PatchShare float64
}

// Report describes one published segment.
type Report struct {
	Segment int   `json:"segment"`
	Layers  []int `json:"layers"` // per variant, layers published
	Bytes   int   `json:"bytes"`  // uploaded, abandoned uploads included
	// PatchBytes were sent beside the video (0: none this segment; they may be an
	// earlier segment's, made late); PatchErr says why the patches could not be made.
	PatchBytes int           `json:"patch_bytes"`
	PatchErr   string        `json:"patch_error,omitempty"`
	Upload     time.Duration `json:"upload_ns"`
	// Late is how long after its capture time the segment was published.
	Late time.Duration `json:"late_ns"`
	// Encoded is what the feed's encoder said of the segment (nil for a pre-encoded source).
	Encoded *EncodeReport `json:"encoded,omitempty"`
}

// uploadChunk is the size of the shaped writes (small, so an abandoned upload stops soon).
const uploadChunk = 2 << 10

// Run publishes the stream and ends it; it returns when every segment is published (and
// the origin told the stream ended) or ctx ends.
func (s *Streamer) Run(ctx context.Context) error {
	if s.Client == nil || (s.Feed == nil) == (s.Source == nil || len(s.Source.Variants) == 0) || !strings.HasSuffix(s.Ingest, "/") {
		return errors.New("live: a streamer needs a client, a feed or a source (one of them) and an ingest URL ending in /")
	}
	if s.Clock == nil {
		s.Clock = WallClock{}
	}
	total := s.Segments
	if total <= 0 && s.Source != nil {
		total = s.Source.Segments()
	}
	feed := s.Feed
	if feed == nil {
		feed = &loopFeed{src: s.Source, total: total, clock: s.Clock}
	}
	configs, err := feed.Configs(ctx)
	if err != nil {
		return err
	}
	if len(configs) == 0 {
		return errors.New("live: the feed has no variants")
	}
	s.configs = configs
	for _, base := range configs {
		for l := 0; l < int(base.Layers); l++ {
			cfg := base
			cfg.Layer = uint8(l)
			b, err := cmaf.BuildInit(cfg)
			if err != nil {
				return err
			}
			if _, err := s.put(ctx, packager.LayerID(int(cfg.SubGOP), l)+"/"+packager.InitName, b); err != nil {
				return err
			}
		}
	}
	base := configs[0]
	segD := time.Duration(float64(base.SegmentDuration()) / float64(base.Timescale()) * float64(time.Second))
	t0 := s.Clock.Now()
	if lf, ok := feed.(*loopFeed); ok {
		lf.t0, lf.segD = t0, segD
	}
	if s.Patches != nil && s.Source != nil {
		// Patches are made by a goroutine of their own as segments are captured; they go
		// with the first segment published after they are ready.
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.bundles = make(chan bundle, 2)
		go s.makeBundles(pctx, t0, segD, total)
	}
	for i := 0; ; i++ {
		c, err := feed.Next(ctx, i)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() == nil && i > 0 {
				// The source failed (a truncated input, say): what was published stays, and
				// players learn that the stream is over.
				s.put(ctx, "end", nil)
			}
			return fmt.Errorf("live: segment %d: %w", i, err)
		}
		if err := s.Clock.Sleep(ctx, c.At.Add(s.Hold).Sub(s.Clock.Now())); err != nil {
			return err
		}
		// The enhancement layers may take until the next segment is ready.
		until := c.Until
		if until.IsZero() {
			until = s.Clock.Now().Add(segD)
		}
		r, err := s.segment(ctx, i, c, until)
		if err != nil {
			return fmt.Errorf("live: segment %d: %w", i, err)
		}
		r.Late = s.Clock.Now().Sub(c.At)
		r.Encoded = c.Report
		if s.OnSegment != nil {
			s.OnSegment(r)
		}
	}
	_, err = s.put(ctx, "end", nil)
	return err
}

// segment uploads live segment i (c) before deadline where it can.
func (s *Streamer) segment(ctx context.Context, i int, c Captured, deadline time.Time) (Report, error) {
	if len(c.Units) != len(s.configs) || len(c.Rows) != len(s.configs) {
		return Report{}, fmt.Errorf("the feed gave %d variants' units and %d rows, want %d", len(c.Units), len(c.Rows), len(s.configs))
	}
	r := Report{Segment: i, Layers: make([]int, len(s.configs))}
	start := s.Clock.Now()
	maxL := 0
	for _, u := range c.Units {
		maxL = max(maxL, len(u))
	}
	dropped := false
	for l := 0; l < maxL && !dropped; l++ {
		for vi, base := range s.configs {
			if l >= len(c.Units[vi]) || l >= int(base.Layers) {
				continue
			}
			cfg := base
			cfg.Layer = uint8(l)
			b, err := cmaf.BuildMedia(cfg, uint32(i), c.Units[vi][l])
			if err != nil {
				return r, err
			}
			uctx, cancel := ctx, context.CancelFunc(func() {})
			if l > 0 {
				if !s.Clock.Now().Before(deadline) {
					dropped = true
					break
				}
				uctx, cancel = context.WithDeadline(ctx, deadline)
			}
			n, err := s.put(uctx, packager.LayerID(int(cfg.SubGOP), l)+"/"+packager.MediaName(i+1), b)
			cancel()
			r.Bytes += n
			if err != nil {
				if l > 0 && ctx.Err() == nil {
					dropped = true // the uplink could not carry it in time
					break
				}
				return r, err
			}
			r.Layers[vi] = l + 1
		}
	}
	for vi, base := range s.configs {
		row := c.Rows[vi]
		row.Segment = i
		row.Levels = row.Levels[:min(len(row.Levels), r.Layers[vi])]
		b, err := json.Marshal(row)
		if err != nil {
			return r, err
		}
		if _, err := s.put(ctx, fmt.Sprintf("quality-s%d/seg-%d.json", base.SubGOP, i+1), b); err != nil {
			return r, err
		}
	}
	s.videoBytes += r.Bytes
	if c.Patches != nil || c.PatchErr != nil {
		if err := s.sendBundle(ctx, bundle{i, c.Patches, c.PatchErr}, true, deadline, &r); err != nil {
			return r, err
		}
	} else if s.Patches != nil && s.Source != nil {
		bd, ok := s.readyBundle(i)
		if err := s.sendBundle(ctx, bd, ok, deadline, &r); err != nil {
			return r, err
		}
	}
	r.Upload = s.Clock.Now().Sub(start)
	return r, nil
}

type bundle struct {
	i   int
	b   []byte
	err error
}

// makeBundles makes patch bundles as segments are captured: always for the newest
// captured segment it has not done yet, so a maker slower than real time skips segments
// rather than falling further behind.
func (s *Streamer) makeBundles(ctx context.Context, t0 time.Time, segD time.Duration, total int) {
	defer close(s.bundles)
	last := -1
	for {
		i := max(last+1, int(s.Clock.Now().Sub(t0)/segD)-1)
		if i >= total {
			return
		}
		// Segment i is captured at t0 + (i+1)·D.
		if err := s.Clock.Sleep(ctx, t0.Add(time.Duration(i+1)*segD).Sub(s.Clock.Now())); err != nil {
			return
		}
		b, err := s.Patches(i, i%s.Source.Segments())
		select {
		case s.bundles <- bundle{i, b, err}:
		case <-ctx.Done():
			return
		}
		last = i
	}
}

// readyBundle returns the newest bundle made, if any, for a segment at most two behind i
// (its segment is published; older ones are dropped).
func (s *Streamer) readyBundle(i int) (bundle, bool) {
	var got bundle
	ok := false
	for {
		select {
		case bd, open := <-s.bundles:
			if !open {
				return got, ok
			}
			if bd.i <= i && bd.i >= i-2 {
				got, ok = bd, true
			}
		default:
			return got, ok
		}
	}
}

// sendBundle uploads bundle bd (if ok) if it fits the share of the bytes sent so far and
// the time before deadline; an upload cut by the deadline is simply lost.
func (s *Streamer) sendBundle(ctx context.Context, bd bundle, ok bool, deadline time.Time, r *Report) error {
	b := bd.b
	if !ok || bd.err != nil || len(b) == 0 {
		if bd.err != nil {
			r.PatchErr = bd.err.Error() // a patch that cannot be made never holds the video up
		}
		return nil
	}
	share := s.PatchShare
	if share <= 0 {
		share = 0.15
	}
	if float64(s.patchBytes+len(b)) > share*float64(s.videoBytes+s.patchBytes+len(b)) || !s.Clock.Now().Before(deadline) {
		return nil // over the budget: the video keeps the link
	}
	uctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	n, err := s.put(uctx, fmt.Sprintf("patches-s%d/seg-%d.bin", s.configs[0].SubGOP, bd.i+1), b)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil // late or refused: the video matters more
	}
	s.patchBytes += n
	r.PatchBytes = n
	return nil
}

// put uploads body to the ingest path p and returns the bytes sent.
func (s *Streamer) put(ctx context.Context, p string, body []byte) (int, error) {
	var rd io.Reader = bytes.NewReader(body)
	if s.Uplink != nil && len(body) > 0 {
		rd = &shapedReader{ctx: ctx, r: bytes.NewReader(body), link: s.Uplink, clock: s.Clock}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.Ingest+p, rd)
	if err != nil {
		return 0, err
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := s.Client.Do(req)
	if err != nil {
		return len(body), err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return len(body), fmt.Errorf("PUT %s: HTTP %d: %s", p, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return len(body), nil
}

// shapedReader hands the body to the transport as the uplink delivers it.
type shapedReader struct {
	ctx   context.Context
	r     *bytes.Reader
	link  *shape.Link
	clock Clock
}

func (s *shapedReader) Read(p []byte) (int, error) {
	if s.r.Len() == 0 {
		return 0, io.EOF
	}
	n := min(len(p), uploadChunk, s.r.Len())
	if err := s.clock.Sleep(s.ctx, s.link.Reserve(n).Sub(s.clock.Now())); err != nil {
		return 0, err
	}
	return s.r.Read(p[:n])
}
