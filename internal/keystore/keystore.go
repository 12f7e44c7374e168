// Package keystore encrypts private keys (and other small secrets) at rest
// under a key-encryption key derived from a configured secret.
//
// Sealed format, version 1 (all fields fixed-size except the ciphertext):
//
//	version (1 byte, = 1) | salt (16) | key check (16) | nonce (12) | AES-256-GCM ciphertext and tag
//
// For each sealed value a fresh random salt is drawn and HKDF-SHA256
// (RFC 5869) derives two values from the secret and that salt: the 32-byte
// AES-256 key-encryption key (info "obank keystore v1 kek") and a 16-byte key
// check (info "obank keystore v1 key check"). The key check lets Open tell a
// wrong secret (ErrWrongSecret) from damaged or tampered data (ErrCorrupt);
// it reveals nothing the GCM tag did not already allow an attacker to test.
// The whole header (version, salt, key check, nonce) and the caller's
// associated data are authenticated by GCM, so changing any byte is detected.
//
// HKDF is not a password hash: the secret must be high-entropy (at least
// MinSecretLen bytes, e.g. 32 random bytes or `openssl rand -base64 32`),
// not a memorable passphrase.
package keystore

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"

	"github.com/obank/obank/internal/pki"
)

// MinSecretLen is the shortest secret New accepts, in bytes.
const MinSecretLen = 32

const (
	version1   byte = 1
	saltLen         = 16
	checkLen        = 16
	nonceLen        = 12 // the GCM standard nonce size
	kekLen          = 32 // AES-256
	headerLen       = 1 + saltLen + checkLen + nonceLen
	minSealLen      = headerLen + 16 // plus the GCM tag

	infoKEK   = "obank keystore v1 kek"
	infoCheck = "obank keystore v1 key check"
)

// Errors returned by Open and OpenPrivateKey; test with errors.Is.
var (
	// ErrWrongSecret means the value was sealed under a secret other than
	// the ones configured (or its key check was altered).
	ErrWrongSecret = errors.New("keystore: sealed with a different secret (check the configured key-encryption secret)")
	// ErrCorrupt means the value is truncated, was modified, or was sealed
	// with different associated data.
	ErrCorrupt = errors.New("keystore: sealed data is corrupt or has been tampered with")
	// ErrUnsupportedVersion means the format version byte is unknown.
	ErrUnsupportedVersion = errors.New("keystore: unsupported sealed format version")
)

// Sealer seals and opens values. It is safe for concurrent use.
type Sealer struct {
	// secrets[0] seals; all are tried when opening, so that values sealed
	// before a secret rotation stay readable until they are re-sealed.
	secrets [][]byte
}

// New returns a Sealer that seals under secret and opens values sealed under
// secret or any of previous (for secret rotation). Each secret must be at
// least MinSecretLen bytes. The secrets are copied.
func New(secret []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for i, sec := range append([][]byte{secret}, previous...) {
		if len(sec) < MinSecretLen {
			which := "secret"
			if i > 0 {
				which = fmt.Sprintf("previous secret %d", i)
			}
			return nil, fmt.Errorf("keystore: %s is %d bytes, need at least %d random bytes", which, len(sec), MinSecretLen)
		}
		s.secrets = append(s.secrets, bytes.Clone(sec))
	}
	return s, nil
}

// Seal encrypts plaintext. associatedData (may be nil) is authenticated but
// not stored: Open must be given the same bytes. Binding a sealed key to
// e.g. its key id stops one stored blob being swapped for another.
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	header := make([]byte, headerLen, headerLen+len(plaintext)+16)
	header[0] = version1
	salt := header[1 : 1+saltLen]
	check := header[1+saltLen : 1+saltLen+checkLen]
	nonce := header[1+saltLen+checkLen:]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("keystore: generate salt: %w", err)
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keystore: generate nonce: %w", err)
	}
	aead, kc, err := derive(s.secrets[0], salt)
	if err != nil {
		return nil, err
	}
	copy(check, kc)
	return aead.Seal(header, nonce, plaintext, aad(header, associatedData)), nil
}

// Open decrypts a value made by Seal with the same associatedData. It
// returns ErrUnsupportedVersion, ErrWrongSecret or ErrCorrupt (wrapped) on
// failure.
func (s *Sealer) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrCorrupt)
	}
	if sealed[0] != version1 {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedVersion, sealed[0])
	}
	if len(sealed) < minSealLen {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(sealed))
	}
	header := sealed[:headerLen]
	salt := header[1 : 1+saltLen]
	check := header[1+saltLen : 1+saltLen+checkLen]
	nonce := header[1+saltLen+checkLen:]
	for _, secret := range s.secrets {
		aead, kc, err := derive(secret, salt)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(kc, check) != 1 {
			continue
		}
		plaintext, err := aead.Open(nil, nonce, sealed[headerLen:], aad(header, associatedData))
		if err != nil {
			return nil, ErrCorrupt
		}
		return plaintext, nil
	}
	return nil, ErrWrongSecret
}

// SealedWithCurrent reports whether sealed was made under the current
// (first) secret; after a rotation, values for which it is false should be
// opened and sealed again.
func (s *Sealer) SealedWithCurrent(sealed []byte) bool {
	if len(sealed) < minSealLen || sealed[0] != version1 {
		return false
	}
	_, kc, err := derive(s.secrets[0], sealed[1:1+saltLen])
	return err == nil && subtle.ConstantTimeCompare(kc, sealed[1+saltLen:1+saltLen+checkLen]) == 1
}

// Rotating reports whether the sealer was given previous secrets: only then
// can a value it opens have been sealed under another secret than the
// current one.
func (s *Sealer) Rotating() bool { return len(s.secrets) > 1 }

// SealPrivateKey seals key in PKCS#8 DER form.
func (s *Sealer) SealPrivateKey(key crypto.Signer, associatedData []byte) ([]byte, error) {
	if key == nil {
		return nil, errors.New("keystore: seal private key: nil key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal private key: %w", err)
	}
	// Clearing the DER copy is best effort (the key itself stays in
	// memory), but it keeps one more copy out of the heap.
	defer clear(der)
	return s.Seal(der, associatedData)
}

// OpenPrivateKey opens a value made by SealPrivateKey. The key must be one
// pki accepts (RSA ≥ 2048 bits or ECDSA P-256/P-384).
func (s *Sealer) OpenPrivateKey(sealed, associatedData []byte) (crypto.Signer, error) {
	der, err := s.Open(sealed, associatedData)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	key, err := pki.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keystore: open private key: %w", err)
	}
	return key, nil
}

// derive returns the AES-256-GCM AEAD and key check for secret and salt.
func derive(secret, salt []byte) (cipher.AEAD, []byte, error) {
	kek := make([]byte, kekLen)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, []byte(infoKEK)), kek); err != nil {
		return nil, nil, fmt.Errorf("keystore: derive key-encryption key: %w", err)
	}
	defer clear(kek)
	check := make([]byte, checkLen)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, []byte(infoCheck)), check); err != nil {
		return nil, nil, fmt.Errorf("keystore: derive key check: %w", err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: %w", err)
	}
	return aead, check, nil
}

// aad is the GCM additional data: the header, then the caller's data. The
// header has a fixed length, so the concatenation is unambiguous.
func aad(header, associatedData []byte) []byte {
	out := make([]byte, 0, len(header)+len(associatedData))
	return append(append(out, header...), associatedData...)
}
