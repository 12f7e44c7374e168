package keystore

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/obank/obank/internal/pki"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, MinSecretLen) }

func mustNew(t *testing.T, s []byte, previous ...[]byte) *Sealer {
	t.Helper()
	k, err := New(s, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secret   []byte
		previous [][]byte
		wantErr  string
	}{
		{"ok", secret(1), nil, ""},
		{"ok with previous", secret(1), [][]byte{secret(2)}, ""},
		{"empty", nil, nil, "secret is 0 bytes"},
		{"short", []byte("hunter2"), nil, "need at least 32"},
		{"short previous", secret(1), [][]byte{secret(2), []byte("x")}, "previous secret 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.secret, tc.previous...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}

	// The secret is copied: changing the caller's slice changes nothing.
	s := secret(3)
	k := mustNew(t, s)
	sealed, err := k.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s[0] ^= 0xff
	if _, err := k.Open(sealed, nil); err != nil {
		t.Errorf("Open after mutating the caller's secret: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	k := mustNew(t, secret(1))
	plaintext := []byte("PKCS#8 DER goes here")
	ad := []byte("kid-123")
	sealed, err := k.Seal(plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != headerLen+len(plaintext)+16 || sealed[0] != 1 {
		t.Errorf("sealed length %d, version %d", len(sealed), sealed[0])
	}
	if bytes.Contains(sealed, plaintext) {
		t.Error("plaintext visible in sealed data")
	}
	again, err := k.Seal(plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed[1:headerLen], again[1:headerLen]) {
		t.Error("two seals share salt, key check and nonce")
	}

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name    string
		sealer  *Sealer
		sealed  []byte
		ad      []byte
		wantErr error
	}{
		{name: "round trip", sealer: k, sealed: sealed, ad: ad},
		{name: "same secret, new Sealer", sealer: mustNew(t, secret(1)), sealed: sealed, ad: ad},
		{name: "wrong secret", sealer: mustNew(t, secret(2)), sealed: sealed, ad: ad, wantErr: ErrWrongSecret},
		{name: "wrong associated data", sealer: k, sealed: sealed, ad: []byte("kid-124"), wantErr: ErrCorrupt},
		{name: "missing associated data", sealer: k, sealed: sealed, ad: nil, wantErr: ErrCorrupt},
		{name: "ciphertext bit flipped", sealer: k, sealed: flip(headerLen + 2), ad: ad, wantErr: ErrCorrupt},
		{name: "tag bit flipped", sealer: k, sealed: flip(len(sealed) - 1), ad: ad, wantErr: ErrCorrupt},
		{name: "salt bit flipped", sealer: k, sealed: flip(1), ad: ad, wantErr: ErrWrongSecret},
		{name: "key check bit flipped", sealer: k, sealed: flip(1 + saltLen), ad: ad, wantErr: ErrWrongSecret},
		{name: "nonce bit flipped", sealer: k, sealed: flip(1 + saltLen + checkLen), ad: ad, wantErr: ErrCorrupt},
		{name: "unknown version", sealer: k, sealed: append([]byte{2}, sealed[1:]...), ad: ad, wantErr: ErrUnsupportedVersion},
		{name: "truncated", sealer: k, sealed: sealed[:len(sealed)-1], ad: ad, wantErr: ErrCorrupt},
		{name: "header only", sealer: k, sealed: sealed[:headerLen], ad: ad, wantErr: ErrCorrupt},
		{name: "empty", sealer: k, sealed: nil, ad: ad, wantErr: ErrCorrupt},
		{name: "extra byte", sealer: k, sealed: append(bytes.Clone(sealed), 0), ad: ad, wantErr: ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.Open(tc.sealed, tc.ad)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, plaintext) {
					t.Errorf("Open = %q, want %q", got, plaintext)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Open error = %v, want %v", err, tc.wantErr)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes with an error", len(got))
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldKS := mustNew(t, secret(1))
	sealedOld, err := oldKS.Seal([]byte("old"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustNew(t, secret(2), secret(1))
	got, err := rotated.Open(sealedOld, nil)
	if err != nil || string(got) != "old" {
		t.Fatalf("open old value after rotation: %q, %v", got, err)
	}
	if rotated.SealedWithCurrent(sealedOld) {
		t.Error("old value reported as sealed with the current secret")
	}
	resealed, err := rotated.Seal(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.SealedWithCurrent(resealed) {
		t.Error("re-sealed value not reported as current")
	}
	if _, err := oldKS.Open(resealed, nil); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("old sealer opening a new value: %v, want ErrWrongSecret", err)
	}
	if rotated.SealedWithCurrent([]byte{1, 2, 3}) {
		t.Error("garbage reported as current")
	}
}

func TestSealPrivateKey(t *testing.T) {
	ec, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := pki.NewRSAKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	k := mustNew(t, secret(7))
	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{{"ECDSA", ec}, {"RSA", rsaKey}} {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := k.SealPrivateKey(tc.key, []byte(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			der, _ := x509.MarshalPKCS8PrivateKey(tc.key)
			if bytes.Contains(sealed, der[len(der)-32:]) {
				t.Error("key material visible in sealed data")
			}
			got, err := k.OpenPrivateKey(sealed, []byte(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.key.Public()) {
				t.Error("opened key differs")
			}
			if _, err := mustNew(t, secret(8)).OpenPrivateKey(sealed, []byte(tc.name)); !errors.Is(err, ErrWrongSecret) {
				t.Errorf("wrong secret: %v", err)
			}
		})
	}

	// Sealed bytes that are not a key fail after decryption, clearly.
	notKey, err := k.Seal([]byte("not a key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenPrivateKey(notKey, nil); err == nil || !strings.Contains(err.Error(), "open private key") {
		t.Errorf("OpenPrivateKey of non-key = %v", err)
	}
	if _, err := k.SealPrivateKey(nil, nil); err == nil {
		t.Error("nil key sealed")
	}
}
