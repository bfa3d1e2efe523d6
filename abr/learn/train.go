package learn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/nn"
	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/net/trace"
)

// Config is one training run.
type Config struct {
	// Sim is the simulator the policy is trained in: Pensieve's (Video, QoE; the classic
	// model) or the layered one (Layered; the layered model).
	Sim sim.SimConfig
	// DecodeFPS, for the layered simulator, lists device speeds sessions are drawn from
	// (0: instant decoding); each training trace gets one, by its index.
	DecodeFPS []float64
	// Train are the traces trained on; Dev, a part of the training sets kept out of the
	// data, picks the best iteration. Validation traces are never seen here.
	Train, Dev []*trace.Trace
	Iters      int     // DAgger iterations after the first (planner-driven) one; default 4
	Epochs     int     // passes over the data set per iteration; default 6
	Hidden     []int   // hidden layer sizes; default 64, 64
	LR         float64 // Adam's step; default 1e-3
	Batch      int     // choices per step; default 128
	LabelRate  float64 // fraction of the states the oracle labels in DAgger rollouts; default 0.5
	CEWeight   float64 // the cross-entropy's share beside the expected regret; default nn.DefaultCEWeight
	Tie        float64 // the planner's pick is the target when within this QoE of the oracle's; default DefaultTie
	Seed       uint64
	Workers    int // parallel rollouts; 0: GOMAXPROCS
	// Init, if set, is the starting network (a previous run's model; Hidden is then
	// ignored): DAgger continues from it, iteration 0 rolling it out instead of the planner.
	Init *nn.MLP
	// Data, if set, are labelled choices of earlier runs (ReadData): the data set starts
	// with them. SaveData, if set, receives the whole data set after each iteration's
	// rollouts.
	Data     []nn.Choice
	SaveData func(data []nn.Choice) error
	// Progress, if set, receives each iteration's report; Checkpoint, if set, each
	// iteration's network (a run continues from one with Init).
	Progress   func(Report)
	Checkpoint func(iter int, net *nn.MLP) error
}

// Report is one iteration of a run.
type Report struct {
	// Iter is the DAgger iteration; −1 reports the untrained network.
	Iter    int
	Choices int     // labelled decisions in the data set
	Loss    float64 // mean loss (expected regret + weighted cross-entropy) of the last epoch
	Acc     float64 // share of the data set where the network picks the oracle's action
	DevQoE  float64 // mean QoE (per chunk after the first, per trace) of the policy on Dev
	Seconds float64 // since the run started
}

func (c *Config) defaults() {
	if c.Iters <= 0 {
		c.Iters = 4
	}
	if c.Epochs <= 0 {
		c.Epochs = 6
	}
	if len(c.Hidden) == 0 {
		c.Hidden = []int{64, 64}
	}
	if c.LR <= 0 {
		c.LR = 1e-3
	}
	if c.Batch <= 0 {
		c.Batch = 128
	}
	if c.LabelRate <= 0 {
		c.LabelRate = 0.5
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Tie <= 0 {
		c.Tie = DefaultTie
	}
}

// rng is a per-rollout deterministic random source.
type rng struct{ r *rand.Rand }

func newRNG(seed uint64, a, b int) *rng {
	return &rng{rand.New(rand.NewPCG(seed, uint64(a)<<32|uint64(b)))}
}

func (r *rng) float() float64 { return r.r.Float64() }

// Train runs DAgger: iteration 0 follows robustMPC, later ones the current network; the
// returned network is the iteration with the best Dev QoE.
func Train(cfg Config) (*nn.MLP, []Report, error) {
	cfg.defaults()
	if len(cfg.Train) == 0 || len(cfg.Dev) == 0 {
		return nil, nil, errors.New("learn: want training and dev traces")
	}
	net, err := startNet(cfg, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	data := append([]nn.Choice(nil), cfg.Data...)
	var reports []Report
	var best *nn.MLP
	bestQoE := 0.0
	opt := nn.NewAdam(net, cfg.LR)
	shuffle := rand.New(rand.NewPCG(cfg.Seed, 7))
	start, err := Evaluate(cfg.Sim, &abr.Learned{Classic: net, Layered: net}, cfg.Dev, cfg.DecodeFPS, cfg.Workers)
	if err != nil {
		return nil, nil, err
	}
	reports = append(reports, Report{Iter: -1, DevQoE: start.QoEMean, Seconds: time.Since(t0).Seconds()})
	if cfg.Progress != nil {
		cfg.Progress(reports[0])
	}
	for it := 0; it <= cfg.Iters; it++ {
		got, err := rollouts(cfg, net, it)
		if err != nil {
			return nil, nil, err
		}
		data = append(data, got...)
		if cfg.SaveData != nil {
			if err := cfg.SaveData(data); err != nil {
				return nil, nil, err
			}
		}
		r, err := fitReport(cfg, net, opt, data, shuffle, it, t0)
		if err != nil {
			return nil, nil, err
		}
		reports = append(reports, r)
		if cfg.Checkpoint != nil {
			if err := cfg.Checkpoint(it, net); err != nil {
				return nil, nil, err
			}
		}
		if best == nil || r.DevQoE > bestQoE {
			best, bestQoE = clone(net), r.DevQoE
		}
	}
	return best, reports, nil
}

// startNet is a run's starting network: a copy of cfg.Init, or a new one of cfg.Hidden
// seeded with seed.
func startNet(cfg Config, seed uint64) (*nn.MLP, error) {
	if cfg.Init != nil {
		if cfg.Init.Inputs() != abr.Features {
			return nil, errors.New("learn: the initial network's input size does not match the features")
		}
		return clone(cfg.Init), nil
	}
	return nn.New(seed, append(append([]int{abr.Features}, cfg.Hidden...), 1)...)
}

// fit runs cfg.Epochs passes of Adam over data (shuffled by shuffle, in place) and returns
// the last epoch's mean loss and agreement with the targets.
func fit(cfg Config, net *nn.MLP, opt *nn.Adam, data []nn.Choice, shuffle *rand.Rand) (loss, acc float64) {
	tr := nn.NewTrainer(net)
	if cfg.CEWeight > 0 {
		tr.CEWeight = cfg.CEWeight
	}
	for ep := 0; ep < cfg.Epochs; ep++ {
		shuffle.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
		loss, acc = 0, 0
		for b := 0; b < len(data); b += cfg.Batch {
			tr.Grad().Zero()
			end := min(b+cfg.Batch, len(data))
			for _, c := range data[b:end] {
				l, ok := tr.Add(c)
				loss += l
				if ok {
					acc++
				}
			}
			opt.Step(net, tr.Grad(), 1/float64(end-b))
		}
		loss /= float64(len(data))
		acc /= float64(len(data))
	}
	return loss, acc
}

// fitReport fits net to data (fit), evaluates it on cfg.Dev and reports it as iteration it.
func fitReport(cfg Config, net *nn.MLP, opt *nn.Adam, data []nn.Choice, shuffle *rand.Rand, it int, t0 time.Time) (Report, error) {
	loss, acc := fit(cfg, net, opt, data, shuffle)
	dev, err := Evaluate(cfg.Sim, &abr.Learned{Classic: net, Layered: net}, cfg.Dev, cfg.DecodeFPS, cfg.Workers)
	if err != nil {
		return Report{}, err
	}
	r := Report{Iter: it, Choices: len(data), Loss: loss, Acc: acc, DevQoE: dev.QoEMean, Seconds: time.Since(t0).Seconds()}
	if cfg.Progress != nil {
		cfg.Progress(r)
	}
	return r, nil
}

// FitEnsemble fits k networks to cfg.Data without new rollouts — member i from cfg.Init
// (or a new network of cfg.Hidden seeded Seed+i), its batches shuffled by Seed+i — and
// returns them as an ensemble, with reports (DevQoE on cfg.Dev) of the starting network
// (Iter −1, as Train's first), each member (Iter i) and the ensemble (Iter k, last).
func FitEnsemble(cfg Config, k int) (nn.Ensemble, []Report, error) {
	cfg.defaults()
	if len(cfg.Data) == 0 || len(cfg.Dev) == 0 {
		return nil, nil, errors.New("learn: want a data set and dev traces")
	}
	if k < 1 || k > nn.MaxMembers {
		return nil, nil, fmt.Errorf("learn: %d members, want 1..%d", k, nn.MaxMembers)
	}
	t0 := time.Now()
	var e nn.Ensemble
	var reports []Report
	for i := 0; i < k; i++ {
		seed := cfg.Seed + uint64(i)
		data := append([]nn.Choice(nil), cfg.Data...)
		net, err := startNet(cfg, seed)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			start, err := Evaluate(cfg.Sim, &abr.Learned{Classic: net, Layered: net}, cfg.Dev, cfg.DecodeFPS, cfg.Workers)
			if err != nil {
				return nil, nil, err
			}
			reports = append(reports, Report{Iter: -1, DevQoE: start.QoEMean})
		}
		r, err := fitReport(cfg, net, nn.NewAdam(net, cfg.LR), data, rand.New(rand.NewPCG(seed, 7)), i, t0)
		if err != nil {
			return nil, nil, err
		}
		reports = append(reports, r)
		e = append(e, net)
	}
	dev, err := Evaluate(cfg.Sim, &abr.Learned{Classic: e, Layered: e}, cfg.Dev, cfg.DecodeFPS, cfg.Workers)
	if err != nil {
		return nil, nil, err
	}
	reports = append(reports, Report{Iter: k, Choices: len(cfg.Data), DevQoE: dev.QoEMean, Seconds: time.Since(t0).Seconds()})
	return e, reports, nil
}

func clone(m *nn.MLP) *nn.MLP {
	c, err := nn.Unmarshal(m.Marshal())
	if err != nil {
		panic(err) // a network always round-trips
	}
	return c
}

// rollouts runs one DAgger iteration's sessions on the training traces and returns the
// labelled choices in trace order.
func rollouts(cfg Config, net *nn.MLP, it int) ([]nn.Choice, error) {
	per := make([][]nn.Choice, len(cfg.Train))
	errs := make([]error, len(cfg.Train))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				per[i], errs[i] = rollout(cfg, net, it, i)
			}
		}()
	}
	for i := range cfg.Train {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []nn.Choice
	for i := range per {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, per[i]...)
	}
	return out, nil
}

func rollout(cfg Config, net *nn.MLP, it, i int) ([]nn.Choice, error) {
	tr := cfg.Train[i]
	r := newRNG(cfg.Seed, it, i)
	sc := sessionConfig(cfg.Sim, cfg.DecodeFPS, i)
	t := &teacher{drive: &abr.Learned{Classic: net, Layered: net}, tie: cfg.Tie}
	// The first data set comes from the planner's sessions (robustMPC, swift): states a
	// sensible policy reaches (the oracle's own path teaches too little about recovering
	// from mistakes).
	planner := abr.Policy(abr.NewMPC(false))
	if sc.Layered != nil {
		t.label = &layeredLabels{rate: cfg.LabelRate, r: r}
		planner = &abr.Layer{Upgrades: true}
	} else {
		t.label = &classicLabels{rate: cfg.LabelRate, r: r}
	}
	if it == 0 && cfg.Init == nil {
		t.drive = planner
	}
	if _, err := sc.Run(t, tr); err != nil {
		return nil, err
	}
	return t.out, nil
}

// sessionConfig is the simulator configuration of session i (its device speed).
func sessionConfig(sc sim.SimConfig, fps []float64, i int) sim.SimConfig {
	if sc.Layered == nil || len(fps) == 0 {
		return sc
	}
	l := *sc.Layered
	l.DecodeFPS = fps[i%len(fps)]
	sc.Layered = &l
	return sc
}

// Evaluate runs the learned policy with p's networks on traces and summarises mean QoE.
func Evaluate(cfg sim.SimConfig, p *abr.Learned, traces []*trace.Trace, fps []float64, workers int) (sim.Summary, error) {
	return EvaluatePolicy(cfg, "learned", func() abr.Policy {
		return &abr.Learned{Classic: p.Classic, Layered: p.Layered, ClassicMargin: p.ClassicMargin, LayeredMargin: p.LayeredMargin}
	}, traces, fps, workers)
}

// Margins are the score leads TuneMargin tries (0: the network alone decides).
var Margins = []float64{0, 0.25, 0.5, 1, 2, 4}

// TuneMargin picks the margin (Learned.ClassicMargin / LayeredMargin) with the best mean
// QoE on the training and dev traces together (ties: the larger, closer to the planner;
// the dev traces alone are too few to rank margins that differ by 0.01 %) and returns it
// with each margin's QoE.
func TuneMargin(cfg Config, net nn.Scorer) (float64, []float64, error) {
	cfg.defaults()
	cfg.Dev = append(append([]*trace.Trace(nil), cfg.Train...), cfg.Dev...)
	best, bestQ := 0.0, 0.0
	var qs []float64
	for i, m := range Margins {
		p := &abr.Learned{Classic: net, Layered: net, ClassicMargin: m, LayeredMargin: m}
		s, err := Evaluate(cfg.Sim, p, cfg.Dev, cfg.DecodeFPS, cfg.Workers)
		if err != nil {
			return 0, nil, err
		}
		qs = append(qs, s.QoEMean)
		if i == 0 || s.QoEMean >= bestQ {
			best, bestQ = m, s.QoEMean
		}
	}
	return best, qs, nil
}

// EvaluatePolicy runs a policy on traces with sim.Simulate, session i with device speed
// fps[i%len(fps)] in the layered simulator, and summarises mean QoE.
func EvaluatePolicy(cfg sim.SimConfig, name string, newPolicy func() abr.Policy, traces []*trace.Trace, fps []float64, workers int) (sim.Summary, error) {
	groups := max(len(fps), 1)
	if cfg.Layered == nil {
		groups = 1
	}
	spec := abr.Spec{Name: name, New: newPolicy}
	var res []sim.TraceResult
	for g := 0; g < groups; g++ {
		var part []*trace.Trace
		for i := g; i < len(traces); i += groups {
			part = append(part, traces[i])
		}
		if len(part) == 0 {
			continue
		}
		r, err := sim.Simulate(spec, part, sessionConfig(cfg, fps, g), workers, nil)
		if err != nil {
			return sim.Summary{}, err
		}
		res = append(res, r...)
	}
	return sim.Summarize(name, cfg.QoE.Name, res), nil
}
