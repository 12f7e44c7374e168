package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"

	"github.com/obank/obank/internal/totp"
)

// TOTPSecret returns the second-factor secret of a demo customer: 160 bits
// derived from the seed and the customer id, base32. Like the passwords it
// is published (the banner prints it, and the demo's TOTP page shows the
// current code), so deriving it protects nothing and costs nothing, and the
// same demo bank always has the same secrets.
func TOTPSecret(seed uint64, customerID string) string {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], seed)
	mac := hmac.New(sha256.New, append([]byte("obank demo totp "), key[:]...))
	mac.Write([]byte(customerID))
	return totp.EncodeSecret(mac.Sum(nil)[:20])
}
