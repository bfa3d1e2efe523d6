package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-player/strata/abr"
)

// ladder64 is a session of 64 rungs and 1,048,576 segments: the largest a request may ask.
func ladder64(policy string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"policy":%q,"segment_duration_s":2,"segments":1048576,"ladder":[`, policy)
	for i := 0; i < 64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"r%02d","bandwidth_bps":%d}`, i, 100000*(i+1))
	}
	b.WriteString("]}")
	return b.String()
}

func decisionBody(seq int, rep string) string {
	return fmt.Sprintf(`{"seq":%d,"buffer_s":8,"stall_ms":0,"next_sizes_bytes":null,"last":{"representation_id":%q,"bytes":900000,"trequest_ms":0,"tresponse_ms":40,"tfinish_ms":700}}`, seq, rep)
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A session's memory does not depend on its segment count (it kept 8 bytes per rung per
// segment: 512 MiB for this one), and DELETE gives it back.
func TestSessionMemoryBounded(t *testing.T) {
	s := New(Config{})
	before := heap()
	var ids []string
	for _, p := range []string{"mpc", "swift", "bola"} {
		w, m := do(t, s, "POST", "/v1/sessions", ladder64(p))
		if w.Code != 201 {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		id := m["session_id"].(string)
		ids = append(ids, id)
		for seq := 1; seq < 4; seq++ {
			if w, _ := do(t, s, "POST", "/v1/sessions/"+id+"/decisions", decisionBody(seq, "r10")); w.Code != 200 {
				t.Fatalf("decision: %d %s", w.Code, w.Body)
			}
		}
	}
	grown := int64(heap()) - int64(before)
	if grown > 3<<20 {
		t.Fatalf("3 sessions of 64 rungs × 1,048,576 segments hold %.1f MiB, want < 1 MiB each", float64(grown)/(1<<20))
	}
	t.Logf("3 sessions: %.1f KiB of heap", float64(grown)/1024)
	for _, id := range ids {
		if w, _ := do(t, s, "DELETE", "/v1/sessions/"+id, ""); w.Code != 200 {
			t.Fatalf("delete: %d", w.Code)
		}
	}
	if left := int64(heap()) - int64(before); left > 64<<10 {
		t.Fatalf("after DELETE %.1f KiB are still held", float64(left)/1024)
	}
	runtime.KeepAlive(s)
}

// The worst ladder's decision enumerates a bounded number of plans for every lookahead
// policy (64^5 plans took 9.3 s before).
func TestWorstCaseDecisionBounded(t *testing.T) {
	s := New(Config{})
	for _, spec := range abr.Policies() {
		if strings.HasPrefix(spec.Name, "test-") {
			continue
		}
		if spec.SimOnly {
			if w, _ := do(t, s, "POST", "/v1/sessions", ladder64(spec.Name)); w.Code != 422 {
				t.Errorf("%s (simulator only): create answered %d, want 422", spec.Name, w.Code)
			}
			continue
		}
		w, m := do(t, s, "POST", "/v1/sessions", ladder64(spec.Name))
		if w.Code != 201 {
			t.Fatalf("%s: create: %d %s", spec.Name, w.Code, w.Body)
		}
		id := m["session_id"].(string)
		if w, _ := do(t, s, "POST", "/v1/sessions/"+id+"/decisions", decisionBody(1, "r63")); w.Code != 200 {
			t.Fatalf("%s: decision: %d %s", spec.Name, w.Code, w.Body)
		}
	}
}

// blocking is a policy whose Decide waits until released: a decision that takes long.
type blocking struct{ entered, release chan struct{} }

func (blocking) Name() string { return "test-blocking" }
func (blocking) Reset()       {}
func (b blocking) Decide(ctx context.Context, s *abr.State) abr.Action {
	b.entered <- struct{}{}
	<-b.release
	return abr.Action{Kind: abr.Fetch, Segment: s.Next}
}

var registerBlocking sync.Once
var blockingPolicy = blocking{entered: make(chan struct{}), release: make(chan struct{})}

// While one session's decision runs, other sessions are created, decide and are deleted
// (the idle reaper held the server's lock while waiting for the busy session's lock).
func TestBusySessionDoesNotBlockOthers(t *testing.T) {
	registerBlocking.Do(func() {
		abr.Register(abr.Spec{Name: "test-blocking", Help: "test only", New: func() abr.Policy { return blockingPolicy }})
	})
	s := New(Config{})
	_, m := do(t, s, "POST", "/v1/sessions", strings.Replace(ladder, `"mpc"`, `"test-blocking"`, 1))
	busy := m["session_id"].(string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := httptest.NewRequest("POST", "/v1/sessions/"+busy+"/decisions", strings.NewReader(decisionBody(1, "low")))
		r.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(httptest.NewRecorder(), r)
	}()
	<-blockingPolicy.entered // the busy session is inside Decide, holding its lock
	other := make(chan error, 1)
	go func() {
		w, m := do(t, s, "POST", "/v1/sessions", ladder)
		if w.Code != 201 {
			other <- fmt.Errorf("create: %d", w.Code)
			return
		}
		id := m["session_id"].(string)
		if w, _ := do(t, s, "POST", "/v1/sessions/"+id+"/decisions", decisionBody(1, "low")); w.Code != 200 {
			other <- fmt.Errorf("decision: %d %s", w.Code, w.Body)
			return
		}
		if w, _ := do(t, s, "DELETE", "/v1/sessions/"+id, ""); w.Code != 200 {
			other <- fmt.Errorf("delete: %d", w.Code)
			return
		}
		other <- nil
	}()
	select {
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second): // a deadlock detector, not a timing assertion
		t.Fatal("another session's requests were not answered while one session decided")
	}
	close(blockingPolicy.release)
	<-done
}

func TestCORS(t *testing.T) {
	for _, c := range []struct {
		allow  []string
		origin string
		ok     bool
	}{
		{nil, "http://127.0.0.1:8080", true},
		{nil, "https://localhost:4433", true},
		{nil, "http://[::1]:9", true},
		{nil, "https://evil.example", false},
		{nil, "null", false},
		{[]string{"https://player.example"}, "https://player.example", true},
		{[]string{"https://player.example"}, "http://127.0.0.1:8080", false},
		{[]string{"*"}, "https://anything.example", true},
	} {
		s := New(Config{AllowOrigins: c.allow})
		r := httptest.NewRequest("OPTIONS", "/v1/sessions", nil)
		r.Header.Set("Origin", c.origin)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		got := w.Header().Get("Access-Control-Allow-Origin")
		if c.ok != (w.Code == http.StatusNoContent && got == c.origin) {
			t.Errorf("allow %v, origin %s: %d, Allow-Origin %q", c.allow, c.origin, w.Code, got)
		}
		r = httptest.NewRequest("POST", "/v1/sessions", strings.NewReader(ladder))
		r.Header.Set("Origin", c.origin)
		r.Header.Set("Content-Type", "application/json")
		w = httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if c.ok != (w.Code == 201) {
			t.Errorf("allow %v, origin %s: create answered %d", c.allow, c.origin, w.Code)
		}
	}
	// A form post (no preflight in a browser) is refused.
	s := New(Config{})
	r := httptest.NewRequest("POST", "/v1/sessions", strings.NewReader(ladder))
	r.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain create: %d", w.Code)
	}
}
