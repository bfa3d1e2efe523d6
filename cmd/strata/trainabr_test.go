package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-player/strata/abr/nn"
	"github.com/strata-player/strata/internal/shared"
)

// TestTrainABREnsemble: a tiny DAgger run saves its labelled choices (--data-out); a second
// run fits an ensemble to them without rollouts (--data --ensemble) and writes it with its
// manifest entry (members, hash).
func TestTrainABREnsemble(t *testing.T) {
	if testing.Short() {
		t.Skip("trains: make test runs it in its pass without -race -short")
	}
	root, video := shared.Require(t, "abr/traces"), shared.Require(t, "abr/video")
	dir := t.TempDir()
	data := filepath.Join(dir, "choices.gob")
	common := []string{"train-abr", "--kind", "classic", "--traces-root", root, "--video-dir", video, "--sets", "pensieve_train",
		"--max-traces", "3", "--epochs", "2", "--hidden", "8", "--workers", "2", "--checkpoint", filepath.Join(dir, "last.snn")}
	var out, errb bytes.Buffer
	args := append(append([]string(nil), common...), "--iters", "0", "--label-rate", "0.3", "--data-out", data, "--out", filepath.Join(dir, "a"))
	if err := run(args, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if _, err := os.Stat(data); err != nil {
		t.Fatal("--data-out wrote nothing:", err)
	}
	outDir := filepath.Join(dir, "b")
	args = append(append([]string(nil), common...), "--data", data, "--ensemble", "2", "--out", outDir)
	errb.Reset()
	if err := run(args, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(errb.String(), "ensemble of 2: dev QoE") {
		t.Errorf("no ensemble report in:\n%s", errb.String())
	}
	raw, err := os.ReadFile(filepath.Join(outDir, "classic.snn"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := nn.UnmarshalScorer(raw)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := sc.(nn.Ensemble); !ok || len(e) != 2 {
		t.Fatalf("wrote %T, want an ensemble of 2", sc)
	}
	man, err := readManifest(filepath.Join(outDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if e := man.Models["classic"]; e.Members != 2 || e.SHA256 != hex.EncodeToString(sum[:]) || e.Params != sc.Params() {
		t.Errorf("manifest entry %+v does not describe the ensemble", e)
	}
	for _, bad := range [][]string{{"train-abr", "--ensemble", "2"}, {"train-abr", "--data", data, "--ensemble", "17"}} {
		if err := run(bad, &out, &errb); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}
