package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKeys holds keys shared by all tests in the package: RSA key
// generation is slow on small machines, so only one RSA key is made.
type testKeys struct {
	rsa *rsa.PrivateKey
	ca  *CA
}

var sharedKeys = sync.OnceValues(func() (*testKeys, error) {
	rsaKey, err := NewRSAKey(2048)
	if err != nil {
		return nil, err
	}
	caKey, err := NewECDSAKey()
	if err != nil {
		return nil, err
	}
	ca, err := NewRootCA(caKey, pkix.Name{CommonName: "test root", Organization: []string{"obank test"}}, Validity{})
	if err != nil {
		return nil, err
	}
	return &testKeys{rsa: rsaKey, ca: ca}, nil
})

func keys(t testing.TB) *testKeys {
	t.Helper()
	k, err := sharedKeys()
	if err != nil {
		t.Fatalf("test keys: %v", err)
	}
	return k
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t testing.TB, cn string) *CA {
	t.Helper()
	ca, err := NewRootCA(ecKey(t), pkix.Name{CommonName: cn}, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestNewRootCA(t *testing.T) {
	ca := keys(t).ca
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("CA constraints: IsCA=%v BasicConstraintsValid=%v MaxPathLen=%d MaxPathLenZero=%v",
			c.IsCA, c.BasicConstraintsValid, c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("KeyUsage = %v", c.KeyUsage)
	}
	if len(c.SubjectKeyId) == 0 {
		t.Error("no SubjectKeyId")
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if got := time.Until(c.NotAfter); got < DefaultCAValidity-time.Hour {
		t.Errorf("CA validity remaining %v, want about %v", got, DefaultCAValidity)
	}

	if _, err := LoadCA(c, ca.Key); err != nil {
		t.Errorf("LoadCA: %v", err)
	}
	if _, err := LoadCA(c, ecKey(t)); err == nil {
		t.Error("LoadCA with a foreign key succeeded")
	}
	leaf, err := ca.IssueSigningCert(ecKey(t).Public(), SigningCertRequest{Subject: pkix.Name{CommonName: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(leaf, ca.Key); err == nil {
		t.Error("LoadCA with a non-CA certificate succeeded")
	}
	if _, err := NewRootCA(ecKey(t), pkix.Name{}, Validity{}); err == nil {
		t.Error("NewRootCA without a common name succeeded")
	}
}

func TestIssueServerCert(t *testing.T) {
	k := keys(t)
	cert, err := k.ca.IssueServerCert(k.rsa.Public(), ServerCertRequest{
		Hosts: []string{"localhost", "127.0.0.1", "::1", "Bank.Example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "localhost" {
		t.Errorf("CN = %q, want first host", cert.Subject.CommonName)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "bank.example"} {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: k.ca.Pool()})
		if err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: k.ca.Pool()}); err == nil {
		t.Error("verified for a host not in the SANs")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: k.ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("server certificate verified for clientAuth")
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature || cert.IsCA {
		t.Errorf("KeyUsage=%v IsCA=%v", cert.KeyUsage, cert.IsCA)
	}
	if string(cert.AuthorityKeyId) != string(k.ca.Cert.SubjectKeyId) {
		t.Error("AuthorityKeyId does not match the CA's SubjectKeyId")
	}

	for _, tc := range []struct {
		name  string
		hosts []string
	}{
		{"none", nil},
		{"URL", []string{"https://bank.example"}},
		{"space", []string{"bank example"}},
		{"empty label", []string{"bank..example"}},
		{"leading hyphen", []string{"-bank.example"}},
		{"port", []string{"localhost:8443"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := k.ca.IssueServerCert(k.rsa.Public(), ServerCertRequest{Hosts: tc.hosts}); err == nil {
				t.Errorf("hosts %q accepted", tc.hosts)
			}
		})
	}
}

// obSubjectDNPattern is OB's tls_client_auth_subject_dn pattern without the
// (?=.{1,512}$) lookahead, which RE2 lacks; the length is checked apart.
var obSubjectDNPattern = regexp.MustCompile(`^[Cc][Nn]=[^,]+(?:,[^,\s]+=[^,]+)*$`)

func TestIssueClientCert(t *testing.T) {
	ca := keys(t).ca
	req := ClientCertRequest{SoftwareID: "2sVmaQ5yT3r0pZ9NhmY3uC", OrgID: "0015800001041REAAY", OrgName: "Acme Payments Ltd"}
	cert, err := ca.IssueClientCert(ecKey(t).Public(), req)
	if err != nil {
		t.Fatal(err)
	}
	const want = "CN=2sVmaQ5yT3r0pZ9NhmY3uC,OU=0015800001041REAAY,O=Acme Payments Ltd,C=GB"
	dn := SubjectDN(cert)
	if dn != want {
		t.Errorf("SubjectDN = %q, want %q", dn, want)
	}
	if len(dn) > 512 || !obSubjectDNPattern.MatchString(dn) {
		t.Errorf("SubjectDN %q does not match OB's pattern", dn)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("verify clientAuth: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool()}); err == nil {
		t.Error("client certificate verified for serverAuth")
	}

	for _, tc := range []struct {
		name string
		mod  func(*ClientCertRequest)
	}{
		{"empty software ID", func(r *ClientCertRequest) { r.SoftwareID = "" }},
		{"comma in org name", func(r *ClientCertRequest) { r.OrgName = "Acme, Ltd" }},
		{"plus in org ID", func(r *ClientCertRequest) { r.OrgID = "a+b" }},
		{"equals in software ID", func(r *ClientCertRequest) { r.SoftwareID = "a=b" }},
		{"leading space", func(r *ClientCertRequest) { r.OrgName = " Acme" }},
		{"leading hash", func(r *ClientCertRequest) { r.OrgName = "#Acme" }},
		{"newline", func(r *ClientCertRequest) { r.OrgName = "Acme\nLtd" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req
			tc.mod(&r)
			if _, err := ca.IssueClientCert(ecKey(t).Public(), r); err == nil {
				t.Errorf("request %+v accepted", r)
			}
		})
	}
}

func TestIssueSigningCert(t *testing.T) {
	k := keys(t)
	cert, err := k.ca.IssueSigningCert(k.rsa.Public(), SigningCertRequest{Subject: pkix.Name{CommonName: "signer", Country: []string{"GB"}}})
	if err != nil {
		t.Fatal(err)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment || len(cert.ExtKeyUsage) != 0 {
		t.Errorf("KeyUsage=%v ExtKeyUsage=%v", cert.KeyUsage, cert.ExtKeyUsage)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: k.ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("verify: %v", err)
	}
	if SubjectDN(cert) != "CN=signer,C=GB" {
		t.Errorf("SubjectDN = %q", SubjectDN(cert))
	}
}

func TestValidity(t *testing.T) {
	ca := keys(t).ca
	pub := ecKey(t).Public()
	subject := SigningCertRequest{Subject: pkix.Name{CommonName: "v"}}
	now := time.Now()

	t.Run("explicit past period", func(t *testing.T) {
		req := subject
		req.Validity = Validity{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}
		cert, err := ca.IssueSigningCert(pub, req)
		if err != nil {
			t.Fatal(err)
		}
		if !cert.NotAfter.Equal(req.Validity.NotAfter.Truncate(time.Second)) {
			t.Errorf("NotAfter = %v, want %v", cert.NotAfter, req.Validity.NotAfter)
		}
	})
	t.Run("clamped to the CA", func(t *testing.T) {
		req := subject
		req.Validity = Validity{NotAfter: ca.Cert.NotAfter.Add(24 * time.Hour)}
		cert, err := ca.IssueSigningCert(pub, req)
		if err != nil {
			t.Fatal(err)
		}
		if !cert.NotAfter.Equal(ca.Cert.NotAfter) {
			t.Errorf("NotAfter = %v, want the CA's %v", cert.NotAfter, ca.Cert.NotAfter)
		}
	})
	t.Run("default backdated", func(t *testing.T) {
		cert, err := ca.IssueSigningCert(pub, subject)
		if err != nil {
			t.Fatal(err)
		}
		if !cert.NotBefore.Before(now) {
			t.Errorf("NotBefore %v is not before now", cert.NotBefore)
		}
		if got := cert.NotAfter.Sub(cert.NotBefore); got != DefaultSigningValidity {
			t.Errorf("lifetime = %v, want %v", got, DefaultSigningValidity)
		}
	})
	t.Run("inverted", func(t *testing.T) {
		req := subject
		req.Validity = Validity{NotBefore: now, NotAfter: now.Add(-time.Hour)}
		if _, err := ca.IssueSigningCert(pub, req); err == nil {
			t.Error("inverted validity accepted")
		}
	})
	t.Run("after the CA expires", func(t *testing.T) {
		req := subject
		req.Validity = Validity{NotBefore: ca.Cert.NotAfter.Add(time.Hour)}
		if _, err := ca.IssueSigningCert(pub, req); err == nil {
			t.Error("certificate starting after the CA expires accepted")
		}
	})
}

func TestCheckPublicKey(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pub  crypto.PublicKey
		ok   bool
	}{
		{"RSA 2048", keys(t).rsa.Public(), true},
		{"P-256", ecKey(t).Public(), true},
		{"RSA 1024", small.Public(), false},
		{"P-224", p224.Public(), false},
		{"Ed25519", edPub, false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckPublicKey(tc.pub); (err == nil) != tc.ok {
				t.Errorf("CheckPublicKey = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := NewRSAKey(1024); err == nil {
		t.Error("NewRSAKey(1024) succeeded")
	}
	if _, err := keys(t).ca.IssueClientCert(small.Public(), ClientCertRequest{SoftwareID: "a", OrgID: "b", OrgName: "c"}); err == nil {
		t.Error("issued a certificate for an RSA-1024 key")
	}
}

func TestThumbprint(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, base64url without padding.
	if got, want := Thumbprint(&x509.Certificate{Raw: []byte("abc")}), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"; got != want {
		t.Errorf("Thumbprint = %q, want %q", got, want)
	}
	cert := keys(t).ca.Cert
	if got := Thumbprint(cert); len(got) != 43 || strings.ContainsAny(got, "+/=") {
		t.Errorf("Thumbprint = %q, want 43 base64url characters", got)
	}
}

func TestPrivateKeyPEM(t *testing.T) {
	k := keys(t)
	ec := ecKey(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsa)})
	sec1DER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})

	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{{"RSA", k.rsa}, {"ECDSA", ec}} {
		t.Run("round trip "+tc.name, func(t *testing.T) {
			data, err := EncodePrivateKeyPEM(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----") {
				t.Errorf("not PKCS#8 PEM: %.40q", data)
			}
			got, err := ParsePrivateKeyPEM(data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.key.Public()) {
				t.Error("decoded key differs")
			}
		})
	}

	edPKCS8 := func() []byte {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}()
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1}})
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"PKCS#1", pkcs1, true},
		{"SEC1", sec1, true},
		{"empty", nil, false},
		{"certificate", EncodeCertificatesPEM(k.ca.Cert), false},
		{"two keys", append(append([]byte{}, pkcs1...), sec1...), false},
		{"Ed25519", edPKCS8, false},
		{"encrypted", encrypted, false},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")}), false},
	} {
		t.Run("parse "+tc.name, func(t *testing.T) {
			_, err := ParsePrivateKeyPEM(tc.data)
			if (err == nil) != tc.ok {
				t.Errorf("ParsePrivateKeyPEM error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCertificatesPEM(t *testing.T) {
	k := keys(t)
	leaf, err := k.ca.IssueSigningCert(ecKey(t).Public(), SigningCertRequest{Subject: pkix.Name{CommonName: "leaf"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCertificatesPEM(EncodeCertificatesPEM(leaf, k.ca.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(leaf) || !got[1].Equal(k.ca.Cert) {
		t.Errorf("round trip gave %d certificates in the wrong order", len(got))
	}
	keyPEM, _ := EncodePrivateKeyPEM(k.rsa)
	for name, data := range map[string][]byte{
		"empty":       nil,
		"key":         keyPEM,
		"cert+key":    append(EncodeCertificatesPEM(leaf), keyPEM...),
		"garbage DER": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")}),
	} {
		if _, err := ParseCertificatesPEM(data); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestFiles(t *testing.T) {
	k := keys(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key.pem")
	certPath := filepath.Join(dir, "cert.pem")

	if err := WritePrivateKeyFile(keyPath, k.rsa); err != nil {
		t.Fatal(err)
	}
	if err := WriteCertificatesFile(certPath, k.ca.Cert); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{keyPath: 0o600, certPath: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", filepath.Base(path), fi.Mode().Perm(), want)
		}
	}

	// Existing files are never overwritten.
	before, _ := os.ReadFile(keyPath)
	if err := WritePrivateKeyFile(keyPath, ecKey(t)); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite key: err = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(keyPath)
	if string(before) != string(after) {
		t.Error("existing key file was modified")
	}
	if err := WriteCertificatesFile(certPath, k.ca.Cert); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite cert: err = %v, want fs.ErrExist", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (temporary files left behind?)", len(entries))
	}

	key, err := ReadPrivateKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !KeyMatchesCertificate(key, mustIssueSigning(t, k.ca, key)) {
		t.Error("read key does not match")
	}
	certs, err := ReadCertificatesFile(certPath)
	if err != nil || len(certs) != 1 || !certs[0].Equal(k.ca.Cert) {
		t.Errorf("ReadCertificatesFile = %d certs, %v", len(certs), err)
	}
	if _, err := ReadPrivateKeyFile(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func mustIssueSigning(t *testing.T, ca *CA, key crypto.Signer) *x509.Certificate {
	t.Helper()
	c, err := ca.IssueSigningCert(key.Public(), SigningCertRequest{Subject: pkix.Name{CommonName: "k"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSplitHosts(t *testing.T) {
	dns, ips, err := SplitHosts([]string{"LocalHost", "127.0.0.1", "::1", "*.bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(dns, " ") != "localhost *.bank.example" {
		t.Errorf("DNS names = %q", dns)
	}
	if len(ips) != 2 || !ips[0].Equal(net.IPv4(127, 0, 0, 1)) || !ips[1].Equal(net.IPv6loopback) {
		t.Errorf("IPs = %v", ips)
	}
}
