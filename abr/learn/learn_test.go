package learn

import (
	"bytes"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/net/trace"
)

func tinyConfig(t *testing.T, workers int) Config {
	root := shared.Require(t, "abr/traces")
	v, err := abr.LoadEnvivio(shared.Require(t, "abr/video"))
	if err != nil {
		t.Fatal(err)
	}
	train, err := LoadSplit(root, []string{"pensieve_train", "oboe"}, "train")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := LoadSplit(root, []string{"pensieve_train", "oboe"}, "dev")
	if err != nil {
		t.Fatal(err)
	}
	pick := func(x []*trace.Trace, n int) []*trace.Trace {
		out := make([]*trace.Trace, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, x[i*len(x)/n])
		}
		return out
	}
	n := 6
	if testing.Short() { // the race pass: fewer sessions, still two workers
		n, workers = 3, 2
	}
	return Config{Sim: sim.SimConfig{Video: v, QoE: abr.QoELin}, Train: pick(train, n), Dev: pick(dev, n),
		Iters: 1, Epochs: 100, Batch: 32, LR: 3e-3, Hidden: []int{16}, LabelRate: 0.3, Seed: 3, Workers: workers}
}

// TestTinyTrainingImproves: a small DAgger run must beat its untrained network on dev
// traces, and the run is deterministic whatever the number of workers.
func TestTinyTrainingImproves(t *testing.T) {
	net, reports, err := Train(tinyConfig(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	start, best := reports[0].DevQoE, reports[0].DevQoE
	t.Logf("untrained: dev QoE %.4f", start)
	for _, r := range reports[1:] {
		best = max(best, r.DevQoE)
		t.Logf("iter %d: %d choices, agreement %.2f, dev QoE %.4f", r.Iter, r.Choices, r.Acc, r.DevQoE)
	}
	if !(best > start+0.25) {
		t.Errorf("training did not improve: untrained dev QoE %.4f, best %.4f", start, best)
	}
	if testing.Short() {
		return
	}
	net2, _, err := Train(tinyConfig(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(net.Marshal(), net2.Marshal()) {
		t.Error("one and two workers trained different networks")
	}
}

func TestSplit(t *testing.T) {
	n := map[string]int{}
	for i := 0; i < 2000; i++ {
		n[Split("set", string(rune('a'+i%26))+string(rune('a'+i/26)))]++
	}
	if n["val"] < 300 || n["val"] > 500 || n["dev"] < 120 || n["dev"] > 280 {
		t.Errorf("split sizes %v of 2000, want about 20 %% val and 10 %% dev", n)
	}
	if a, b := Split("a", "x"), Split("a", "x"); a != b {
		t.Error("not deterministic")
	}
}
