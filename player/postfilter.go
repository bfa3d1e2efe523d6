package player

import (
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
)

// postFilter is the decode goroutine's enhancement step: the newest model fetched from a
// live origin, applied to copies of the frames decoded with the layer count it was
// trained for (the decoder's own frames are its references) — or, for an upsampler (a
// half-resolution stream's model, enhance.Net.Scale 2), to their bicubic doubles.
type postFilter struct {
	s *Session
	// frames are the enhanced copies, one set per decoder (the same lifetime rule as the
	// decoders' frames).
	frames  [2][]*decoder.Frame
	scratch enhance.Scratch
	crop    *decoder.Frame
	took    time.Duration // a segment's enhancement time (moving average)
}

// apply returns segment n's frames enhanced, with the model's version (−1 for
// Config.Upsampler) and whether it doubled them, or the frames themselves and 0: with no
// model for k layers, or when the time left before the segment is due does not cover what
// enhancing a segment has been taking (it must never make playback late).
func (p *postFilter) apply(n int, frames []*decoder.Frame, k int) ([]*decoder.Frame, int, bool) {
	s := p.s
	net, version := s.cfg.Upsampler, -1
	if m := s.enh.Load(); m != nil && m.layers == k {
		net, version = m.net, m.version
	}
	if net == nil || len(frames) == 0 {
		return frames, 0, false
	}
	if slack := float64(n)*s.pres.SegmentDurationS - s.buf.playheadS(); !s.cfg.Untimed && slack <= p.took.Seconds() {
		return frames, 0, false
	}
	t0 := s.cfg.Clock.Now()
	pool := &p.frames[n%2]
	for len(*pool) < len(frames) {
		*pool = append(*pool, nil)
	}
	out := (*pool)[:len(frames)]
	q := s.view.Load().quality
	for i, f := range frames {
		if net.Scale == 2 {
			// An upsampler (a half-resolution rung's model) doubles the visible frame: the
			// codec's padding is cropped first, so its rows are not the edge's context.
			p.crop = decoder.Crop(f, q.Width, q.Height, p.crop)
			f = p.crop
		}
		out[i] = net.Enhance(out[i], f, 0, 0, &p.scratch, s.cfg.Workers)
	}
	p.took = (p.took + 3*s.cfg.Clock.Now().Sub(t0)) / 4
	return out, version, net.Scale == 2
}
