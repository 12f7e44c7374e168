package pki

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

func TestSigningJWK(t *testing.T) {
	k := keys(t)
	leaf, err := k.ca.IssueSigningCert(k.rsa.Public(), SigningCertRequest{Subject: pkix.Name{CommonName: "signer"}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := SigningJWK(k.rsa.Public(), leaf, k.ca.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if priv, _ := jwk.IsPrivateKey(key); priv {
		t.Error("JWK holds private material")
	}
	kid, _ := key.KeyID()
	use, _ := key.KeyUsage()
	alg, _ := key.Algorithm()
	if len(kid) != 43 || use != "sig" || alg.String() != jwa.PS256().String() {
		t.Errorf("kid=%q use=%q alg=%v", kid, use, alg)
	}
	certs, err := X5C(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || !certs[0].Equal(leaf) || !certs[1].Equal(k.ca.Cert) {
		t.Errorf("x5c holds %d certificates, not [leaf, CA]", len(certs))
	}

	// The kid is the RFC 7638 thumbprint, so it survives a JSON round trip.
	data, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwk.ParseKey(data)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := parsed.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(tp); got != kid {
		t.Errorf("kid %q is not the RFC 7638 thumbprint %q", kid, got)
	}

	ec := ecKey(t)
	ecJWK, err := SigningJWK(ec.Public())
	if err != nil {
		t.Fatal(err)
	}
	if alg, _ := ecJWK.Algorithm(); alg.String() != "ES256" {
		t.Errorf("EC alg = %v", alg)
	}
	if _, ok := ecJWK.X509CertChain(); ok {
		t.Error("x5c set without a chain")
	}
	if _, err := SigningJWK(ec.Public(), leaf); err == nil {
		t.Error("x5c leaf for another key accepted")
	}
}
