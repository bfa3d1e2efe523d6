package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/player/manifest"
)

// The downloader goroutine: one ABR decision after every transfer, segments and layers into
// the buffer. It owns the counters and caches in Session.dl; open uses them before the
// goroutine starts and Run reads them after it has ended.

// downloads is what the downloader owns: its counters, the parsed init segments and what
// each segment can still get.
type downloads struct {
	bytes     int64
	requests  int
	upgrades  int
	refetches int
	// heldSegments counts the segments taken from the Player's held units.
	heldSegments int
	failures     []error
	// inits caches parsed init segments by Representation id.
	inits map[string]cmaf.Config
	// reach[n] is the most layers segment n can still get: a layer that failed (missing,
	// truncated twice, server error after retries) is not asked for again.
	reach []int
	// models and modelFailures count a live stream's enhancement model fetches.
	models        int
	modelFailures int
}

// get fetches a media segment of rep and returns its sample and the transfer's timing.
func (s *Session) get(ctx context.Context, rep *manifest.Rep, n int) ([]byte, *fetch.Result, error) {
	cfg, ok := s.dl.inits[rep.ID]
	if !ok {
		cfg, ok = s.cfg.held.initSegment(rep.ID)
	}
	var err error
	if !ok {
		ir, err := s.cfg.Fetcher.Get(ctx, rep.InitURL())
		s.dl.requests += fetch.Attempts(ir, err)
		if err != nil {
			return nil, nil, err
		}
		s.dl.bytes += int64(ir.Bytes())
		if cfg, err = cmaf.ParseInit(ir.Body); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", rep.ID, err)
		}
		s.dl.inits[rep.ID] = cfg
		s.cfg.held.setInitSegment(rep.ID, cfg)
	}
	var r *fetch.Result
	var num uint32
	var data []byte
	for attempt := 0; attempt < 2; attempt++ { // a malformed segment is fetched once more
		r, err = s.cfg.Fetcher.Get(ctx, rep.MediaURL(n))
		s.dl.requests += fetch.Attempts(r, err)
		if err != nil {
			return nil, nil, err
		}
		s.dl.bytes += int64(r.Bytes())
		s.transferred(r, n)
		if num, data, err = cmaf.ParseMedia(cfg, r.Body); err == nil {
			break
		}
		s.dl.refetches++
	}
	if err != nil {
		return nil, r, fmt.Errorf("%s segment %d: %w", rep.ID, n, err)
	}
	if int(num) != n {
		return nil, r, fmt.Errorf("%s segment %d: the fragment says segment %d", rep.ID, n, num)
	}
	return data, r, nil
}

// fetchLayers downloads segment n with layers 0..k−1 (one joined object when the variant
// has one, else layer by layer) into the buffer, and returns the combined sample.
func (s *Session) fetchLayers(ctx context.Context, n, k int) (abr.Sample, error) {
	v := s.variant
	have := 0
	if units := s.cfg.held.units(v.SubGOP, n); len(units) > 0 {
		// Fetched before a seek: no transfer for what is held (possibly more layers
		// than asked for).
		s.buf.addAll(n, units)
		s.dl.heldSegments++
		if have = len(units); have >= k {
			return abr.Sample{}, nil
		}
	}
	if have == 0 && k <= len(v.Joined) {
		data, r, err := s.get(ctx, v.Joined[k-1], n)
		if err == nil {
			units, err := cmaf.Split(data, k)
			if err == nil {
				s.buf.addAll(n, units)
				for l, u := range units {
					s.cfg.held.add(v.SubGOP, n, l, u)
				}
				return sampleOf(r, r.Bytes()), nil
			}
		}
		if ctx.Err() != nil {
			return abr.Sample{}, ctx.Err()
		}
		// Fall back to layer by layer.
	}
	var smp abr.Sample
	for l := have; l < k; l++ {
		data, r, err := s.get(ctx, v.Layers[l], n)
		if err != nil {
			if l == 0 || ctx.Err() != nil {
				return smp, err
			}
			s.dl.reach[n] = l
			break // keep the layers we have
		}
		s.buf.add(n, l, data)
		s.cfg.held.add(v.SubGOP, n, l, data)
		smp = addSample(smp, sampleOf(r, r.Bytes()))
	}
	return smp, nil
}

// transferred reports a finished transfer.
func (s *Session) transferred(r *fetch.Result, seg int) {
	if s.cfg.OnEvent == nil || r == nil {
		return
	}
	ms := func(t time.Time) float64 { return float64(t.Sub(s.start)) / 1e6 }
	s.emit(Event{Kind: "transfer", URL: r.URL, Bytes: r.Bytes(), Status: r.Status, Proto: r.Proto, Segment: seg,
		TRequest: ms(r.TRequest), TResponse: ms(r.TResponse), TFinish: ms(r.TFinish)})
}

func sampleOf(r *fetch.Result, n int) abr.Sample {
	return abr.Sample{Bytes: int64(n), DelayMs: ms(r.TFinish.Sub(r.TRequest)), DownloadMs: ms(r.TFinish.Sub(r.TResponse))}
}

func addSample(a, b abr.Sample) abr.Sample {
	return abr.Sample{Bytes: a.Bytes + b.Bytes, DelayMs: a.DelayMs + b.DelayMs, DownloadMs: a.DownloadMs + b.DownloadMs}
}

func ms(d time.Duration) float64 { return math.Max(float64(d)/1e6, 0.001) }

// download is the downloader goroutine: one policy decision after every transfer.
func (s *Session) download(ctx context.Context) error {
	segS := s.pres.SegmentDurationS
	K := len(s.variant.Layers)
	st := &abr.State{Video: s.view.Load().video}
	// The downloader owns the policy; the A key hands it a new one over cfg.Policies.
	policy := s.cfg.Policy
	defer func() { release(policy) }()
	policy.Reset()
	next := s.cfg.StartSegment
	first := min(abr.DefaultQuality, K-1)
	if ip, ok := policy.(abr.Initialer); ok {
		first = max(0, min(ip.InitialQuality(st.Video), K-1))
	}
	a := abr.Action{Kind: abr.Fetch, Segment: next, Quality: first}
	for {
		switch a.Kind {
		case abr.Fetch:
			if a.Segment != next || a.Quality < 0 || a.Quality >= K {
				return fmt.Errorf("player: policy %s asked to fetch segment %d at %d layers; next is %d of 1..%d",
					policy.Name(), a.Segment, a.Quality+1, next, K)
			}
			if !s.cfg.Untimed {
				if err := s.buf.waitPlayhead(ctx, float64(next)*segS-s.cfg.MaxBufferS); err != nil {
					return err
				}
			}
			if s.live != nil {
				ok, err := s.waitPublished(ctx, next)
				if err != nil || !ok {
					return err
				}
			}
			var smp abr.Sample
			var err error
			if s.dl.reach[next] == 0 {
				err = errors.New("the live origin abandoned it")
			} else {
				smp, err = s.fetchLayers(ctx, next, min(a.Quality+1, s.dl.reach[next]))
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				// Nothing of this segment could be had: it is skipped, playback goes on.
				s.dl.failures = append(s.dl.failures, fmt.Errorf("segment %d: %w", next, err))
				s.buf.skip(next)
			} else if smp.Bytes > 0 { // nothing was transferred for a held segment
				st.Samples = append(st.Samples, smp)
			}
			st.LastQuality = a.Quality
			next++
			s.buf.fetchedThrough(next)
		case abr.Upgrade:
			if a.Segment < 0 || a.Segment >= next || a.Quality < 1 || a.Quality >= K {
				return fmt.Errorf("player: policy %s asked for upgrade %+v", policy.Name(), a)
			}
			if a.Quality >= s.dl.reach[a.Segment] {
				return fmt.Errorf("player: policy %s asked for layer %d of segment %d, which failed before",
					policy.Name(), a.Quality, a.Segment)
			}
			data, r, err := s.get(ctx, s.variant.Layers[a.Quality], a.Segment)
			if err == nil {
				s.dl.upgrades++
				s.buf.add(a.Segment, a.Quality, data)
				s.cfg.held.add(s.variant.SubGOP, a.Segment, a.Quality, data)
				st.Samples = append(st.Samples, sampleOf(r, r.Bytes()))
			} else if ctx.Err() != nil {
				return ctx.Err()
			} else {
				s.dl.reach[a.Segment] = a.Quality
			}
		case abr.Wait:
			if err := s.cfg.Clock.Sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
		s.fillState(st, next)
		select {
		case p := <-s.cfg.Policies:
			release(policy)
			p.Reset()
			policy = p
			s.policyName.Store(p.Name())
		default:
		}
		s.maybeFetchModel(ctx, st)
		a = policy.Decide(ctx, st)
		if v := s.view.Load(); v.ended && next == v.known && a.Kind != abr.Upgrade {
			return nil
		}
		s.emit(Event{Kind: "decision", Policy: policy.Name(), Action: [...]string{"fetch", "upgrade", "wait"}[a.Kind], Segment: a.Segment, Layers: a.Quality + 1, BufferS: st.BufferS})
	}
}

// release ends what a policy holds outside the process (a daemon session) once the
// session no longer uses it.
func release(p abr.Policy) {
	if c, ok := p.(io.Closer); ok {
		c.Close()
	}
}

// fillState writes what the policy sees after a transfer: the buffer (received media
// ahead of the playhead, which is also LiFteR's virtual buffer), the layers held, the
// commit point, the decoded part and the measured decode rate.
func (s *Session) fillState(st *abr.State, next int) {
	segS := s.pres.SegmentDurationS
	st.Video = s.view.Load().video
	playhead, held, committed := s.buf.snapshot()
	decoded, fps := s.buf.decodeState()
	st.Next = next
	st.PlayheadS = playhead
	st.BufferS = math.Max(float64(next)*segS-playhead, 0)
	st.VirtualS = st.BufferS
	st.DecodedS = math.Max(float64(decoded)*segS-playhead, 0)
	st.Held = held[:next]
	st.Reachable = s.dl.reach[:next]
	st.Committed = 0
	for st.Committed < len(committed) && committed[st.Committed] {
		st.Committed++
	}
	st.DecodeFPS = fps
	st.DecodeWindowS, st.MaxBufferS = s.buf.window(), s.cfg.MaxBufferS
	if s.cfg.Untimed {
		st.MaxBufferS = 0
	}
}
