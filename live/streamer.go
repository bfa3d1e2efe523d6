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

// Streamer publishes a Source as a live stream on a wall-clock schedule: segment i is
// captured at start + (i+1)·D (D the segment duration); the streamer then uploads its base
// layers, then its enhancement layers one by one for as long as the next segment is not
// due (an upload still running then is abandoned, with every layer above it), then its
// quality rows, which publish it. The source loops when more segments are asked for than
// it has. Uploads go through an optional trace-shaped uplink.
type Streamer struct {
	Client *http.Client
	// Ingest is the origin's ingest URL (https://host:port/ingest/).
	Ingest string
	Token  string
	Source *Source
	// Segments is how many live segments to publish (0: the source's length).
	Segments int
	// Uplink, if set, shapes every upload (the streamer's uplink).
	Uplink *shape.Link
	Clock  Clock // defaults to WallClock
	// videoBytes and patchBytes count what was uploaded; bundles are the patch maker's
	// output.
	videoBytes, patchBytes int
	bundles                chan bundle
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
}

// uploadChunk is the size of the shaped writes (small, so an abandoned upload stops soon).
const uploadChunk = 2 << 10

// Run publishes the stream and ends it; it returns when every segment is published (and
// the origin told the stream ended) or ctx ends.
func (s *Streamer) Run(ctx context.Context) error {
	if s.Client == nil || s.Source == nil || len(s.Source.Variants) == 0 || !strings.HasSuffix(s.Ingest, "/") {
		return errors.New("live: a streamer needs a client, a source and an ingest URL ending in /")
	}
	if s.Clock == nil {
		s.Clock = WallClock{}
	}
	total := s.Segments
	if total <= 0 {
		total = s.Source.Segments()
	}
	for _, v := range s.Source.Variants {
		for l := 0; l < int(v.Base.Layers); l++ {
			cfg := v.Base
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
	base := s.Source.Variants[0].Base
	segD := time.Duration(float64(base.SegmentDuration()) / float64(base.Timescale()) * float64(time.Second))
	t0 := s.Clock.Now()
	if s.Patches != nil {
		// Patches are made by a goroutine of their own as segments are captured; they go
		// with the first segment published after they are ready.
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.bundles = make(chan bundle, 2)
		go s.makeBundles(pctx, t0, segD, total)
	}
	for i := 0; i < total; i++ {
		due := t0.Add(time.Duration(i+1) * segD)
		if err := s.Clock.Sleep(ctx, due.Sub(s.Clock.Now())); err != nil {
			return err
		}
		r, err := s.segment(ctx, i, due.Add(segD))
		if err != nil {
			return fmt.Errorf("live: segment %d: %w", i, err)
		}
		r.Late = s.Clock.Now().Sub(due)
		if s.OnSegment != nil {
			s.OnSegment(r)
		}
	}
	_, err := s.put(ctx, "end", nil)
	return err
}

// segment uploads live segment i (source segment i mod N) before deadline where it can.
func (s *Streamer) segment(ctx context.Context, i int, deadline time.Time) (Report, error) {
	src := i % s.Source.Segments()
	r := Report{Segment: i, Layers: make([]int, len(s.Source.Variants))}
	start := s.Clock.Now()
	maxL := 0
	for _, v := range s.Source.Variants {
		maxL = max(maxL, int(v.Base.Layers))
	}
	dropped := false
	for l := 0; l < maxL && !dropped; l++ {
		for vi, v := range s.Source.Variants {
			if l >= int(v.Base.Layers) {
				continue
			}
			cfg := v.Base
			cfg.Layer = uint8(l)
			b, err := cmaf.BuildMedia(cfg, uint32(i), v.Units[src][l])
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
	for vi, v := range s.Source.Variants {
		row := v.Rows[src]
		row.Segment = i
		row.Levels = row.Levels[:r.Layers[vi]]
		b, err := json.Marshal(row)
		if err != nil {
			return r, err
		}
		if _, err := s.put(ctx, fmt.Sprintf("quality-s%d/seg-%d.json", v.Base.SubGOP, i+1), b); err != nil {
			return r, err
		}
	}
	s.videoBytes += r.Bytes
	if s.Patches != nil {
		if err := s.sendPatches(ctx, i, deadline, &r); err != nil {
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

// sendPatches uploads the newest ready bundle if it fits the share of the bytes sent so
// far and the time before deadline; an upload cut by the deadline is simply lost.
func (s *Streamer) sendPatches(ctx context.Context, i int, deadline time.Time, r *Report) error {
	bd, ok := s.readyBundle(i)
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
	v := s.Source.Variants[0]
	n, err := s.put(uctx, fmt.Sprintf("patches-s%d/seg-%d.bin", v.Base.SubGOP, bd.i+1), b)
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
