package sandbox

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/pki"
)

// TPP roles the sandbox grants.
const (
	RoleAISP  = "AISP"
	RolePISP  = "PISP"
	RoleCBPII = "CBPII"
)

// DefaultRoles are granted when a TPPRequest names none.
func DefaultRoles() []string { return []string{RoleAISP, RolePISP, RoleCBPII} }

// DefaultSSALifetime is the SSA lifetime when a TPPRequest leaves it zero.
// OB Directory SSAs carry no exp at all; the sandbox sets one so that stale
// test TPPs age out, but long enough not to get in the way.
const DefaultSSALifetime = 365 * 24 * time.Hour

// TPPRequest describes a TPP (organisation plus one software statement) for
// IssueTPP. Only Name and RedirectURIs are required.
type TPPRequest struct {
	// Name is the organisation name: org_name and the certificates' O.
	Name string
	// OrgID is org_id and the certificates' OU; generated (18 characters,
	// the length of OB organisation ids) if empty. 1–22 ASCII letters and
	// digits.
	OrgID string
	// SoftwareID is software_id, software_client_id and the certificates'
	// CN; generated (22 characters) if empty. OB pattern ^[0-9a-zA-Z]{1,22}$.
	SoftwareID string
	// ClientName is software_client_name; defaults to Name.
	ClientName string
	// Description is software_client_description; defaults to a sentence
	// naming the client.
	Description string
	// Version is software_version; defaults to "1.0".
	Version string
	// RedirectURIs are software_redirect_uris: absolute https URLs without
	// fragments. At least one is required.
	RedirectURIs []string
	// Roles are software_roles, from AISP, PISP and CBPII; DefaultRoles if
	// empty.
	Roles []string
	// JWKSEndpoint, if set (https), becomes software_jwks_endpoint, where the
	// TPP must serve SigningJWKS; otherwise the public signing JWKS is
	// inline in software_jwks.
	JWKSEndpoint string
	// Optional https URLs: software_logo_uri, software_client_uri,
	// software_policy_uri, software_tos_uri.
	LogoURI, ClientURI, PolicyURI, TOSURI string
	// RegistrationID is the competent authority registration (an FCA firm
	// reference number); six random digits if empty.
	RegistrationID string
	// SSALifetime is exp - iat; DefaultSSALifetime if zero.
	SSALifetime time.Duration
	// TransportKey and SigningKey, if set, are used instead of generating
	// RSA-2048 keys (so a TPP can keep its own keys). The transport key may
	// be RSA or ECDSA; the signing key signs PS256, so it is RSA.
	TransportKey crypto.Signer
	SigningKey   *rsa.PrivateKey
}

// TPPBundle is everything a sandbox TPP needs: its transport and signing
// keys and certificates, its public signing JWKS and its SSA.
type TPPBundle struct {
	OrgID        string
	OrgName      string
	SoftwareID   string
	ClientName   string
	RedirectURIs []string
	Roles        []string
	// JWKSEndpoint is the software_jwks_endpoint, if the SSA names one.
	JWKSEndpoint string

	TransportKey  crypto.Signer
	TransportCert *x509.Certificate
	SigningKey    *rsa.PrivateKey
	SigningCert   *x509.Certificate
	// SigningKeyID is the kid of the signing key (its RFC 7638 thumbprint),
	// to put in the header of request objects and DCR requests.
	SigningKeyID string
	// SigningJWKS is the public JWK set holding the signing key (use=sig,
	// alg=PS256, x5c = [signing certificate, CA]).
	SigningJWKS jwk.Set
	// CACert is the sandbox root CA: trust anchor for the server
	// certificate and issuer of the TPP's certificates.
	CACert *x509.Certificate
	// SSA is the software statement assertion (compact JWT) signed by the
	// sandbox directory.
	SSA string
}

func (r TPPRequest) withDefaults() (TPPRequest, error) {
	if strings.TrimSpace(r.Name) == "" {
		return r, errors.New("sandbox: TPP name is required")
	}
	if r.OrgID == "" {
		// rand.Text is base32 (A–Z, 2–7): alphanumeric, 5 bits a character.
		r.OrgID = rand.Text()[:18]
	}
	if r.SoftwareID == "" {
		r.SoftwareID = rand.Text()[:22]
	}
	if !validOBID(r.OrgID) {
		return r, fmt.Errorf("sandbox: org ID %q must be 1–22 letters and digits", r.OrgID)
	}
	if !validOBID(r.SoftwareID) {
		return r, fmt.Errorf("sandbox: software ID %q must match ^[0-9a-zA-Z]{1,22}$", r.SoftwareID)
	}
	if r.ClientName == "" {
		r.ClientName = r.Name
	}
	if r.Description == "" {
		r.Description = r.ClientName + ", a test TPP issued by the obank sandbox directory"
	}
	if r.Version == "" {
		r.Version = "1.0"
	}
	if len(r.RedirectURIs) == 0 {
		return r, errors.New("sandbox: at least one redirect URI is required")
	}
	r.RedirectURIs = slices.Clone(r.RedirectURIs)
	for _, u := range r.RedirectURIs {
		if err := checkHTTPSURL(u, "redirect URI"); err != nil {
			return r, err
		}
	}
	for _, u := range []struct{ what, v string }{
		{"JWKS endpoint", r.JWKSEndpoint}, {"logo URI", r.LogoURI}, {"client URI", r.ClientURI},
		{"policy URI", r.PolicyURI}, {"terms of service URI", r.TOSURI},
	} {
		if u.v == "" {
			continue
		}
		if err := checkHTTPSURL(u.v, u.what); err != nil {
			return r, err
		}
	}
	if len(r.Roles) == 0 {
		r.Roles = DefaultRoles()
	}
	r.Roles = slices.Clone(r.Roles)
	for i, role := range r.Roles {
		if !slices.Contains(DefaultRoles(), role) {
			return r, fmt.Errorf("sandbox: role %q is not one of %s", role, strings.Join(DefaultRoles(), ", "))
		}
		if slices.Contains(r.Roles[:i], role) {
			return r, fmt.Errorf("sandbox: role %q given twice", role)
		}
	}
	if r.RegistrationID == "" {
		n, err := randomDigits(6)
		if err != nil {
			return r, err
		}
		r.RegistrationID = n
	}
	if r.SSALifetime == 0 {
		r.SSALifetime = DefaultSSALifetime
	}
	if r.SSALifetime < 0 {
		return r, errors.New("sandbox: negative SSA lifetime")
	}
	if r.TransportKey != nil {
		if err := pki.CheckPublicKey(r.TransportKey.Public()); err != nil {
			return r, fmt.Errorf("sandbox: transport key: %w", err)
		}
	}
	if r.SigningKey != nil {
		if err := pki.CheckPublicKey(r.SigningKey.Public()); err != nil {
			return r, fmt.Errorf("sandbox: signing key: %w", err)
		}
	}
	return r, nil
}

func checkHTTPSURL(raw, what string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("sandbox: %s %q: %w", what, raw, err)
	}
	if u.Scheme != "https" || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("sandbox: %s %q must be an absolute https URL without user info or fragment", what, raw)
	}
	return nil
}

func randomDigits(n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		// Rejection sampling keeps the digits uniform: 250 = 25 * 10.
		for {
			var c [1]byte
			if _, err := rand.Read(c[:]); err != nil {
				return "", fmt.Errorf("sandbox: random digits: %w", err)
			}
			if c[0] < 250 {
				b[i] = '0' + c[0]%10
				break
			}
		}
	}
	return string(b), nil
}

// IssueTPP creates a TPP: a transport key and client certificate with
// subject CN=<software_id>, OU=<org_id>, O=<name>, C=GB; a PS256 signing
// key with a certificate (same subject) in its JWK's x5c; and an SSA
// signed by the directory. Keys are generated unless the request brings
// them.
func (d *Directory) IssueTPP(req TPPRequest) (*TPPBundle, error) {
	r, err := req.withDefaults()
	if err != nil {
		return nil, err
	}
	now := d.now()
	validity := pki.Validity{NotBefore: now.Add(-5 * time.Minute)}

	transportKey := r.TransportKey
	if transportKey == nil {
		if transportKey, err = pki.NewRSAKey(rsaBits); err != nil {
			return nil, fmt.Errorf("sandbox: transport key: %w", err)
		}
	}
	signingKey := r.SigningKey
	if signingKey == nil {
		if signingKey, err = pki.NewRSAKey(rsaBits); err != nil {
			return nil, fmt.Errorf("sandbox: signing key: %w", err)
		}
	}

	subject := pki.ClientCertRequest{SoftwareID: r.SoftwareID, OrgID: r.OrgID, OrgName: r.Name, Validity: validity}
	transportCert, err := d.ca.IssueClientCert(transportKey.Public(), subject)
	if err != nil {
		return nil, fmt.Errorf("sandbox: transport certificate: %w", err)
	}
	signingCert, err := d.ca.IssueSigningCert(signingKey.Public(), pki.SigningCertRequest{Subject: subject.Subject(), Validity: validity})
	if err != nil {
		return nil, fmt.Errorf("sandbox: signing certificate: %w", err)
	}
	signingJWK, err := pki.SigningJWK(signingKey.Public(), signingCert, d.ca.Cert)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	kid, _ := signingJWK.KeyID()
	set := jwk.NewSet()
	if err := set.AddKey(signingJWK); err != nil {
		return nil, fmt.Errorf("sandbox: signing JWKS: %w", err)
	}

	jti, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("sandbox: jti: %w", err)
	}
	claims := &SSA{
		Issuer:                    Issuer,
		IssuedAt:                  *NewNumericDate(now),
		ExpiresAt:                 NewNumericDate(now.Add(r.SSALifetime)),
		JWTID:                     jti.String(),
		SoftwareID:                r.SoftwareID,
		SoftwareClientID:          r.SoftwareID,
		SoftwareClientName:        r.ClientName,
		SoftwareClientDescription: r.Description,
		SoftwareVersion:           LooseString(r.Version),
		SoftwareEnvironment:       SoftwareEnvironment,
		SoftwareMode:              SoftwareMode,
		SoftwareRedirectURIs:      r.RedirectURIs,
		SoftwareRoles:             r.Roles,
		SoftwareJWKSEndpoint:      r.JWKSEndpoint,
		SoftwareLogoURI:           r.LogoURI,
		SoftwareClientURI:         r.ClientURI,
		SoftwarePolicyURI:         r.PolicyURI,
		SoftwareTOSURI:            r.TOSURI,
		OrgID:                     r.OrgID,
		OrgName:                   r.Name,
		OrgStatus:                 OrgStatusActive,
		OrganisationCompetentAuthorityClaims: &CompetentAuthorityClaims{
			AuthorityID:    AuthorityFCA,
			RegistrationID: r.RegistrationID,
			Status:         OrgStatusActive,
			Authorisations: []Authorisation{{MemberState: "GB", Roles: r.Roles}},
		},
	}
	if r.JWKSEndpoint == "" {
		if claims.SoftwareJWKS, err = json.Marshal(set); err != nil {
			return nil, fmt.Errorf("sandbox: software_jwks: %w", err)
		}
	}
	ssa, err := d.SignSSA(claims)
	if err != nil {
		return nil, err
	}
	return &TPPBundle{
		OrgID:         r.OrgID,
		OrgName:       r.Name,
		SoftwareID:    r.SoftwareID,
		ClientName:    r.ClientName,
		RedirectURIs:  r.RedirectURIs,
		Roles:         r.Roles,
		JWKSEndpoint:  r.JWKSEndpoint,
		TransportKey:  transportKey,
		TransportCert: transportCert,
		SigningKey:    signingKey,
		SigningCert:   signingCert,
		SigningKeyID:  kid,
		SigningJWKS:   set,
		CACert:        d.ca.Cert,
		SSA:           ssa,
	}, nil
}

// SignSSA signs claims as an SSA with the directory key: a compact JWS,
// alg PS256, typ JWT, kid KeyID(). The claims are signed as given; IssueTPP
// fills them in, and tests use this to make unusual SSAs.
func (d *Directory) SignSSA(claims *SSA) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sandbox: encode SSA claims: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("sandbox: SSA header: %w", err)
	}
	if err := hdr.Set(jws.KeyIDKey, d.keyID); err != nil {
		return "", fmt.Errorf("sandbox: SSA header: %w", err)
	}
	signed, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), d.signingKey, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sandbox: sign SSA: %w", err)
	}
	return string(signed), nil
}

// TLSCertificate returns the transport key and certificate for a TLS
// client.
func (b *TPPBundle) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{b.TransportCert.Raw}, PrivateKey: b.TransportKey, Leaf: b.TransportCert}
}

// ClientTLSConfig returns a TLS client configuration presenting the
// transport certificate and trusting only the sandbox CA.
func (b *TPPBundle) ClientTLSConfig() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(b.CACert)
	return &tls.Config{
		RootCAs:      roots,
		Certificates: []tls.Certificate{b.TLSCertificate()},
		MinVersion:   tls.VersionTLS12,
	}
}

// SubjectDN returns the transport certificate's subject in the form of
// DCR's tls_client_auth_subject_dn (see pki.SubjectDN).
func (b *TPPBundle) SubjectDN() string { return pki.SubjectDN(b.TransportCert) }

// Thumbprint returns the transport certificate's x5t#S256.
func (b *TPPBundle) Thumbprint() string { return pki.Thumbprint(b.TransportCert) }

// Files written by WriteDir.
const (
	TransportCertFile = "transport.pem"
	TransportKeyFile  = "transport-key.pem"
	SigningCertFile   = "signing.pem"
	SigningKeyFile    = "signing-key.pem"
	SigningJWKSFile   = "signing.jwks"
	TPPCAFile         = "ca.pem"
	SSAFile           = "ssa.jwt"
	TPPManifestFile   = "tpp.json"
)

// tppManifest is the JSON of TPPManifestFile.
type tppManifest struct {
	OrgID                  string   `json:"org_id"`
	OrgName                string   `json:"org_name"`
	SoftwareID             string   `json:"software_id"`
	ClientName             string   `json:"client_name"`
	RedirectURIs           []string `json:"redirect_uris"`
	Roles                  []string `json:"roles"`
	SigningKeyID           string   `json:"signing_kid"`
	JWKSEndpoint           string   `json:"jwks_endpoint,omitempty"`
	TLSClientAuthSubjectDN string   `json:"tls_client_auth_subject_dn"`
	TransportThumbprint    string   `json:"transport_x5t#S256"`
	Files                  tppFiles `json:"files"`
}

// tppFiles names the bundle's files, relative to the manifest's directory.
type tppFiles struct {
	TransportCert string `json:"transport_cert"`
	TransportKey  string `json:"transport_key"`
	SigningCert   string `json:"signing_cert"`
	SigningKey    string `json:"signing_key"`
	SigningJWKS   string `json:"signing_jwks"`
	CA            string `json:"ca"`
	SSA           string `json:"ssa"`
}

// WriteDir writes the bundle into out (created with mode 0700 if needed):
//
//   - transport.pem, transport-key.pem: the transport certificate and key;
//   - signing.pem, signing-key.pem: the signing certificate and key;
//   - signing.jwks: the public signing JWK set, which is what a TPP
//     publishes at its JWKS endpoint; the private key is only ever in
//     signing-key.pem, so the JWKS file can be shared freely;
//   - ca.pem: the sandbox root CA;
//   - ssa.jwt: the SSA;
//   - tpp.json, written last: org_id, org_name, software_id, client_name,
//     redirect_uris, roles, signing_kid, jwks_endpoint,
//     tls_client_auth_subject_dn, transport_x5t#S256, and "files" naming
//     each file above relative to out.
//
// Keys get mode 0600, other files 0644. WriteDir never overwrites: if any
// of the files exists it writes nothing and returns an error matching
// fs.ErrExist.
func (b *TPPBundle) WriteDir(out string) error {
	files := tppFiles{
		TransportCert: TransportCertFile, TransportKey: TransportKeyFile,
		SigningCert: SigningCertFile, SigningKey: SigningKeyFile, SigningJWKS: SigningJWKSFile,
		CA: TPPCAFile, SSA: SSAFile,
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fmt.Errorf("sandbox: create %s: %w", out, err)
	}
	var existing []string
	for _, name := range []string{TransportCertFile, TransportKeyFile, SigningCertFile, SigningKeyFile, SigningJWKSFile, TPPCAFile, SSAFile, TPPManifestFile} {
		if _, err := os.Lstat(filepath.Join(out, name)); err == nil {
			existing = append(existing, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	if len(existing) > 0 {
		return fmt.Errorf("sandbox: write TPP to %s: %s already exist: %w", out, strings.Join(existing, ", "), fs.ErrExist)
	}

	jwksJSON, err := json.MarshalIndent(b.SigningJWKS, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: encode signing JWKS: %w", err)
	}
	manifest, err := json.MarshalIndent(tppManifest{
		OrgID:                  b.OrgID,
		OrgName:                b.OrgName,
		SoftwareID:             b.SoftwareID,
		ClientName:             b.ClientName,
		RedirectURIs:           b.RedirectURIs,
		Roles:                  b.Roles,
		SigningKeyID:           b.SigningKeyID,
		JWKSEndpoint:           b.JWKSEndpoint,
		TLSClientAuthSubjectDN: b.SubjectDN(),
		TransportThumbprint:    b.Thumbprint(),
		Files:                  files,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: encode %s: %w", TPPManifestFile, err)
	}
	path := func(name string) string { return filepath.Join(out, name) }
	writes := []func() error{
		func() error { return pki.WritePrivateKeyFile(path(files.TransportKey), b.TransportKey) },
		func() error { return pki.WriteCertificatesFile(path(files.TransportCert), b.TransportCert) },
		func() error { return pki.WritePrivateKeyFile(path(files.SigningKey), b.SigningKey) },
		func() error { return pki.WriteCertificatesFile(path(files.SigningCert), b.SigningCert) },
		func() error {
			return pki.WriteNewFile(path(files.SigningJWKS), append(jwksJSON, '\n'), pki.CertFileMode)
		},
		func() error { return pki.WriteCertificatesFile(path(files.CA), b.CACert) },
		func() error { return pki.WriteNewFile(path(files.SSA), []byte(b.SSA+"\n"), pki.CertFileMode) },
		// The manifest last: its presence means the bundle is complete.
		func() error { return pki.WriteNewFile(path(TPPManifestFile), append(manifest, '\n'), pki.CertFileMode) },
	}
	for _, w := range writes {
		if err := w(); err != nil {
			return fmt.Errorf("sandbox: write TPP: %w", err)
		}
	}
	return nil
}

// LoadTPP reads a bundle written by WriteDir and checks that it is
// consistent: keys match their certificates, the transport certificate is
// a client certificate from the bundled CA, the signing JWKS holds exactly
// the public signing key under signing_kid with an x5c from the CA, and
// the SSA is a compact JWS. It does not verify the SSA's signature (that
// needs the directory's keys; use VerifySSA).
func LoadTPP(dir string) (*TPPBundle, error) {
	data, err := os.ReadFile(filepath.Join(dir, TPPManifestFile))
	if err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %w", err)
	}
	var m tppManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %s: %w", TPPManifestFile, err)
	}
	path := func(name string) (string, error) {
		// Names must stay inside dir: a manifest must not point at
		// arbitrary files (e.g. "../../etc/...").
		if name == "" || !filepath.IsLocal(name) {
			return "", fmt.Errorf("sandbox: load TPP: %s names file %q outside %s", TPPManifestFile, name, dir)
		}
		return filepath.Join(dir, name), nil
	}
	b := &TPPBundle{
		OrgID: m.OrgID, OrgName: m.OrgName, SoftwareID: m.SoftwareID, ClientName: m.ClientName,
		RedirectURIs: m.RedirectURIs, Roles: m.Roles, SigningKeyID: m.SigningKeyID, JWKSEndpoint: m.JWKSEndpoint,
	}
	readCert := func(name string) (*x509.Certificate, error) {
		p, err := path(name)
		if err != nil {
			return nil, err
		}
		certs, err := pki.ReadCertificatesFile(p)
		if err != nil {
			return nil, fmt.Errorf("sandbox: load TPP: %w", err)
		}
		return certs[0], nil
	}
	readKey := func(name string) (crypto.Signer, error) {
		p, err := path(name)
		if err != nil {
			return nil, err
		}
		k, err := pki.ReadPrivateKeyFile(p)
		if err != nil {
			return nil, fmt.Errorf("sandbox: load TPP: %w", err)
		}
		return k, nil
	}
	if b.CACert, err = readCert(m.Files.CA); err != nil {
		return nil, err
	}
	if b.TransportCert, err = readCert(m.Files.TransportCert); err != nil {
		return nil, err
	}
	if b.TransportKey, err = readKey(m.Files.TransportKey); err != nil {
		return nil, err
	}
	if b.SigningCert, err = readCert(m.Files.SigningCert); err != nil {
		return nil, err
	}
	signingKey, err := readKey(m.Files.SigningKey)
	if err != nil {
		return nil, err
	}
	var ok bool
	if b.SigningKey, ok = signingKey.(*rsa.PrivateKey); !ok {
		return nil, fmt.Errorf("sandbox: load TPP: signing key is a %T, want RSA for PS256", signingKey)
	}
	if !pki.KeyMatchesCertificate(b.TransportKey, b.TransportCert) {
		return nil, errors.New("sandbox: load TPP: transport key does not match the transport certificate")
	}
	if !pki.KeyMatchesCertificate(b.SigningKey, b.SigningCert) {
		return nil, errors.New("sandbox: load TPP: signing key does not match the signing certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(b.CACert)
	if _, err := b.TransportCert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: transport certificate: %w", err)
	}
	if got := b.SoftwareID; got != b.TransportCert.Subject.CommonName {
		return nil, fmt.Errorf("sandbox: load TPP: software_id %q is not the transport certificate's CN %q", got, b.TransportCert.Subject.CommonName)
	}

	jwksPath, err := path(m.Files.SigningJWKS)
	if err != nil {
		return nil, err
	}
	jwksJSON, err := os.ReadFile(jwksPath)
	if err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %w", err)
	}
	kid, err := checkSigningJWKS(jwksJSON, b.SigningKey, roots, time.Now())
	if err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %s: %w", m.Files.SigningJWKS, err)
	}
	if kid != m.SigningKeyID {
		return nil, fmt.Errorf("sandbox: load TPP: %s has kid %q but %s says %q", m.Files.SigningJWKS, kid, TPPManifestFile, m.SigningKeyID)
	}
	if b.SigningJWKS, err = jwk.Parse(jwksJSON); err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %w", err)
	}

	ssaPath, err := path(m.Files.SSA)
	if err != nil {
		return nil, err
	}
	ssa, err := os.ReadFile(ssaPath)
	if err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %w", err)
	}
	b.SSA = strings.TrimSpace(string(ssa))
	if _, err := jws.Parse([]byte(b.SSA), jws.WithCompact()); err != nil {
		return nil, fmt.Errorf("sandbox: load TPP: %s: %w", m.Files.SSA, err)
	}
	return b, nil
}
