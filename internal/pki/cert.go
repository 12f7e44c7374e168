package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Default certificate lifetimes, used when a Validity leaves NotAfter zero.
const (
	DefaultCAValidity      = 10 * 365 * 24 * time.Hour
	DefaultServerValidity  = 397 * 24 * time.Hour // the CA/Browser Forum maximum, so browsers accept it
	DefaultClientValidity  = 2 * 365 * 24 * time.Hour
	DefaultSigningValidity = 2 * 365 * 24 * time.Hour

	// backdate is how far before "now" a default NotBefore lies, so that a
	// peer whose clock is slightly behind accepts a freshly issued certificate.
	backdate = 5 * time.Minute
)

// Validity is a certificate's validity period. A zero NotBefore means five
// minutes ago; a zero NotAfter means NotBefore plus the certificate kind's
// default lifetime. Explicit values allow tests to issue expired certificates.
type Validity struct {
	NotBefore time.Time
	NotAfter  time.Time
}

func (v Validity) resolve(def time.Duration) (notBefore, notAfter time.Time, err error) {
	notBefore, notAfter = v.NotBefore, v.NotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-backdate)
	}
	if notAfter.IsZero() {
		notAfter = notBefore.Add(def)
	}
	if !notAfter.After(notBefore) {
		return time.Time{}, time.Time{}, fmt.Errorf("pki: validity ends (%s) before it starts (%s)",
			notAfter.Format(time.RFC3339), notBefore.Format(time.RFC3339))
	}
	return notBefore.UTC(), notAfter.UTC(), nil
}

// CA is a certificate authority: its certificate and the key that signs what
// it issues. A CA is safe for concurrent use.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewRootCA creates a self-signed root CA for key with the given subject.
// The CA may only issue end-entity certificates (path length 0).
func NewRootCA(key crypto.Signer, subject pkix.Name, v Validity) (*CA, error) {
	if key == nil {
		return nil, errors.New("pki: new root CA: nil key")
	}
	if err := CheckPublicKey(key.Public()); err != nil {
		return nil, fmt.Errorf("pki: new root CA: %w", err)
	}
	if subject.CommonName == "" {
		return nil, errors.New("pki: new root CA: subject needs a common name")
	}
	notBefore, notAfter, err := v.resolve(DefaultCAValidity)
	if err != nil {
		return nil, fmt.Errorf("pki: new root CA: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		// SubjectKeyId is derived by x509.CreateCertificate for CAs; issued
		// certificates then carry it as their AuthorityKeyId.
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: create root CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse root CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// LoadCA checks that cert is a CA certificate and key is its private key,
// and returns them as a CA.
func LoadCA(cert *x509.Certificate, key crypto.Signer) (*CA, error) {
	if cert == nil || key == nil {
		return nil, errors.New("pki: load CA: certificate and key are required")
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: load CA: certificate %q is not a CA certificate", cert.Subject.CommonName)
	}
	if !KeyMatchesCertificate(key, cert) {
		return nil, fmt.Errorf("pki: load CA: private key does not match certificate %q", cert.Subject.CommonName)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Pool returns a new certificate pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ServerCertRequest describes a server TLS certificate.
type ServerCertRequest struct {
	// Hosts are the subject alternative names: each an IP literal (IPv4 or
	// IPv6, without brackets) or a DNS name, optionally with a leading "*."
	// wildcard label. At least one is required.
	Hosts []string
	// CommonName defaults to the first host. Clients match on the SANs only;
	// the CN is informational.
	CommonName string
	// Organization is an optional subject O.
	Organization string
	Validity     Validity
}

// IssueServerCert issues a TLS server certificate (extended key usage
// serverAuth) for pub.
func (ca *CA) IssueServerCert(pub crypto.PublicKey, req ServerCertRequest) (*x509.Certificate, error) {
	if len(req.Hosts) == 0 {
		return nil, errors.New("pki: issue server certificate: no hosts")
	}
	dnsNames, ips, err := SplitHosts(req.Hosts)
	if err != nil {
		return nil, fmt.Errorf("pki: issue server certificate: %w", err)
	}
	subject := pkix.Name{CommonName: req.CommonName}
	if subject.CommonName == "" {
		subject.CommonName = req.Hosts[0]
	}
	if req.Organization != "" {
		subject.Organization = []string{req.Organization}
	}
	tmpl := &x509.Certificate{
		Subject:     subject,
		DNSNames:    dnsNames,
		IPAddresses: ips,
		// TLS 1.2 ECDHE and TLS 1.3 only need digitalSignature. RSA key
		// transport (keyEncipherment) is deliberately not allowed: FAPI's
		// suites are all ECDHE.
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return ca.issue(tmpl, pub, req.Validity, DefaultServerValidity)
}

// SplitHosts separates IP literals from DNS names, validating both. DNS names
// are lower-cased.
func SplitHosts(hosts []string) (dnsNames []string, ips []net.IP, err error) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		name := strings.ToLower(h)
		if err := checkDNSName(name); err != nil {
			return nil, nil, err
		}
		dnsNames = append(dnsNames, name)
	}
	return dnsNames, ips, nil
}

// checkDNSName accepts LDH host names with an optional leading "*." label.
// It is stricter than x509.CreateCertificate, which accepts any IA5String,
// so that a typo such as "https://host" fails at issuance, not at handshake.
func checkDNSName(name string) error {
	if name == "" || len(name) > 253 {
		return fmt.Errorf("pki: invalid DNS name %q", name)
	}
	labels := strings.Split(strings.TrimPrefix(name, "*."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("pki: invalid DNS name %q", name)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("pki: invalid DNS name %q", name)
			}
		}
	}
	return nil
}

// ClientCertRequest describes an OB-style TPP transport certificate, whose
// subject is CN=<software_id>, OU=<org_id>, O=<org name>, C=<country>.
type ClientCertRequest struct {
	SoftwareID string
	OrgID      string
	OrgName    string
	// Country is the subject C; it defaults to "GB".
	Country  string
	Validity Validity
}

// Subject returns the certificate subject for the request.
func (r ClientCertRequest) Subject() pkix.Name {
	country := r.Country
	if country == "" {
		country = "GB"
	}
	return pkix.Name{
		CommonName:         r.SoftwareID,
		OrganizationalUnit: []string{r.OrgID},
		Organization:       []string{r.OrgName},
		Country:            []string{country},
	}
}

// IssueClientCert issues a TLS client (transport) certificate (extended key
// usage clientAuth) for pub. The subject attribute values must not need
// RFC 4514 escaping, so that SubjectDN yields a string matching OB's
// tls_client_auth_subject_dn pattern.
func (ca *CA) IssueClientCert(pub crypto.PublicKey, req ClientCertRequest) (*x509.Certificate, error) {
	subject := req.Subject()
	for _, f := range []struct{ name, value string }{
		{"software ID", req.SoftwareID},
		{"org ID", req.OrgID},
		{"org name", req.OrgName},
		{"country", subject.Country[0]},
	} {
		if err := checkPlainDNValue(f.value); err != nil {
			return nil, fmt.Errorf("pki: issue client certificate: %s: %w", f.name, err)
		}
	}
	tmpl := &x509.Certificate{
		Subject:     subject,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl, pub, req.Validity, DefaultClientValidity)
}

// SigningCertRequest describes a certificate for a message or JWT signing
// key (a JWK's x5c).
type SigningCertRequest struct {
	Subject  pkix.Name
	Validity Validity
}

// IssueSigningCert issues a certificate for a signing key: key usages
// digitalSignature and nonRepudiation (as OB signing certificates carry) and
// no extended key usage, so it is useless for TLS.
func (ca *CA) IssueSigningCert(pub crypto.PublicKey, req SigningCertRequest) (*x509.Certificate, error) {
	if req.Subject.CommonName == "" {
		return nil, errors.New("pki: issue signing certificate: subject needs a common name")
	}
	tmpl := &x509.Certificate{
		Subject:  req.Subject,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	return ca.issue(tmpl, pub, req.Validity, DefaultSigningValidity)
}

// issue completes tmpl as an end-entity certificate and signs it.
func (ca *CA) issue(tmpl *x509.Certificate, pub crypto.PublicKey, v Validity, def time.Duration) (*x509.Certificate, error) {
	if err := CheckPublicKey(pub); err != nil {
		return nil, fmt.Errorf("pki: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	notBefore, notAfter, err := v.resolve(def)
	if err != nil {
		return nil, fmt.Errorf("pki: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	// A certificate must not outlive its issuer: once the CA expires, path
	// validation fails anyway, and a clamped NotAfter says so honestly.
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("pki: issue %q: validity starts after the CA expires", tmpl.Subject.CommonName)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = false
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: issue %q: parse: %w", tmpl.Subject.CommonName, err)
	}
	return cert, nil
}

// newSerial returns a random positive serial number of up to 128 bits, as
// RFC 5280 §4.1.2.2 and the CA/B Forum (at least 64 random bits) require.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("pki: generate serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
