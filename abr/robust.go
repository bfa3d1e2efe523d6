package abr

import "math"

// Robust is robustMPC's throughput predictor (Yin et al., SIGCOMM'15, as Pensieve's
// mpc.py computes it): throughput samples c = bytes / request delay (round trip included,
// so a server that holds its response headers back cannot inflate it) in MB/s; ĉ = the
// harmonic mean of the last ≤ 5; error = |ĉ_prev − c| / c; prediction ĉ / (1 + the largest
// of the last ≤ 5 errors).
//
// It takes a sample only when the session has a new one: a decision after a wait, or after
// a transfer that failed, predicts again from the same history.
type Robust struct {
	has    bool
	last   float64
	errs   []float64 // the last ≤ 5 errors, oldest first
	seen   int       // samples consumed
	cached float64
}

// Forget clears the error history (a new session).
func (r *Robust) Forget() {
	r.has, r.last, r.errs = false, 0, r.errs[:0]
	r.NewSession()
}

// NewSession keeps the error history but starts counting a new session's samples (mpc.py
// keeps its history across the traces of one process).
func (r *Robust) NewSession() { r.seen, r.cached = 0, 0 }

// PredictMBps returns the prediction in MB/s (mpc.py's kilobytes per millisecond) after
// taking the samples of s that it has not seen (s.Transfers counts them; Samples may hold
// only the recent ones).
func (r *Robust) PredictMBps(s *State) float64 {
	total := s.TransferCount()
	if total < r.seen {
		r.seen = 0 // the caller started a new session without NewSession
	}
	for ; r.seen < total; r.seen++ {
		// Sample number r.seen (0-based) is at index len−(total−r.seen) of Samples.
		end := len(s.Samples) - (total - r.seen) + 1
		if end <= 0 {
			continue // dropped from the list before it was seen
		}
		r.take(s.Samples[:end])
	}
	return r.cached
}

// HarmonicMBps is the harmonic mean of the last ≤ 5 samples (as of the last PredictMBps),
// without the error discount.
func (r *Robust) HarmonicMBps() float64 { return r.last }

func (r *Robust) take(samples []Sample) {
	tput := func(x Sample) float64 { return float64(x.Bytes) / math.Max(x.DelayMs, 0.001) / 1000 }
	c := tput(samples[len(samples)-1])
	curErr := 0.0
	if r.has {
		curErr = math.Abs(r.last-c) / c
	}
	if len(r.errs) == 5 {
		copy(r.errs, r.errs[1:])
		r.errs = r.errs[:4]
	}
	r.errs = append(r.errs, curErr)
	w := samples
	if len(w) > 5 {
		w = w[len(w)-5:]
	}
	sum := 0.0
	for _, s := range w {
		sum += 1 / tput(s)
	}
	harmonic := 1.0 / (sum / float64(len(w)))
	maxErr := 0.0
	for _, e := range r.errs {
		maxErr = math.Max(maxErr, e)
	}
	r.has, r.last = true, harmonic
	r.cached = harmonic / (1 + maxErr)
}

// MaxPlans bounds the plans one lookahead search enumerates (K^horizon): a ladder with
// more rungs gets a shorter horizon, so a decision's cost is bounded whatever the ladder.
// Pensieve's 6 rungs × 5 segments (7,776 plans) are within it.
const MaxPlans = 1 << 15

// boundedHorizon is the longest horizon ≤ h whose K^horizon plans fit MaxPlans (at least 1).
func boundedHorizon(h, K int) int {
	plans := 1
	for i := 0; i < h; i++ {
		if plans*K > MaxPlans {
			return max(i, 1)
		}
		plans *= K
	}
	return h
}
