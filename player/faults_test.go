package player

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/origin"
	"github.com/strata-player/strata/render"
)

// faulty wraps the origin: fault(path, nth request of that path) may answer instead.
type faulty struct {
	next  http.Handler
	mu    sync.Mutex // guards seen: the server calls ServeHTTP from many goroutines
	seen  map[string]int
	fault func(w http.ResponseWriter, r *http.Request, nth int) bool
	// corrupt, if it says so, serves the path with a byte of the body flipped.
	corrupt func(path string) bool
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen[r.URL.Path]++
	nth := f.seen[r.URL.Path]
	f.mu.Unlock()
	if f.fault != nil && f.fault(w, r, nth) {
		return
	}
	if f.corrupt != nil && f.corrupt(r.URL.Path) {
		w = corrupting{w}
	}
	f.next.ServeHTTP(w, r)
}

// corrupting flips a byte in the middle of the body.
type corrupting struct{ http.ResponseWriter }

func (c corrupting) Write(p []byte) (int, error) {
	q := append([]byte(nil), p...)
	q[len(q)*3/4] ^= 0x5A
	return c.ResponseWriter.Write(q)
}

func TestFaults(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := testenc.Synthetic(48, 32, 12)
	dir, _ := testenc.EncodeDir(t, m, frames, 4, 3, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{dir}, out, packager.Options{Joined: packager.JoinedNone}); err != nil {
		t.Fatal(err)
	}
	h, err := origin.New(origin.Config{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	before := runtime.NumGoroutine()
	for _, c := range []struct {
		name    string
		fault   func(w http.ResponseWriter, r *http.Request, nth int) bool
		check   func(t *testing.T, s *Summary)
		errHas  string
		corrupt func(string) bool
	}{
		{"404 on an enhancement layer", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l2/seg-2.m4s" {
				http.NotFound(w, r)
				return true
			}
			return false
		}, func(t *testing.T, s *Summary) {
			if s.Frames != 12 || s.AvgLayers >= 3 {
				t.Errorf("want all frames with fewer layers: %+v", s)
			}
		}, "", nil},
		{"500 twice on a base layer", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l0/seg-2.m4s" && nth <= 2 {
				http.Error(w, "boom", http.StatusInternalServerError)
				return true
			}
			return false
		}, func(t *testing.T, s *Summary) {
			if s.Frames != 12 || s.SkippedSegments != 0 {
				t.Errorf("retries should recover: %+v", s)
			}
		}, "", nil},
		{"truncated segment", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l0/seg-3.m4s" && nth == 1 {
				w.Header().Set("Content-Length", "40")
				w.Write(make([]byte, 40))
				return true
			}
			return false
		}, func(t *testing.T, s *Summary) {
			if s.Frames != 12 || s.Refetches != 1 {
				t.Errorf("want one re-fetch and every frame: %+v", s)
			}
		}, "", nil},
		{"corrupt enhancement payload", nil, func(t *testing.T, s *Summary) {
			if s.Frames != 12 || s.AvgLayers != 7.0/3 {
				t.Errorf("want segment 1 decoded with its base only (layers 1, 3, 3): %+v", s)
			}
		}, "", func(p string) bool { return p == "/s4-l1/seg-1.m4s" }},
		{"base layer gone for good", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l0/seg-2.m4s" {
				http.Error(w, "gone", http.StatusGone)
				return true
			}
			return false
		}, func(t *testing.T, s *Summary) {
			if s.Frames != 8 || s.SkippedSegments != 1 || s.DroppedFrames != 4 {
				t.Errorf("want segment 2 skipped: %+v", s)
			}
		}, "", nil},
		{"stalled connection", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l0/seg-1.m4s" && nth == 1 {
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
				return true
			}
			return false
		}, func(t *testing.T, s *Summary) {
			if s.Frames != 12 {
				t.Errorf("the timed-out request should be retried: %+v", s)
			}
		}, "", nil},
		{"broken MPD", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/manifest.mpd" {
				w.Write([]byte("<MPD><Period>"))
				return true
			}
			return false
		}, nil, "manifest", nil},
		{"every base layer missing", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if strings.HasPrefix(r.URL.Path, "/s4-l0/seg") {
				http.NotFound(w, r)
				return true
			}
			return false
		}, nil, "nothing could be played", nil},
		// Every base layer arrives whole but does not decode: the error says why (the
		// decoder's reason per segment), not just that nothing played.
		{"every base layer corrupt", nil, nil, "segment 0: bitstream", func(p string) bool {
			return strings.HasPrefix(p, "/s4-l0/seg")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &faulty{next: h, seen: map[string]int{}, fault: c.fault, corrupt: c.corrupt}
			srv := httptest.NewServer(f)
			defer srv.Close()
			client := srv.Client()
			client.Timeout = 500 * time.Millisecond
			sum, err := Run(context.Background(), Config{MPD: srv.URL + "/manifest.mpd",
				Fetcher: &fetch.Fetcher{Client: client, Retries: 3, Backoff: 10 * time.Millisecond},
				Model:   m, Policy: fixed{3}, Sink: &render.Headless{}, Untimed: true})
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("error %v, want one mentioning %q", err, c.errHas)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, sum)
			}
		})
	}
	noLeak(t, before)
}

// TestOriginRestart stops the origin in the middle of a stream and starts it again on the
// same port: the player's retries carry it across.
func TestOriginRestart(t *testing.T) {
	m, h := layerOrigin(t, 12, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	restarted := make(chan struct{})
	var srv2 *http.Server
	var once sync.Once
	srv := &http.Server{}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/s4-l0/seg-2.m4s" {
			once.Do(func() {
				// Take the origin down, and bring it back 300 ms later.
				go func() {
					srv.Close()
					time.Sleep(300 * time.Millisecond)
					ln2, err := net.Listen("tcp", addr)
					if err != nil {
						t.Error(err)
						close(restarted)
						return
					}
					srv2 = &http.Server{Handler: h}
					close(restarted)
					srv2.Serve(ln2)
				}()
				panic(http.ErrAbortHandler)
			})
		}
		h.ServeHTTP(w, r)
	})
	go srv.Serve(ln)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	sum, err := Run(context.Background(), Config{MPD: "http://" + addr + "/manifest.mpd",
		Fetcher: &fetch.Fetcher{Client: client, Retries: 6, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second},
		Model:   m, Policy: fixed{2}, Sink: &render.Headless{}, Untimed: true})
	<-restarted
	if srv2 != nil {
		defer srv2.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if sum.Frames != 12 || sum.SkippedSegments != 0 {
		t.Fatalf("summary %+v", sum)
	}
}

// TestFailedUpgradeNotRetried: an origin that 404s or truncates one enhancement layer gets at
// most 3 requests for it per segment from a policy that upgrades whenever it can (before,
// a failed upgrade left the segment upgradable and the policy asked again at once: 4,368
// GETs in 15 s), and the summary counts every request the origin saw.
func TestFailedUpgradeNotRetried(t *testing.T) {
	m, h := layerOrigin(t, 12, 3)
	for _, c := range []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request, nth int) bool
	}{
		{"404", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l2/seg-1.m4s" {
				http.NotFound(w, r)
				return true
			}
			return false
		}},
		{"truncated", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l1/seg-2.m4s" {
				w.Header().Set("Content-Length", "40")
				w.Write(make([]byte, 40))
				return true
			}
			return false
		}},
		{"503", func(w http.ResponseWriter, r *http.Request, nth int) bool {
			if r.URL.Path == "/s4-l2/seg-0.m4s" {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return true
			}
			return false
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &faulty{next: h, seen: map[string]int{}, fault: c.fault}
			srv := httptest.NewServer(f)
			defer srv.Close()
			sum, err := Run(context.Background(), Config{MPD: srv.URL + "/manifest.mpd",
				Fetcher: &fetch.Fetcher{Client: srv.Client(), Retries: 1, Backoff: time.Millisecond},
				Model:   m, Policy: upgrader{}, Sink: &render.Headless{}, Untimed: true})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for path, n := range f.seen {
				total += n
				if strings.Contains(path, "/seg-") && n > 3 {
					t.Errorf("%s requested %d times", path, n)
				}
			}
			if sum.Requests != total {
				t.Errorf("summary counts %d requests, the origin saw %d (%v)", sum.Requests, total, f.seen)
			}
			if sum.Frames != 12 || sum.SkippedSegments != 0 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}
