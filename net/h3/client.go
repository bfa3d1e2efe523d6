package h3

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// NewClient returns an HTTP/3 client that trusts the PEM certificates in caPEM (nil: the
// system roots). It implements http.RoundTripper through quic-go's http3.Transport.
func NewClient(caPEM []byte, timeout time.Duration) (*http.Client, *http3.Transport, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS13}
	if caPEM != nil {
		pool, err := CertPool(caPEM)
		if err != nil {
			return nil, nil, err
		}
		conf.RootCAs = pool
	}
	tr := &http3.Transport{TLSClientConfig: conf}
	return &http.Client{Transport: tr, Timeout: timeout}, tr, nil
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
