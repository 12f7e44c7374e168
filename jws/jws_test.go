package jws_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/ob"
)

var (
	keysOnce     sync.Once
	keyA, keyB   *rsa.PrivateKey
	kidA, kidB   string
	keyC         *rsa.PrivateKey // not registered
	kidC         string
	tppSet       jwk.Set
	now          = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	body         = []byte(`{"Data":{"Initiation":{"InstructionIdentification":"ACME412","InstructedAmount":{"Amount":"165.88","Currency":"GBP"}}},"Risk":{}}`)
	issuer       = "0015800001041RHAAY/ab12cd34"
	expect       = jws.Expect{Issuers: []string{issuer}}
	leafSubjectA string
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		mk := func() (*rsa.PrivateKey, string, jwk.Key) {
			k, err2 := pki.NewRSAKey(2048)
			if err2 != nil {
				err = err2
				return nil, "", nil
			}
			pub, err2 := pki.SigningJWK(k.Public())
			if err2 != nil {
				err = err2
				return nil, "", nil
			}
			kid, _ := pub.KeyID()
			return k, kid, pub
		}
		var pa, pb jwk.Key
		keyA, kidA, pa = mk()
		keyB, kidB, pb = mk()
		keyC, kidC, _ = mk()
		if err != nil {
			panic(err)
		}
		// Key A carries a self-signed certificate so the subject-DN form
		// of iss can be tested.
		tmpl := &x509.Certificate{SerialNumber: bigOne(), Subject: pkix.Name{CommonName: "ab12cd34", Organization: []string{"OpenBanking"}, OrganizationalUnit: []string{"0015800001041RHAAY"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, keyA.Public(), keyA)
		if err != nil {
			panic(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		leafSubjectA = leaf.Subject.String()
		if pa, err = pki.SigningJWK(keyA.Public(), leaf); err != nil {
			panic(err)
		}
		kidA, _ = pa.KeyID()
		tppSet = jwk.NewSet()
		_ = tppSet.AddKey(pa)
		_ = tppSet.AddKey(pb)
	})
}

// hdr returns the standard OBIE header for kid.
func hdr(kid string) map[string]any {
	return map[string]any{
		"alg":        "PS256",
		"kid":        kid,
		"typ":        "JOSE",
		"cty":        "application/json",
		jws.ClaimIAT: now.Add(-time.Minute).Unix(),
		jws.ClaimISS: issuer,
		jws.ClaimTAN: jws.TrustAnchorOB,
		"crit":       []string{jws.ClaimIAT, jws.ClaimISS, jws.ClaimTAN},
	}
}

// rawSign builds a detached JWS by hand so that any header (including
// invalid ones) can be produced.
func rawSign(t *testing.T, h map[string]any, payload []byte, key *rsa.PrivateKey) string {
	t.Helper()
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	protected := base64.RawURLEncoding.EncodeToString(hj)
	input := protected + "." + base64.RawURLEncoding.EncodeToString(payload)
	if b, ok := h["b64"]; ok && b == false {
		input = protected + "." + string(payload)
	}
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch h["alg"] {
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	case "HS256":
		m := hmac.New(sha256.New, []byte("secret-secret-secret-secret-secret"))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "none":
	}
	if err != nil {
		t.Fatal(err)
	}
	return protected + ".." + base64.RawURLEncoding.EncodeToString(sig)
}

func with(h map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(h, kv[i].(string))
		} else {
			h[kv[i].(string)] = kv[i+1]
		}
	}
	return h
}

func TestVerifyDetached(t *testing.T) {
	keys(t)
	ctx := context.Background()
	good, err := jws.SignDetached(ctx, body, jws.KeySigner{Key: keyA, KID: kidA},
		jws.SignOptions{Issuer: issuer, Now: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := jws.SignDetached(ctx, body, jws.KeySigner{Key: keyB, KID: kidB},
		jws.SignOptions{Issuer: issuer, Now: now, Legacy: true})
	if err != nil {
		t.Fatal(err)
	}
	crit4 := []string{jws.ClaimIAT, jws.ClaimISS, jws.ClaimTAN, "b64"}
	tests := []struct {
		name string
		sig  string
		body []byte
		want Expectation
		code string // "" = valid
	}{
		{name: "valid (SignDetached)", sig: good},
		{name: "valid hand-made, no typ/cty", sig: rawSign(t, with(hdr(kidB), "typ", nil, "cty", nil), body, keyB)},
		{name: "valid cty json", sig: rawSign(t, with(hdr(kidB), "cty", "json"), body, keyB)},
		{name: "valid legacy b64=false", sig: legacy},
		{name: "valid legacy hand-made", sig: rawSign(t, with(hdr(kidA), "b64", false, "crit", crit4), body, keyA)},
		{name: "valid iss = certificate subject DN", sig: rawSign(t, with(hdr(kidA), jws.ClaimISS, leafSubjectA), body, keyA)},
		{name: "valid sandbox tan", sig: rawSign(t, with(hdr(kidA), jws.ClaimTAN, jws.TrustAnchorSandbox), body, keyA)},
		{name: "valid iat 23h ago", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, now.Add(-23*time.Hour).Unix()), body, keyA)},
		{name: "valid iat within skew", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, now.Add(10*time.Second).Unix()), body, keyA)},
		{name: "valid fractional iat", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, float64(now.Unix())-0.5), body, keyA)},

		{name: "missing", sig: "", code: ob.CodeSignatureMissing},
		{name: "blank", sig: "  ", code: ob.CodeSignatureMissing},
		{name: "malformed: not a JWS", sig: "hello", code: ob.CodeSignatureMalformed},
		{name: "malformed: attached payload", sig: strings.Replace(good, "..", ".eyJ9.", 1), code: ob.CodeSignatureMalformed},
		{name: "malformed: header not base64", sig: "***.." + strings.Split(good, "..")[1], code: ob.CodeSignatureMalformed},
		{name: "malformed: header not JSON", sig: base64.RawURLEncoding.EncodeToString([]byte("nope")) + "..AAAA", code: ob.CodeSignatureMalformed},
		{name: "malformed: header a JSON array", sig: base64.RawURLEncoding.EncodeToString([]byte("[1]")) + "..AAAA", code: ob.CodeSignatureMalformed},
		{name: "malformed: signature not base64", sig: strings.Split(good, "..")[0] + "..!!", code: ob.CodeSignatureMalformed},

		{name: "tampered body", sig: good, body: []byte(strings.Replace(string(body), "165.88", "965.88", 1)), code: ob.CodeSignatureInvalid},
		{name: "tampered body, legacy", sig: legacy, body: append([]byte(nil), append(body, ' ')...), code: ob.CodeSignatureInvalid},
		{name: "wrong kid (another registered key)", sig: rawSign(t, hdr(kidB), body, keyA), code: ob.CodeSignatureInvalid},
		{name: "kid not in the TPP's JWKS", sig: rawSign(t, hdr(kidC), body, keyC), code: ob.CodeSignatureInvalid},
		{name: "alg RS256", sig: rawSign(t, with(hdr(kidA), "alg", "RS256"), body, keyA), code: ob.CodeSignatureInvalid},
		{name: "alg HS256", sig: rawSign(t, with(hdr(kidA), "alg", "HS256"), body, keyA), code: ob.CodeSignatureInvalid},
		{name: "alg none", sig: rawSign(t, with(hdr(kidA), "alg", "none"), body, keyA), code: ob.CodeSignatureInvalid},

		{name: "no kid", sig: rawSign(t, with(hdr(kidA), "kid", nil), body, keyA), code: ob.CodeSignatureMissingClaim},
		{name: "no alg", sig: rawSign(t, with(hdr(kidA), "alg", nil), body, keyA), code: ob.CodeSignatureMissingClaim},
		{name: "no crit", sig: rawSign(t, with(hdr(kidA), "crit", nil), body, keyA), code: ob.CodeSignatureMissingClaim},
		{name: "no iat", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, nil, "crit", []string{jws.ClaimISS, jws.ClaimTAN}), body, keyA), code: ob.CodeSignatureMissingClaim},
		{name: "no iss", sig: rawSign(t, with(hdr(kidA), jws.ClaimISS, nil), body, keyA), code: ob.CodeSignatureMissingClaim},
		{name: "no tan", sig: rawSign(t, with(hdr(kidA), jws.ClaimTAN, nil), body, keyA), code: ob.CodeSignatureMissingClaim},

		{name: "crit missing a member", sig: rawSign(t, with(hdr(kidA), "crit", []string{jws.ClaimIAT, jws.ClaimISS}), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "crit with an extra member", sig: rawSign(t, with(hdr(kidA), "crit", append(hdr(kidA)["crit"].([]string), "http://openbanking.org.uk/foo"), "http://openbanking.org.uk/foo", "x"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "crit with a duplicate", sig: rawSign(t, with(hdr(kidA), "crit", []string{jws.ClaimIAT, jws.ClaimISS, jws.ClaimISS}), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "crit not an array", sig: rawSign(t, with(hdr(kidA), "crit", "x"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "b64 in crit, no b64 header", sig: rawSign(t, with(hdr(kidA), "crit", crit4), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "b64 false but not in crit", sig: rawSign(t, with(hdr(kidA), "b64", false), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "b64 true", sig: rawSign(t, with(hdr(kidA), "b64", true, "crit", crit4), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "extra header", sig: rawSign(t, with(hdr(kidA), "jku", "https://evil.example/jwks"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "expired iat", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, now.Add(-25*time.Hour).Unix()), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "expired iat, shorter MaxAge", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, now.Add(-2*time.Hour).Unix()), body, keyA),
			want: Expectation{maxAge: time.Hour}, code: ob.CodeSignatureInvalidClaim},
		{name: "iat in the future", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, now.Add(time.Hour).Unix()), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "iat a string", sig: rawSign(t, with(hdr(kidA), jws.ClaimIAT, "2026-11-24T12:00:00Z"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "iss of another TPP", sig: rawSign(t, with(hdr(kidA), jws.ClaimISS, "0015800001041RHAAY/other"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "iss DN of a key without it", sig: rawSign(t, with(hdr(kidB), jws.ClaimISS, leafSubjectA), body, keyB), code: ob.CodeSignatureInvalidClaim},
		{name: "untrusted tan", sig: rawSign(t, with(hdr(kidA), jws.ClaimTAN, "evil.example"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "sandbox tan not configured", sig: rawSign(t, with(hdr(kidA), jws.ClaimTAN, jws.TrustAnchorSandbox), body, keyA),
			want: Expectation{anchors: []string{jws.TrustAnchorOB}}, code: ob.CodeSignatureInvalidClaim},
		{name: "typ JWT", sig: rawSign(t, with(hdr(kidA), "typ", "JWT"), body, keyA), code: ob.CodeSignatureInvalidClaim},
		{name: "cty text/plain", sig: rawSign(t, with(hdr(kidA), "cty", "text/plain"), body, keyA), code: ob.CodeSignatureInvalidClaim},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := body
			if tc.body != nil {
				b = tc.body
			}
			want := expect
			want.MaxAge = tc.want.maxAge
			want.TrustAnchors = tc.want.anchors
			c, err := jws.VerifyDetached(tc.sig, b, tppSet, want, now)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("VerifyDetached: %v", err)
				}
				if c.KID == "" || c.IssuedAt.IsZero() {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			var e *ob.Error
			if !errors.As(err, &e) {
				t.Fatalf("VerifyDetached = %v (claims %+v), want *ob.Error %s", err, c, tc.code)
			}
			if e.Code != tc.code || e.Path != jws.Header {
				t.Errorf("VerifyDetached = %s at %q (%v), want %s at %s", e.Code, e.Path, e, tc.code, jws.Header)
			}
		})
	}
}

// Expectation varies the test's jws.Expect.
type Expectation struct {
	maxAge  time.Duration
	anchors []string
}

func bigOne() *big.Int { return big.NewInt(1) }

func TestLegacyClaims(t *testing.T) {
	keys(t)
	sig, err := jws.SignDetached(context.Background(), body, jws.KeySigner{Key: keyB, KID: kidB},
		jws.SignOptions{Issuer: issuer, Now: now, Legacy: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := jws.VerifyDetached(sig, body, tppSet, expect, now)
	if err != nil {
		t.Fatal(err)
	}
	want := jws.Claims{KID: kidB, Issuer: issuer, TrustAnchor: jws.TrustAnchorOB, IssuedAt: now, Legacy: true}
	if *c != want {
		t.Errorf("claims = %+v, want %+v", *c, want)
	}
}

func TestSignDetachedNeedsIssuer(t *testing.T) {
	keys(t)
	if _, err := jws.SignDetached(context.Background(), body, jws.KeySigner{Key: keyA, KID: kidA}, jws.SignOptions{}); err == nil {
		t.Fatal("SignDetached without an issuer succeeded")
	}
}
