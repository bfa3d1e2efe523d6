// Package fetch downloads objects over any *http.Client (HTTP/3, HTTP/2, HTTP/1.1 or
// httptest) with bounded retries and exponential backoff, and records for every transfer
// the DASH Annex D timing (request sent, first response byte, last byte) that throughput
// estimators need. The clock and the sleep are injected.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/strata-player/strata/internal/clock"
)

// Result is one finished transfer (ISO/IEC 23009-1 Annex D HTTPRequest fields).
type Result struct {
	URL       string
	Status    int
	Body      []byte
	TRequest  time.Time // request sent
	TResponse time.Time // response headers received
	TFinish   time.Time // last byte received
	Attempts  int
	Proto     string
}

// Bytes is the body length.
func (r *Result) Bytes() int { return len(r.Body) }

// HTTPError is a final non-2xx response.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Status) }

// Error is a failed Get: the last attempt's error and how many requests were made.
type Error struct {
	Attempts int
	Err      error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Attempts is how many requests a Get that returned (r, err) made.
func Attempts(r *Result, err error) int {
	var fe *Error
	switch {
	case r != nil:
		return r.Attempts
	case errors.As(err, &fe):
		return fe.Attempts
	}
	return 0
}

// Fetcher downloads with retries. The zero value is not usable: set Client.
type Fetcher struct {
	Client *http.Client
	// Retries is how many times a failed attempt (network error, 5xx, short body) is
	// retried. It defaults to 0 (no retry).
	Retries int
	// Backoff is the wait before the first retry, doubled each time up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxBytes bounds a body; larger ones fail without retry. It defaults to 256 MiB.
	MaxBytes int64
	// Now and Sleep default to the wall clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrTooLarge is returned for bodies over MaxBytes.
var ErrTooLarge = errors.New("fetch: body exceeds the size limit")

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	return clock.Wall{}.Sleep(ctx, d)
}

// Get fetches url, retrying transient failures. 4xx answers are final.
func (f *Fetcher) Get(ctx context.Context, url string) (*Result, error) {
	wait := f.Backoff
	var last error
	attempt := 1
	for ; attempt <= f.Retries+1; attempt++ {
		if attempt > 1 {
			if err := f.sleep(ctx, wait); err != nil {
				return nil, &Error{Attempts: attempt - 1, Err: err}
			}
			wait = min(2*wait, max(f.MaxBackoff, f.Backoff))
		}
		r, retry, err := f.once(ctx, url)
		if err == nil {
			r.Attempts = attempt
			return r, nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, &Error{Attempts: min(attempt, f.Retries+1), Err: last}
}

func (f *Fetcher) once(ctx context.Context, url string) (*Result, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, err
	}
	r := &Result{URL: url, TRequest: f.now()}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	r.TResponse, r.Status, r.Proto = f.now(), resp.StatusCode, resp.Proto
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, resp.StatusCode >= 500, &HTTPError{URL: url, Status: resp.StatusCode}
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 256 << 20
	}
	if resp.ContentLength > limit {
		return nil, false, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, true, fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if int64(len(body)) > limit {
		return nil, false, ErrTooLarge
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		return nil, true, fmt.Errorf("GET %s: body of %d bytes, Content-Length %d", url, len(body), resp.ContentLength)
	}
	r.Body, r.TFinish = body, f.now()
	return r, false, nil
}
