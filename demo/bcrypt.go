package demo

import (
	"encoding/base64"
	"fmt"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/blowfish"
)

// Demo passwords are hashed at bcrypt.MinCost: they are published in the
// README, so a slow cost protects nothing, and 50 hashes at DefaultCost
// would take seconds of the seeding budget. Real imports hash at
// bcrypt.DefaultCost.
//
// bcrypt.GenerateFromPassword draws its salt from crypto/rand, which would
// make two Generate calls differ. So the hash is computed here, with a salt
// from the seeded generator, by the same algorithm as x/crypto/bcrypt (the
// tests check every demo hash with bcrypt.CompareHashAndPassword). The salt
// still differs per customer; its secrecy never mattered.
const demoHashCost = bcrypt.MinCost

// bcryptEncoding is bcrypt's own base64 alphabet, unpadded.
var bcryptEncoding = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// magicCipherData is "OrpheanBeholderScryDoubt", the block bcrypt encrypts.
var magicCipherData = [24]byte{
	0x4f, 0x72, 0x70, 0x68, 0x65, 0x61, 0x6e, 0x42,
	0x65, 0x68, 0x6f, 0x6c, 0x64, 0x65, 0x72, 0x53,
	0x63, 0x72, 0x79, 0x44, 0x6f, 0x75, 0x62, 0x74,
}

// hashPassword returns the $2a$ bcrypt hash of password with the given salt
// at demoHashCost.
func hashPassword(password string, salt [16]byte) (string, error) {
	if len(password) > 72 {
		return "", bcrypt.ErrPasswordTooLong
	}
	// bcrypt feeds the key with its C-string terminator.
	key := append([]byte(password), 0)
	c, err := blowfish.NewSaltedCipher(key, salt[:])
	if err != nil {
		return "", err
	}
	for i := 0; i < 1<<demoHashCost; i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt[:], c)
	}
	data := magicCipherData
	for i := 0; i < 24; i += 8 {
		for j := 0; j < 64; j++ {
			c.Encrypt(data[i:i+8], data[i:i+8])
		}
	}
	// Like every bcrypt, encode only 23 of the 24 bytes.
	return fmt.Sprintf("$2a$%02d$%s%s", demoHashCost,
		bcryptEncoding.EncodeToString(salt[:]), bcryptEncoding.EncodeToString(data[:23])), nil
}
