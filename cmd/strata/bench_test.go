package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/internal/y4m"

	"github.com/strata-player/strata/decoder/gpu"
)

// TestBenchDecode runs the benchmark briefly on each backend this build has and reads its
// JSON back as the simulator's decode model does.
func TestBenchDecode(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	for _, backend := range []string{"cpu", "emu"} {
		if backend == "emu" && !gpu.EmuBuilt {
			t.Log("emu: not in this build (make test runs it with -tags emu)")
			continue
		}
		var out, errb bytes.Buffer
		if err := run([]string{"bench", "decode", "--backend", backend, "--subgop", "8", "--benchtime", "1ms", "--json"}, &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		rs, err := parseBenchJSON(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		if r.Backend != backend || r.SubGOP != 8 || r.Res != "640x360" || r.Frames != 40 || !(r.FPS > 0) || r.Source != "demo" {
			t.Fatalf("%s: %+v", backend, r)
		}
		if (backend == "emu") != (r.Launches > 0) {
			t.Fatalf("%s: launches per frame %v", backend, r.Launches)
		}
		fps, err := decodeFPSFor(rs, 8, 1280, 720)
		if err != nil || math.Abs(fps-r.FPS/4) > 1e-12*r.FPS {
			t.Fatalf("decode model at 1280x720: %v, %v (want a quarter of %v)", fps, err, r.FPS)
		}
	}
	var out, errb bytes.Buffer
	if err := run([]string{"bench", "decode", "--backend", "tpu"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "want cpu, emu or cuda") {
		t.Fatalf("unknown backend: %v", err)
	}
}

func FuzzParseBenchJSON(f *testing.F) {
	f.Add([]byte(`{"backend":"cpu","device":"x","res":"640x360","subgop":8,"fps":20.3}` + "\n"))
	f.Add([]byte(`{"backend":"emu","res":"64x48","subgop":1,"fps":1e3,"launches_per_frame":17}{"subgop":4,"fps":2}`))
	f.Add([]byte(`{"subgop":0,"fps":-1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parseBenchJSON(b)
		if err != nil {
			return
		}
		for _, r := range rs {
			if !(r.FPS > 0) || r.SubGOP <= 0 {
				t.Fatalf("accepted %+v", r)
			}
			decodeFPSFor(rs, r.SubGOP, 640, 360) // must not panic
		}
	})
}

// TestBenchEncode measures both presets and x264 veryfast on a small synthetic clip and
// reads the JSON back; absurd flags are refused.
func TestBenchEncode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end encode: make test runs it in its pass without -race -short")
	}
	clip := filepath.Join(t.TempDir(), "clip.y4m")
	f, err := os.Create(clip)
	if err != nil {
		t.Fatal(err)
	}
	w, err := y4m.NewWriter(f, y4m.Header{Width: 64, Height: 48, FPSNum: 25, FPSDen: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range testenc.Synthetic(64, 48, 6) {
		if err := w.Write(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out, errb bytes.Buffer
	if err := run([]string{"bench", "encode", "--in", clip, "--frames", "6", "--subgop", "4", "--x264", "veryfast", "--json"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var got []string
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r encodeResult
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Frames != 6 || r.Res != "64x48" || !(r.FPS > 0) || r.Cores < 1 {
			t.Fatalf("%+v", r)
		}
		got = append(got, r.Codec+"/"+r.Preset)
	}
	if strings.Join(got, " ") != "strata/quality strata/live x264/veryfast" {
		t.Fatalf("measurements %v", got)
	}
	for _, bad := range [][]string{{"--in", clip, "--presets", "turbo"}, {"--in", clip, "--frames", "0"}, {"--in", clip, "--subgop", "3"}, {"--frames", "4"}} {
		if err := run(append([]string{"bench", "encode"}, bad...), &out, &errb); err == nil {
			t.Errorf("bench encode %v accepted", bad)
		}
	}
}
