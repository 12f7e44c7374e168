package jws

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Signer makes a detached PS256 JWS over body with its current key: it adds
// alg and kid to the given protected headers. authz.KeyManager (the bank's
// keys) and KeySigner (a TPP's key) implement it.
type Signer interface {
	SignDetached(ctx context.Context, body []byte, headers map[string]any) (string, error)
}

// SignOptions are the OBIE claims of a signature SignDetached makes.
type SignOptions struct {
	// Issuer is the iss claim: the bank's org id for a response,
	// "{org_id}/{software_id}" for a TPP's request. Required.
	Issuer string
	// TrustAnchor is the tan claim; TrustAnchorOB when empty.
	TrustAnchor string
	// Now is the iat claim (whole seconds); time.Now when zero.
	Now time.Time
	// Legacy makes the v3.1.0-3.1.3 form (b64=false, "b64" in crit), for
	// tests and old counterparts.
	Legacy bool
}

// SignDetached signs body as an OBIE detached JWS ("header..signature")
// with typ JOSE, cty application/json, iat, iss, tan and crit.
func SignDetached(ctx context.Context, body []byte, signer Signer, opts SignOptions) (string, error) {
	if opts.Issuer == "" {
		return "", errors.New("jws: sign: an issuer is required")
	}
	if opts.TrustAnchor == "" {
		opts.TrustAnchor = TrustAnchorOB
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	h := map[string]any{
		"typ":    "JOSE",
		"cty":    "application/json",
		ClaimIAT: opts.Now.Unix(),
		ClaimISS: opts.Issuer,
		ClaimTAN: opts.TrustAnchor,
		"crit":   []string{ClaimIAT, ClaimISS, ClaimTAN},
	}
	if opts.Legacy {
		h["b64"] = false
		h["crit"] = []string{ClaimIAT, ClaimISS, ClaimTAN, "b64"}
	}
	return signer.SignDetached(ctx, body, h)
}

// KeySigner is a Signer over one RSA key with a known kid: a TPP's signing
// key (client.SignRequest) or a test's.
type KeySigner struct {
	Key *rsa.PrivateKey
	KID string
}

// SignDetached implements Signer.
func (s KeySigner) SignDetached(_ context.Context, body []byte, headers map[string]any) (string, error) {
	return SignDetachedWithKey(body, s.Key, s.KID, headers)
}

// SignDetachedWithKey makes a detached PS256 JWS over body with priv, kid
// and the given extra protected headers. It is the one place that drives
// jwx's signer; authz.KeyManager uses it too.
func SignDetachedWithKey(body []byte, priv *rsa.PrivateKey, kid string, headers map[string]any) (string, error) {
	h := jws.NewHeaders()
	for name, v := range headers {
		if err := h.Set(name, v); err != nil {
			return "", fmt.Errorf("jws: header %s: %w", name, err)
		}
	}
	if err := h.Set(jws.KeyIDKey, kid); err != nil {
		return "", fmt.Errorf("jws: header kid: %w", err)
	}
	out, err := jws.Sign(nil, jws.WithKey(jwa.PS256(), priv, jws.WithProtectedHeaders(h)), jws.WithDetachedPayload(body))
	if err != nil {
		return "", fmt.Errorf("jws: sign: %w", err)
	}
	return string(out), nil
}

// parseCert parses one x5c entry (standard base64 of DER).
func parseCert(b64 []byte) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(string(b64))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
