package player

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-player/strata/decoder"
)

// The decode goroutine: segments committed in order from the buffer, decoded, post-filtered
// and handed to the presenter (present.go).

// decoded is one segment handed from the decode goroutine to the presenter.
type decoded struct {
	n      int
	frames []*decoder.Frame // nil: the segment cannot be shown
	k      int
	took   time.Duration
	err    error // fatal: stop playback
	// catchUp: a live segment dropped (not decoded) to get back to the target latency.
	catchUp bool
	// step is the frame stride decoded (1: every frame; 2, 4: a reduced frame rate, the
	// deepest LFR levels skipped because decoding fell behind) and why the reason.
	step int
	why  string
	// enhanced is the version of the enhancement model applied to the frames (0: none,
	// −1: Config.Upsampler); upscaled, whether it doubled them.
	enhanced int
	upscaled bool
}

// decodeLoop is owned by play: it commits segments in order (when they enter the decode
// window) and decodes them. Each segment's frames are copied into a frame set of the
// session's pool, so the decoder is free for the next segment at once; the presenter gives
// the set back when it has shown it. out holds up to maxAhead decoded segments: the
// decoder may run that far ahead of the presenter when the decode window allows.
func (s *Session) decodeLoop(ctx context.Context, out chan<- decoded) {
	defer close(out)
	dec, err := s.newDecoder()
	if err != nil {
		select {
		case out <- decoded{err: fmt.Errorf("player: decoder: %w", err)}:
		case <-ctx.Done():
		}
		return
	}
	segS := s.pres.SegmentDurationS
	decodedFrames, busy := 0, time.Duration(0)
	pf := postFilter{s: s}
	var rc rateControl
	for _, p := range s.probes {
		if p.SubGOP == s.variant.SubGOP {
			rc.seed(p.FPS)
		}
	}
	first := true
	for n := s.cfg.StartSegment; ; n++ {
		if ok, err := s.buf.await(ctx, n); !ok {
			if err != nil {
				return
			}
			break
		}
		// Untimed playback has no media clock, hence no decode window: a segment commits
		// once the next segment's fetch is done (upgrades of it may come until then).
		ready := func(int) bool {
			if s.cfg.Untimed {
				return n+1 < s.buf.fetched
			}
			return s.buf.playhead >= float64(n)*segS-s.buf.windowS
		}
		d := decoded{n: n}
		if s.behindLive(n) {
			s.buf.drop(n)
			d.catchUp = true
		} else {
			units, err := s.buf.commit(ctx, n, ready)
			switch {
			case errors.Is(err, errSkipped):
			case err != nil:
				d.err = err
			default:
				t0 := s.cfg.Clock.Now()
				// The time left before the segment is due (none for the first: startup).
				left := time.Duration((float64(n)*segS - s.buf.playheadS()) * float64(time.Second))
				rate := func(seg *decoder.Segment) int {
					if s.cfg.Untimed {
						return 0
					}
					drop, why := rc.choose(seg.Frames, seg.Schedule().Deepest(), left, first)
					d.step, d.why = seg.Schedule().Step(drop), why
					return drop
				}
				d.step = 1
				frames, k, err := s.decode(dec, units, rate)
				if err == nil {
					first = false
					d.k = k
					shown, enhanced, upscaled := pf.apply(n, frames, k)
					d.frames, d.enhanced, d.upscaled = s.frames.copy(shown), enhanced, upscaled
				} else { // a corrupt base layer: this segment cannot be shown
					s.decodeFailures = append(s.decodeFailures, fmt.Errorf("segment %d: %w", n, err))
				}
				s.buf.release(n)
				d.took = s.cfg.Clock.Now().Sub(t0)
				rc.observe(len(frames), d.took)
				decodedFrames += len(d.frames)
				busy += d.took
				if s.autoWindow {
					s.buf.setWindow(rc.window(s.view.Load().quality.Quality[n].Frames, segS))
				}
			}
		}
		fps := 0.0
		if busy > 0 {
			fps = float64(decodedFrames) / busy.Seconds()
		}
		s.buf.setDecoded(n+1, fps)
		select {
		case out <- d:
		case <-ctx.Done():
			s.frames.put(d.frames)
			return
		}
		if d.err != nil {
			return
		}
	}
}

// decode parses the units and decodes with as many layers as parse, without the LFR
// levels rate(segment) drops; a corrupt enhancement layer and everything above it is
// dropped, a corrupt base fails the segment.
func (s *Session) decode(dec SegmentDecoder, units [][]byte, rate func(*decoder.Segment) int) ([]*decoder.Frame, int, error) {
	seg, err := decoder.ParseBaseUnit(units[0])
	if err != nil {
		return nil, 0, err
	}
	for _, u := range units[1:] {
		if seg.AddUnit(u) != nil {
			break
		}
	}
	frames, err := dec.DecodeRate(seg, seg.Have, rate(seg))
	return frames, seg.Have, err
}
