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
	// enhanced is the version of the enhancement model applied to the frames (0: none,
	// −1: Config.Upsampler); upscaled, whether it doubled them.
	enhanced int
	upscaled bool
}

// decodeLoop is owned by play: it commits segments in order (when they enter the decode
// window) and decodes them, alternating two decoders so the presenter can show segment n
// while n+1 decodes. The unbuffered channel makes a decoder's frames safe to reuse: the
// decoder that produced segment n is used again only after the presenter took n+1, i.e.
// finished with n.
func (s *Session) decodeLoop(ctx context.Context, out chan<- decoded) {
	defer close(out)
	var decs [2]SegmentDecoder
	for i := range decs {
		if s.cfg.NewDecoder == nil {
			decs[i] = decoder.NewSegmentDecoder(s.cfg.Model, s.cfg.Workers)
			continue
		}
		dec, err := s.cfg.NewDecoder()
		if err != nil {
			select {
			case out <- decoded{err: fmt.Errorf("player: decoder: %w", err)}:
			case <-ctx.Done():
			}
			return
		}
		decs[i] = dec
	}
	segS := s.pres.SegmentDurationS
	decodedFrames, busy := 0, time.Duration(0)
	pf := postFilter{s: s}
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
			return s.buf.playhead >= float64(n)*segS-s.cfg.DecodeWindowS
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
				frames, k, err := s.decode(decs[n%2], units)
				if err == nil {
					d.k = k
					d.frames, d.enhanced, d.upscaled = pf.apply(n, frames, k)
				} else { // a corrupt base layer: this segment cannot be shown
					s.decodeFailures = append(s.decodeFailures, fmt.Errorf("segment %d: %w", n, err))
				}
				s.buf.release(n)
				d.took = s.cfg.Clock.Now().Sub(t0)
				decodedFrames += len(d.frames)
				busy += d.took
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
			return
		}
		if d.err != nil {
			return
		}
	}
}

// decode parses the units and decodes with as many layers as parse; a corrupt enhancement
// layer and everything above it is dropped, a corrupt base fails the segment.
func (s *Session) decode(dec SegmentDecoder, units [][]byte) ([]*decoder.Frame, int, error) {
	seg, err := decoder.ParseBaseUnit(units[0])
	if err != nil {
		return nil, 0, err
	}
	for _, u := range units[1:] {
		if seg.AddUnit(u) != nil {
			break
		}
	}
	frames, err := dec.Decode(seg, seg.Have)
	return frames, seg.Have, err
}
