package player

import (
	"runtime"
	"testing"
	"time"
)

// noLeak fails the test unless the goroutine count comes back to before: sessions end
// their goroutines, closed servers and clients theirs. It polls (closing connections
// finishes asynchronously) instead of sleeping a fixed time and allowing slack.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
