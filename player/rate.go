package player

import (
	"fmt"
	"time"
)

// MaxRateDrop is how many of the deepest LFR levels the decode goroutine may skip when it
// falls behind: 2, i.e. ½ and then ¼ of the stream's frame rate.
const MaxRateDrop = 2

// rateMargin: a frame rate is chosen only when its estimated decode time, times this
// margin, fits in the time left before the segment is due.
const rateMargin = 1.15

// rateControl is the decode goroutine's frame-rate choice (degrade, never freeze): before
// each segment it compares the time left until the segment is due with what decoding it
// would take at the full rate, ½ and ¼ (skipping the never-referenced frames of the LFR
// tree's deepest levels, LiFteR's frame-rate configurations: no drift), and takes the
// highest rate that fits. It returns to the full rate as soon as that fits again.
type rateControl struct {
	// perFrame is the moving average of the decode time per decoded frame (0: unknown).
	perFrame time.Duration
}

// seed starts the estimate from sub-GOP probing's measured rate (base layer only, so a
// lower bound).
func (r *rateControl) seed(fps float64) {
	if fps > 0 && r.perFrame == 0 {
		r.perFrame = time.Duration(float64(time.Second) / fps)
	}
}

// choose returns the levels to drop (0 … min(MaxRateDrop, deepest)) for a segment of
// frames frames with left before it is due, and why when it drops any. first marks the
// session's first segment, which has no deadline (startup).
func (r *rateControl) choose(frames, deepest int, left time.Duration, first bool) (int, string) {
	if first || r.perFrame == 0 || deepest == 0 {
		return 0, ""
	}
	limit := min(MaxRateDrop, deepest)
	est := func(drop int) time.Duration {
		step := 1 << drop
		return time.Duration(float64((frames+step-1)/step) * float64(r.perFrame) * rateMargin)
	}
	for drop := 0; drop <= limit; drop++ {
		if est(drop) <= left {
			if drop == 0 {
				return 0, ""
			}
			return drop, fmt.Sprintf("decoder behind: %d frames would take %.2f s, %.2f s left", frames, est(0).Seconds()/rateMargin, left.Seconds())
		}
	}
	return limit, fmt.Sprintf("decoder behind: %d frames would take %.2f s, %.2f s left (even at the lowest rate)", frames, est(0).Seconds()/rateMargin, max(left, 0).Seconds())
}

// observe adds a decoded segment's time to the estimate.
func (r *rateControl) observe(frames int, took time.Duration) {
	if frames <= 0 {
		return
	}
	obs := took / time.Duration(frames)
	if r.perFrame == 0 {
		r.perFrame = obs
		return
	}
	r.perFrame = (r.perFrame + obs) / 2
}

// maxAhead is the most segments the decode goroutine decodes ahead of the one presented.
const maxAhead = 3

// window is the decode window (seconds before a segment's play time that it is committed)
// when the player chooses it: one segment while decoding a segment of frames frames takes
// under half its duration segS, else maxAhead segments — a decoder near real time needs a
// lead to absorb its jitter and keep the full rate, more than the policy needs late upgrades.
func (r *rateControl) window(frames int, segS float64) float64 {
	if float64(frames)*r.perFrame.Seconds() < 0.5*segS {
		return segS
	}
	return maxAhead * segS
}
