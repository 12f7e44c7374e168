package sandbox

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/internal/pki"
)

// fixture is built once in TestMain: RSA key generation is slow on small
// machines, so the sandbox (two RSA keys) and one TPP signing key are
// shared by all tests, which must treat them as read-only. Tests that
// change files work on copies of the sandbox directory.
type fixture struct {
	root       string // sandbox directory
	dir        *Directory
	signingKey *rsa.PrivateKey // reused as the signing key of test TPPs
	tpp        *TPPBundle      // inline software_jwks
}

var fx *fixture

var extraHosts = []string{"bank.example", "10.1.2.3"}

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "obank-sandbox-test-")
	if err != nil {
		log.Fatal(err)
	}
	code, err := runTests(m, tmp)
	os.RemoveAll(tmp)
	if err != nil {
		log.Fatal(err)
	}
	os.Exit(code)
}

func runTests(m *testing.M, tmp string) (int, error) {
	root := filepath.Join(tmp, "sandbox")
	dir, err := Ensure(root, Options{Hostnames: extraHosts})
	if err != nil {
		return 0, err
	}
	key, err := pki.NewRSAKey(2048)
	if err != nil {
		return 0, err
	}
	tpp, err := dir.IssueTPP(TPPRequest{
		Name:         "Acme Payments Ltd",
		RedirectURIs: []string{"https://tpp.example/callback", "https://tpp.example/cb2"},
		LogoURI:      "https://tpp.example/logo.png",
		ClientURI:    "https://tpp.example",
		PolicyURI:    "https://tpp.example/policy",
		TOSURI:       "https://tpp.example/tos",
		SigningKey:   key,
	})
	if err != nil {
		return 0, err
	}
	fx = &fixture{root: root, dir: dir, signingKey: key, tpp: tpp}
	return m.Run(), nil
}

// ecTransport returns a fast-to-make transport key for TPPs whose
// transport key is not under test.
func ecTransport(t *testing.T) TPPRequest {
	t.Helper()
	k, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	return TPPRequest{
		Name:         "Test TPP",
		RedirectURIs: []string{"https://tpp.example/cb"},
		TransportKey: k,
		SigningKey:   fx.signingKey,
	}
}

// copyDir copies the regular files of src into a new temporary directory,
// keeping their modes.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dst, e.Name()), fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

type fileState struct {
	data    string
	mode    fs.FileMode
	modTime time.Time
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fileState{string(data), fi.Mode(), fi.ModTime()}
	}
	return out
}

func TestEnsureCreates(t *testing.T) {
	fi, err := os.Stat(fx.root)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("sandbox directory mode = %v, want 0700", fi.Mode().Perm())
	}
	want := map[string]fs.FileMode{
		CAFile: 0o644, CAKeyFile: 0o600,
		ServerCertFile: 0o644, ServerKeyFile: 0o600,
		DirectorySigningKeyFile: 0o600, DirectoryJWKSFile: 0o644,
	}
	got := snapshot(t, fx.root)
	if len(got) != len(want) {
		t.Errorf("sandbox holds %d files, want %d: %v", len(got), len(want), slices.Sorted(maps.Keys(got)))
	}
	for name, mode := range want {
		st, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if st.mode.Perm() != mode {
			t.Errorf("%s mode = %v, want %v", name, st.mode.Perm(), mode)
		}
	}

	d := fx.dir
	ca := d.CACertificate()
	if !ca.IsCA || !strings.HasPrefix(ca.Subject.CommonName, "obank sandbox root CA ") {
		t.Errorf("CA subject %q, IsCA %v", ca.Subject.CommonName, ca.IsCA)
	}
	server := d.ServerCertificate()
	if _, ok := server.PrivateKey.(*rsa.PrivateKey); !ok {
		t.Errorf("server key is %T, want RSA for FAPI suites", server.PrivateKey)
	}
	for _, host := range append(DefaultHosts(), extraHosts...) {
		if _, err := server.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: d.CAPool()}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}

	// The public JWKS: one PS256 signing key with an x5c from the CA and no
	// private material.
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(d.PublicJWKSJSON(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 1 {
		t.Fatalf("JWKS holds %d keys", len(raw.Keys))
	}
	k := raw.Keys[0]
	if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "PS256" || k["kid"] != d.KeyID() || d.KeyID() == "" {
		t.Errorf("JWK = kty %v use %v alg %v kid %v", k["kty"], k["use"], k["alg"], k["kid"])
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := k[private]; ok {
			t.Errorf("public JWKS has private member %q", private)
		}
	}
	key, ok := d.PublicJWKS().LookupKeyID(d.KeyID())
	if !ok {
		t.Fatal("kid not in PublicJWKS")
	}
	chain, err := pki.X5C(key)
	if err != nil || len(chain) != 2 || !chain[1].Equal(ca) {
		t.Fatalf("x5c: %d certificates, %v", len(chain), err)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: d.CAPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("x5c leaf does not chain to the CA: %v", err)
	}
}

func TestEnsureIsIdempotent(t *testing.T) {
	before := snapshot(t, fx.root)
	again, err := Ensure(fx.root, Options{Hostnames: []string{"BANK.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, fx.root); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("Ensure on an existing sandbox changed files")
	}
	if !again.CACertificate().Equal(fx.dir.CACertificate()) {
		t.Error("CA differs after reload")
	}
	if !again.ServerCertificate().Leaf.Equal(fx.dir.ServerCertificate().Leaf) {
		t.Error("server certificate differs after reload")
	}
	if again.KeyID() != fx.dir.KeyID() {
		t.Error("directory kid differs after reload")
	}
	// An SSA from the first instance verifies against the reloaded keys.
	if _, err := VerifySSA(fx.tpp.SSA, again.PublicJWKS(), time.Now()); err != nil {
		t.Errorf("SSA against reloaded JWKS: %v", err)
	}
}

func TestEnsureRefuses(t *testing.T) {
	otherCAKey, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.NewRootCA(otherCAKey, pkix.Name{CommonName: "other"}, pki.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	replace := func(name string, data []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, name)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := pki.WriteNewFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(names ...string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			for _, n := range names {
				if err := os.Remove(filepath.Join(dir, n)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	otherKeyPEM, err := pki.EncodePrivateKeyPEM(otherCAKey)
	if err != nil {
		t.Fatal(err)
	}
	tppJWKS, err := json.Marshal(fx.tpp.SigningJWKS)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		opts    Options
		wantErr string
	}{
		{name: "server key missing", mutate: remove(ServerKeyFile), wantErr: "remove server.pem to regenerate"},
		{name: "CA key missing", mutate: remove(CAKeyFile), wantErr: "incomplete"},
		{name: "JWKS missing", mutate: remove(DirectoryJWKSFile), wantErr: "incomplete"},
		{name: "CA gone, issued material remains", mutate: remove(CAFile, CAKeyFile), wantErr: "material the CA issued remains"},
		{name: "new hostname", opts: Options{Hostnames: []string{"new.example"}}, wantErr: `not valid for "new.example"`},
		{name: "key readable by others", mutate: func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, ServerKeyFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "chmod 600"},
		{name: "CA replaced", mutate: func(t *testing.T, dir string) {
			replace(CAFile, pki.EncodeCertificatesPEM(otherCA.Cert))(t, dir)
			replace(CAKeyFile, otherKeyPEM)(t, dir)
		}, wantErr: "not valid for"},
		{name: "CA key from elsewhere", mutate: replace(CAKeyFile, otherKeyPEM), wantErr: "does not match"},
		{name: "JWKS of another key", mutate: replace(DirectoryJWKSFile, tppJWKS), wantErr: "not the public half"},
		{name: "JWKS not JSON", mutate: replace(DirectoryJWKSFile, []byte("nope")), wantErr: DirectoryJWKSFile},
		{name: "expired", opts: Options{Now: func() time.Time { return time.Now().Add(11 * 365 * 24 * time.Hour) }}, wantErr: "not now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, fx.root)
			if tc.mutate != nil {
				tc.mutate(t, dir)
			}
			before := snapshot(t, dir)
			_, err := Ensure(dir, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Ensure error = %v, want one containing %q", err, tc.wantErr)
			}
			if after := snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Error("a failed Ensure changed the directory")
			}
		})
	}
}

// TestMutualTLSEndToEnd serves with the sandbox's server TLS configuration
// and connects with a TPP bundle's client configuration.
func TestMutualTLSEndToEnd(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, pki.Thumbprint(r.TLS.PeerCertificates[0]), " ", pki.SubjectDN(r.TLS.PeerCertificates[0]))
	}))
	srv.TLS = fx.dir.ServerTLSConfig(true)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: fx.tpp.ClientTLSConfig()}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := fx.tpp.Thumbprint() + " " + fx.tpp.SubjectDN(); resp.StatusCode != 200 || string(body) != want {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
}

func TestIssueTPP(t *testing.T) {
	b := fx.tpp
	ssa, err := VerifySSA(b.SSA, fx.dir.PublicJWKS(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !validOBID(b.SoftwareID) || len(b.SoftwareID) != 22 || !validOBID(b.OrgID) || len(b.OrgID) != 18 {
		t.Errorf("generated IDs software %q org %q", b.SoftwareID, b.OrgID)
	}
	wantDN := "CN=" + b.SoftwareID + ",OU=" + b.OrgID + ",O=Acme Payments Ltd,C=GB"
	if b.SubjectDN() != wantDN || pki.SubjectDN(b.SigningCert) != wantDN {
		t.Errorf("transport DN %q, signing DN %q, want %q", b.SubjectDN(), pki.SubjectDN(b.SigningCert), wantDN)
	}
	if !b.SigningKey.Equal(fx.signingKey) {
		t.Error("requested signing key not used")
	}
	if _, ok := b.TransportKey.(*rsa.PrivateKey); !ok {
		t.Errorf("generated transport key is %T, want RSA", b.TransportKey)
	}

	// Claims.
	checks := []struct {
		name      string
		got, want any
	}{
		{"iss", ssa.Issuer, Issuer},
		{"software_id", ssa.SoftwareID, b.SoftwareID},
		{"software_client_id", ssa.SoftwareClientID, b.SoftwareID},
		{"software_client_name", ssa.SoftwareClientName, "Acme Payments Ltd"},
		{"software_version", string(ssa.SoftwareVersion), "1.0"},
		{"software_environment", ssa.SoftwareEnvironment, "sandbox"},
		{"software_mode", ssa.SoftwareMode, "Test"},
		{"software_redirect_uris", fmt.Sprint(ssa.SoftwareRedirectURIs), "[https://tpp.example/callback https://tpp.example/cb2]"},
		{"software_roles", fmt.Sprint(ssa.SoftwareRoles), "[AISP PISP CBPII]"},
		{"software_logo_uri", ssa.SoftwareLogoURI, "https://tpp.example/logo.png"},
		{"software_client_uri", ssa.SoftwareClientURI, "https://tpp.example"},
		{"software_policy_uri", ssa.SoftwarePolicyURI, "https://tpp.example/policy"},
		{"software_tos_uri", ssa.SoftwareTOSURI, "https://tpp.example/tos"},
		{"software_jwks_endpoint", ssa.SoftwareJWKSEndpoint, ""},
		{"org_id", ssa.OrgID, b.OrgID},
		{"org_name", ssa.OrgName, "Acme Payments Ltd"},
		{"org_status", ssa.OrgStatus, "Active"},
		{"authority", ssa.OrganisationCompetentAuthorityClaims.AuthorityID, "GB:FCA"},
		{"authority status", ssa.OrganisationCompetentAuthorityClaims.Status, "Active"},
		{"registration_id length", len(ssa.OrganisationCompetentAuthorityClaims.RegistrationID), 6},
		{"authorisations", fmt.Sprint(ssa.OrganisationCompetentAuthorityClaims.Authorisations), "[{GB [AISP PISP CBPII]}]"},
		{"lifetime", ssa.ExpiresAt.Sub(ssa.IssuedAt.Time), DefaultSSALifetime},
		{"jti length", len(ssa.JWTID), 36},
		{"has description", ssa.SoftwareClientDescription != "", true},
		{"HasRole PISP", ssa.HasRole(RolePISP), true},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if d := time.Since(ssa.IssuedAt.Time); d < 0 || d > time.Minute {
		t.Errorf("iat is %v ago", d)
	}

	// The inline software_jwks is the bundle's public signing JWKS.
	set, err := ssa.SoftwareJWKSet()
	if err != nil || set == nil || set.Len() != 1 {
		t.Fatalf("software_jwks: %v", err)
	}
	k, ok := set.LookupKeyID(b.SigningKeyID)
	if !ok {
		t.Fatalf("software_jwks lacks kid %q", b.SigningKeyID)
	}
	chain, err := pki.X5C(k)
	if err != nil || len(chain) != 2 || !chain[0].Equal(b.SigningCert) || !chain[1].Equal(b.CACert) {
		t.Errorf("software_jwks x5c: %d certs, %v", len(chain), err)
	}

	// The header.
	header := decodeSegment(t, b.SSA, 0)
	if header["alg"] != "PS256" || header["typ"] != "JWT" || header["kid"] != fx.dir.KeyID() {
		t.Errorf("header = %v", header)
	}
	payload := decodeSegment(t, b.SSA, 1)
	for _, claim := range []string{"iss", "iat", "exp", "jti", "software_id", "software_client_id", "software_client_name",
		"software_client_description", "software_version", "software_environment", "software_mode", "software_redirect_uris",
		"software_roles", "software_jwks", "software_logo_uri", "software_client_uri", "software_policy_uri", "software_tos_uri",
		"org_id", "org_name", "org_status", "organisation_competent_authority_claims"} {
		if _, ok := payload[claim]; !ok {
			t.Errorf("SSA lacks claim %s", claim)
		}
	}
	if _, ok := payload["software_jwks_endpoint"]; ok {
		t.Error("SSA has both software_jwks and software_jwks_endpoint")
	}
}

func TestIssueTPPOptions(t *testing.T) {
	req := ecTransport(t)
	req.OrgID = "0015800001041REAAY"
	req.SoftwareID = "2sVmaQ5yT3r0pZ9NhmY3uC"
	req.JWKSEndpoint = "https://keystore.tpp.example/org/sw.jwks"
	req.Roles = []string{RoleAISP}
	req.ClientName = "Acme App"
	req.Version = "2.3"
	req.RegistrationID = "123456"
	req.SSALifetime = time.Hour
	b, err := fx.dir.IssueTPP(req)
	if err != nil {
		t.Fatal(err)
	}
	ssa, err := VerifySSA(b.SSA, fx.dir.PublicJWKS(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ssa.SoftwareJWKSEndpoint != req.JWKSEndpoint || len(ssa.SoftwareJWKS) != 0 {
		t.Errorf("jwks endpoint %q, inline %d bytes", ssa.SoftwareJWKSEndpoint, len(ssa.SoftwareJWKS))
	}
	if ssa.SoftwareID != req.SoftwareID || ssa.OrgID != req.OrgID || ssa.SoftwareClientName != "Acme App" ||
		ssa.OrgName != "Test TPP" || string(ssa.SoftwareVersion) != "2.3" || !slices.Equal(ssa.SoftwareRoles, []string{"AISP"}) ||
		ssa.OrganisationCompetentAuthorityClaims.RegistrationID != "123456" || ssa.ExpiresAt.Sub(ssa.IssuedAt.Time) != time.Hour {
		t.Errorf("claims = %+v", ssa)
	}
	if b.SubjectDN() != "CN=2sVmaQ5yT3r0pZ9NhmY3uC,OU=0015800001041REAAY,O=Test TPP,C=GB" {
		t.Errorf("DN = %q", b.SubjectDN())
	}
	if b.TransportKey != req.TransportKey {
		t.Error("requested transport key not used")
	}
}

func TestIssueTPPValidation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mod     func(*TPPRequest)
		wantErr string
	}{
		{"no name", func(r *TPPRequest) { r.Name = " " }, "name is required"},
		{"comma in name", func(r *TPPRequest) { r.Name = "Acme, Ltd" }, "not allowed in a subject DN"},
		{"no redirect URI", func(r *TPPRequest) { r.RedirectURIs = nil }, "at least one redirect URI"},
		{"http redirect URI", func(r *TPPRequest) { r.RedirectURIs = []string{"http://tpp.example/cb"} }, "https"},
		{"relative redirect URI", func(r *TPPRequest) { r.RedirectURIs = []string{"/cb"} }, "https"},
		{"fragment", func(r *TPPRequest) { r.RedirectURIs = []string{"https://tpp.example/cb#x"} }, "fragment"},
		{"http JWKS endpoint", func(r *TPPRequest) { r.JWKSEndpoint = "http://tpp.example/jwks" }, "JWKS endpoint"},
		{"http logo", func(r *TPPRequest) { r.LogoURI = "http://tpp.example/logo" }, "logo URI"},
		{"unknown role", func(r *TPPRequest) { r.Roles = []string{"ASPSP"} }, "not one of"},
		{"duplicate role", func(r *TPPRequest) { r.Roles = []string{"AISP", "AISP"} }, "twice"},
		{"long software ID", func(r *TPPRequest) { r.SoftwareID = strings.Repeat("a", 23) }, "software ID"},
		{"software ID punctuation", func(r *TPPRequest) { r.SoftwareID = "a-b" }, "software ID"},
		{"org ID punctuation", func(r *TPPRequest) { r.OrgID = "org,1" }, "org ID"},
		{"negative lifetime", func(r *TPPRequest) { r.SSALifetime = -time.Second }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ecTransport(t)
			tc.mod(&r)
			_, err := fx.dir.IssueTPP(r)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("IssueTPP error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestWriteDirLoadTPP(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tpp")
	b := fx.tpp
	if err := b.WriteDir(out); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		TransportCertFile: 0o644, TransportKeyFile: 0o600, SigningCertFile: 0o644, SigningKeyFile: 0o600,
		SigningJWKSFile: 0o644, TPPCAFile: 0o644, SSAFile: 0o644, TPPManifestFile: 0o644,
	}
	files := snapshot(t, out)
	if len(files) != len(want) {
		t.Errorf("wrote %d files, want %d", len(files), len(want))
	}
	for name, mode := range want {
		if files[name].mode.Perm() != mode {
			t.Errorf("%s mode = %v, want %v", name, files[name].mode.Perm(), mode)
		}
	}
	if strings.Contains(files[SigningJWKSFile].data, `"d"`) {
		t.Error("signing.jwks holds private key material")
	}
	var manifest map[string]any
	if err := json.Unmarshal([]byte(files[TPPManifestFile].data), &manifest); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"org_id": b.OrgID, "software_id": b.SoftwareID, "client_name": b.ClientName, "signing_kid": b.SigningKeyID,
		"tls_client_auth_subject_dn": b.SubjectDN(), "transport_x5t#S256": b.Thumbprint(),
		"redirect_uris": fmt.Sprint(b.RedirectURIs), "roles": fmt.Sprint(b.Roles),
	} {
		got := manifest[k]
		if list, ok := got.([]any); ok {
			got = fmt.Sprint(list)
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("tpp.json %s = %v, want %v", k, got, v)
		}
	}

	loaded, err := LoadTPP(out)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.SSA != b.SSA || loaded.SigningKeyID != b.SigningKeyID || loaded.OrgID != b.OrgID ||
		loaded.SoftwareID != b.SoftwareID || loaded.OrgName != b.OrgName || loaded.ClientName != b.ClientName ||
		!slices.Equal(loaded.RedirectURIs, b.RedirectURIs) || !slices.Equal(loaded.Roles, b.Roles) {
		t.Errorf("loaded bundle differs: %+v", loaded)
	}
	if !loaded.TransportCert.Equal(b.TransportCert) || !loaded.SigningCert.Equal(b.SigningCert) || !loaded.CACert.Equal(b.CACert) {
		t.Error("loaded certificates differ")
	}
	if !loaded.SigningKey.Equal(b.SigningKey) || !pki.KeyMatchesCertificate(loaded.TransportKey, b.TransportCert) {
		t.Error("loaded keys differ")
	}
	if _, ok := loaded.SigningJWKS.LookupKeyID(b.SigningKeyID); !ok {
		t.Error("loaded JWKS lacks the signing kid")
	}
	if _, err := VerifySSA(loaded.SSA, fx.dir.PublicJWKS(), time.Now()); err != nil {
		t.Errorf("loaded SSA: %v", err)
	}

	// WriteDir never overwrites, and writes nothing when a file exists.
	if err := b.WriteDir(out); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteDir: %v, want fs.ErrExist", err)
	}
	partial := t.TempDir()
	if err := os.WriteFile(filepath.Join(partial, SSAFile), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteDir(partial); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteDir over ssa.jwt: %v, want fs.ErrExist", err)
	}
	if got := snapshot(t, partial); len(got) != 1 || got[SSAFile].data != "keep" {
		t.Errorf("WriteDir wrote into a directory with an existing file: %d files", len(got))
	}
}

func TestLoadTPPRefuses(t *testing.T) {
	src := filepath.Join(t.TempDir(), "tpp")
	if err := fx.tpp.WriteDir(src); err != nil {
		t.Fatal(err)
	}
	other, err := fx.dir.IssueTPP(ecTransport(t))
	if err != nil {
		t.Fatal(err)
	}
	otherDir := filepath.Join(t.TempDir(), "other")
	if err := other.WriteDir(otherDir); err != nil {
		t.Fatal(err)
	}
	otherCADir := t.TempDir()
	otherCAKey, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.NewRootCA(otherCAKey, pkix.Name{CommonName: "other"}, pki.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteCertificatesFile(filepath.Join(otherCADir, "ca.pem"), otherCA.Cert); err != nil {
		t.Fatal(err)
	}
	editManifest := func(edit func(m map[string]any)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, TPPManifestFile)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			data, _ = json.Marshal(m)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// copyFrom overwrites name with srcDir/srcName. Test TPPs share one
	// signing key, so the directory's RSA key stands in for another one.
	copyFrom := func(srcDir, srcName, name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			data, err := os.ReadFile(filepath.Join(srcDir, srcName))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		wantErr string
	}{
		{"path traversal", editManifest(func(m map[string]any) { m["files"].(map[string]any)["ssa"] = "../ssa.jwt" }), "outside"},
		{"absolute path", editManifest(func(m map[string]any) { m["files"].(map[string]any)["ca"] = "/etc/hostname" }), "outside"},
		{"unknown manifest field", editManifest(func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		{"wrong kid", editManifest(func(m map[string]any) { m["signing_kid"] = "nope" }), "kid"},
		{"transport key of another TPP", copyFrom(otherDir, TransportKeyFile, TransportKeyFile), "transport key does not match"},
		{"ECDSA signing key", copyFrom(otherDir, TransportKeyFile, SigningKeyFile), "want RSA"},
		{"another signing key", copyFrom(fx.root, DirectorySigningKeyFile, SigningKeyFile), "signing key does not match"},
		{"another JWKS", copyFrom(fx.root, DirectoryJWKSFile, SigningJWKSFile), "not the public half"},
		{"transport certificate of another TPP", func(t *testing.T, dir string) {
			copyFrom(otherDir, TransportKeyFile, TransportKeyFile)(t, dir)
			copyFrom(otherDir, TransportCertFile, TransportCertFile)(t, dir)
		}, "not the transport certificate's CN"},
		{"CA of another sandbox", copyFrom(otherCADir, "ca.pem", TPPCAFile), "unknown authority"},
		{"manifest missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, TPPManifestFile)) }, "no such file"},
		{"SSA not a JWS", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, SSAFile), []byte("hello"), 0o644)
		}, SSAFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			tc.mutate(t, dir)
			_, err := LoadTPP(dir)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("LoadTPP error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
