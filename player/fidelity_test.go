package player

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/origin"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
	"github.com/strata-player/strata/render"
)

// TestSimulatorFidelity plays a real encoded stream in real time over HTTP/3 from an origin
// shaped by a real trace and compares the session's QoE with strata sim's for the same
// trace, video and policy (the simulator configured for this link: no added round trip,
// full capacity): robustMPC in Pensieve's simulator, swift in the layered one. The stream is small so
// decoding never limits playback; its bitrates are kbit/s, so the trace is scaled down to
// them and QoE is measured on the log model (lin's Mbit/s utility would be ~0 here).
func TestSimulatorFidelity(t *testing.T) {
	if os.Getenv("STRATA_REALTIME") == "" {
		t.Skip("a real-time measurement on the wall clock: make fidelity runs it (STRATA_REALTIME=1)")
	}
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(shared.Require(t, "abr/traces/oboe/trace_7.txt"), trace.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := testenc.EncodeDir(t, m, testenc.Synthetic(128, 64, 300), 4, 3, 25)
	dir := t.TempDir()
	if _, err := packager.Package([]string{enc}, dir, packager.Options{Joined: packager.JoinedVirtual}); err != nil {
		t.Fatal(err)
	}
	si, err := readSidecar(filepath.Join(dir, "quality-s4.json"))
	if err != nil {
		t.Fatal(err)
	}
	video, err := abr.LadderFromLayers("test", 1, CumBytes(si))
	if err != nil {
		t.Fatal(err)
	}
	// Scale the trace so its mean sits between the second and third rung.
	scaled := *tr
	f := (video.BitratesKbps[1] + video.BitratesKbps[2]) / 2 / 1000 / tr.MeanMbps()
	scaled.BandwidthMbps = make([]float64, len(tr.BandwidthMbps))
	for i, b := range tr.BandwidthMbps {
		scaled.BandwidthMbps[i] = b * f
	}
	layered, err := LayeredVideo("test", si, 1)
	if err != nil {
		t.Fatal(err)
	}
	link := sim.LinkModel{RTTMs: 0, Payload: 1}

	cert, pemCert, _ := h3.SelfSigned([]string{"127.0.0.1"}, time.Hour, time.Now())
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	h, err := origin.New(origin.Config{Dir: dir, Virtual: packager.JoinedSource(root)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// robustMPC on joined Representations against Pensieve's simulator (log QoE), and
	// swift (upgrades) against the layered simulator (QoE on decoded quality).
	for _, c := range []string{"mpc", "swift"} {
		t.Run(c, func(t *testing.T) {
			spec, _ := abr.Lookup(c)
			var want sim.TraceResult
			if c == "mpc" {
				want, err = sim.SimulateTrace(spec.New(), &scaled, sim.SimConfig{Video: video, QoE: abr.QoELog, Link: &link})
			} else {
				want, err = sim.SimulateLayered(spec.New(), &scaled, sim.LayeredConfig{Video: layered, Link: &link, MaxBufferS: 60})
			}
			if err != nil {
				t.Fatal(err)
			}
			var simQoE float64
			for _, ch := range want.Chunks {
				simQoE += ch.Reward
			}
			// Only media segments go through the shaped link (the simulator knows nothing
			// of the MPD, the quality table or init segments).
			hs, err := origin.New(origin.Config{Dir: dir, Virtual: packager.JoinedSource(root), Link: shape.NewLink(&scaled, 0, time.Now)})
			if err != nil {
				t.Fatal(err)
			}
			defer hs.Close()
			srv, err := h3.Listen("127.0.0.1:0", cert, routeMedia(hs, h))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, time.Second) }()
			defer func() { cancel(); <-done }()
			client, tr3, err := h3.NewClient(pemCert, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer tr3.Close()
			qoe := abr.QoELog
			sum, err := Run(context.Background(), Config{MPD: "https://" + srv.Addr() + "/manifest.mpd",
				Fetcher: &fetch.Fetcher{Client: client, Retries: 2, Backoff: 50 * time.Millisecond},
				Model:   m, Policy: spec.New(), Sink: &render.Headless{}, MaxBufferS: 60, QoE: &qoe})
			if err != nil {
				t.Fatal(err)
			}
			got := sum.QoE
			if c == "swift" {
				got = sum.QoEQuality
			}
			t.Logf("player: QoE %.3f, %d stalls (%.2f s), startup %.0f ms, %.2f layers, %d upgrades (%d wasted); simulator: QoE %.3f, %d upgrades (%d wasted)",
				got, sum.Stalls, sum.StallS, sum.StartupMS, sum.AvgLayers, sum.Upgrades, sum.WastedUpgrade, simQoE, want.Upgrades, want.WastedUpgrades)
			if d := math.Abs(got-simQoE) / math.Abs(simQoE); d > 0.10 {
				t.Fatalf("player QoE %.3f differs from the simulator's %.3f by %.1f %% (> 10 %%)", got, simQoE, 100*d)
			}
		})
	}
}

func readSidecar(path string) (*stream.Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return stream.Parse(path, b)
}
