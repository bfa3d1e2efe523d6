package enhance

import (
	"math"
	"math/rand/v2"
)

// OnlineConfig tunes the content-adaptive trainer.
type OnlineConfig struct {
	LR    float64 // Adam's step; default 1e-3
	Batch int     // patches per step; default 8
	// Pool bounds the training patches kept (the newest); default 512. Every fifth patch
	// goes to a validation set of at most Pool/4 instead.
	Pool int
	// EvalEvery is how many steps pass between validations; default 100. The trainer
	// pauses when the validation gain rose by less than SaturationDB over the last
	// SaturationEvals validations (default 0.02 dB over 3; a negative SaturationDB never
	// pauses), and resumes on a scene change
	// or when new patches show the model's gain fell by DriftDB (default 0.15 dB).
	EvalEvery       int
	SaturationDB    float64
	SaturationEvals int
	DriftDB         float64
	Seed            uint64
}

func (c *OnlineConfig) defaults() {
	if c.LR <= 0 {
		c.LR = 1e-3
	}
	if c.Batch <= 0 {
		c.Batch = 8
	}
	if c.Pool <= 0 {
		c.Pool = 512
	}
	if c.EvalEvery <= 0 {
		c.EvalEvery = 100
	}
	if c.SaturationDB == 0 {
		c.SaturationDB = 0.02
	}
	if c.SaturationEvals <= 0 {
		c.SaturationEvals = 3
	}
	if c.DriftDB <= 0 {
		c.DriftDB = 0.15
	}
}

// Online is LiveNAS's content-adaptive trainer: it trains on the patches of what was
// published so far, validates on held-out patches, pauses when its gain saturates and
// resumes at a scene change or when new content drifts from what it learned.
type Online struct {
	cfg   OnlineConfig
	tr    *Trainer
	start *Trainer // the starting model, kept to measure what a trained version must beat
	r     *rand.Rand
	train []Patch
	val   []Patch
	added int
	steps int
	// gains are the validation gains (dB over the plain decoded patches) at each
	// validation since the last resume.
	gains  []float64
	paused bool
	// Pauses and Resumes count the trainer's state changes.
	Pauses, Resumes int
}

// NewOnline trains net (the generic model, or a new one) online.
func NewOnline(net *Net, cfg OnlineConfig) *Online {
	cfg.defaults()
	return &Online{cfg: cfg, tr: NewTrainer(net, cfg.LR), start: NewTrainer(net.Clone(), 0), r: rand.New(rand.NewPCG(cfg.Seed, 0x11fe))}
}

// Add takes the patches of a newly published segment; sceneChange says the streamer saw a
// new scene in it (the trainer resumes).
func (o *Online) Add(ps []Patch, sceneChange bool) {
	var fresh []Patch
	for _, p := range ps {
		o.added++
		if o.added%5 == 0 {
			o.val = append(o.val, p)
			fresh = append(fresh, p)
		} else {
			o.train = append(o.train, p)
		}
	}
	if n := len(o.train) - o.cfg.Pool; n > 0 {
		o.train = append(o.train[:0:0], o.train[n:]...)
	}
	if n := len(o.val) - o.cfg.Pool/4; n > 0 {
		o.val = append(o.val[:0:0], o.val[n:]...)
	}
	if !o.paused {
		return
	}
	drift := false
	if len(fresh) > 0 && len(o.gains) > 0 {
		drift = o.gainOn(fresh) < o.gains[len(o.gains)-1]-o.cfg.DriftDB
	}
	if sceneChange || drift {
		o.paused = false
		o.gains = o.gains[:0]
		o.Resumes++
	}
}

// Paused says whether the trainer is paused (its gain saturated).
func (o *Online) Paused() bool { return o.paused }

// Steps is the number of training steps taken.
func (o *Online) Steps() int { return o.steps }

// Train takes up to n steps (none while paused, or before there are patches) and returns
// how many it took.
func (o *Online) Train(n int) int {
	done := 0
	batch := make([]Patch, o.cfg.Batch)
	for ; done < n && !o.paused && len(o.train) > 0; done++ {
		for i := range batch {
			batch[i] = Augment(o.train[o.r.IntN(len(o.train))], o.r.IntN(8))
		}
		o.tr.Step(batch)
		o.steps++
		if o.steps%o.cfg.EvalEvery == 0 && len(o.val) > 0 {
			o.gains = append(o.gains, o.gainOn(o.val))
			k := o.cfg.SaturationEvals
			if len(o.gains) > k && o.gains[len(o.gains)-1]-o.gains[len(o.gains)-1-k] < o.cfg.SaturationDB {
				o.paused = true
				o.Pauses++
			}
		}
	}
	return done
}

// Gain is the current model's PSNR gain over the plain decoded validation patches (dB).
func (o *Online) Gain() float64 { return o.gainOn(o.val) }

// BeatsStart says whether the current model does better on the held-out patches than the
// model training started from (the generic one): only then is it worth publishing — early
// on, fitted to a handful of patches, it can be worse on whole frames than where it began.
func (o *Online) BeatsStart() bool {
	if len(o.val) == 0 {
		return false
	}
	return o.tr.Loss(o.val) < o.start.Loss(o.val)
}

func (o *Online) gainOn(ps []Patch) float64 {
	if len(ps) == 0 {
		return 0
	}
	return GainDB(PlainMSE(ps), o.tr.Loss(ps))
}

// PlainMSE is the mean squared error of the decoded patches' interiors (0..1 scale): the
// error with no enhancement.
func PlainMSE(ps []Patch) float64 {
	s, n := 0.0, 0
	for _, p := range ps {
		for y := Margin; y < p.H&^1-Margin; y++ {
			for x := Margin; x < p.W&^1-Margin; x++ {
				d := (float64(p.Decoded[y*p.W+x]) - float64(p.Source[y*p.W+x])) / 255
				s += d * d
				n++
			}
		}
	}
	return s / float64(max(n, 1))
}

// GainDB is the PSNR gain of an enhanced error over the plain one.
func GainDB(plain, enhanced float64) float64 {
	if plain <= 0 || enhanced <= 0 {
		return 0
	}
	return 10 * math.Log10(plain/enhanced)
}

// Snapshot is the current model, to publish.
func (o *Online) Snapshot() *Net { return o.tr.Snapshot() }

// Augment returns p flipped and transposed by one of the 8 symmetries of the square
// (k = 0..7; 0 is p itself).
func Augment(p Patch, k int) Patch {
	if k == 0 || p.W != p.H {
		return p
	}
	n := p.W
	q := Patch{W: n, H: n, Decoded: make([]byte, n*n), Source: make([]byte, n*n)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx, sy := x, y
			if k&1 != 0 {
				sx = n - 1 - sx
			}
			if k&2 != 0 {
				sy = n - 1 - sy
			}
			if k&4 != 0 {
				sx, sy = sy, sx
			}
			q.Decoded[y*n+x] = p.Decoded[sy*n+sx]
			q.Source[y*n+x] = p.Source[sy*n+sx]
		}
	}
	return q
}
