package player

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/strata-player/strata/net/fetch"
	"github.com/strata-player/strata/net/h3"
	"github.com/strata-player/strata/render"
)

// h3Origin is the HTTP/3 origin on one UDP socket that the test can kill the way a crash
// does: the socket closes and no CONNECTION_CLOSE reaches the client.
type h3Origin struct {
	conn net.PacketConn
	srv  *http3.Server
	done chan struct{}
}

func startH3(t *testing.T, addr string, cert tls.Certificate, h http.Handler) *h3Origin {
	t.Helper()
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	o := &h3Origin{conn: conn, done: make(chan struct{}),
		srv: &http3.Server{Handler: h, TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})}}
	go func() {
		defer close(o.done)
		o.srv.Serve(conn)
	}()
	return o
}

func (o *h3Origin) kill() {
	o.conn.Close()
	<-o.done
}

// TestH3OriginRestart kills the HTTP/3 origin in the middle of a segment and starts it
// again on the same port: playback resumes within 5 s of the origin coming back (the dead
// QUIC connection used to be kept until quic-go's 30 s idle timeout: ~23 s).
func TestH3OriginRestart(t *testing.T) {
	m, h := layerOrigin(t, 24, 2)
	cert, pemCert, err := h3.SelfSigned([]string{"127.0.0.1"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var back, resumed time.Time // origin restarted; first media segment served after it
	killed := make(chan struct{})
	restarted := make(chan struct{})
	var once sync.Once
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/s4-l0/seg-2.m4s" {
			crash := false
			once.Do(func() { crash = true })
			if crash {
				// The origin dies with this request in flight: nothing more reaches the
				// client, not even a stream reset.
				close(killed)
				<-restarted
				panic(http.ErrAbortHandler)
			}
		}
		mu.Lock()
		if !back.IsZero() && resumed.IsZero() {
			resumed = time.Now()
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	})
	first := startH3(t, "127.0.0.1:0", cert, handler)
	addr := first.conn.LocalAddr().String()
	var second *h3Origin
	go func() {
		<-killed
		first.kill()
		second = startH3(t, addr, cert, handler)
		mu.Lock()
		back = time.Now()
		mu.Unlock()
		close(restarted)
	}()
	client, tr, err := h3.NewClient(pemCert, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	sum, err := Run(context.Background(), Config{MPD: "https://" + addr + "/manifest.mpd",
		Fetcher: &fetch.Fetcher{Client: client, Retries: 3, Backoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second},
		Model:   m, Policy: fixed{2}, Sink: &render.Headless{}, Untimed: true})
	<-restarted
	defer second.kill()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Frames != 24 || sum.SkippedSegments != 0 {
		t.Fatalf("summary %+v", sum)
	}
	gap := resumed.Sub(back)
	t.Logf("playback resumed %.2f s after the origin came back", gap.Seconds())
	if gap > 5*time.Second {
		t.Fatalf("playback resumed %.1f s after the origin came back, want ≤ 5 s", gap.Seconds())
	}
}

// A closed UDP port is reported as refused, not as a handshake timeout.
func TestH3Refused(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	client, tr, err := h3.NewClient(nil, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, err = client.Get("https://" + addr + "/manifest.mpd")
	if err == nil || !errorsIs(err, h3.ErrRefused) {
		t.Fatalf("error %v, want h3.ErrRefused", err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
