package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetriesAndErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch r.URL.Path {
		case "/flaky":
			if n < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("ok"))
		case "/missing":
			http.NotFound(w, r)
		case "/big":
			w.Write(make([]byte, 2000))
		case "/short":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("only this"))
		}
	}))
	defer srv.Close()
	var slept []time.Duration
	f := &Fetcher{Client: srv.Client(), Retries: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 15 * time.Millisecond,
		MaxBytes: 1000, Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	r, err := f.Get(context.Background(), srv.URL+"/flaky")
	if err != nil || string(r.Body) != "ok" || r.Attempts != 3 {
		t.Fatalf("flaky: %v %+v", err, r)
	}
	if len(slept) != 2 || slept[0] != 10*time.Millisecond || slept[1] != 15*time.Millisecond {
		t.Errorf("backoff %v", slept)
	}
	if !r.TRequest.Before(r.TFinish) && !r.TRequest.Equal(r.TFinish) {
		t.Error("timing fields out of order")
	}
	calls.Store(0)
	_, err = f.Get(context.Background(), srv.URL+"/missing")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || calls.Load() != 1 {
		t.Errorf("404: %v after %d calls (4xx must not be retried)", err, calls.Load())
	}
	if _, err := f.Get(context.Background(), srv.URL+"/big"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if _, err := f.Get(context.Background(), srv.URL+"/short"); err == nil {
		t.Error("short body accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Get(ctx, srv.URL+"/flaky"); err == nil {
		t.Error("cancelled context fetched")
	}
}
