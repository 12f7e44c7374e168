package authz

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/oauth"
)

// TestHalfHash checks c_hash/at_hash against the examples of OpenID Connect
// Core Appendix A.4 (SHA-256 based, like PS256).
func TestHalfHash(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", "LDktKdoQak3Pk0cnXxCltA"},
		{"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "77QmUPtjPfzWtF2AnpK9RQ"},
	}
	for _, tc := range tests {
		if got := halfHash(tc.in); got != tc.want {
			t.Errorf("halfHash(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIDTokenClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	p := idTokenParams{
		Client:      oauth.Client{ID: "client-1"},
		Subject:     "cust-1",
		Nonce:       "n-1",
		IntentID:    "intent-1",
		ACR:         oauth.ACRSCA,
		AuthTime:    now.Add(-time.Minute),
		Code:        "code-1",
		State:       "state-1",
		AccessToken: "at-1",
		Extra:       map[string]any{"http://openbanking.org.uk/refresh_token_expires_at": int64(1), "sub": "forged"},
	}
	got := idTokenClaims(p, "https://bank.example", now, 10*time.Minute)
	want := map[string]any{
		"iss":                   "https://bank.example",
		"sub":                   "cust-1",
		"aud":                   "client-1",
		"iat":                   now.Unix(),
		"exp":                   now.Add(10 * time.Minute).Unix(),
		"auth_time":             now.Add(-time.Minute).Unix(),
		"nonce":                 "n-1",
		"acr":                   oauth.ACRSCA,
		"openbanking_intent_id": "intent-1",
		"c_hash":                halfHash("code-1"),
		"s_hash":                halfHash("state-1"),
		"at_hash":               halfHash("at-1"),
		"http://openbanking.org.uk/refresh_token_expires_at": int64(1),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("idTokenClaims mismatch (-want +got):\n%s", diff)
	}

	// Optional claims are left out when empty.
	got = idTokenClaims(idTokenParams{Client: oauth.Client{ID: "c"}, Subject: "s"}, "https://bank.example", now, time.Minute)
	for _, k := range []string{"nonce", "acr", "auth_time", "openbanking_intent_id", "c_hash", "s_hash", "at_hash"} {
		if _, ok := got[k]; ok {
			t.Errorf("claim %s present without input", k)
		}
	}
}

func TestEncryptIDToken(t *testing.T) {
	encKey := testRSAKey(t)
	sigKey := testRSAKey(t)
	client := oauth.Client{ID: "c", IDTokenEncryptedResponseAlg: "RSA-OAEP-256", IDTokenEncryptedResponseEnc: "A256GCM"}
	// A set with a signing key first, then the encryption key.
	set := mustKeySet(t, sigKey.Public(), "sig-1", "sig", "PS256")
	ek, err := jwk.Import(encKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	ek.Set(jwk.KeyIDKey, "enc-1")
	ek.Set(jwk.KeyUsageKey, "enc")
	set.AddKey(ek)

	const signed = "header.payload.signature"
	out, err := encryptIDToken(signed, client, set)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := jwe.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	ph := msg.ProtectedHeaders()
	if cty, _ := ph.ContentType(); cty != "JWT" {
		t.Errorf("cty = %q, want JWT", cty)
	}
	if kid, _ := ph.KeyID(); kid != "enc-1" {
		t.Errorf("kid = %q, want enc-1", kid)
	}
	if alg, _ := ph.Algorithm(); alg != jwa.RSA_OAEP_256() {
		t.Errorf("alg = %v", alg)
	}
	if enc, _ := ph.ContentEncryption(); enc != jwa.A256GCM() {
		t.Errorf("enc = %v", enc)
	}
	plain, err := jwe.Decrypt([]byte(out), jwe.WithKey(jwa.RSA_OAEP_256(), encKey))
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != signed {
		t.Errorf("decrypted %q, want %q", plain, signed)
	}

	tests := []struct {
		name   string
		client oauth.Client
		keys   jwk.Set
		want   error
	}{
		{"no enc key", client, mustKeySet(t, sigKey.Public(), "sig-1", "sig", "PS256"), errNoEncryptionKey},
		{"enc key without use", client, mustKeySet(t, encKey.Public(), "k", "", ""), errNoEncryptionKey},
		{"enc key for another alg", client, mustKeySet(t, encKey.Public(), "k", "enc", "RSA1_5"), errNoEncryptionKey},
		{"no keys", client, nil, errNoEncryptionKey},
		{"RSA1_5 registered", oauth.Client{IDTokenEncryptedResponseAlg: "RSA1_5", IDTokenEncryptedResponseEnc: "A256GCM"}, set, nil},
		{"enc defaulted", oauth.Client{IDTokenEncryptedResponseAlg: "RSA-OAEP-256"}, set, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := encryptIDToken(signed, tc.client, tc.keys)
			if err == nil {
				t.Fatal("encryptIDToken succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
