package abr

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/strata-player/strata/abr/nn"
)

// Learned is strata's learned ABR policy: a small network, trained by imitating the oracle
// in the simulator (abr/learn, `strata train-abr`), scores every candidate action of a
// decision (Featurizer) and the best one is taken. It has two models: the classic one
// (fetch a quality of a ladder; trained on QoE lin, envivio) and the layered one (fetch k
// layers, upgrade a buffered segment by one layer, or wait; trained on decoded quality with
// the decode rate in its state). Decisions are deterministic.
type Learned struct {
	// Classic and Layered are networks or ensembles of them (the mean score).
	Classic, Layered nn.Scorer
	// ClassicMargin, LayeredMargin: the network overrules the planner's pick (robustMPC's,
	// swift's: PlannerPickFeature) only when its best candidate scores at least this much
	// higher (chosen on the dev traces after training; in the manifest).
	ClassicMargin, LayeredMargin float64
	feat                         Featurizer
	scratch                      nn.Scratch
}

//go:embed models
var modelFS embed.FS

// ModelManifest describes the committed models (abr/models/manifest.json).
type ModelManifest struct {
	FeatureVersion int                   `json:"feature_version"`
	Models         map[string]ModelEntry `json:"models"`
}

// ModelEntry is one committed model and how it was made.
type ModelEntry struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Sizes  []int  `json:"sizes"`
	// Members > 1: the file is an ensemble of that many networks of Sizes (nn.Ensemble).
	Members int    `json:"members,omitempty"`
	Params  int    `json:"params"`
	Command string `json:"command"`
	Seed    uint64 `json:"seed"`
	// Train and Validation name the trace sets; TrainSeconds is the run's wall time here.
	Train        []string `json:"train"`
	Validation   string   `json:"validation"`
	TrainSeconds float64  `json:"train_seconds"`
	// Margin is the score lead the network needs to overrule the planner's pick.
	Margin float64        `json:"margin"`
	Eval   map[string]any `json:"eval,omitempty"`
}

type committed struct {
	net    nn.Scorer
	margin float64
}

var loadModels = sync.OnceValues(func() (map[string]committed, error) {
	data, err := modelFS.ReadFile("models/manifest.json")
	if err != nil {
		return nil, err
	}
	var m ModelManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("abr/models/manifest.json: %w", err)
	}
	if m.FeatureVersion != FeatureVersion {
		return nil, fmt.Errorf("abr/models: models use features v%d, this build computes v%d (retrain: make abr-train)", m.FeatureVersion, FeatureVersion)
	}
	out := map[string]committed{}
	for kind, e := range m.Models {
		b, err := modelFS.ReadFile("models/" + e.File)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != e.SHA256 {
			return nil, fmt.Errorf("abr/models/%s: sha256 %x, the manifest says %s", e.File, sum, e.SHA256)
		}
		net, err := nn.UnmarshalScorer(b)
		if err != nil {
			return nil, fmt.Errorf("abr/models/%s: %w", e.File, err)
		}
		if net.Inputs() != Features {
			return nil, fmt.Errorf("abr/models/%s: %d inputs, want %d", e.File, net.Inputs(), Features)
		}
		if math.IsNaN(e.Margin) || e.Margin < 0 {
			return nil, fmt.Errorf("abr/models/manifest.json: %s margin %v", kind, e.Margin)
		}
		out[kind] = committed{net, e.Margin}
	}
	if out["classic"].net == nil || out["layered"].net == nil {
		return nil, fmt.Errorf("abr/models/manifest.json: want a classic and a layered model")
	}
	return out, nil
})

// CommittedPolicy returns a learned policy with the models committed in abr/models,
// checked against the manifest.
func CommittedPolicy() (*Learned, error) {
	m, err := loadModels()
	if err != nil {
		return nil, err
	}
	return &Learned{Classic: m["classic"].net, Layered: m["layered"].net,
		ClassicMargin: m["classic"].margin, LayeredMargin: m["layered"].margin}, nil
}

func init() {
	Register(Spec{Name: "learned", Help: "learned policy (imitation of the oracle, trained in the simulator; classic and layered models)",
		New: func() Policy {
			p, err := CommittedPolicy()
			if err != nil {
				panic("abr: the committed learned models do not load: " + err.Error())
			}
			return p
		}})
}

// Name implements Policy.
func (p *Learned) Name() string { return "learned" }

// Reset implements Policy.
func (p *Learned) Reset() { p.feat.Reset() }

// Decide implements Policy.
func (p *Learned) Decide(ctx context.Context, s *State) Action {
	v := s.Video
	if len(s.Samples) == 0 {
		return Action{Kind: Fetch, Segment: s.Next, Quality: min(DefaultQuality, len(v.BitratesKbps)-1)}
	}
	var net nn.Scorer = p.Classic
	margin := p.ClassicMargin
	if v.Layers != nil {
		net, margin = p.Layered, p.LayeredMargin
	}
	acts, rows := p.feat.Candidates(s)
	if len(acts) == 0 {
		return Action{Kind: Wait}
	}
	best, bi := 0.0, -1
	pick, pickScore := -1, 0.0
	for i, x := range rows {
		sc := net.Score(x, &p.scratch)
		if bi < 0 || sc > best {
			best, bi = sc, i
		}
		if pick < 0 && x[PlannerPickFeature] == 1 {
			pick, pickScore = i, sc
		}
	}
	if pick >= 0 && best-pickScore < margin {
		return acts[pick]
	}
	return acts[bi]
}
