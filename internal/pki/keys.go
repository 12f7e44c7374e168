package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MinRSABits is the smallest RSA modulus accepted for any key. FAPI and the
// OB certificate profiles require at least 2048 bits.
const MinRSABits = 2048

// PEM block types written and accepted by this package.
const (
	pemTypeCertificate = "CERTIFICATE"
	pemTypePKCS8       = "PRIVATE KEY"
	pemTypePKCS1       = "RSA PRIVATE KEY"
	pemTypeSEC1        = "EC PRIVATE KEY"
)

// NewRSAKey generates an RSA private key with a modulus of bits bits.
// Sizes below MinRSABits are refused.
func NewRSAKey(bits int) (*rsa.PrivateKey, error) {
	if bits < MinRSABits {
		return nil, fmt.Errorf("pki: RSA key size %d is below the minimum of %d bits", bits, MinRSABits)
	}
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("pki: generate RSA-%d key: %w", bits, err)
	}
	return key, nil
}

// NewECDSAKey generates an ECDSA private key on curve P-256.
func NewECDSAKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate ECDSA P-256 key: %w", err)
	}
	return key, nil
}

// CheckPublicKey reports whether pub is a key this package is willing to
// certify or load: RSA with at least MinRSABits bits, or ECDSA on P-256 or
// P-384. Anything else (small RSA, Ed25519, other curves) is refused because
// the FAPI and OB profiles do not allow it.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < MinRSABits {
			return fmt.Errorf("pki: RSA key must have at least %d bits", MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
			return nil
		}
		return fmt.Errorf("pki: ECDSA curve %s is not supported (use P-256 or P-384)", curveName(k.Curve))
	case nil:
		return errors.New("pki: no public key")
	default:
		return fmt.Errorf("pki: unsupported key type %T (use RSA or ECDSA)", pub)
	}
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "<nil>"
	}
	return c.Params().Name
}

// KeyMatchesCertificate reports whether key is the private key for cert.
func KeyMatchesCertificate(key crypto.Signer, cert *x509.Certificate) bool {
	if key == nil || cert == nil {
		return false
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

// EncodePrivateKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block.
func EncodePrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, errors.New("pki: encode private key: nil key")
	}
	if err := CheckPublicKey(key.Public()); err != nil {
		return nil, fmt.Errorf("pki: encode private key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal PKCS#8 private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypePKCS8, Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes the single private key in data. PKCS#8 is what
// this package writes; PKCS#1 ("RSA PRIVATE KEY") and SEC 1 ("EC PRIVATE
// KEY") are also read so that keys made with older OpenSSL commands load.
// Encrypted PEM (RFC 1423) is refused: it is obsolete and insecure; use the
// keystore package for keys at rest.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("pki: no PEM block found in private key data")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("pki: private key data holds more than one PEM block")
	}
	if _, ok := block.Headers["DEK-Info"]; ok {
		return nil, errors.New("pki: encrypted PEM private keys are not supported")
	}
	return parsePrivateKeyDER(block.Type, block.Bytes)
}

// ParsePKCS8PrivateKey parses a PKCS#8 DER private key that passes
// CheckPublicKey.
func ParsePKCS8PrivateKey(der []byte) (crypto.Signer, error) {
	return parsePrivateKeyDER(pemTypePKCS8, der)
}

// parsePrivateKeyDER parses a DER private key in the encoding its PEM type
// names, and checks it with CheckPublicKey.
func parsePrivateKeyDER(pemType string, der []byte) (crypto.Signer, error) {
	var (
		parsed any
		err    error
	)
	switch pemType {
	case pemTypePKCS8:
		parsed, err = x509.ParsePKCS8PrivateKey(der)
	case pemTypePKCS1:
		parsed, err = x509.ParsePKCS1PrivateKey(der)
	case pemTypeSEC1:
		parsed, err = x509.ParseECPrivateKey(der)
	default:
		return nil, fmt.Errorf("pki: unexpected PEM block %q where a private key was expected", pemType)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: parse %s: %w", pemType, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: private key of type %T cannot sign", parsed)
	}
	if err := CheckPublicKey(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// EncodeCertificatesPEM encodes certs, in order, as CERTIFICATE PEM blocks.
func EncodeCertificatesPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: pemTypeCertificate, Bytes: c.Raw})...)
	}
	return out
}

// ParseCertificatesPEM decodes every CERTIFICATE block in data, in order. It
// fails if data holds no certificate or any block of another type, so that a
// private key pasted into a certificate file is noticed rather than ignored.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != pemTypeCertificate {
			return nil, fmt.Errorf("pki: unexpected PEM block %q in certificate data", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("pki: no CERTIFICATE PEM block found")
	}
	return certs, nil
}
