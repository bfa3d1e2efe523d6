package learn

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/nn"
)

func randomData(r *rand.Rand, n int) []nn.Choice {
	out := make([]nn.Choice, n)
	for i := range out {
		k := 2 + r.IntN(5)
		c := nn.Choice{Target: r.IntN(k), Regret: make([]float64, k)}
		for j := 0; j < k; j++ {
			x := make([]float64, abr.Features)
			for f := range x {
				x[f] = r.NormFloat64()
			}
			c.X = append(c.X, x)
			c.Regret[j] = r.Float64()
		}
		out[i] = c
	}
	return out
}

func TestDataRoundTrip(t *testing.T) {
	data := randomData(rand.New(rand.NewPCG(1, 2)), 40)
	path := filepath.Join(t.TempDir(), "choices.gob")
	if err := WriteData(path, data); err != nil {
		t.Fatal(err)
	}
	got, err := ReadData(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, data) {
		t.Error("the data set does not round-trip")
	}
	raw, _ := os.ReadFile(path)
	for name, bad := range map[string][]byte{"empty": nil, "truncated": raw[:len(raw)-10], "not gob": []byte("SNN1 something")} {
		if _, err := readData(bytes.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzReadData(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.gob")
	if err := WriteData(path, randomData(rand.New(rand.NewPCG(3, 4)), 2)); err != nil {
		f.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		data, err := readData(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, c := range data {
			if checkChoice(c) != nil {
				t.Fatal("readData returned a malformed choice")
			}
		}
	})
}

// TestTinyEnsembleImproves: members fitted to a tiny run's data set without new rollouts
// must beat the untrained network on dev traces, and their ensemble scores their mean.
func TestTinyEnsembleImproves(t *testing.T) {
	cfg := tinyConfig(t, 2)
	cfg.Iters = 0
	cfg.SaveData = func(d []nn.Choice) error { cfg.Data = append(cfg.Data[:0], d...); return nil }
	_, reports, err := Train(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Data) == 0 {
		t.Fatal("SaveData got no choices")
	}
	cfg.SaveData = nil
	e, rs, err := FitEnsemble(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	start, ens := reports[0].DevQoE, rs[len(rs)-1].DevQoE
	if rs[0].Iter != -1 || rs[0].DevQoE != start {
		t.Errorf("FitEnsemble's first report %+v, want the starting network's (dev QoE %.4f)", rs[0], start)
	}
	t.Logf("untrained dev QoE %.4f; members %.4f %.4f; ensemble %.4f", start, rs[1].DevQoE, rs[2].DevQoE, ens)
	if !(ens > start+0.25) {
		t.Errorf("the ensemble did not improve: untrained dev QoE %.4f, ensemble %.4f", start, ens)
	}
	x := cfg.Data[0].X[0]
	var s nn.Scratch
	if got, want := e.Score(x, &s), (e[0].Score(x, &s)+e[1].Score(x, &s))/2; got != want {
		t.Errorf("ensemble score %v, want the members' mean %v", got, want)
	}
	if _, _, err := FitEnsemble(cfg, nn.MaxMembers+1); err == nil {
		t.Error("accepted too many members")
	}
}
