package daemon

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/strata-player/strata/abr"
)

func sessions(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Reset (a seek restarts the player's session) and Close delete the daemon session instead
// of leaving one behind per seek; a bound context that ended stops requests at once.
func TestRemoteSessionLifecycle(t *testing.T) {
	d := New(Config{})
	srv := httptest.NewServer(d)
	defer srv.Close()
	r, ok, err := ParseRemote("remote:" + srv.URL + "#bba")
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	v := &abr.Video{Name: "v", BitratesKbps: []float64{300, 1200}, ChunkS: 2, Chunks: 10,
		SizeFunc: func(q, i int) int64 { return 1000 }}
	st := &abr.State{Video: v, Next: 1, Samples: []abr.Sample{{Bytes: 1e5, DelayMs: 100, DownloadMs: 50}}}
	for seek := 0; seek < 3; seek++ {
		r.Reset()
		r.Decide(context.Background(), st)
		if n := sessions(d); n != 1 {
			t.Fatalf("after seek %d the daemon holds %d sessions, want 1", seek, n)
		}
	}
	if err := r.Close(); err != nil || sessions(d) != 0 {
		t.Fatalf("close: %v, %d sessions left", err, sessions(d))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := r.Errors
	if a := r.Decide(ctx, st); a.Kind != abr.Fetch || r.Errors != errs+1 || sessions(d) != 0 {
		t.Fatalf("decision with an ended context: %+v, errors %d, sessions %d", a, r.Errors, sessions(d))
	}
}
