package sim

import (
	"math"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/net/trace"
)

// shortVideo is the first n chunks of envivio.
func shortVideo(t *testing.T, n int) *abr.Video {
	v := *loadEnvivio(t)
	v.Chunks = n
	return &v
}

func sessionValue(res TraceResult) float64 {
	s := 0.0
	for i, c := range res.Chunks {
		if i > 0 {
			s += c.Reward
		}
	}
	return s
}

// bruteForce is the best QoE over every plan of chunks 1..N−1, each simulated exactly.
func bruteForce(tr *trace.Trace, v *abr.Video, qoe abr.QoE) float64 {
	K := len(v.BitratesKbps)
	best := math.Inf(-1)
	var rec func(env Env, i, last int, val float64)
	rec = func(env Env, i, last int, val float64) {
		if i == v.Chunks {
			best = math.Max(best, val)
			return
		}
		for q := 0; q < K; q++ {
			e := env
			s := e.Download(v.Size(q, i), v.ChunkS)
			rec(e, i+1, q, val+qoe.Reward(v, q, last, s.RebufferS))
		}
	}
	env := NewEnv(tr)
	env.Download(v.Size(abr.DefaultQuality, 0), v.ChunkS)
	rec(*env, 1, abr.DefaultQuality, 0)
	return best
}

// TestOracleOptimal: on 6-chunk sessions over real traces the oracle finds the exhaustive
// search's optimum (7,776 plans each) to within its buffer rounding, and never claims more.
func TestOracleOptimal(t *testing.T) {
	v := shortVideo(t, 6)
	trs, err := trace.LoadDir(shared.Require(t, "abr/traces/pensieve_train"), trace.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	exact := 0
	for i := 0; i < len(trs); i += 8 {
		o := &Oracle{}
		if err := o.Foresee(trs[i], SimConfig{Video: v, QoE: abr.QoELin}); err != nil {
			t.Fatal(err)
		}
		bf := bruteForce(trs[i], v, abr.QoELin)
		if o.Value > bf+1e-9 || o.Value < bf-0.01*math.Abs(bf)-1e-9 {
			t.Errorf("%s: oracle %v, exhaustive search %v", trs[i].Name, o.Value, bf)
		}
		if math.Abs(o.Value-bf) < 1e-9 {
			exact++
		}
	}
	t.Logf("oracle = exhaustive optimum on %d of %d traces", exact, (len(trs)+7)/8)
	if exact*10 < 8*((len(trs)+7)/8) {
		t.Errorf("the oracle matched the optimum on only %d traces", exact)
	}
}

// TestOracleBound: the oracle's plan, played by the simulator, has exactly its planned
// value and is at least every other policy's QoE on every trace (classic and layered).
func TestOracleBound(t *testing.T) {
	if testing.Short() {
		t.Skip("long run: make test runs it in its pass without -race -short")
	}
	v := loadEnvivio(t)
	trs, err := trace.LoadDir(shared.Require(t, "abr/traces/oboe"), trace.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	trs = trs[:40]
	cfg := SimConfig{Video: v, QoE: abr.QoELin}
	for _, tr := range trs {
		o := &Oracle{}
		res, err := SimulateTrace(o, tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := sessionValue(res); math.Abs(got-o.Value) > 1e-9 {
			t.Errorf("%s: the oracle planned %v, the session gave %v", tr.Name, o.Value, got)
		}
		for _, name := range []string{"mpc", "bba", "bola", "rate"} {
			spec, _ := abr.Lookup(name)
			r, err := SimulateTrace(spec.New(), tr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sessionValue(r) > o.Value+1e-9 {
				t.Errorf("%s: %s has abr.QoE %v above the oracle's %v", tr.Name, name, sessionValue(r), o.Value)
			}
		}
	}
	// Layered: a 3-segment stream on a constant link and on real traces.
	lv := layeredTestVideo(t)
	for _, tr := range append([]*trace.Trace{constTrace()}, trs[:10]...) {
		lc := LayeredConfig{Video: lv, DecodeFPS: 30}
		o := &Oracle{}
		res, err := SimulateLayered(o, tr, lc)
		if err != nil {
			t.Fatal(err)
		}
		if got := sessionValue(res); math.Abs(got-o.Value) > 1e-9 {
			t.Errorf("layered %s: the oracle planned %v, the session gave %v", tr.Name, o.Value, got)
		}
		for _, name := range []string{"swift", "lifter", "mpc"} {
			spec, _ := abr.Lookup(name)
			r, err := SimulateLayered(spec.New(), tr, lc)
			if err != nil {
				t.Fatal(err)
			}
			if sessionValue(r) > o.Value+1e-9 {
				t.Errorf("layered %s: %s has abr.QoE %v above the oracle's %v", tr.Name, name, sessionValue(r), o.Value)
			}
		}
	}
}

func TestOracleIsSimOnly(t *testing.T) {
	if _, err := abr.LookupLive("oracle"); err == nil {
		t.Error("a live session accepted the oracle")
	}
	if _, err := abr.LookupLive("learned"); err != nil {
		t.Error(err)
	}
}
