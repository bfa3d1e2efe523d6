package abr

import "context"

// Rate is the rate-based policy: the highest bitrate not above the predicted throughput.
// The classic predictor (Pensieve's rb) is the harmonic mean of the last Window samples'
// Bytes/DelayMs; DashJS selects dash.js's time-weighted form Σdt / Σ(dt/tput), with dt the
// download time without the round trip, at least 100 ms.
type Rate struct {
	Window int // It defaults to 5.
	DashJS bool
}

func init() {
	Register(Spec{Name: "rate", Help: "rate-based: highest bitrate <= harmonic mean of the last 5 throughputs",
		New: func() Policy { return &Rate{Window: 5} }})
	Register(Spec{Name: "rate-dashjs", Help: "rate-based with dash.js's time-weighted throughput estimate",
		New: func() Policy { return &Rate{Window: 5, DashJS: true} }})
}

// Name implements Policy.
func (p *Rate) Name() string {
	if p.DashJS {
		return "rate-dashjs"
	}
	return "rate"
}

// Reset implements Policy; the estimate reads only the session's samples.
func (p *Rate) Reset() {}

// EstimateMbps is the throughput prediction from the last Window samples (0 if none).
func (p *Rate) EstimateMbps(samples []Sample) float64 {
	if len(samples) > p.Window {
		samples = samples[len(samples)-p.Window:]
	}
	if len(samples) == 0 {
		return 0
	}
	if p.DashJS {
		var num, den float64
		for _, s := range samples {
			dt := s.DownloadMs / 1000
			if dt < 0.1 {
				dt = 0.1
			}
			tput := float64(s.Bytes) * 8 / dt / 1e6
			num += dt
			den += dt / tput
		}
		return num / den
	}
	var inv float64
	for _, s := range samples {
		inv += 1 / s.ThroughputMbps()
	}
	return float64(len(samples)) / inv
}

// Decide implements Policy.
func (p *Rate) Decide(ctx context.Context, s *State) Action {
	est := p.EstimateMbps(s.Samples) * 1000
	q := 0
	for i, r := range s.Video.BitratesKbps {
		if r <= est {
			q = i
		}
	}
	return Action{Kind: Fetch, Segment: s.Next, Quality: q}
}
