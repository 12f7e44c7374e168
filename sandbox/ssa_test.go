package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/pki"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeSegment(t *testing.T, compact string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(compact, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// signWith signs payload with an arbitrary header, algorithm and key, as a
// hostile or broken issuer might.
func signWith(t *testing.T, header map[string]any, payload []byte, alg jwa.SignatureAlgorithm, key any) string {
	t.Helper()
	h := jws.NewHeaders()
	for k, v := range header {
		if err := h.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// hs256 builds an HS256 JWS by hand with secret as the HMAC key.
func hs256(header map[string]any, payload, secret []byte) string {
	hj, _ := json.Marshal(header)
	input := b64(hj) + "." + b64(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// validClaims returns the fixture TPP's claims, to be modified and re-signed.
func validClaims(t *testing.T) *SSA {
	t.Helper()
	c, err := VerifySSA(fx.tpp.SSA, fx.dir.PublicJWKS(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifySSA(t *testing.T) {
	now := time.Now()
	dirKeys := fx.dir.PublicJWKS()
	kid := fx.dir.KeyID()
	good := fx.tpp.SSA
	parts := strings.Split(good, ".")

	resign := func(mod func(c *SSA)) string {
		c := validClaims(t)
		mod(c)
		s, err := fx.dir.SignSSA(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claimsJSON, err := json.Marshal(validClaims(t))
	if err != nil {
		t.Fatal(err)
	}
	dirHeader := map[string]any{"typ": "JWT", "kid": kid}

	// The directory's public key in the encodings an attacker would try as
	// an HMAC secret.
	dirJWK, _ := dirKeys.LookupKeyID(kid)
	var dirPub any
	if err := jwk.Export(dirJWK, &dirPub); err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(dirPub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubJWKJSON, _ := json.Marshal(dirJWK)

	// An ES256 key that is in a second key set, for the ES256 cases.
	ecKey, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	ecJWK, err := pki.SigningJWK(ecKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	ecKid, _ := ecJWK.KeyID()
	withEC, err := dirKeys.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if err := withEC.AddKey(ecJWK); err != nil {
		t.Fatal(err)
	}
	// The same EC key without alg/use, as some JWKS publish it.
	bareEC, _ := jwk.Import(ecKey.Public())
	bareEC.Set(jwk.KeyIDKey, "bare")
	withBareEC := jwk.NewSet()
	withBareEC.AddKey(bareEC)
	// A directory key marked for encryption.
	encKey, _ := dirJWK.Clone()
	encKey.Set(jwk.KeyUsageKey, "enc")
	encSet := jwk.NewSet()
	encSet.AddKey(encKey)

	dupClaims := `{"software_id":"Evil","` + strings.TrimPrefix(string(claimsJSON), `{"`)

	for _, tc := range []struct {
		name    string
		ssa     string
		keys    jwk.Set
		now     time.Time
		wantErr error
	}{
		{name: "valid", ssa: good},
		{name: "valid within skew of exp", ssa: resign(func(c *SSA) { c.ExpiresAt = NewNumericDate(now.Add(-30 * time.Second)) })},
		{name: "valid without exp", ssa: resign(func(c *SSA) { c.ExpiresAt = nil })},
		{name: "valid with endpoint only", ssa: resign(func(c *SSA) {
			c.SoftwareJWKS = nil
			c.SoftwareJWKSEndpoint = "https://tpp.example/jwks"
		})},
		{name: "valid ES256", ssa: signWith(t, map[string]any{"typ": "JWT", "kid": ecKid}, claimsJSON, jwa.ES256(), ecKey), keys: withEC},
		{name: "valid ES256, key without alg or use", ssa: signWith(t, map[string]any{"kid": "bare"}, claimsJSON, jwa.ES256(), ecKey), keys: withBareEC},

		{name: "tampered payload", ssa: parts[0] + "." + b64([]byte(strings.Replace(string(claimsJSON), `"Active"`, `"Activ3"`, 1))) + "." + parts[2], wantErr: ErrSSASignature},
		{name: "tampered signature", ssa: parts[0] + "." + parts[1] + "." + b64([]byte("not the signature")), wantErr: ErrSSASignature},
		{name: "header swapped", ssa: b64([]byte(`{"alg":"PS256","kid":"`+kid+`","typ":"JWT","x":1}`)) + "." + parts[1] + "." + parts[2], wantErr: ErrSSASignature},
		{name: "alg none", ssa: b64([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + parts[1] + ".", wantErr: ErrSSAAlgorithm},
		{name: "alg none without kid", ssa: b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", wantErr: ErrSSAAlgorithm},
		{name: "HS256 with PEM public key as secret", ssa: hs256(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, claimsJSON, pubPEM), wantErr: ErrSSAAlgorithm},
		{name: "HS256 with DER public key as secret", ssa: hs256(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, claimsJSON, pubDER), wantErr: ErrSSAAlgorithm},
		{name: "HS256 with JWK as secret", ssa: hs256(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, claimsJSON, pubJWKJSON), wantErr: ErrSSAAlgorithm},
		{name: "RS256 by the directory key", ssa: signWith(t, dirHeader, claimsJSON, jwa.RS256(), fx.dir.signingKey), wantErr: ErrSSAAlgorithm},
		{name: "no alg", ssa: b64([]byte(`{"kid":"`+kid+`"}`)) + "." + parts[1] + "." + parts[2], wantErr: ErrSSAAlgorithm},
		{name: "ES256 header on the PS256 key", ssa: signWith(t, dirHeader, claimsJSON, jwa.ES256(), ecKey), wantErr: ErrSSAAlgorithm},
		{name: "key not in set (TPP key, directory kid)", ssa: signWith(t, dirHeader, claimsJSON, jwa.PS256(), fx.signingKey), wantErr: ErrSSASignature},
		{name: "key not in set (own kid)", ssa: signWith(t, map[string]any{"kid": fx.tpp.SigningKeyID}, claimsJSON, jwa.PS256(), fx.signingKey), wantErr: ErrSSAUnknownKey},
		{name: "no kid", ssa: signWith(t, map[string]any{"typ": "JWT"}, claimsJSON, jwa.PS256(), fx.dir.signingKey), wantErr: ErrSSAUnknownKey},
		{name: "empty key set", ssa: good, keys: jwk.NewSet(), wantErr: ErrSSAUnknownKey},
		{name: "ES256 key in another set", ssa: signWith(t, map[string]any{"kid": ecKid}, claimsJSON, jwa.ES256(), ecKey), wantErr: ErrSSAUnknownKey},
		{name: "key marked use=enc", ssa: good, keys: encSet, wantErr: ErrSSAUnknownKey},
		{name: "typ JOSE", ssa: signWith(t, map[string]any{"typ": "JOSE", "kid": kid}, claimsJSON, jwa.PS256(), fx.dir.signingKey), wantErr: ErrSSAMalformed},
		{name: "crit header", ssa: signWith(t, map[string]any{"kid": kid, "crit": []string{"exp"}, "exp": 1}, claimsJSON, jwa.PS256(), fx.dir.signingKey), wantErr: ErrSSAMalformed},
		{name: "JSON serialization", ssa: `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, wantErr: ErrSSAMalformed},
		{name: "two parts", ssa: parts[0] + "." + parts[1], wantErr: ErrSSAMalformed},
		{name: "garbage", ssa: "a.b.c", wantErr: ErrSSAMalformed},
		{name: "too large", ssa: strings.Repeat("a", MaxSSASize+1), wantErr: ErrSSAMalformed},
		{name: "payload not JSON", ssa: signWith(t, dirHeader, []byte("hello"), jwa.PS256(), fx.dir.signingKey), wantErr: ErrSSAClaims},
		{name: "duplicate claim", ssa: signWith(t, dirHeader, []byte(dupClaims), jwa.PS256(), fx.dir.signingKey), wantErr: ErrSSAClaims},

		{name: "expired", ssa: resign(func(c *SSA) { c.ExpiresAt = NewNumericDate(now.Add(-2 * time.Minute)) }), wantErr: ErrSSAExpired},
		{name: "expired by verification time", ssa: good, now: now.Add(DefaultSSALifetime + time.Hour), wantErr: ErrSSAExpired},
		{name: "iat in the future", ssa: resign(func(c *SSA) { c.IssuedAt = *NewNumericDate(now.Add(5 * time.Minute)) }), wantErr: ErrSSANotYet},
		{name: "nbf in the future", ssa: resign(func(c *SSA) { c.NotBefore = NewNumericDate(now.Add(5 * time.Minute)) }), wantErr: ErrSSANotYet},
		{name: "missing iat", ssa: signWith(t, dirHeader, []byte(`{"iss":"x","jti":"j","software_id":"s","org_id":"o","software_jwks_endpoint":"https://x"}`), jwa.PS256(), fx.dir.signingKey), wantErr: ErrSSAClaims},
		{name: "missing iss", ssa: resign(func(c *SSA) { c.Issuer = "" }), wantErr: ErrSSAClaims},
		{name: "missing jti", ssa: resign(func(c *SSA) { c.JWTID = "" }), wantErr: ErrSSAClaims},
		{name: "bad software_id", ssa: resign(func(c *SSA) { c.SoftwareID = "has-dash" }), wantErr: ErrSSAClaims},
		{name: "missing org_id", ssa: resign(func(c *SSA) { c.OrgID = "" }), wantErr: ErrSSAClaims},
		{name: "no JWKS at all", ssa: resign(func(c *SSA) { c.SoftwareJWKS = nil }), wantErr: ErrSSAClaims},
		{name: "private key in software_jwks", ssa: resign(func(c *SSA) {
			k, _ := jwk.Import(fx.signingKey)
			s := jwk.NewSet()
			s.AddKey(k)
			c.SoftwareJWKS, _ = json.Marshal(s)
		}), wantErr: ErrSSAClaims},
		{name: "org revoked", ssa: resign(func(c *SSA) { c.OrgStatus = "Revoked" }), wantErr: ErrOrgNotActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = dirKeys
			}
			at := tc.now
			if at.IsZero() {
				at = now
			}
			got, err := VerifySSA(tc.ssa, keys, at)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifySSA: %v", err)
				}
				if got.SoftwareID == "" {
					t.Error("no claims returned")
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("VerifySSA error = %v, want %v", err, tc.wantErr)
			}
			if got != nil {
				t.Error("claims returned with an error")
			}
		})
	}
}

func TestSSAJSON(t *testing.T) {
	var c SSA
	in := `{"iss":"OpenBanking Ltd","iat":1492756331.5,"software_version":1.1,"software_id":"abc","org_id":"o"}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.IssuedAt.Unix() != 1492756331 || c.SoftwareVersion != "1.1" {
		t.Errorf("iat %d, software_version %q", c.IssuedAt.Unix(), c.SoftwareVersion)
	}
	out, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"iat":1492756331,`) || !strings.Contains(string(out), `"software_version":"1.1"`) {
		t.Errorf("marshalled %s", out)
	}
	for _, bad := range []string{`{"iat":"yesterday"}`, `{"iat":-1}`, `{"software_version":true}`} {
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}
