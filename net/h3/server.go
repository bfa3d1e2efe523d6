package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// Server serves one handler over HTTP/3 (UDP) and HTTP/1.1 + HTTP/2 (TCP) on the same
// address; TCP responses advertise HTTP/3 with Alt-Svc.
type Server struct {
	h3   *http3.Server
	tcp  *http.Server
	udp  net.PacketConn
	ln   net.Listener
	addr string
}

// Limits applied to every request.
const (
	MaxHeaderBytes = 16 << 10
	ReadTimeout    = 30 * time.Second
	IdleTimeout    = 2 * time.Minute
)

// Listen binds UDP and TCP on addr (host:port; port 0 picks one, the same for both when
// possible) without serving yet.
func Listen(addr string, cert tls.Certificate, h http.Handler) (*Server, error) {
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	ua := udp.LocalAddr().(*net.UDPAddr)
	ln, err := net.Listen("tcp", net.JoinHostPort(ua.IP.String(), fmt.Sprint(ua.Port)))
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("TCP on the QUIC port %d: %w", ua.Port, err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	s := &Server{udp: udp, ln: ln, addr: ln.Addr().String()}
	s.h3 = &http3.Server{Handler: h, TLSConfig: http3.ConfigureTLSConfig(tlsConf.Clone()), MaxHeaderBytes: MaxHeaderBytes, IdleTimeout: IdleTimeout}
	alt := fmt.Sprintf(`h3=":%d"; ma=86400`, ua.Port)
	s.tcp = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Alt-Svc", alt)
			h.ServeHTTP(w, r)
		}),
		TLSConfig:         tlsConf.Clone(),
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: ReadTimeout,
		IdleTimeout:       IdleTimeout,
	}
	return s, nil
}

// Addr is the bound host:port (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Serve runs both servers until ctx is cancelled, then shuts them down gracefully
// (in-flight requests get up to grace to finish).
func (s *Server) Serve(ctx context.Context, grace time.Duration) error {
	errc := make(chan error, 2)
	go func() { errc <- s.h3.Serve(s.udp) }()
	go func() { errc <- s.tcp.ServeTLS(s.ln, "", "") }()
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	e1 := s.h3.Shutdown(sctx)
	e2 := s.tcp.Shutdown(sctx)
	s.udp.Close()
	if first != nil && !errors.Is(first, http.ErrServerClosed) && !errors.Is(first, net.ErrClosed) {
		return first
	}
	if e1 != nil && !errors.Is(e1, context.DeadlineExceeded) {
		return e1
	}
	return e2
}
