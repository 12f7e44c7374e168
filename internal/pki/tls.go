package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// FAPI1CipherSuites are the TLS 1.2 cipher suites FAPI 1.0 Advanced §8.5
// permits that Go implements. Go has no DHE suites, so only the two ECDHE_RSA
// suites remain; they need an RSA server certificate.
func FAPI1CipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	}
}

// ServerTLSConfig returns the FAPI server TLS configuration for cert.
//
//   - TLS 1.2 is the minimum; TLS 1.3 is allowed (its suites are not
//     configurable in Go and are all AEAD).
//   - TLS 1.2 suites are limited to FAPI1CipherSuites. If the server key is
//     ECDSA, the ECDSA twins (TLS_ECDHE_ECDSA_WITH_AES_{128,256}_GCM_*) are
//     added, because otherwise no TLS 1.2 client could connect; such a server
//     is not FAPI-conformant for TLS 1.2 clients, which is why the sandbox
//     issues an RSA server key.
//   - Client certificates are verified against clientCAs, for the
//     clientAuth extended key usage, and at the current time, so expired or
//     untrusted certificates fail the handshake. With requireClientCert the
//     handshake also fails without one (RequireAndVerifyClientCert);
//     otherwise a connection without one is allowed
//     (VerifyClientCertIfGiven) and each endpoint must decide. Go cannot
//     renegotiate to ask for a certificate later.
//   - A nil clientCAs means "trust no client CA", not "trust the system
//     roots" as crypto/tls would otherwise do: accepting any publicly
//     trusted certificate as a TPP identity would be a hole.
func ServerTLSConfig(cert tls.Certificate, clientCAs *x509.CertPool, requireClientCert bool) *tls.Config {
	suites := FAPI1CipherSuites()
	if _, ok := certPublicKey(cert).(*ecdsa.PublicKey); ok {
		suites = append(suites,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
	}
	if clientCAs == nil {
		clientCAs = x509.NewCertPool()
	}
	clientAuth := tls.VerifyClientCertIfGiven
	if requireClientCert {
		clientAuth = tls.RequireAndVerifyClientCert
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: suites,
		ClientAuth:   clientAuth,
		ClientCAs:    clientCAs,
	}
}

// certPublicKey returns the public key of cert's private key, or of its
// leaf certificate if the private key is not a crypto.Signer.
func certPublicKey(cert tls.Certificate) crypto.PublicKey {
	if s, ok := cert.PrivateKey.(crypto.Signer); ok {
		return s.Public()
	}
	if cert.Leaf != nil {
		return cert.Leaf.PublicKey
	}
	if len(cert.Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
			return leaf.PublicKey
		}
	}
	return nil
}

// TLSCertificate assembles a tls.Certificate from key and its chain (leaf
// first), checking that key belongs to the leaf.
func TLSCertificate(key crypto.Signer, chain ...*x509.Certificate) (tls.Certificate, error) {
	if len(chain) == 0 {
		return tls.Certificate{}, errors.New("pki: TLS certificate: empty chain")
	}
	if !KeyMatchesCertificate(key, chain[0]) {
		return tls.Certificate{}, fmt.Errorf("pki: TLS certificate: private key does not match certificate %q", chain[0].Subject.CommonName)
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}
