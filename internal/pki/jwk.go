package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/cert"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// SigningJWK returns the public JWK for the signing key pub, with:
//   - kid: the RFC 7638 JWK thumbprint (SHA-256, base64url), so the key id
//     is derived from the key alone and is stable across restarts;
//   - use: "sig";
//   - alg: PS256 for RSA keys, ES256 for P-256 keys;
//   - x5c: chain (leaf first, each certifying the previous), if given. The
//     leaf must certify pub.
func SigningJWK(pub crypto.PublicKey, chain ...*x509.Certificate) (jwk.Key, error) {
	if err := CheckPublicKey(pub); err != nil {
		return nil, fmt.Errorf("pki: signing JWK: %w", err)
	}
	var alg jwa.SignatureAlgorithm
	switch k := pub.(type) {
	case *rsa.PublicKey:
		alg = jwa.PS256()
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, errors.New("pki: signing JWK: ES256 needs a P-256 key")
		}
		alg = jwa.ES256()
	}
	key, err := jwk.Import(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: signing JWK: import key: %w", err)
	}
	if err := jwk.AssignKeyID(key); err != nil {
		return nil, fmt.Errorf("pki: signing JWK: %w", err)
	}
	if err := key.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return nil, fmt.Errorf("pki: signing JWK: set use: %w", err)
	}
	if err := key.Set(jwk.AlgorithmKey, alg); err != nil {
		return nil, fmt.Errorf("pki: signing JWK: set alg: %w", err)
	}
	if len(chain) > 0 {
		leafKey, ok := chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !leafKey.Equal(pub) {
			return nil, errors.New("pki: signing JWK: x5c leaf certificate is not for this key")
		}
		var x5c cert.Chain
		for _, c := range chain {
			// cert.Chain holds the base64 (not base64url) DER, as x5c does.
			if err := x5c.Add([]byte(base64.StdEncoding.EncodeToString(c.Raw))); err != nil {
				return nil, fmt.Errorf("pki: signing JWK: x5c: %w", err)
			}
		}
		if err := key.Set(jwk.X509CertChainKey, &x5c); err != nil {
			return nil, fmt.Errorf("pki: signing JWK: set x5c: %w", err)
		}
	}
	return key, nil
}

// X5C returns the certificates in key's x5c parameter, leaf first, or nil
// if it has none.
func X5C(key jwk.Key) ([]*x509.Certificate, error) {
	chain, ok := key.X509CertChain()
	if !ok || chain == nil {
		return nil, nil
	}
	certs := make([]*x509.Certificate, 0, chain.Len())
	for i := range chain.Len() {
		b64, _ := chain.Get(i)
		c, err := cert.Parse(b64)
		if err != nil {
			return nil, fmt.Errorf("pki: x5c[%d]: %w", i, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}
