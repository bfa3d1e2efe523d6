package player

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/decoder"
)

// presenter is the player goroutine's state: the media clock (startup, stalls, dropped
// frames), the sink, and the QoE and summary accounting per segment.
type presenter struct {
	s     *Session
	clk   Clock
	start time.Time
	fps   float64
	sum   *Summary

	started    bool
	mediaStart time.Time // wall time of media time 0 (moves on stalls)
	decodeTime time.Duration
	crop       *decoder.Frame

	prevQ       int
	prevPSNR    float64
	psnr, layrs float64
	presented   int  // segments presented (or skipped)
	step        int  // the last segment's frame stride (reduced frame rates)
	stop        bool // MaxFrames reached
	// latency is the live latency at the last frame; latencySum adds it over frames.
	latency, latencySum float64
}

func newPresenter(s *Session, start time.Time) *presenter {
	backend := s.cfg.Backend
	if backend == "" {
		backend = "cpu"
	}
	v := s.view.Load()
	p := &presenter{s: s, clk: s.cfg.Clock, start: start,
		fps: float64(v.quality.FPSNum) / float64(v.quality.FPSDen),
		sum: &Summary{Policy: s.policyName.Load().(string), Backend: backend, URL: s.cfg.MPD, SubGOP: s.variant.SubGOP,
			Probes: s.probes, FrameRate: s.frameRate, Segments: v.known},
		prevQ: min(abr.DefaultQuality, len(v.video.BitratesKbps)-1), prevPSNR: -1}
	if s.live != nil {
		p.sum.Live, p.sum.LiveJoin, p.sum.LiveDelayS = true, s.live.join, s.live.delayS
	}
	return p
}

// segment presents one decoded segment (or counts a skipped one's frames as dropped) and
// accounts for it.
func (p *presenter) segment(ctx context.Context, d decoded) error {
	v := p.s.view.Load()
	if d.catchUp {
		// A live segment dropped to get back to the target latency: the media clock
		// jumps over it.
		p.mediaStart = p.mediaStart.Add(-time.Duration(p.s.pres.SegmentDurationS * float64(time.Second)))
		p.moved()
		p.sum.LiveSkippedS += p.s.pres.SegmentDurationS
		p.passed(d.n)
		return nil
	}
	if d.frames == nil {
		p.sum.DroppedFrames += v.quality.Quality[d.n].Frames
		p.passed(d.n)
		return nil
	}
	p.decodeTime += d.took
	if d.enhanced > 0 {
		p.sum.EnhancedFrames += len(d.frames)
		p.sum.EnhanceVersion = d.enhanced
	} else if d.enhanced < 0 {
		p.sum.UpsampledFrames += len(d.frames)
	}
	ss := SegmentStats{Segment: d.n, Layers: d.k, DecodeMS: float64(d.took) / 1e6, Frames: len(d.frames), Enhance: d.enhanced, Upscaled: d.upscaled,
		FrameStep: max(d.step, 1), RateWhy: d.why}
	if ss.FrameStep > 1 {
		p.sum.ReducedFrames += v.quality.Quality[d.n].Frames - len(d.frames)
		switch ss.FrameStep {
		case 2:
			p.sum.HalfRateSegments++
		default:
			p.sum.QuarterRateSegments++
		}
		p.sum.RateWhy = d.why
	}
	if ss.FrameStep != max(p.step, 1) {
		p.step = ss.FrameStep
		p.s.emit(Event{Kind: "rate", Segment: d.n, Action: fmt.Sprintf("1/%d", ss.FrameStep), Reason: d.why})
	}
	ss.PSNRY, ss.BitrateKbps = v.quality.Quality[d.n].Levels[d.k-1].PSNRY, v.video.BitratesKbps[d.k-1]
	for i, f := range d.frames {
		if err := p.frame(ctx, &ss, i, f); err != nil {
			return err
		}
		if p.stop {
			break
		}
	}
	p.account(&ss)
	return nil
}

// frame shows frame i of segment ss on the media clock: the first frame starts the clock,
// a late segment stops it (a stall), a frame late by more than a frame time is dropped.
func (p *presenter) frame(ctx context.Context, ss *SegmentStats, i int, f *decoder.Frame) error {
	s := p.s
	q := s.view.Load().quality
	n := ss.Segment
	// Frame i of a segment decoded at a reduced rate is the stream's frame i·step, shown
	// for step frame times.
	pts := time.Duration((float64(n*q.SegmentFrame+i*ss.FrameStep) / p.fps) * float64(time.Second))
	now := p.clk.Now()
	if !p.started {
		p.started = true
		p.sum.StartupMS = float64(now.Sub(p.start)) / 1e6
		if s.live != nil && !s.cfg.Untimed {
			// A live stream starts at its target latency behind the live edge (if the
			// first frame is ready sooner), and the media clock runs from there.
			due := s.pres.Live.AvailabilityStart.Add(pts + time.Duration(s.live.delayS*float64(time.Second)))
			if err := p.clk.Sleep(ctx, due.Sub(now)); err != nil {
				return err
			}
			now = p.clk.Now()
		}
		p.mediaStart = now.Add(-pts)
		p.moved()
	} else if !s.cfg.Untimed {
		late := now.Sub(p.mediaStart.Add(pts))
		if late > 0 && i == 0 {
			// The segment was not ready in time: the clock stops (a stall).
			ss.StallS += late.Seconds()
			p.mediaStart = p.mediaStart.Add(late)
			p.moved()
			late = 0
		} else if late > time.Second/time.Duration(max(1, int(p.fps))) {
			p.sum.DroppedFrames++
			return nil
		}
		// A zero sleep still holds while a pausable clock is paused.
		if err := p.clk.Sleep(ctx, max(-late, 0)); err != nil {
			return err
		}
	}
	out := f
	if f.W != 2*q.Width || f.H != 2*q.Height { // an upsampler's frames are cropped already
		p.crop = decoder.Crop(f, q.Width, q.Height, p.crop)
		out = p.crop
	}
	if err := s.cfg.Sink.Present(out, pts); err != nil {
		return err
	}
	p.sum.Frames++
	if s.live != nil {
		p.latency = s.liveLatency(p.clk.Now(), pts)
		p.latencySum += p.latency
		p.sum.MaxLiveLatencyS = max(p.sum.MaxLiveLatencyS, p.latency)
	}
	if s.cfg.MaxFrames > 0 && p.sum.Frames >= s.cfg.MaxFrames {
		p.stop = true
	}
	s.buf.setPlayhead((pts + time.Duration(float64(time.Second)/p.fps)*time.Duration(ss.FrameStep)).Seconds())
	if s.cfg.OnFrame != nil {
		s.cfg.OnFrame(p.snapshot(ss, pts))
	}
	return nil
}

// passed accounts for segment n shown without frames (skipped, or dropped to catch up):
// the playhead moves to its end, as if it had played (the decoder's commit point and the
// downloader's buffer cap follow the playhead; two such segments in a row would otherwise
// leave the next one waiting for a playhead that cannot move).
func (p *presenter) passed(n int) {
	p.presented++
	p.s.buf.setPlayhead(max(p.s.buf.playheadS(), float64(n+1)*p.s.pres.SegmentDurationS))
}

// moved publishes where the media clock now stands (for a live stream: its latency,
// which the decode goroutine reads to decide on catching up).
func (p *presenter) moved() {
	if l := p.s.pres.Live; l != nil {
		p.s.lag.Store(int64(p.mediaStart.Sub(l.AvailabilityStart)))
	}
}

// snapshot is what an overlay shows at the frame with pts.
func (p *presenter) snapshot(ss *SegmentStats, pts time.Duration) Snapshot {
	s, sum := p.s, p.sum
	snap := Snapshot{PTS: pts, Segment: ss.Segment, Layers: ss.Layers, LayersMax: len(s.variant.Layers), PSNRY: ss.PSNRY,
		BufferS: s.buf.aheadS(s.pres.SegmentDurationS), Stalls: sum.Stalls, StallS: sum.StallS + ss.StallS,
		Frames: sum.Frames, DroppedFrames: sum.DroppedFrames, BitrateKbps: ss.BitrateKbps,
		SubGOP: s.variant.SubGOP, SegmentS: s.pres.SegmentDurationS, Segments: s.view.Load().known, StartupMS: sum.StartupMS,
		QoE: sum.QoE, QoEQuality: sum.QoEQuality, Live: s.live != nil, LiveLatencyS: p.latency,
		Enhance: ss.Enhance, Upscaled: ss.Upscaled, FrameStep: ss.FrameStep, FPS: p.fps}
	if dec, _ := s.buf.decodeState(); dec > 0 {
		snap.DecodedS = max(float64(dec)*s.pres.SegmentDurationS-s.buf.playheadS(), 0)
	}
	if dt := p.decodeTime.Seconds(); dt > 0 {
		snap.DecodeFPS = float64(sum.Frames) / dt
	}
	return snap
}

// account adds a presented segment's stall and QoE (on the ladder and on decoded quality;
// the start segment also pays the startup delay, as in Pensieve) to the summary.
func (p *presenter) account(ss *SegmentStats) {
	s, sum := p.s, p.sum
	if ss.StallS > 0 {
		sum.Stalls++
		sum.StallS += ss.StallS
		s.emit(Event{Kind: "stall", Segment: ss.Segment, StallS: ss.StallS})
	}
	rebuf := ss.StallS
	if ss.Segment == s.cfg.StartSegment {
		rebuf += sum.StartupMS / 1000
	}
	ss.QoE = s.cfg.QoE.Reward(s.view.Load().video, ss.Layers-1, p.prevQ, rebuf)
	p.prevQ = ss.Layers - 1
	sum.QoE += ss.QoE
	if p.prevPSNR < 0 {
		p.prevPSNR = ss.PSNRY
	}
	ss.QoEQuality = ss.PSNRY/10 - abr.QualityRebufPenalty*rebuf - math.Abs(ss.PSNRY-p.prevPSNR)/10
	p.prevPSNR = ss.PSNRY
	sum.QoEQuality += ss.QoEQuality
	p.psnr += ss.PSNRY
	p.layrs += float64(ss.Layers)
	sum.AvgKbps += ss.BitrateKbps
	if s.cfg.OnSegment != nil {
		s.cfg.OnSegment(*ss)
	}
	p.presented++
}

// finish completes the summary's averages.
func (p *presenter) finish() *Summary {
	sum := p.sum
	n := float64(max(p.presented, 1))
	sum.Segments = p.presented
	sum.AvgPSNRY, sum.AvgLayers, sum.AvgKbps = p.psnr/n, p.layrs/n, sum.AvgKbps/n
	sum.QoEMean = sum.QoE / n
	if sum.Live && sum.Frames > 0 {
		sum.LiveLatencyS = p.latencySum / float64(sum.Frames)
	}
	if p.decodeTime > 0 {
		sum.DecodeFPS = float64(sum.Frames+sum.DroppedFrames) / p.decodeTime.Seconds()
	}
	return sum
}
