package player

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"net/url"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/net/fetch"
)

// view is what the downloader publishes of the stream for the decoder and presenter
// goroutines: the quality table and the ABR's video over the segments known so far. A
// static presentation has one view; a live stream gets a new one after each refresh of its
// sidecar. Views are never modified after they are stored.
type view struct {
	quality *stream.Info // Quality[n] for every n < known, with a level per layer
	video   *abr.Video
	known   int  // segments published so far (a static presentation's count)
	ended   bool // no segment will be added
}

// liveState is the downloader's record of a live stream.
type liveState struct {
	header stream.Info   // the sidecar without its rows
	rows   []stream.SegQ // by segment number, as published (fewer levels than layers: abandoned layers)
	ended  bool
	delayS float64 // the latency played at
	join   int     // the first segment played
	// model is the newest enhancement model the origin announced (nil: none).
	model *stream.EnhanceInfo
}

// enhModel is an enhancement model the player fetched: it applies to frames decoded with
// layers layers.
type enhModel struct {
	net     *enhance.Net
	version int
	layers  int
	gain    float64 // the origin's measured gain when it published it
}

// liveLookahead is how many segments past the live edge the ABR's video extends (copies
// of the newest one): planners look ahead that far.
const liveLookahead = 5

// livePoll is how often (at most; a quarter segment for short segments) the downloader
// re-reads the sidecar while a due segment has not been published.
const livePoll = 250 * time.Millisecond

// maxLiveSegments bounds a live stream's segment numbers (six days of 2 s segments): the
// player keeps a row per segment.
const maxLiveSegments = 1 << 18

// parseLiveQuality reads a live origin's sidecar: rows for segments First..Segments−1.
func parseLiveQuality(b []byte, layers int) (*stream.Info, error) {
	si, err := stream.Parse("quality table", b)
	if err != nil {
		return nil, err
	}
	if si.Live == nil {
		return nil, errors.New("the quality table of a live stream has no live section")
	}
	first := si.Live.First
	if first < 0 || si.Segments > maxLiveSegments || si.Segments-first != len(si.Quality) || si.Layers != layers || si.SegmentFrame < 1 {
		return nil, fmt.Errorf("live quality table: %d rows from segment %d for %d segments of %d layers", len(si.Quality), first, si.Segments, si.Layers)
	}
	for i, q := range si.Quality {
		if q.Segment != first+i || q.Frames != si.SegmentFrame || len(q.Levels) > layers {
			return nil, fmt.Errorf("live quality table: row %d (segment %d, %d frames, %d levels)", i, q.Segment, q.Frames, len(q.Levels))
		}
		for k, l := range q.Levels {
			if l.Layers != k+1 || l.Bytes <= 0 || math.IsNaN(l.PSNRY) || math.IsInf(l.PSNRY, 0) {
				return nil, fmt.Errorf("live quality table: segment %d level %d", q.Segment, k+1)
			}
		}
	}
	return si, nil
}

// merge takes a refreshed sidecar's rows: new segments, and segments published since.
func (l *liveState) merge(si *stream.Info) {
	l.header = *si
	l.header.Quality = nil
	for len(l.rows) < si.Segments {
		l.rows = append(l.rows, stream.SegQ{Segment: len(l.rows), Frames: si.SegmentFrame})
	}
	for _, q := range si.Quality {
		if len(l.rows[q.Segment].Levels) == 0 {
			l.rows[q.Segment] = q
		}
	}
	l.ended = si.Live.Ended
	l.model = si.Live.Enhance
}

// fillLevels completes have (a segment's published levels) with template's higher ones:
// their qualities, and their layers' sizes on top of have's bytes (a level's bytes count
// every unit below it, and the template's base may be larger than the whole of have).
func fillLevels(have, template []stream.Level) []stream.Level {
	out := append([]stream.Level(nil), have...)
	for k := len(have); k < len(template); k++ {
		l := template[k]
		if k > 0 {
			l.Bytes = out[k-1].Bytes + template[k].Bytes - template[k-1].Bytes
		}
		out = append(out, l)
	}
	return out
}

// view completes every row to a level per layer (a missing level takes the nearest
// complete segment's, for the ABR's estimates only: reach keeps it from being asked for)
// and builds the ABR's video, extended past the live edge while the stream goes on.
func (l *liveState) view(segS float64) (*view, error) {
	K := l.header.Layers
	var template *stream.SegQ
	for i := len(l.rows) - 1; i >= 0 && template == nil; i-- {
		if len(l.rows[i].Levels) == K {
			template = &l.rows[i]
		}
	}
	if template == nil {
		return nil, errors.New("live stream: no segment has all its layers yet")
	}
	rows := make([]stream.SegQ, len(l.rows), len(l.rows)+liveLookahead)
	var last *stream.SegQ // the newest complete row before n
	for n, q := range l.rows {
		if len(q.Levels) == K {
			last = &l.rows[n]
			rows[n] = q
			continue
		}
		t := template
		if last != nil {
			t = last
		}
		q.Levels = fillLevels(q.Levels, t.Levels)
		rows[n] = q
	}
	v := &view{known: len(rows), ended: l.ended}
	qi := l.header
	qi.Quality, qi.Segments = rows, len(rows)
	v.quality = &qi
	vi := qi
	if !l.ended {
		for i := 0; i < liveLookahead; i++ {
			q := rows[len(rows)-1]
			q.Segment = len(rows) + i
			vi.Quality = append(vi.Quality, q)
		}
	}
	var err error
	v.video, err = ladder(&vi, segS)
	return v, err
}

// refreshLive re-reads the sidecar and publishes a new view; the buffer and the reach
// grow with the new segments (the downloader owns reach).
func (s *Session) refreshLive(ctx context.Context) error {
	r, err := s.cfg.Fetcher.Get(ctx, s.variant.QualityURL)
	s.dl.requests += fetch.Attempts(r, err)
	if err != nil {
		return fmt.Errorf("player: refreshing the live quality table: %w", err)
	}
	return s.takeLive(r.Body)
}

// takeLive merges a live sidecar and publishes the resulting view.
func (s *Session) takeLive(body []byte) error {
	si, err := parseLiveQuality(body, len(s.variant.Layers))
	if err != nil {
		return fmt.Errorf("player: %w", err)
	}
	if si.Segments < len(s.live.rows) {
		return fmt.Errorf("player: the live stream went back from %d to %d segments", len(s.live.rows), si.Segments)
	}
	s.live.merge(si)
	v, err := s.live.view(s.pres.SegmentDurationS)
	if err != nil {
		return fmt.Errorf("player: %w", err)
	}
	// reach[n] is 0 only for a segment not published yet: a failed base layer skips the
	// segment without touching it.
	for len(s.dl.reach) < v.known {
		s.dl.reach = append(s.dl.reach, 0)
	}
	for n, r := range s.dl.reach {
		if r == 0 {
			s.dl.reach[n] = len(s.live.rows[n].Levels)
		}
	}
	if s.buf != nil {
		s.buf.grow(v.known)
		if v.ended {
			s.buf.end(v.known)
		}
	}
	s.view.Store(v)
	return nil
}

// waitPublished blocks until live segment n is published (true) or the stream ended
// before it (false): it sleeps until the segment is due, then polls the sidecar.
func (s *Session) waitPublished(ctx context.Context, n int) (bool, error) {
	for {
		v := s.view.Load()
		if n < v.known {
			return true, nil
		}
		if v.ended {
			return false, nil
		}
		wait := s.pres.Live.Available(n, s.pres.SegmentDurationS).Sub(s.cfg.Clock.Now())
		if wait <= 0 { // due and not there yet: the upload is under way
			wait = min(livePoll, time.Duration(s.pres.SegmentDurationS*float64(time.Second)/4))
		}
		if err := s.cfg.Clock.Sleep(ctx, wait); err != nil {
			return false, err
		}
		if err := s.refreshLive(ctx); err != nil {
			return false, err
		}
	}
}

// joinLive picks the segment a live session starts with: the one whose media time is the
// target latency behind now, within what is published.
func (s *Session) joinLive() (int, error) {
	if s.cfg.StartSegment != 0 {
		return 0, errors.New("player: a live stream starts at its live edge (no start segment)")
	}
	segS := s.pres.SegmentDurationS
	l := s.pres.Live
	delay := s.cfg.LiveDelayS
	if delay <= 0 {
		delay = l.SuggestedDelayS
	}
	if delay <= 0 {
		delay = 2 * segS
	}
	s.live.delayS = delay
	v := s.view.Load()
	first := s.live.header.Live.First
	// The first segment that can still be shown at the delay behind the live edge with a
	// segment's time to spare for fetching and decoding it (within what is published).
	n := int(math.Ceil((s.cfg.Clock.Now().Sub(l.AvailabilityStart).Seconds()-delay)/segS)) + 1
	n = max(min(n, v.known-1), first)
	if n >= v.known || n < 0 {
		return 0, errors.New("player: the live stream has no segment to start with")
	}
	s.live.join = n
	return n, nil
}

// behindLive says whether live segment n should be dropped to catch up: the media clock
// runs more than a segment behind the target latency and a newer segment is published.
func (s *Session) behindLive(n int) bool {
	if s.live == nil || s.cfg.Untimed {
		return false
	}
	lag := s.lag.Load()
	segS := s.pres.SegmentDurationS
	return lag > 0 && float64(lag)/1e9 > s.live.delayS+segS && n+1 < s.view.Load().known
}

// liveLatency is how far behind the live edge media time pts is shown at now.
func (s *Session) liveLatency(now time.Time, pts time.Duration) float64 {
	return now.Sub(s.pres.Live.AvailabilityStart.Add(pts)).Seconds()
}

// maybeFetchModel fetches the origin's newest enhancement model when it is worth it
// (NAS-style: the model competes with video for the link): its measured gain is positive
// and better than the current model's (or it is five versions newer), and it downloads,
// at the last measured throughput, within the buffer beyond one segment (so the next
// segment is never late for it). Errors leave the current model in place.
func (s *Session) maybeFetchModel(ctx context.Context, st *abr.State) {
	if s.live == nil || s.live.model == nil || !s.cfg.Enhance {
		return
	}
	m := s.live.model
	have := s.enh.Load()
	// A newer version is worth its bytes when it gained 0.05 dB more on the origin's
	// held-out patches, or every fifth version (the content moves on).
	if have != nil && (have.version >= m.Version || m.GainDB < have.gain+0.05 && m.Version < have.version+5) {
		return
	}
	if m.GainDB <= 0 || m.Bytes <= 0 || len(st.Samples) == 0 || s.dl.modelFailures > 3 {
		return
	}
	last := st.Samples[len(st.Samples)-1]
	mbps := last.ThroughputMbps()
	if mbps <= 0 || float64(m.Bytes)*8/1e6/mbps > st.BufferS-s.pres.SegmentDurationS {
		return
	}
	u, err := url.Parse(s.cfg.MPD)
	if err != nil {
		return
	}
	ref, _ := url.Parse(fmt.Sprintf("enhance/model-%d.senh", m.Version))
	r, err := s.cfg.Fetcher.Get(ctx, u.ResolveReference(ref).String())
	s.dl.requests += fetch.Attempts(r, err)
	if err != nil {
		s.dl.modelFailures++
		return
	}
	s.dl.bytes += int64(r.Bytes())
	s.transferred(r, st.Next)
	net, err := enhance.Unmarshal(r.Body)
	if err != nil {
		s.dl.modelFailures++
		return
	}
	net.Prepare()
	s.dl.models++
	s.enh.Store(&enhModel{net: net, version: m.Version, layers: m.Layers, gain: m.GainDB})
}
