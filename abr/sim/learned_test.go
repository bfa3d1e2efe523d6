package sim

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/net/trace"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/learned-golden.json from the committed models")

// learnedGolden is what the committed models decide on a few traces: each session's
// qualities (classic) or action count (layered) and QoE.
type learnedGolden struct {
	Classic map[string]goldenSession `json:"classic"`
	Layered map[string]goldenSession `json:"layered"`
}

type goldenSession struct {
	Qualities []int   `json:"qualities,omitempty"`
	Upgrades  int     `json:"upgrades"`
	QoE       float64 `json:"qoe"`
}

// TestLearnedGolden: the committed models load (hash and feature version checked) and
// decide exactly as when they were committed: a change to the features, the network code
// or the simulator that changes a decision shows here (retrain, then -update).
func TestLearnedGolden(t *testing.T) {
	v := loadEnvivio(t)
	trs, err := trace.LoadDir(shared.Require(t, "abr/traces/pensieve_train"), trace.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := abr.Lookup("learned")
	if err != nil {
		t.Fatal(err)
	}
	got := learnedGolden{Classic: map[string]goldenSession{}, Layered: map[string]goldenSession{}}
	lv := layeredTestVideo(t)
	for i := 0; i < len(trs); i += 25 {
		tr := trs[i]
		res, err := SimulateTrace(spec.New(), tr, SimConfig{Video: v, QoE: abr.QoELin})
		if err != nil {
			t.Fatal(err)
		}
		g := goldenSession{QoE: sessionValue(res)}
		for _, c := range res.Chunks {
			g.Qualities = append(g.Qualities, c.Quality)
		}
		got.Classic[tr.Name[len(tr.Name)-20:]] = g
		lres, err := SimulateLayered(spec.New(), tr, LayeredConfig{Video: lv, DecodeFPS: 22})
		if err != nil {
			t.Fatal(err)
		}
		lg := goldenSession{QoE: sessionValue(lres), Upgrades: lres.Upgrades}
		for _, c := range lres.Chunks {
			lg.Qualities = append(lg.Qualities, c.Quality)
		}
		got.Layered[tr.Name[len(tr.Name)-20:]] = lg
	}
	const path = "testdata/learned-golden.json"
	if *updateGolden {
		b, _ := json.MarshalIndent(got, "", " ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want learnedGolden
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	check := func(kind string, w, g map[string]goldenSession) {
		if len(w) != len(g) {
			t.Fatalf("%s: %d sessions, golden has %d", kind, len(g), len(w))
		}
		for name, ws := range w {
			gs := g[name]
			if math.Abs(gs.QoE-ws.QoE) > 1e-9 || gs.Upgrades != ws.Upgrades || len(gs.Qualities) != len(ws.Qualities) {
				t.Errorf("%s %s: abr.QoE %v, %d upgrades, %d chunks; golden %v, %d, %d", kind, name, gs.QoE, gs.Upgrades, len(gs.Qualities), ws.QoE, ws.Upgrades, len(ws.Qualities))
				continue
			}
			for i := range ws.Qualities {
				if gs.Qualities[i] != ws.Qualities[i] {
					t.Errorf("%s %s: chunk %d at quality %d, golden %d", kind, name, i, gs.Qualities[i], ws.Qualities[i])
					break
				}
			}
		}
	}
	check("classic", want.Classic, got.Classic)
	check("layered", want.Layered, got.Layered)
}
