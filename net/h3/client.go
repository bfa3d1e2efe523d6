package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Streaming timeouts of the client's QUIC connections. A media client talks to one origin
// steadily, so a dead connection must be noticed in seconds, not after quic-go's 30 s
// default: keep-alives every ClientKeepAlive, the connection given up after ClientIdleTimeout without
// a packet from the origin, a handshake after 2 × ClientHandshakeTimeout.
const (
	ClientKeepAlive        = time.Second
	ClientIdleTimeout      = 3 * time.Second
	ClientHandshakeTimeout = time.Second
)

// ErrRefused is returned when the origin's host answers that nothing listens on its UDP
// port (ICMP port unreachable), as opposed to an origin that does not answer at all.
var ErrRefused = errors.New("connection refused")

// NewClient returns an HTTP/3 client that trusts the PEM certificates in caPEM (nil: the
// system roots). It implements http.RoundTripper through quic-go's http3.Transport, with
// the streaming timeouts above; a dial to a closed port fails with ErrRefused at once.
func NewClient(caPEM []byte, timeout time.Duration) (*http.Client, *http3.Transport, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS13}
	if caPEM != nil {
		pool, err := CertPool(caPEM)
		if err != nil {
			return nil, nil, err
		}
		conf.RootCAs = pool
	}
	qc := &quic.Config{
		MaxIncomingStreams:   -1, // the server never opens bidirectional streams
		KeepAlivePeriod:      ClientKeepAlive,
		MaxIdleTimeout:       ClientIdleTimeout,
		HandshakeIdleTimeout: ClientHandshakeTimeout,
	}
	tr := &http3.Transport{TLSClientConfig: conf, QUICConfig: qc, Dial: dial}
	return &http.Client{Transport: tr, Timeout: timeout}, tr, nil
}

// dial opens a QUIC connection to addr while a connected UDP socket asks the same address
// whether anything listens there: QUIC's own socket is unconnected, so the kernel never
// reports a port-unreachable answer to it and the handshake would just time out.
func dial(ctx context.Context, addr string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		if err := probeRefused(ctx, addr); err != nil {
			cancel(err)
		}
	}()
	conn, err := quic.DialAddrEarly(ctx, addr, tlsCfg, cfg)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrRefused) {
			return nil, cause
		}
		return nil, err
	}
	return conn, nil
}

// probeRefused sends a few one-byte datagrams (too short to be a QUIC packet; servers drop
// them) from a connected socket until ctx ends, and returns an ErrRefused error when the
// kernel reports the port unreachable.
func probeRefused(ctx context.Context, addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil
	}
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	buf := make([]byte, 1)
	for i := 0; i < 3 && ctx.Err() == nil; i++ {
		if _, err := c.Write(buf); err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				return fmt.Errorf("%w: nothing listens on UDP %s", ErrRefused, addr)
			}
			return nil
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(buf); errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: nothing listens on UDP %s", ErrRefused, addr)
		}
	}
	return nil
}

// NewTCPClient is the HTTP/1.1 + HTTP/2 client trusting caPEM, for peers without QUIC.
func NewTCPClient(caPEM []byte, timeout time.Duration) (*http.Client, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != nil {
		pool, err := CertPool(caPEM)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}
