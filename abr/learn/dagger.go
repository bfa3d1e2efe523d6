// Package learn trains strata's learned ABR policies (abr.Learned) in the simulator by
// imitating the oracle, DAgger-style (Comyco, MM'19; Ross et al., AISTATS'11): roll the
// current policy out on the training traces, ask the oracle what it would do in every state
// the policy reached (it replans from that exact simulator state, knowing the rest of the
// trace), add those choices to the data set, and fit the network to all choices so far.
package learn

import (
	"context"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/nn"
	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/net/trace"
)

// teacher labels the states a session reaches: it wraps the policy that drives the session
// (the planner or the learner) and, in a fraction of the states, asks the oracle for the
// value of every candidate action there.
type teacher struct {
	drive abr.Policy
	label labeler
	feat  abr.Featurizer
	out   []nn.Choice
	// tie is the QoE difference below which the planner's pick counts as good as the
	// oracle's choice.
	tie float64
}

// labeler is the oracle side of a teacher for one kind of simulator.
type labeler interface {
	start(tr *trace.Trace, cfg sim.SimConfig)
	// label returns the oracle's value of each candidate (nil: no label for this state).
	label(s *abr.State, acts []abr.Action) []float64
	took(a abr.Action)
}

func (t *teacher) Name() string { return "teacher(" + t.drive.Name() + ")" }

func (t *teacher) Reset() { t.drive.Reset(); t.feat.Reset() }

func (t *teacher) Decide(ctx context.Context, s *abr.State) abr.Action {
	a := t.drive.Decide(ctx, s)
	acts, rows := t.feat.Candidates(s)
	if len(acts) < 2 {
		t.label.took(a)
		return a
	}
	val := t.label.label(s, acts)
	if val == nil {
		t.label.took(a)
		return a
	}
	target := 0
	for i := range acts {
		if val[i] > val[target] {
			target = i
		}
	}
	best := val[target]
	// Where the planner's own pick (robustMPC's, swift's: feature plannerPick) is as good as
	// the oracle's choice, it is the target: ties broken the same way every time.
	for i, r := range rows {
		if r[abr.PlannerPickFeature] == 1 && val[i] >= val[target]-t.tie {
			target = i
			break
		}
	}
	x := make([][]float64, len(rows))
	regret := make([]float64, len(rows))
	for i, r := range rows {
		x[i] = append([]float64(nil), r...)
		regret[i] = min(best-val[i], maxRegret)
	}
	t.out = append(t.out, nn.Choice{X: x, Target: target, Regret: regret})
	t.label.took(a)
	return a
}

// Foresee gives the oracle side the session's trace (the simulator calls it after Reset).
func (t *teacher) Foresee(tr *trace.Trace, cfg sim.SimConfig) error {
	t.label.start(tr, cfg)
	return nil
}

// classicLabels asks the oracle of Pensieve's simulator: it replays the session's chunks so
// far on a fresh network model (deterministic, so it reaches the exact state) and plans the
// rest of the trace from there.
type classicLabels struct {
	tr   *trace.Trace
	cfg  sim.SimConfig
	hist []int
	// rate is the fraction of states labelled; r draws which.
	rate float64
	r    *rng
}

func (c *classicLabels) start(tr *trace.Trace, cfg sim.SimConfig) {
	c.tr, c.cfg = tr, cfg
	c.hist = append(c.hist[:0], abr.DefaultQuality)
}

func (c *classicLabels) took(a abr.Action) {
	if a.Kind == abr.Fetch {
		c.hist = append(c.hist, a.Quality)
	}
}

func (c *classicLabels) label(s *abr.State, acts []abr.Action) []float64 {
	if c.rate < 1 && c.r.float() >= c.rate {
		return nil
	}
	link := sim.PensieveLink
	if c.cfg.Link != nil {
		link = *c.cfg.Link
	}
	env := sim.NewEnvLink(c.tr, link)
	v := c.cfg.Video
	for i, q := range c.hist[:s.Next] {
		env.Download(v.Size(q, i), v.ChunkS)
	}
	fv := sim.OracleValues(env, v, c.cfg.QoE, s.Next, s.LastQuality, teacherStepMs)
	if len(fv) == 0 {
		return nil
	}
	out := make([]float64, len(acts))
	for i, a := range acts {
		out[i] = fv[a.Quality]
	}
	return out
}

// teacherStepMs is the oracle's buffer rounding when it labels states (coarser than the
// oracle policy's 50 ms: 99.7 % of its value at a tenth of the cost on pensieve_train).
const teacherStepMs = 500

// DefaultTie is the QoE difference below which the planner's pick counts as good as the
// oracle's choice.
const DefaultTie = 1e-3

// maxRegret caps a label's regret (QoE units), so one hopeless state cannot dominate a batch.
const maxRegret = 20

// layeredLabels asks the layered oracle: it replays the session's actions on a fresh
// layered session (deterministic, so it reaches the exact state) and values every
// candidate by the best session that takes it now.
type layeredLabels struct {
	tr   *trace.Trace
	cfg  sim.LayeredConfig
	hist []abr.Action
	rate float64
	r    *rng
}

func (c *layeredLabels) start(tr *trace.Trace, cfg sim.SimConfig) {
	c.tr, c.cfg = tr, *cfg.Layered
	c.hist = c.hist[:0]
}

func (c *layeredLabels) took(a abr.Action) { c.hist = append(c.hist, a) }

func (c *layeredLabels) label(s *abr.State, acts []abr.Action) []float64 {
	if c.rate < 1 && c.r.float() >= c.rate {
		return nil
	}
	ls, err := sim.NewLayeredSession(c.tr, c.cfg)
	if err != nil {
		return nil
	}
	if ls.Apply(ls.FirstAction()) != nil {
		return nil
	}
	for _, a := range c.hist {
		if ls.Apply(a) != nil {
			return nil
		}
	}
	return sim.LayeredValues(ls, acts)
}
