package sim

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/net/trace"
)

// refChunk is one line of a Pensieve simulator log.
type refChunk struct {
	time, bitrate, buffer, rebuf, bytes, delay, reward float64
}

func readRefLog(t *testing.T, path string) []refChunk {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []refChunk
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 7 {
			t.Fatalf("%s: bad line %q", path, sc.Text())
		}
		var v [7]float64
		for i := range f {
			if v[i], err = strconv.ParseFloat(f[i], 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		out = append(out, refChunk{v[0], v[1], v[2], v[3], v[4], v[5], v[6]})
	}
	return out
}

func loadEnvivio(t testing.TB) *abr.Video {
	t.Helper()
	v, err := abr.LoadEnvivio(shared.Require(t, "abr/video"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compareRef checks every chunk: identical bitrate, and buffer, rebuffer, delay (and time,
// when checkTime) within 1e-6.
func compareRef(t *testing.T, got TraceResult, ref []refChunk, checkTime bool) {
	t.Helper()
	if len(got.Chunks) != len(ref) {
		t.Fatalf("%s: %d chunks, reference has %d", got.Trace, len(got.Chunks), len(ref))
	}
	const tol = 1e-6
	for i, c := range got.Chunks {
		r := ref[i]
		if c.BitrateKbps != r.bitrate || float64(c.Bytes) != r.bytes {
			t.Fatalf("%s chunk %d: bitrate %v (%d bytes), reference %v (%v bytes)", got.Trace, i, c.BitrateKbps, c.Bytes, r.bitrate, r.bytes)
		}
		if math.Abs(c.BufferS-r.buffer) > tol || math.Abs(c.RebufferS-r.rebuf) > tol || math.Abs(c.DelayMs-r.delay) > tol {
			t.Fatalf("%s chunk %d: buffer/rebuffer/delay %v/%v/%v, reference %v/%v/%v", got.Trace, i, c.BufferS, c.RebufferS, c.DelayMs, r.buffer, r.rebuf, r.delay)
		}
		if checkTime && math.Abs(c.TimeS-r.time) > tol {
			t.Fatalf("%s chunk %d: time %v, reference %v", got.Trace, i, c.TimeS, r.time)
		}
		if math.Abs(c.Reward-r.reward) > 1e-9 {
			t.Fatalf("%s chunk %d: reward %v, reference %v", got.Trace, i, c.Reward, r.reward)
		}
	}
}

func runReference(t *testing.T, set, policy, refDir, prefix string, checkTime bool) {
	traces, err := trace.LoadDir(shared.Require(t, filepath.Join("abr/traces", set)), trace.FormatCooked)
	if err != nil {
		t.Fatal(err)
	}
	refs := shared.Require(t, filepath.Join("abr/reference", set, refDir))
	spec, err := abr.Lookup(policy)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Simulate(spec, traces, SimConfig{Video: loadEnvivio(t), QoE: abr.QoELin}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		compareRef(t, r, readRefLog(t, filepath.Join(refs, prefix+r.Trace)), checkTime)
	}
	t.Logf("%s on %s: %d traces match %s/%s", policy, set, len(res), set, refDir)
}

func TestReferenceLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	for _, set := range []string{"pensieve_train", "oboe"} {
		t.Run(set+"/bba", func(t *testing.T) {
			// bb.py's time column runs on across traces in one process: compare the rest.
			runReference(t, set, "bba", "batch", "log_sim_bb_", false)
		})
		t.Run(set+"/mpc", func(t *testing.T) {
			runReference(t, set, "mpc", "isolated", "log_sim_mpc_", true)
		})
	}
	// Rate-based: the reference runs' rb.py (harmonic mean of the last 5 throughputs).
	for _, set := range []string{"pensieve_train", "oboe"} {
		t.Run(set+"/rate", func(t *testing.T) {
			runReference(t, set, "rate", "batch", "log_sim_rb_", false)
		})
	}
	t.Run("oboe/rate-dashjs", func(t *testing.T) {
		runReference(t, "oboe", "rate-dashjs", "batch", "log_sim_rbdashjs_", false)
	})
	t.Run("oboe/mpc-batch", func(t *testing.T) {
		runReference(t, "oboe", "mpc-batch", "batch", "log_sim_mpc_", false)
	})
}

// TestReferenceQoETotals checks the QoE models and aggregations against the per-trace
// totals Pensieve's reference run reports (qoe_bb_batch.tsv: lin, log and hd).
func TestReferenceQoETotals(t *testing.T) {
	tsv := shared.Require(t, "abr/reference/oboe/qoe_bb_batch.tsv")
	data, err := os.ReadFile(tsv)
	if err != nil {
		t.Fatal(err)
	}
	traces, err := trace.LoadDir(shared.Require(t, "abr/traces/oboe"), trace.FormatCooked)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*trace.Trace{}
	for _, tr := range traces {
		byName[tr.Name] = tr
	}
	v := loadEnvivio(t)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	cols := strings.Split(lines[0], "\t")
	col := func(name string) int {
		for i, c := range cols {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s in %s", name, tsv)
		return -1
	}
	for _, line := range lines[1:20] {
		f := strings.Split(line, "\t")
		tr := byName[f[0]]
		if tr == nil {
			t.Fatalf("trace %s missing", f[0])
		}
		for _, m := range []abr.QoE{abr.QoELin, abr.QoELog, abr.QoEHD} {
			r, err := SimulateTrace(&abr.BBA{ReservoirS: 5, CushionS: 10}, tr, SimConfig{Video: v, QoE: m})
			if err != nil {
				t.Fatal(err)
			}
			s := Summarize("bba", m.Name, []TraceResult{r})
			for _, c := range []struct {
				col string
				got float64
			}{{m.Name + "_sum48", s.QoESum48}, {m.Name + "_sum47", s.QoESum47}, {m.Name + "_mean47", s.QoEMean47}} {
				want, _ := strconv.ParseFloat(f[col(c.col)], 64)
				if math.Abs(c.got-want) > 1e-5 {
					t.Errorf("%s %s: %v, reference %v", f[0], c.col, c.got, want)
				}
			}
			if m.Name == "lin" {
				for _, c := range []struct {
					col string
					got float64
				}{{"avg_bitrate_kbps", s.AvgBitrateKbps}, {"rebuf_s_excl_startup", s.RebufferS}, {"startup_s", s.StartupS}, {"switches_kbps_sum", s.SwitchKbps}} {
					want, _ := strconv.ParseFloat(f[col(c.col)], 64)
					if math.Abs(c.got-want) > 1e-5 {
						t.Errorf("%s %s: %v, reference %v", f[0], c.col, c.got, want)
					}
				}
			}
		}
	}
}

func ExamplePyFloat() {
	fmt.Println(PyFloat(4), PyFloat(1.3069160807364373), PyFloat(0), PyFloat(1e-05), PyFloat(-0.15000000000000002))
	// Output: 4.0 1.3069160807364373 0.0 1e-05 -0.15000000000000002
}
