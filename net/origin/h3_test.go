package origin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/net/origin"
	"github.com/strata-player/strata/net/shape"
	"github.com/strata-player/strata/net/trace"
)

// serve starts an origin on loopback over HTTP/3 + TCP and returns its base URL, an
// HTTP/3 client trusting its certificate, and the TCP client.
func serve(t testing.TB, cfg origin.Config) (string, *http.Client, *http.Client) {
	t.Helper()
	cert, pemCert, err := h3.SelfSigned([]string{"127.0.0.1", "localhost"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h, err := origin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := h3.Listen("127.0.0.1:0", cert, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 2*time.Second) }()
	client, tr, err := h3.NewClient(pemCert, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := h3.NewTCPClient(pemCert, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tr.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		h.Close()
	})
	return "https://" + srv.Addr(), client, tcp
}

func get(t testing.TB, c *http.Client, url string) ([]byte, *http.Response) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return b, resp
}

// TestServeStreamOverHTTP3 serves a real encoded and packaged stream, fetches the MPD and
// every segment of every Representation over HTTP/3, and checks the bytes and a full parse
// down to decodable units.
func TestServeStreamOverHTTP3(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := testenc.Synthetic(48, 32, 10)
	d8, _ := testenc.EncodeDir(t, m, frames, 8, 3, 5)
	d4, _ := testenc.EncodeDir(t, m, frames, 4, 3, 5)
	dir := t.TempDir()
	// S=8 with joined segments on disk, S=4 with joined segments built on request.
	if _, err := packager.Package([]string{d8}, dir, packager.Options{Joined: packager.JoinedFiles}); err != nil {
		t.Fatal(err)
	}
	vdir := t.TempDir()
	if _, err := packager.Package([]string{d4}, vdir, packager.Options{Joined: packager.JoinedVirtual}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"s4-l0", "s4-l1", "s4-l2", "s4-j1", "s4-j2", "s4-j3"} {
		if err := os.CopyFS(filepath.Join(dir, id), os.DirFS(filepath.Join(vdir, id))); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	p8, err := mpd.ReadFromFile(filepath.Join(dir, "manifest.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	p4, err := mpd.ReadFromFile(filepath.Join(vdir, "manifest.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	var h3Requests atomic.Int64
	base, client, tcp := serve(t, origin.Config{Dir: dir, Virtual: packager.JoinedSource(root), OnAccess: func(a origin.Access) {
		if a.Proto == "HTTP/3.0" && a.Status == 200 {
			h3Requests.Add(1)
		}
	}})
	raw, resp := get(t, client, base+"/manifest.mpd")
	if resp.ProtoMajor != 3 {
		t.Fatalf("MPD came over %s", resp.Proto)
	}
	if p, err := mpd.ReadFromString(string(raw)); err != nil || len(p.Periods[0].AdaptationSets) != 1 {
		t.Fatalf("served MPD: %v", err)
	}
	n := 0
	for _, as := range append(p8.Periods[0].AdaptationSets, p4.Periods[0].AdaptationSets...) {
		for _, rep := range as.Representations {
			init, _ := get(t, client, base+"/"+rep.Id+"/"+packager.InitName)
			cfg, err := cmaf.ParseInit(init)
			if err != nil {
				t.Fatalf("%s: %v", rep.Id, err)
			}
			for seg := 1; seg <= 2; seg++ {
				b, _ := get(t, client, fmt.Sprintf("%s/%s/%s", base, rep.Id, packager.MediaName(seg)))
				if disk, err := os.ReadFile(filepath.Join(dir, rep.Id, packager.MediaName(seg))); err == nil && !bytes.Equal(b, disk) {
					t.Fatalf("%s segment %d: served bytes differ from the file", rep.Id, seg)
				}
				num, data, err := cmaf.ParseMedia(cfg, b)
				if err != nil || int(num) != seg-1 {
					t.Fatalf("%s segment %d: %v", rep.Id, seg, err)
				}
				units := [][]byte{data}
				if cfg.Layer == cmaf.Joined {
					if units, err = cmaf.Split(data, int(cfg.JoinedLayers)); err != nil {
						t.Fatal(err)
					}
				}
				if cfg.Layer == 0 || cfg.Layer == cmaf.Joined {
					s, err := decoder.ParseBaseUnit(units[0])
					if err != nil {
						t.Fatalf("%s segment %d: %v", rep.Id, seg, err)
					}
					for _, u := range units[1:] {
						if err := s.AddUnit(u); err != nil {
							t.Fatal(err)
						}
					}
				}
				n++
			}
		}
	}
	if n != 2*2*6 {
		t.Fatalf("fetched %d media segments, want 24", n)
	}
	if got := h3Requests.Load(); got != int64(1+n+12) {
		t.Errorf("%d HTTP/3 requests logged, want %d", got, 1+n+12)
	}
	// TCP answers too and advertises HTTP/3.
	resp2, err := tcp.Get(base + "/manifest.mpd")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if alt := resp2.Header.Get("Alt-Svc"); !strings.HasPrefix(alt, "h3=") {
		t.Errorf("Alt-Svc %q", alt)
	}
}

// TestClientRefusesUnknownCertificate: no verification is skipped by default.
func TestClientRefusesUnknownCertificate(t *testing.T) {
	base, _, _ := serve(t, origin.Config{Dir: t.TempDir()})
	_, otherPEM, _ := h3.SelfSigned([]string{"127.0.0.1"}, time.Hour, time.Now())
	c, tr, _ := h3.NewClient(otherPEM, 5*time.Second)
	defer tr.Close()
	if _, err := c.Get(base + "/x"); err == nil {
		t.Fatal("a client trusting another CA accepted the server")
	}
}

// shapedRun downloads a large file back to back for d over a link shaped by tr and returns
// the delivered bytes and the trace's capacity over the same window.
func shapedRun(t testing.TB, tr *trace.Trace, d time.Duration) (float64, float64) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	link := shape.NewLink(tr, 0, time.Now)
	base, client, _ := serve(t, origin.Config{Dir: dir, Link: link})
	start := time.Now()
	var got int64
	for time.Since(start) < d {
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(d))
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/blob.bin", nil)
		resp, err := client.Do(req)
		if err != nil {
			cancel()
			break
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cancel()
		got += n
	}
	end := time.Now()
	capacity := link.CapacityBytes(link.Since(start), link.Since(end))
	return float64(got), capacity
}

func TestShapedThroughputFollowsTrace(t *testing.T) {
	if os.Getenv("STRATA_REALTIME") == "" {
		t.Skip("a real-time measurement on the wall clock: make fidelity runs it (STRATA_REALTIME=1)")
	}
	tr, err := trace.Load(shared.Require(t, "abr/traces/oboe/trace_1.txt"), trace.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	got, capacity := shapedRun(t, tr, 60*time.Second)
	ratio := got / capacity
	t.Logf("60 s on oboe/trace_1.txt: delivered %.2f MB of %.2f MB capacity (%.1f %%)", got/1e6, capacity/1e6, 100*ratio)
	if ratio < 0.95 || ratio > 1.02 {
		t.Fatalf("delivered %.1f %% of the trace's capacity, want 95..102 %%", 100*ratio)
	}
}

// BenchmarkShapedThroughput prints the delivered/capacity ratio of a 10 s shaped run.
func BenchmarkShapedThroughput(b *testing.B) {
	tr, err := trace.Load(shared.Require(b, "abr/traces/oboe/trace_1.txt"), trace.FormatAuto)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, capacity := shapedRun(b, tr, 10*time.Second)
		b.ReportMetric(got/capacity, "delivered/capacity")
		b.ReportMetric(got*8/10/1e6, "Mbit/s")
	}
}
