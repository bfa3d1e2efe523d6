package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-player/strata/abr/daemon"

	"github.com/strata-player/strata/decoder/gpu"
	"github.com/strata-player/strata/internal/shared"
)

// TestPlayDemo plays the embedded demo to the end through the in-process HTTP/3 origin.
func TestPlayDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	var out, errb bytes.Buffer
	stats := filepath.Join(t.TempDir(), "stats.jsonl")
	if err := run([]string{"play", "--headless", "--untimed", "--json", "--stats-file", stats}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	raw, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, l := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("stats line %q: %v", l, err)
		}
		kinds[m["kind"].(string)]++
	}
	if kinds["segment"] != 15 || kinds["second"] != 30 {
		t.Fatalf("stats file: %v, want 15 segment and 30 second lines", kinds)
	}
	var sum map[string]any
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	for _, k := range []string{"policy", "segments", "startup_ms", "stalls", "stall_s", "avg_layers", "avg_psnr_y", "qoe", "decode_fps", "dropped_frames"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s", k)
		}
	}
	if sum["segments"].(float64) != 15 || sum["frames"].(float64) != 600 || sum["dropped_frames"].(float64) != 0 {
		t.Fatalf("the demo did not play to the end: %s", out.String())
	}
	t.Logf("%s", out.String())
}

// TestPlayDemoLayeredPolicies plays the start of the demo on the media clock through a
// trace-shaped HTTP/3 origin with each layered policy (the same code the simulator runs).
func TestPlayDemoLayeredPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	trace := shared.Require(t, "abr/traces/pensieve_train/bus.ljansbakken-oslo-report.2010-09-28_1407CEST.log")
	for _, p := range []string{"swift", "lifter"} {
		t.Run(p, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run([]string{"play", "--headless", "--abr", p, "--trace", trace, "--frames", "160", "--json"}, &out, &errb); err != nil {
				t.Fatal(err, errb.String())
			}
			var sum struct {
				Policy   string  `json:"policy"`
				Frames   int     `json:"frames"`
				Segments int     `json:"segments"`
				Dropped  int     `json:"dropped_frames"`
				Layers   float64 `json:"avg_layers"`
				QoE      float64 `json:"qoe_quality"`
			}
			if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
				t.Fatalf("%v: %q", err, out.String())
			}
			// 160 frames are 4 segments of 40, and one more per 40 frames dropped on a busy
			// machine (the wall clock runs this test: the count cannot be exact).
			if sum.Policy != p || sum.Frames != 160 || sum.Segments < 4 || sum.Segments > 4+(sum.Dropped+39)/40 || sum.Layers < 1 {
				t.Fatalf("summary: %s", out.String())
			}
			t.Logf("%s", out.String())
		})
	}
}

// TestPlayHWDec: --hwdec=cuda on a machine without a usable GPU says so in one line and
// plays on the CPU (in a -tags cuda build too: make test runs this test in both);
// --hwdec=emu plays through the CUDA kernels emulated on the CPU.
func TestPlayHWDec(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	for _, c := range []struct{ hwdec, backend string }{{"cuda", "cpu"}, {"emu", "emu:"}} {
		if c.hwdec == "emu" && !gpu.EmuBuilt {
			c.backend = "cpu" // this build has no emulator: it says so and plays on the CPU
		}
		var out, errb bytes.Buffer
		if err := run([]string{"play", "--headless", "--untimed", "--json", "--frames", "40", "--hwdec", c.hwdec}, &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		var sum struct {
			Backend string `json:"backend"`
			Frames  int    `json:"frames"`
		}
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("%v: %q", err, out.String())
		}
		if sum.Frames != 40 || !strings.HasPrefix(sum.Backend, c.backend) {
			t.Fatalf("--hwdec %s: %s", c.hwdec, out.String())
		}
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if (c.hwdec == "cuda" || c.backend == "cpu") && (len(lines) != 1 || !strings.Contains(lines[0], "decoding on the CPU")) {
			t.Fatalf("--hwdec cuda without a GPU should say one line, got %q", errb.String())
		}
		t.Logf("--hwdec %s: backend %s; stderr %q", c.hwdec, sum.Backend, errb.String())
	}
}

// TestPlayABROptions: --abr remote:<url> takes every decision from an ABR daemon, and
// --abr-max-bitrate caps any policy's level.
func TestPlayABROptions(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	var decisions atomic.Int64
	d := daemon.New(daemon.Config{OnDecision: func(string, int, daemon.Decision) { decisions.Add(1) }})
	srv := httptest.NewServer(d)
	defer srv.Close()
	for _, c := range []struct {
		args   []string
		policy string
		layers float64
	}{
		{[]string{"--abr", "remote:" + srv.URL + "#bba"}, "remote:" + srv.URL, 0},
		{[]string{"--abr", "fixed:3", "--abr-max-bitrate", "150"}, "fixed:3", 1}, // the demo's S = 32 joined objects: 118, 259, 616 kbit/s (peak); its first two segments 188 kbit/s with two layers
	} {
		var out, errb bytes.Buffer
		args := append([]string{"play", "--headless", "--untimed", "--json", "--frames", "80"}, c.args...)
		if err := run(args, &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		var sum struct {
			Policy string  `json:"policy"`
			Frames int     `json:"frames"`
			Layers float64 `json:"avg_layers"`
		}
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("%v: %q", err, out.String())
		}
		if sum.Policy != c.policy || sum.Frames != 80 || (c.layers > 0 && sum.Layers != c.layers) {
			t.Fatalf("%v: %s", c.args, out.String())
		}
	}
	if decisions.Load() < 2 {
		t.Fatalf("the daemon made %d decisions", decisions.Load())
	}
	t.Logf("remote: the daemon made %d decisions", decisions.Load())
}
