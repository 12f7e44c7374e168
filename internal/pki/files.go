package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File modes used for material written by this package. Keys are readable by
// the owner only; certificates are public.
const (
	KeyFileMode  fs.FileMode = 0o600
	CertFileMode fs.FileMode = 0o644
)

// WritePrivateKeyFile writes key as PKCS#8 PEM to a new file at path with mode
// KeyFileMode. It never overwrites: if path exists the error matches
// fs.ErrExist.
func WritePrivateKeyFile(path string, key crypto.Signer) error {
	data, err := EncodePrivateKeyPEM(key)
	if err != nil {
		return err
	}
	return WriteNewFile(path, data, KeyFileMode)
}

// WriteCertificatesFile writes certs as PEM to a new file at path with mode
// CertFileMode. It never overwrites: if path exists the error matches
// fs.ErrExist.
func WriteCertificatesFile(path string, certs ...*x509.Certificate) error {
	if len(certs) == 0 {
		return fmt.Errorf("pki: write %s: no certificates", path)
	}
	return WriteNewFile(path, EncodeCertificatesPEM(certs...), CertFileMode)
}

// ReadPrivateKeyFile reads a PEM private key from path.
func ReadPrivateKeyFile(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: read private key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// ReadCertificatesFile reads the PEM certificates in path, in file order.
func ReadCertificatesFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: read certificates: %w", err)
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// WriteNewFile creates path with exactly mode perm and contents data, and
// fails with an error matching fs.ErrExist if path already exists.
//
// The data is written to a temporary file in the same directory and then
// hard-linked into place. That makes the write atomic (a reader sees either
// nothing or the whole file), makes "create only" race-free between processes
// (link fails if the name exists), and sets the mode before the name appears,
// so a key is never briefly readable by others. The umask does not apply.
func WriteNewFile(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	// The temporary name is always removed: on success the data lives on
	// under path through the hard link.
	defer func() {
		if rmErr := os.Remove(tmpName); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("pki: write %s: remove temporary file: %w", path, rmErr)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	return nil
}
