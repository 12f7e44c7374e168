// Package totp implements RFC 6238 time-based one-time passwords as the
// bank's second factor: HMAC-SHA1, 30-second steps, 6 digits, and a window
// of one step either side of the current one for clock drift. It is stdlib
// only.
//
// Validate reports which step a code matched; accepting it once per
// customer and step (replay protection) is the caller's job, because only
// the store shared by every instance can know which steps were used.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Parameters of the codes (the RFC 6238 defaults every authenticator app
// supports).
const (
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Window is how many steps before and after the current one a code
	// may come from.
	Window = 1
)

// encoding is RFC 4648 base32 without padding, as in otpauth:// URIs.
var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh 160-bit secret (the HMAC-SHA1 block size RFC
// 4226 recommends), base32-encoded.
func NewSecret() string {
	b := make([]byte, 20)
	rand.Read(b) // never fails (Go 1.24+)
	return EncodeSecret(b)
}

// EncodeSecret encodes key as unpadded base32.
func EncodeSecret(key []byte) string { return encoding.EncodeToString(key) }

// DecodeSecret decodes a base32 secret, ignoring case, spaces and padding
// (as people copy them from screens).
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.TrimRight(s, "=")
	key, err := encoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("totp: bad secret: %w", err)
	}
	if len(key) < 10 {
		return nil, errors.New("totp: secret shorter than 80 bits")
	}
	return key, nil
}

// Step returns the time step t falls in.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Code returns the code of key at time step step.
func Code(key []byte, step int64) string { return code(key, step, Digits) }

// At returns the code of key at time t.
func At(key []byte, t time.Time) string { return Code(key, Step(t)) }

// code is RFC 4226 HOTP with the dynamic truncation of §5.3.
func code(key []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// Validate checks code against the steps around t and returns the step it
// matched. Every candidate is compared, in constant time, so the time taken
// does not tell which step (or how many digits) matched.
func Validate(key []byte, code string, t time.Time) (step int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	now := Step(t)
	for s := now - Window; s <= now+Window; s++ {
		if subtle.ConstantTimeCompare([]byte(Code(key, s)), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}
