package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-player/strata/assets"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
)

// runRefit re-fits a model's entropy tables to what the encoder actually sends: the training
// fits them to dead-zone integers, the encoder's rate–distortion quantizer sends sparser ones.
// It encodes training clips, counts every context's symbols (decoder.Stats), picks each
// context's best table and each flag's probability, and writes the model with only those
// tensors changed; the encoder's decisions depend on the tables, so it iterates.
func runRefit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata refit-tables", flag.ContinueOnError)
	fs.SetOutput(stderr)
	weights := fs.String("weights", "", "the model directory to start from (weights.safetensors, manifest.json; default: the shipped one)")
	out := fs.String("out", "", "output model directory (may be --weights itself)")
	clips := fs.String("clips", "", "comma-separated Y4M training clips (never the test clips)")
	frames := fs.Int("frames", 33, "frames of each clip (one segment)")
	subgop := fs.Int("subgop", 32, "sub-GOP size S of the encodes")
	iters := fs.Int("iters", 2, "encode–refit rounds")
	minCount := fs.Int64("min-count", 200, "contexts with fewer symbols keep their table")
	extra := fs.Int("extra-tables", 32, "frequency tables to fit to the symbols, besides the exported Laplace family (0..160)")
	workers := fs.Int("workers", 0, "encoder goroutines (0: one per CPU)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *out == "" || *clips == "" || fs.NArg() > 0:
		fs.Usage()
		return errors.New("--out and --clips are required")
	case *frames < 2 || *frames > 1000:
		return fmt.Errorf("--frames %d out of range 2..1000", *frames)
	case *iters < 1 || *iters > 10:
		return fmt.Errorf("--iters %d out of range 1..10", *iters)
	case *minCount < 1:
		return fmt.Errorf("--min-count %d must be positive", *minCount)
	case *extra < 0 || *extra > 160:
		return fmt.Errorf("--extra-tables %d out of range 0..160", *extra)
	case *workers < 0 || *workers > 256:
		return fmt.Errorf("--workers %d out of range 0..256", *workers)
	}
	paths := strings.Split(*clips, ",")
	src := *weights
	from := ""
	base := 0
	for it := 1; it <= *iters; it++ {
		m, w, man, err := readModel(src)
		if err != nil {
			return err
		}
		if from == "" {
			// The weights as exported (a model refit before keeps its origin).
			if from = m.RefitFrom(); from == "" {
				from = m.SHA256
			}
			base = m.BaseTables()
			if base+*extra > 256 {
				return fmt.Errorf("--extra-tables %d: the model has %d tables of its own, the format holds 256", *extra, base)
			}
		}
		st := decoder.NewStats()
		for _, p := range paths {
			_, fr, err := readY4M(p, *frames)
			if err != nil {
				return err
			}
			enc := &encoder.SegmentEncoder{Model: m, S: *subgop, Layers: decoder.Layers, Workers: *workers,
				IntraAnchors: *subgop > 1, Stats: st}
			if _, err := enc.Encode(fr, 0); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		r := m.RefitTables(st, *minCount, base, *extra)
		before, after := r.Before, r.After
		nw, err := decoder.WithEntropy(w, r)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(nw)
		man["sha256"] = hex.EncodeToString(sum[:])
		man["entropy_refit"] = map[string]any{"from_sha256": from, "clips": paths, "frames": *frames, "subgop": *subgop,
			"rounds": it, "bits_before": before, "bits_after": after, "base_tables": base, "fitted_tables": len(r.Freqs) - base}
		mb, err := json.MarshalIndent(man, "", "  ")
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "weights.safetensors"), nw, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "manifest.json"), append(mb, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "round %d: %.0f → %.0f bits on the encoder's symbols (%.1f %% fewer; %d fitted tables)\n", it, before, after, 100*(1-after/before), len(r.Freqs)-base)
		src = *out
	}
	return nil
}

// readModel loads a model directory (the shipped model when dir is empty) with its raw
// weights and manifest.
func readModel(dir string) (*decoder.Model, []byte, map[string]any, error) {
	var w, manB []byte
	var err error
	if dir == "" {
		w, manB = assets.ModelWeights(), assets.ModelManifest()
	} else {
		if w, err = os.ReadFile(filepath.Join(dir, "weights.safetensors")); err != nil {
			return nil, nil, nil, err
		}
		if manB, err = os.ReadFile(filepath.Join(dir, "manifest.json")); err != nil {
			return nil, nil, nil, err
		}
	}
	m, err := decoder.LoadModel(w, manB)
	if err != nil {
		return nil, nil, nil, err
	}
	var man map[string]any
	if err := json.Unmarshal(manB, &man); err != nil {
		return nil, nil, nil, err
	}
	return m, w, man, nil
}

// loadModel reads a model from dir, or returns the shipped one when dir is empty.
func loadModel(dir string) (*decoder.Model, error) {
	if dir == "" {
		return decoder.Default()
	}
	m, _, _, err := readModel(dir)
	return m, err
}
