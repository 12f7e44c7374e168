package oauth

import (
	"errors"
	"testing"
)

func TestVerifyPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name, verifier, challenge string
		want                      bool
	}{
		{"rfc example", verifier, challenge, true},
		{"wrong verifier", verifier[:42] + "a", challenge, false},
		{"plain method (verifier equals challenge)", challenge, challenge, false},
		{"too short", "abc", "abc", false},
		{"illegal character", verifier[:42] + "!", challenge, false},
		{"empty challenge", verifier, "", false},
	}
	for _, tt := range tests {
		if got := VerifyPKCE(tt.verifier, tt.challenge); got != tt.want {
			t.Errorf("%s: VerifyPKCE = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := ErrInvalidGrant.WithDescription("code used twice").WithCause(errors.New("db"))
	if !errors.Is(err, ErrInvalidGrant) || errors.Is(err, ErrInvalidClient) {
		t.Errorf("errors.Is by code broken for %v", err)
	}
	if v := err.Values("xyz"); v.Get("error") != "invalid_grant" || v.Get("state") != "xyz" || v.Get("error_description") != "code used twice" {
		t.Errorf("Values = %v", v)
	}
	if AsError(errors.New("boom")).Code != "server_error" {
		t.Error("foreign error is not server_error")
	}
}

func TestScopesForRoles(t *testing.T) {
	got := ScopesForRoles([]string{RoleAISP, RoleCBPII})
	want := []string{"openid", "accounts", "fundsconfirmations"}
	if len(got) != len(want) {
		t.Fatalf("ScopesForRoles = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ScopesForRoles = %v, want %v", got, want)
		}
	}
}
