// The ABR daemon's end-to-end test in a real browser: Debian's Chromium (headless) runs
// dash.js (web/node_modules, pinned in package.json, installed by make setup) with
// strata-abr-rule.js as its only ABR rule, against an H.264 DASH ladder that ffmpeg makes
// from a ../shared clip, served by `strata serve` shaped by a real trace; the rule asks an
// in-process ABR daemon (abr/daemon) for every segment.
package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-player/strata/abr/daemon"
	"github.com/strata-player/strata/internal/shared"
)

// need skips (or under CI=true fails) when something the test runs is missing.
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (make setup installs it)", what)
	}
	t.Skipf("%s is missing (make setup installs it)", what)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// freePort returns a port that is free for TCP and UDP on loopback right now.
func freePort(t *testing.T) int {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// ladder encodes the first 20 s of clip as a 3-rung H.264 DASH ladder into dir.
func ladder(t *testing.T, clip, dir string) {
	args := []string{"-v", "error", "-y", "-i", clip, "-t", "20", "-map", "0:v", "-map", "0:v", "-map", "0:v",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p", "-r", "24",
		"-g", "48", "-keyint_min", "48", "-sc_threshold", "0",
		"-b:v:0", "250k", "-maxrate:v:0", "300k", "-bufsize:v:0", "500k", "-s:v:0", "426x240",
		"-b:v:1", "800k", "-maxrate:v:1", "900k", "-bufsize:v:1", "1600k", "-s:v:1", "640x360",
		"-b:v:2", "2000k", "-maxrate:v:2", "2200k", "-bufsize:v:2", "4000k", "-s:v:2", "1280x720",
		"-f", "dash", "-seg_duration", "2", "-use_template", "1", "-use_timeline", "0",
		"-init_seg_name", "init-$RepresentationID$.m4s", "-media_seg_name", "seg-$RepresentationID$-$Number%05d$.m4s",
		"-adaptation_sets", "id=0,streams=v", filepath.Join(dir, "manifest.mpd")}
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// spki is the base64 SHA-256 of the certificate's public key (Chromium's
// --ignore-certificate-errors-spki-list trusts exactly that key).
func spki(t *testing.T, pemFile string) string {
	b, err := os.ReadFile(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", pemFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(h[:])
}

type record struct {
	Fragments []struct {
		Index            int    `json:"index"`
		RepresentationID string `json:"representation_id"`
		Bytes            int    `json:"bytes"`
	} `json:"fragments"`
	Decisions []struct {
		Seq              int    `json:"seq"`
		RepresentationID string `json:"representation_id"`
		Via              string `json:"via"`
	} `json:"decisions"`
	Summary  map[string]any `json:"summary"`
	Errors   []string       `json:"errors"`
	Segments int            `json:"segments"`
	StallMS  float64        `json:"stall_ms"`
	Frames   int            `json:"frames"`
	Dropped  int            `json:"dropped"`
}

func TestDashJSFollowsTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("long end-to-end run: make test runs it in its pass without -race -short")
	}
	chromium, _ := exec.LookPath("chromium")
	need(t, "chromium (Debian package)", chromium != "")
	_, ffErr := exec.LookPath("ffmpeg")
	need(t, "ffmpeg", ffErr == nil)
	dashJS, _ := filepath.Abs("node_modules/dashjs/dist/dash.all.min.js")
	need(t, "dash.js (npm ci in web/)", exists(dashJS))
	clip := shared.Require(t, "media/demo/bbb_720p_30s_vp8.webm")
	trace := shared.Require(t, "abr/traces/oboe/trace_79.txt")

	root := t.TempDir()
	site := filepath.Join(root, "site")
	if err := os.Mkdir(site, 0o755); err != nil {
		t.Fatal(err)
	}
	ladder(t, clip, site)
	copyFile(t, dashJS, filepath.Join(site, "dash.all.min.js"))
	copyFile(t, "strata-abr-rule.js", filepath.Join(site, "strata-abr-rule.js"))
	copyFile(t, "testdata/index.html", filepath.Join(site, "index.html"))

	// The daemon (in-process, so every decision is recorded) and the page's report endpoint.
	var mu sync.Mutex
	decided := map[int]string{} // seq → representation_id
	d := daemon.New(daemon.Config{OnDecision: func(_ string, seq int, dec daemon.Decision) {
		mu.Lock()
		decided[seq] = dec.RepresentationID
		mu.Unlock()
	}})
	reports := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.Handle("/v1/", d)
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		select {
		case reports <- b:
		default:
		}
	})
	dl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dsrv := &http.Server{Handler: mux}
	go dsrv.Serve(dl)
	defer dsrv.Close()
	daemonURL := "http://" + dl.Addr().String()

	// strata serve, the real command, shaped by the trace.
	bin := filepath.Join(root, "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	port := freePort(t)
	ca := filepath.Join(root, "ca.pem")
	var serveLog bytes.Buffer
	serve := exec.Command(bin, "serve", "--dir", site, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--ca", ca, "--trace", trace)
	serve.Stderr, serve.Stdout = &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Signal(os.Interrupt); serve.Wait() }()
	origin := fmt.Sprintf("https://127.0.0.1:%d", port)
	for i := 0; !exists(ca) || !listening(port); i++ {
		if i == 100 {
			t.Fatalf("strata serve did not start:\n%s", serveLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	page := origin + "/index.html?" + url.Values{"daemon": {daemonURL}, "policy": {"learned"}, "report": {daemonURL + "/report"}}.Encode()
	var chromeLog bytes.Buffer
	browser := exec.Command(chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
		"--autoplay-policy=no-user-gesture-required", "--user-data-dir="+filepath.Join(root, "chrome"),
		"--ignore-certificate-errors-spki-list="+spki(t, ca), page)
	browser.Stdout, browser.Stderr = &chromeLog, &chromeLog
	if err := browser.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { browser.Process.Kill(); browser.Wait() }()

	var rec record
	select {
	case b := <-reports:
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("report: %v: %s", err, b)
		}
	case <-time.After(150 * time.Second):
		t.Fatalf("no report from the page within 150 s\nchromium:\n%s\nserve:\n%s", tail(chromeLog.String()), tail(serveLog.String()))
	}
	if len(rec.Errors) > 0 {
		t.Fatalf("page errors: %v", rec.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d segments, %d fragments, %d decisions, stalls %.0f ms, %d frames (%d dropped); daemon summary %v",
		rec.Segments, len(rec.Fragments), len(decided), rec.StallMS, rec.Frames, rec.Dropped, rec.Summary)
	if rec.Segments != 10 {
		t.Fatalf("the page counted %d segments, want 10 (20 s of 2 s segments)", rec.Segments)
	}
	// The daemon was asked for every segment.
	for seq := 0; seq < rec.Segments; seq++ {
		if _, ok := decided[seq]; !ok {
			t.Errorf("the daemon received no decision request for segment %d", seq)
		}
	}
	// dash.js fetched each segment in the Representation the daemon chose for it.
	seen := map[int]bool{}
	used := map[string]int{}
	for _, f := range rec.Fragments {
		seen[f.Index] = true
		used[f.RepresentationID]++
		if want := decided[f.Index]; f.RepresentationID != want {
			t.Errorf("segment %d came from Representation %q, the daemon chose %q", f.Index, f.RepresentationID, want)
		}
	}
	if len(seen) != rec.Segments {
		t.Errorf("dash.js loaded %d distinct segments of %d", len(seen), rec.Segments)
	}
	reps := make([]string, 0, len(used))
	for r, n := range used {
		reps = append(reps, fmt.Sprintf("%s×%d", r, n))
	}
	sort.Strings(reps)
	sync := 0
	for _, d := range rec.Decisions {
		if d.Via == "sync" {
			sync++
		}
	}
	t.Logf("representations played: %s; %d of %d replies arrived through the synchronous catch-up", strings.Join(reps, ", "), sync, len(rec.Decisions))
	if rec.Frames == 0 {
		t.Error("the video element rendered no frames")
	}
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
