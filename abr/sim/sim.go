package sim

import (
	"context"
	"fmt"
	"runtime"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/net/trace"
)

// ChunkLog is one downloaded chunk of a simulated session, with Pensieve's log columns.
type ChunkLog struct {
	// TimeS is Pensieve's time column: the sum of delays and of fixed_env's returned sleep.
	TimeS       float64
	Quality     int
	BitrateKbps float64
	BufferS     float64
	RebufferS   float64
	Bytes       int64
	DelayMs     float64
	SleepMs     float64
	Reward      float64
	// PSNRY is the decoded quality (layered simulator only).
	PSNRY float64
}

// TraceResult is one simulated session.
type TraceResult struct {
	Trace  string
	Chunks []ChunkLog
	// Upgrades counts layer upgrades requested (layered simulator); WastedUpgrades those
	// that arrived after their segment was committed to the decoder.
	Upgrades, WastedUpgrades int
}

// SimConfig is what every simulated session shares.
type SimConfig struct {
	Video *abr.Video
	QoE   abr.QoE
	// Link, if not nil, replaces Pensieve's link model (80 ms RTT, 95 % payload).
	Link *LinkModel
	// Layered, if not nil, runs the layered simulator (SimulateLayered) with it instead;
	// Video and QoE above are then unused.
	Layered *LayeredConfig
}

// Run plays one session of policy p on tr in the simulator cfg selects.
func (cfg SimConfig) Run(p abr.Policy, tr *trace.Trace) (TraceResult, error) {
	if cfg.Layered != nil {
		return SimulateLayered(p, tr, *cfg.Layered)
	}
	return SimulateTrace(p, tr, cfg)
}

// SimulateTrace plays cfg.Video over tr in Pensieve's network model with policy p, as
// Pensieve's bb.py / mpc.py loops do: the first chunk at DefaultQuality, then after every
// download (the last one too, so history-keeping policies see every sample) p decides.
func SimulateTrace(p abr.Policy, tr *trace.Trace, cfg SimConfig) (TraceResult, error) {
	v := cfg.Video
	p.Reset()
	if f, ok := p.(Foresighted); ok {
		if err := f.Foresee(tr, cfg); err != nil {
			return TraceResult{}, err
		}
	}
	link := PensieveLink
	if cfg.Link != nil {
		link = *cfg.Link
	}
	env := NewEnvLink(tr, link)
	res := TraceResult{Trace: tr.Name, Chunks: make([]ChunkLog, 0, v.Chunks)}
	st := &abr.State{Video: v, Samples: make([]abr.Sample, 0, v.Chunks)}
	q, prev := abr.DefaultQuality, abr.DefaultQuality
	var timeMs float64
	for i := 0; i < v.Chunks; i++ {
		step := env.Download(v.Sizes[q][i], v.ChunkS)
		timeMs += step.DelayMs
		timeMs += step.LoggedSleepMs
		res.Chunks = append(res.Chunks, ChunkLog{
			TimeS: timeMs / 1000, Quality: q, BitrateKbps: v.BitratesKbps[q],
			BufferS: step.BufferS, RebufferS: step.RebufferS, Bytes: step.Bytes,
			DelayMs: step.DelayMs, SleepMs: step.SleepMs,
			Reward: cfg.QoE.Reward(v, q, prev, step.RebufferS),
		})
		prev = q
		st.Next, st.LastQuality, st.BufferS, st.RebufferS = i+1, q, step.BufferS, step.RebufferS
		st.Samples = append(st.Samples, abr.Sample{Bytes: step.Bytes, DelayMs: step.DelayMs, DownloadMs: step.DelayMs - link.RTTMs})
		a := p.Decide(context.Background(), st)
		if i+1 == v.Chunks {
			break
		}
		if a.Kind != abr.Fetch || a.Segment != i+1 || a.Quality < 0 || a.Quality >= len(v.BitratesKbps) {
			return res, fmt.Errorf("policy %s on %s after chunk %d: action %+v is not a fetch of chunk %d at a quality in 0..%d (this simulator is single-layer)",
				p.Name(), tr.Name, i, a, i+1, len(v.BitratesKbps)-1)
		}
		q = a.Quality
	}
	return res, nil
}

// Simulate runs every trace with the policy spec describes. Policies whose state crosses
// sessions run in trace order through one instance; others run on `workers` goroutines
// (0 means GOMAXPROCS), each with its own instance. progress, if not nil, is called from
// the calling goroutine after each finished trace with the count done.
func Simulate(spec abr.Spec, traces []*trace.Trace, cfg SimConfig, workers int, progress func(done int)) ([]TraceResult, error) {
	v := cfg.Video
	if cfg.Layered != nil {
		v = cfg.Layered.Video
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	out := make([]TraceResult, len(traces))
	if spec.Sequential || workers == 1 || len(traces) < 2 {
		p := spec.New()
		for i, tr := range traces {
			r, err := cfg.Run(p, tr)
			if err != nil {
				return nil, err
			}
			out[i] = r
			if progress != nil {
				progress(i + 1)
			}
		}
		return out, nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		i   int
		r   TraceResult
		err error
	}
	jobs := make(chan int)
	results := make(chan result)
	for w := 0; w < workers; w++ {
		go func() {
			p := spec.New()
			for i := range jobs {
				r, err := cfg.Run(p, traces[i])
				results <- result{i, r, err}
			}
		}()
	}
	go func() {
		for i := range traces {
			jobs <- i
		}
		close(jobs)
	}()
	var firstErr error
	for done := 1; done <= len(traces); done++ {
		r := <-results
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
		out[r.i] = r.r
		if progress != nil {
			progress(done)
		}
	}
	return out, firstErr
}
