package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func do(t *testing.T, h http.Handler, method, path, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	json.Unmarshal(w.Body.Bytes(), &m)
	return w, m
}

const ladder = `{"policy":"mpc","segment_duration_s":4,"segments":20,"ladder":[
 {"id":"low","bandwidth_bps":300000},{"id":"mid","bandwidth_bps":1200000},{"id":"high","bandwidth_bps":4300000}]}`

func TestSessionLifecycle(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var decisions int
	s := New(Config{Now: c.now, OnDecision: func(string, int, Decision) { decisions++ }})
	w, m := do(t, s, "POST", "/v1/sessions", ladder)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	id := m["session_id"].(string)
	// A fast link: 1 MB in 0.5 s (16 Mbit/s) every time; the policy climbs to "high".
	var last string
	for seq := 0; seq < 6; seq++ {
		body := fmt.Sprintf(`{"seq":%d,"buffer_s":%d,"stall_ms":0}`, seq, 4*seq)
		if seq > 0 {
			body = fmt.Sprintf(`{"seq":%d,"buffer_s":%d,"stall_ms":0,"last":{"representation_id":%q,"bytes":1000000,"trequest_ms":0,"tresponse_ms":50,"tfinish_ms":500}}`, seq, 4*seq, last)
		}
		w, m = do(t, s, "POST", "/v1/sessions/"+id+"/decisions", body)
		if w.Code != 200 {
			t.Fatalf("decision %d: %d %s", seq, w.Code, w.Body)
		}
		last = m["representation_id"].(string)
		// Asking again for the same seq replays the answer without moving the policy.
		w2, m2 := do(t, s, "POST", "/v1/sessions/"+id+"/decisions", body)
		if w2.Code != 200 || m2["representation_id"] != last {
			t.Fatalf("replay of decision %d: %d %s, want %s", seq, w2.Code, w2.Body, last)
		}
	}
	if last != "high" || decisions != 12 {
		t.Fatalf("last decision %q after %d decision calls, want high after 12", last, decisions)
	}
	if w, _ = do(t, s, "PUT", "/v1/sessions/"+id+"/policy", `{"policy":"bba"}`); w.Code != 200 {
		t.Fatalf("switch: %d %s", w.Code, w.Body)
	}
	w, m = do(t, s, "DELETE", "/v1/sessions/"+id, "")
	if w.Code != 200 || m["decisions"].(float64) != 6 || m["policy"] != "bba" { // replays are not counted
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w, _ = do(t, s, "DELETE", "/v1/sessions/"+id, ""); w.Code != 404 {
		t.Fatalf("second delete: %d", w.Code)
	}
	w, _ = do(t, s, "GET", "/v1/policies", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"mpc"`) {
		t.Fatalf("policies: %s", w.Body)
	}
	if w, _ = do(t, s, "GET", "/healthz", ""); w.Code != 200 {
		t.Fatal("healthz")
	}
}

func TestProblems(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	s := New(Config{Now: c.now, MaxSessions: 2, IdleTimeout: time.Minute, MaxBody: 1024})
	_, m := do(t, s, "POST", "/v1/sessions", ladder)
	id := m["session_id"].(string)
	dec := "/v1/sessions/" + id + "/decisions"
	for _, p := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"malformed json", "POST", "/v1/sessions", `{"policy":`, 400},
		{"unknown field", "POST", "/v1/sessions", `{"policy":"mpc","colour":1}`, 400},
		{"trailing data", "POST", dec, `{"seq":0} {}`, 400},
		{"oversized", "POST", "/v1/sessions", `{"policy":"` + strings.Repeat("x", 2000) + `"}`, 413},
		{"unknown policy", "POST", "/v1/sessions", strings.Replace(ladder, "mpc", "magic", 1), 422},
		{"empty ladder", "POST", "/v1/sessions", `{"policy":"mpc","segment_duration_s":4,"ladder":[]}`, 422},
		{"absurd duration", "POST", "/v1/sessions", strings.Replace(ladder, `"segment_duration_s":4`, `"segment_duration_s":-1`, 1), 422},
		{"unknown session", "POST", "/v1/sessions/nope/decisions", `{"seq":0}`, 404},
		{"negative buffer", "POST", dec, `{"seq":0,"buffer_s":-3}`, 422},
		{"seq out of range", "POST", dec, `{"seq":99}`, 422},
		{"unknown representation", "POST", dec, `{"seq":1,"last":{"representation_id":"x","bytes":5,"trequest_ms":0,"tresponse_ms":1,"tfinish_ms":2}}`, 422},
		{"time travel", "POST", dec, `{"seq":1,"last":{"representation_id":"low","bytes":5,"trequest_ms":9,"tresponse_ms":1,"tfinish_ms":2}}`, 422},
		{"unknown endpoint", "GET", "/v2/whatever", "", 404},
	} {
		t.Run(p.name, func(t *testing.T) {
			w, m := do(t, s, p.method, p.path, p.body)
			if w.Code != p.status || w.Header().Get("Content-Type") != "application/problem+json" || m["status"].(float64) != float64(p.status) || m["title"] == "" {
				t.Fatalf("%d %q %s, want %d problem+json", w.Code, w.Header().Get("Content-Type"), w.Body, p.status)
			}
		})
	}
	// Session limit, then idle expiry frees it.
	if w, _ := do(t, s, "POST", "/v1/sessions", ladder); w.Code != 201 {
		t.Fatalf("second session: %d", w.Code)
	}
	if w, _ := do(t, s, "POST", "/v1/sessions", ladder); w.Code != 503 {
		t.Fatalf("third session: %d", w.Code)
	}
	c.t = c.t.Add(2 * time.Minute)
	if w, _ := do(t, s, "POST", dec, `{"seq":0}`); w.Code != 404 {
		t.Fatalf("expired session answered %d", w.Code)
	}
	if w, _ := do(t, s, "POST", "/v1/sessions", ladder); w.Code != 201 {
		t.Fatalf("after expiry: %d", w.Code)
	}
}

func TestPensieveLegacy(t *testing.T) {
	s := New(Config{})
	for i, body := range []string{
		`{"lastquality":1,"buffer":0,"RebufferTime":0,"lastRequest":0}`,
		`{"lastquality":1,"buffer":3.1,"RebufferTime":1300,"lastChunkStartTime":1000,"lastChunkFinishTime":2300,"lastChunkSize":450000,"lastRequest":1}`,
		`{"lastquality":2,"buffer":5.5,"RebufferTime":0,"lastChunkStartTime":2400,"lastChunkFinishTime":3000,"lastChunkSize":600000,"lastRequest":2}`,
	} {
		r := httptest.NewRequest("POST", "/pensieve", bytes.NewBufferString(body))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 || len(w.Body.String()) != 1 || w.Body.String() < "0" || w.Body.String() > "5" {
			t.Fatalf("request %d: %d %q", i, w.Code, w.Body)
		}
	}
	w, _ := do(t, s, "POST", "/pensieve", `{"buffer":1}`)
	if w.Code != 400 {
		t.Fatalf("incomplete legacy request: %d", w.Code)
	}
}

// The learned policy answers through the daemon like any other: on a fast link it climbs
// to the top rung, on a slow one it stays at the bottom; the oracle is refused.
func TestLearnedPolicyServed(t *testing.T) {
	s := New(Config{})
	for _, c := range []struct {
		name    string
		bytes   int
		finish  int
		want    string
		rounds  int
		bufferS func(seq int) int
	}{
		{"fast", 1000000, 500, "high", 8, func(seq int) int { return 4 * seq }},
		{"slow", 100000, 3000, "low", 8, func(seq int) int { return 1 }},
	} {
		w, m := do(t, s, "POST", "/v1/sessions", strings.Replace(ladder, `"mpc"`, `"learned"`, 1))
		if w.Code != 201 {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		id := m["session_id"].(string)
		last := ""
		for seq := 0; seq < c.rounds; seq++ {
			body := fmt.Sprintf(`{"seq":%d,"buffer_s":%d,"stall_ms":0}`, seq, c.bufferS(seq))
			if seq > 0 {
				body = fmt.Sprintf(`{"seq":%d,"buffer_s":%d,"stall_ms":0,"last":{"representation_id":%q,"bytes":%d,"trequest_ms":0,"tresponse_ms":50,"tfinish_ms":%d}}`,
					seq, c.bufferS(seq), last, c.bytes, c.finish)
			}
			w, m = do(t, s, "POST", "/v1/sessions/"+id+"/decisions", body)
			if w.Code != 200 {
				t.Fatalf("%s: decision %d: %d %s", c.name, seq, w.Code, w.Body)
			}
			last = m["representation_id"].(string)
		}
		if last != c.want {
			t.Errorf("%s link: learned ends at %q, want %q", c.name, last, c.want)
		}
	}
	if w, _ := do(t, s, "POST", "/v1/sessions", strings.Replace(ladder, `"mpc"`, `"oracle"`, 1)); w.Code != 422 {
		t.Errorf("oracle session: %d, want 422", w.Code)
	}
}
