// Package mtls tells handlers which TLS client certificate a request came
// with: the peer certificate of obank's mutual-TLS listener, or, when obank
// runs behind a TLS-terminating proxy, the certificate that proxy forwarded
// in a header — trusted only from the configured proxy addresses and only
// after verifying it against the same trust anchors.
package mtls

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/obank/obank/internal/pki"
)

type ctxKey struct{}

// ClientCert returns the verified client certificate of r, or nil when the
// request came without one.
func ClientCert(r *http.Request) *x509.Certificate {
	if c, ok := r.Context().Value(ctxKey{}).(*x509.Certificate); ok {
		return c
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && len(r.TLS.VerifiedChains) > 0 {
		return r.TLS.PeerCertificates[0]
	}
	return nil
}

// WithClientCert returns ctx carrying cert as the request's client
// certificate.
func WithClientCert(ctx context.Context, cert *x509.Certificate) context.Context {
	return context.WithValue(ctx, ctxKey{}, cert)
}

// Thumbprint is the RFC 8705 x5t#S256 of a certificate: base64url (no
// padding) of the SHA-256 of its DER encoding.
func Thumbprint(cert *x509.Certificate) string { return pki.Thumbprint(cert) }

// Proxy accepts client certificates forwarded by a TLS-terminating proxy.
type Proxy struct {
	// Header carries the client certificate as URL-encoded PEM (the form
	// nginx's $ssl_client_escaped_cert and Envoy's XFCC Cert= produce) or
	// plain base64 DER.
	Header string
	// Trusted are the proxy addresses whose header is believed. From any
	// other address the header is dropped: otherwise anyone could claim any
	// TPP's certificate.
	Trusted []netip.Prefix
	// Roots verify the forwarded certificate, exactly as the mTLS listener
	// verifies a peer certificate.
	Roots *x509.CertPool
	// Now is the verification time (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Middleware puts a forwarded, verified client certificate in the request
// context. A header from an untrusted address, or one that does not verify,
// is dropped and logged: the request goes on without a certificate and the
// endpoints that need one refuse it.
func (p *Proxy) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get(p.Header)
		if v == "" {
			next.ServeHTTP(w, r)
			return
		}
		r.Header.Del(p.Header)
		if !p.trusted(r.RemoteAddr) {
			p.log().Warn("client certificate header from an untrusted address dropped", "remote", r.RemoteAddr)
			next.ServeHTTP(w, r)
			return
		}
		cert, err := p.verify(v)
		if err != nil {
			p.log().Warn("forwarded client certificate refused", "remote", r.RemoteAddr, "err", err)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClientCert(r.Context(), cert)))
	})
}

func (p *Proxy) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Proxy) trusted(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, pre := range p.Trusted {
		if pre.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseForwarded decodes a forwarded certificate header value.
func ParseForwarded(v string) (*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "%") {
		u, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("certificate header: %w", err)
		}
		v = u
	}
	var der []byte
	if block, _ := pem.Decode([]byte(v)); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, errors.New("certificate header: not a CERTIFICATE PEM block")
		}
		der = block.Bytes
	} else {
		d, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, errors.New("certificate header: neither PEM nor base64 DER")
		}
		der = d
	}
	return x509.ParseCertificate(der)
}

func (p *Proxy) verify(v string) (*x509.Certificate, error) {
	cert, err := ParseForwarded(v)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	_, err = cert.Verify(x509.VerifyOptions{
		Roots:       p.Roots,
		CurrentTime: now(),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("certificate header: %w", err)
	}
	return cert, nil
}
