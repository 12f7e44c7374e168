// Package sandbox is obank's built-in stand-in for the Open Banking
// Directory and its PKI, so that the whole system runs on one machine with
// nothing external. It keeps a root CA, the server TLS certificate and the
// directory's SSA signing key in a directory on disk (Ensure), issues TPPs
// with transport and signing certificates and a signed software statement
// assertion (IssueTPP, WriteDir, LoadTPP), and verifies SSAs (VerifySSA).
//
// Key types: the CA key is ECDSA P-256 (fast to make; the CA type does not
// affect TLS suites). The server key is RSA-2048, because FAPI's TLS 1.2
// suites are ECDHE_RSA. The directory and TPP signing keys are RSA-2048 for
// PS256, and TPP transport keys are RSA-2048, as OB transport certificates
// are.
//
// Key ids: every JWK kid is the RFC 7638 SHA-256 thumbprint of the key. (The
// OB Directory uses the certificate's x5t; a thumbprint has the same
// property of being derived from the material, and does not change if the
// certificate is reissued.)
package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/internal/pki"
)

// File names in the sandbox directory.
const (
	CAFile                  = "ca.pem"
	CAKeyFile               = "ca-key.pem"
	ServerCertFile          = "server.pem"
	ServerKeyFile           = "server-key.pem"
	DirectorySigningKeyFile = "directory-signing-key.pem"
	DirectoryJWKSFile       = "directory.jwks"
)

// DefaultHosts are always in the server certificate.
func DefaultHosts() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// rsaBits is the size of every RSA key the sandbox generates.
const rsaBits = 2048

// sandboxOrg is the subject O of the sandbox's own certificates.
const sandboxOrg = "obank sandbox"

// Options configure Ensure.
type Options struct {
	// Hostnames are DNS names or IP literals the server certificate must
	// cover besides DefaultHosts. When the certificate already exists and
	// lacks one, Ensure fails rather than reissuing it.
	Hostnames []string
	// Now returns the current time; nil means time.Now. It dates new
	// certificates and SSAs and checks existing certificates' validity.
	Now func() time.Time
}

// Directory is a loaded sandbox: CA, server certificate and the directory
// signing key. It is read-only after Ensure and safe for concurrent use.
type Directory struct {
	dir        string
	now        func() time.Time
	ca         *pki.CA
	server     tls.Certificate
	signingKey *rsa.PrivateKey
	keyID      string
	jwks       jwk.Set
	jwksJSON   []byte
}

// fileGroup is material that is created together and must exist together.
type fileGroup struct {
	what  string
	files []string
}

// Ensure loads the sandbox in dir, first creating (with mode 0700) the
// directory and whichever of these groups are missing:
//
//   - CAFile, CAKeyFile: the root CA;
//   - ServerCertFile, ServerKeyFile: the server certificate (leaf only)
//     for DefaultHosts and opts.Hostnames, issued by the CA;
//   - DirectorySigningKeyFile, DirectoryJWKSFile: the directory's RSA
//     signing key and its public JWK set (one key: kid, use=sig,
//     alg=PS256, x5c = [signing certificate, CA certificate]).
//
// Existing material is never regenerated or overwritten. Ensure fails,
// saying which file to remove, if a group is only half present, if the CA
// is missing while material it issued remains, if existing material does
// not chain to the CA, is expired, or lacks a requested hostname, or if a
// key file is readable by group or others. Key files are written with
// mode 0600, other files 0644.
func Ensure(dir string, opts Options) (*Directory, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: create %s: %w", dir, err)
	}
	d := &Directory{dir: dir, now: now}

	caGroup := fileGroup{"root CA", []string{CAFile, CAKeyFile}}
	serverGroup := fileGroup{"server certificate", []string{ServerCertFile, ServerKeyFile}}
	signingGroup := fileGroup{"directory signing key", []string{DirectorySigningKeyFile, DirectoryJWKSFile}}
	present := map[string]bool{}
	for _, g := range []fileGroup{caGroup, serverGroup, signingGroup} {
		ok, err := d.groupPresent(g)
		if err != nil {
			return nil, err
		}
		present[g.what] = ok
	}
	if !present[caGroup.what] && (present[serverGroup.what] || present[signingGroup.what]) {
		return nil, fmt.Errorf("sandbox: %s: %s and %s are missing but material the CA issued remains; "+
			"remove the directory's contents to start a new sandbox", dir, CAFile, CAKeyFile)
	}

	steps := []struct {
		group  fileGroup
		load   func() error
		create func() error
	}{
		{caGroup, d.loadCA, d.createCA},
		{serverGroup, func() error { return d.loadServer(opts.Hostnames) }, func() error { return d.createServer(opts.Hostnames) }},
		{signingGroup, d.loadSigning, d.createSigning},
	}
	for _, s := range steps {
		var err error
		if present[s.group.what] {
			err = s.load()
		} else {
			err = s.create()
		}
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Directory) path(name string) string { return filepath.Join(d.dir, name) }

// groupPresent reports whether all files of g exist, and fails if only
// some do.
func (d *Directory) groupPresent(g fileGroup) (bool, error) {
	var have, missing []string
	for _, name := range g.files {
		_, err := os.Lstat(d.path(name))
		switch {
		case err == nil:
			have = append(have, name)
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, name)
		default:
			return false, fmt.Errorf("sandbox: %w", err)
		}
	}
	if len(have) > 0 && len(missing) > 0 {
		return false, fmt.Errorf("sandbox: %s in %s is incomplete: %s exists but %s is missing; remove %s to regenerate it",
			g.what, d.dir, strings.Join(have, ", "), strings.Join(missing, ", "), strings.Join(have, " and "))
	}
	return len(missing) == 0, nil
}

// readKey reads a key file, refusing one that others can read.
func (d *Directory) readKey(name string) (crypto.Signer, error) {
	p := d.path(name)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	// Windows has no Unix permission bits to check.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("sandbox: %s has mode %v; a private key must be readable by its owner only (chmod 600 %s)", p, fi.Mode().Perm(), p)
	}
	key, err := pki.ReadPrivateKeyFile(p)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return key, nil
}

func (d *Directory) readCerts(name string) ([]*x509.Certificate, error) {
	certs, err := pki.ReadCertificatesFile(d.path(name))
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return certs, nil
}

func (d *Directory) createCA() error {
	key, err := pki.NewECDSAKey()
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	// A random suffix tells one sandbox's CA from another's in a trust
	// store or browser certificate viewer.
	subject := pkix.Name{
		CommonName:   "obank sandbox root CA " + rand.Text()[:6],
		Organization: []string{sandboxOrg},
		Country:      []string{"GB"},
	}
	ca, err := pki.NewRootCA(key, subject, pki.Validity{NotBefore: d.now().Add(-5 * time.Minute)})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	// The key goes first: if the process dies in between, the next Ensure
	// reports the half-written group instead of loading a CA without a key.
	if err := pki.WritePrivateKeyFile(d.path(CAKeyFile), key); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := pki.WriteCertificatesFile(d.path(CAFile), ca.Cert); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	d.ca = ca
	return nil
}

func (d *Directory) loadCA() error {
	certs, err := d.readCerts(CAFile)
	if err != nil {
		return err
	}
	if len(certs) != 1 {
		return fmt.Errorf("sandbox: %s holds %d certificates, want 1", d.path(CAFile), len(certs))
	}
	key, err := d.readKey(CAKeyFile)
	if err != nil {
		return err
	}
	ca, err := pki.LoadCA(certs[0], key)
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", d.dir, err)
	}
	if err := checkValidNow(ca.Cert, d.now(), CAFile); err != nil {
		return err
	}
	d.ca = ca
	return nil
}

func checkValidNow(cert *x509.Certificate, now time.Time, file string) error {
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("sandbox: %s is valid from %s to %s, not now; remove it and its key to regenerate",
			file, cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339))
	}
	return nil
}

func serverHosts(extra []string) []string {
	hosts := DefaultHosts()
	for _, h := range extra {
		if !slices.Contains(hosts, strings.ToLower(h)) {
			hosts = append(hosts, strings.ToLower(h))
		}
	}
	return hosts
}

func (d *Directory) createServer(extraHosts []string) error {
	key, err := pki.NewRSAKey(rsaBits)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	cert, err := d.ca.IssueServerCert(key.Public(), pki.ServerCertRequest{
		Hosts:        serverHosts(extraHosts),
		Organization: sandboxOrg,
		Validity:     pki.Validity{NotBefore: d.now().Add(-5 * time.Minute)},
	})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := pki.WritePrivateKeyFile(d.path(ServerKeyFile), key); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := pki.WriteCertificatesFile(d.path(ServerCertFile), cert); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return d.setServer(key, cert)
}

func (d *Directory) setServer(key crypto.Signer, cert *x509.Certificate) error {
	tc, err := pki.TLSCertificate(key, cert)
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", d.path(ServerCertFile), err)
	}
	d.server = tc
	return nil
}

func (d *Directory) loadServer(extraHosts []string) error {
	certs, err := d.readCerts(ServerCertFile)
	if err != nil {
		return err
	}
	key, err := d.readKey(ServerKeyFile)
	if err != nil {
		return err
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("sandbox: %s is a %T; FAPI's TLS 1.2 cipher suites need an RSA server key", d.path(ServerKeyFile), key)
	}
	leaf := certs[0]
	remedy := fmt.Sprintf("remove %s and %s to reissue", ServerCertFile, ServerKeyFile)
	for _, host := range serverHosts(extraHosts) {
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:       host,
			Roots:         d.ca.Pool(),
			Intermediates: poolOf(certs[1:]),
			CurrentTime:   d.now(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return fmt.Errorf("sandbox: %s is not valid for %q from the sandbox CA (%w); %s", d.path(ServerCertFile), host, err, remedy)
		}
	}
	return d.setServer(key, leaf)
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func (d *Directory) createSigning() error {
	key, err := pki.NewRSAKey(rsaBits)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	cert, err := d.ca.IssueSigningCert(key.Public(), pki.SigningCertRequest{
		Subject: pkix.Name{
			CommonName:   "obank sandbox directory signing",
			Organization: []string{sandboxOrg},
			Country:      []string{"GB"},
		},
		Validity: pki.Validity{NotBefore: d.now().Add(-5 * time.Minute)},
	})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	pub, err := pki.SigningJWK(key.Public(), cert, d.ca.Cert)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return fmt.Errorf("sandbox: directory JWKS: %w", err)
	}
	data, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: directory JWKS: %w", err)
	}
	data = append(data, '\n')
	if err := pki.WritePrivateKeyFile(d.path(DirectorySigningKeyFile), key); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := pki.WriteNewFile(d.path(DirectoryJWKSFile), data, pki.CertFileMode); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return d.loadSigning()
}

// loadSigning reads the directory signing key and JWKS and checks that they
// agree with each other and with the CA.
func (d *Directory) loadSigning() error {
	key, err := d.readKey(DirectorySigningKeyFile)
	if err != nil {
		return err
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return fmt.Errorf("sandbox: %s is a %T; the directory signs PS256 and needs an RSA key", d.path(DirectorySigningKeyFile), key)
	}
	jwksPath := d.path(DirectoryJWKSFile)
	data, err := os.ReadFile(jwksPath)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	kid, err := checkSigningJWKS(data, rsaKey, d.ca.Pool(), d.now())
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", jwksPath, err)
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", jwksPath, err)
	}
	d.signingKey, d.keyID, d.jwks, d.jwksJSON = rsaKey, kid, set, data
	return nil
}

// checkSigningJWKS checks that data is a public JWK set of exactly one
// PS256 signing key: the public half of key, with a kid, and with an x5c
// whose leaf certifies key and chains to roots at now. It returns the kid.
func checkSigningJWKS(data []byte, key *rsa.PrivateKey, roots *x509.CertPool, now time.Time) (string, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return "", err
	}
	if set.Len() != 1 {
		return "", fmt.Errorf("holds %d keys, want 1", set.Len())
	}
	k, _ := set.Key(0)
	if priv, err := jwk.IsPrivateKey(k); err != nil || priv {
		return "", errors.New("holds private key material; a JWKS file must be public")
	}
	kid, ok := k.KeyID()
	if !ok || kid == "" {
		return "", errors.New("key has no kid")
	}
	if alg, ok := k.Algorithm(); !ok || alg.String() != jwa.PS256().String() {
		return "", fmt.Errorf("key %q: alg is not PS256", kid)
	}
	if use, ok := k.KeyUsage(); !ok || use != jwk.ForSignature.String() {
		return "", fmt.Errorf("key %q: use is not sig", kid)
	}
	var pub rsa.PublicKey
	if err := jwk.Export(k, &pub); err != nil {
		return "", fmt.Errorf("key %q: %w", kid, err)
	}
	if !pub.Equal(key.Public()) {
		return "", fmt.Errorf("key %q is not the public half of the signing key", kid)
	}
	chain, err := pki.X5C(k)
	if err != nil {
		return "", fmt.Errorf("key %q: %w", kid, err)
	}
	if len(chain) == 0 {
		return "", fmt.Errorf("key %q has no x5c", kid)
	}
	if !pki.KeyMatchesCertificate(key, chain[0]) {
		return "", fmt.Errorf("key %q: x5c leaf certifies another key", kid)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: poolOf(chain[1:]),
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return "", fmt.Errorf("key %q: x5c does not chain to the sandbox CA: %w", kid, err)
	}
	return kid, nil
}

// Dir returns the directory the sandbox lives in.
func (d *Directory) Dir() string { return d.dir }

// CA returns the sandbox CA. Its key signs certificates; do not expose it.
func (d *Directory) CA() *pki.CA { return d.ca }

// CACertificate returns the root CA certificate.
func (d *Directory) CACertificate() *x509.Certificate { return d.ca.Cert }

// CAPool returns a new pool holding the sandbox CA: the client CAs for the
// server and the root CAs for clients.
func (d *Directory) CAPool() *x509.CertPool { return d.ca.Pool() }

// ServerCertificate returns the server TLS certificate and key.
func (d *Directory) ServerCertificate() tls.Certificate { return d.server }

// ServerTLSConfig returns the FAPI server TLS configuration for the sandbox
// server certificate, trusting client certificates from the sandbox CA.
func (d *Directory) ServerTLSConfig(requireClientCert bool) *tls.Config {
	return pki.ServerTLSConfig(d.server, d.ca.Pool(), requireClientCert)
}

// KeyID returns the kid of the directory signing key.
func (d *Directory) KeyID() string { return d.keyID }

// PublicJWKS returns the directory's public JWK set, against which
// VerifySSA checks software statements. The set is shared: do not modify it.
func (d *Directory) PublicJWKS() jwk.Set { return d.jwks }

// PublicJWKSJSON returns the JSON of the directory's public JWK set, as
// served at a jwks_uri. The slice is a copy.
func (d *Directory) PublicJWKSJSON() []byte { return slices.Clone(d.jwksJSON) }
