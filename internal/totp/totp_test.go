package totp

import (
	"testing"
	"time"
)

// The RFC 6238 appendix B vectors for SHA-1 (8 digits), and their last six
// digits, which are the 6-digit codes.
func TestRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	tests := []struct {
		unix   int64
		eight  string
		digits string
	}{
		{59, "94287082", "287082"},
		{1111111109, "07081804", "081804"},
		{1111111111, "14050471", "050471"},
		{1234567890, "89005924", "005924"},
		{2000000000, "69279037", "279037"},
		{20000000000, "65353130", "353130"},
	}
	for _, tc := range tests {
		at := time.Unix(tc.unix, 0)
		if got := code(key, Step(at), 8); got != tc.eight {
			t.Errorf("code(8 digits, %d) = %q, want %q", tc.unix, got, tc.eight)
		}
		if got := At(key, at); got != tc.digits {
			t.Errorf("At(%d) = %q, want %q", tc.unix, got, tc.digits)
		}
	}
}

func TestValidateWindow(t *testing.T) {
	key := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	tests := []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"current step", 0, true},
		{"previous step", -Period, true},
		{"next step", Period, true},
		{"two steps ago", -2 * Period, false},
		{"two steps ahead", 2 * Period, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := At(key, now.Add(tc.offset))
			step, ok := Validate(key, c, now)
			if ok != tc.ok {
				t.Fatalf("Validate(code at %v) ok = %v, want %v", tc.offset, ok, tc.ok)
			}
			if ok && step != Step(now.Add(tc.offset)) {
				t.Errorf("Validate step = %d, want %d", step, Step(now.Add(tc.offset)))
			}
		})
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := Validate(key, bad, now); ok {
			t.Errorf("Validate(%q) = ok, want refused", bad)
		}
	}
}

func TestSecretRoundTrip(t *testing.T) {
	s := NewSecret()
	key, err := DecodeSecret(s)
	if err != nil || len(key) != 20 {
		t.Fatalf("DecodeSecret(NewSecret()) = %d bytes, %v", len(key), err)
	}
	if EncodeSecret(key) != s {
		t.Errorf("EncodeSecret(DecodeSecret(%q)) differs", s)
	}
	// Lower case, spaces and padding as people type them.
	if _, err := DecodeSecret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq=="); err != nil {
		t.Errorf("DecodeSecret(spaced lower case): %v", err)
	}
	if _, err := DecodeSecret("GEZDGNBV"); err == nil {
		t.Error("DecodeSecret(40-bit secret) accepted")
	}
	if _, err := DecodeSecret("not base32!"); err == nil {
		t.Error("DecodeSecret(garbage) accepted")
	}
}
