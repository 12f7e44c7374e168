package demo

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPasswordIsBcrypt(t *testing.T) {
	for i, pw := range []string{"demo-1234", "", "a much longer password with spaces and £ signs"} {
		var salt [16]byte
		for j := range salt {
			salt[j] = byte(i*31 + j*7)
		}
		h, err := hashPassword(pw, salt)
		if err != nil {
			t.Fatal(err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(pw)); err != nil {
			t.Errorf("hash %q of %q does not verify: %v", h, pw, err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(pw+"x")); err == nil {
			t.Errorf("hash of %q verifies a different password", pw)
		}
		if c, _ := bcrypt.Cost([]byte(h)); c != bcrypt.MinCost {
			t.Errorf("cost = %d, want MinCost", c)
		}
	}
}
