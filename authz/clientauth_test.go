package authz

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
)

func TestClientCredentials(t *testing.T) {
	h := newHarness(t)
	for _, method := range []string{oauth.AuthPrivateKeyJWT, oauth.AuthTLSClientAuth} {
		t.Run(method, func(t *testing.T) {
			tpp := h.newTPP(tppOptions{Method: method})
			r := h.clientCredentials(tpp, "accounts payments")
			if got := r.str("token_type"); got != "Bearer" {
				t.Errorf("token_type = %q, want Bearer", got)
			}
			if got := r.str("scope"); got != "accounts payments" {
				t.Errorf("scope = %q", got)
			}
			if exp, _ := r.JSON["expires_in"].(float64); exp != 3600 {
				t.Errorf("expires_in = %v, want 3600", r.JSON["expires_in"])
			}
			if _, ok := r.JSON["refresh_token"]; ok {
				t.Error("client_credentials returned a refresh token")
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			in := h.introspect(tpp, r.str("access_token"))
			cnf, _ := in.JSON["cnf"].(map[string]any)
			if in.JSON["active"] != true || cnf["x5t#S256"] != tpp.Thumbprint() || in.JSON["client_id"] != tpp.Client.ID {
				t.Errorf("introspection = %s, want active and bound to %s", in.Body, tpp.Thumbprint())
			}
			if _, ok := in.JSON["openbanking_intent_id"]; ok {
				t.Errorf("client-credentials token has an intent: %s", in.Body)
			}
		})
	}
}

func TestClientCredentialsScopes(t *testing.T) {
	h := newHarness(t)
	aisp := h.newTPP(tppOptions{Roles: []string{"AISP"}})
	for _, tc := range []struct {
		scope string
		want  string // scope granted, or error code
	}{
		{"accounts", "accounts"},
		{"", "openid accounts"},
		{"payments", "invalid_scope"},
		{"accounts admin", "invalid_scope"},
		{"accounts accounts", "accounts"},
	} {
		r := h.token(aisp, url.Values{"grant_type": {"client_credentials"}, "scope": {tc.scope}})
		got := r.str("scope")
		if r.Status != 200 {
			got = r.str("error")
		}
		if got != tc.want {
			t.Errorf("scope %q: got %q (%d %s), want %q", tc.scope, got, r.Status, r.Body, tc.want)
		}
	}
}

// assertionCase is a client assertion that must be refused.
type assertionCase struct {
	name      string
	assertion func(h *harness, tpp *testTPP) string
}

func TestPrivateKeyJWTRefused(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	other := h.newTPP(tppOptions{})
	edit := func(f func(claimSet)) func(*harness, *testTPP) string {
		return func(h *harness, tpp *testTPP) string { return h.assertion(tpp, f) }
	}
	reused := h.assertion(tpp, nil)
	if r := h.postForm(tpp.HTTP, PathToken, assertionForm(tpp, reused)); r.Status != 200 {
		t.Fatalf("first use of the assertion: %d %s", r.Status, r.Body)
	}
	cases := []assertionCase{
		{"alg none", func(h *harness, tpp *testTPP) string {
			return unsignedJWT(h.assertionClaimsFor(tpp))
		}},
		{"HS256 with the public key as secret", func(h *harness, tpp *testTPP) string {
			return signHS256(t, h.assertionClaimsFor(tpp), tpp.SigningKeyID, []byte(publicJWKJSON(t, tpp)))
		}},
		{"HS256 with an arbitrary secret", func(h *harness, tpp *testTPP) string {
			return signHS256(t, h.assertionClaimsFor(tpp), tpp.SigningKeyID, []byte("0123456789abcdef0123456789abcdef"))
		}},
		{"RS256", func(h *harness, tpp *testTPP) string {
			return signWith(t, jwa.RS256(), tpp, h.assertionClaimsFor(tpp))
		}},
		{"signed by another client's key", func(h *harness, tpp *testTPP) string {
			return h.signPS256(other.SigningKey, tpp.SigningKeyID, h.assertionClaimsFor(tpp))
		}},
		{"unknown kid", func(h *harness, tpp *testTPP) string {
			return h.signPS256(tpp.SigningKey, "nope", h.assertionClaimsFor(tpp))
		}},
		{"tampered payload", func(h *harness, tpp *testTPP) string {
			a := strings.Split(h.assertion(tpp, nil), ".")
			c := h.assertionClaimsFor(tpp)
			c["exp"] = h.Clock.Now().Add(50 * time.Minute).Unix()
			b, _ := json.Marshal(c)
			a[1] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(a, ".")
		}},
		{"wrong aud", edit(func(c claimSet) { c["aud"] = "https://other-bank.example/token" })},
		{"aud of the plain listener's token path", edit(func(c claimSet) { c["aud"] = h.Public.URL + PathToken })},
		{"expired", edit(func(c claimSet) { c["exp"] = h.Clock.Now().Add(-time.Minute).Unix() })},
		{"exp missing", edit(func(c claimSet) { delete(c, "exp") })},
		{"exp too far ahead", edit(func(c claimSet) { c["exp"] = h.Clock.Now().Add(2 * time.Hour).Unix() })},
		{"iat in the future", edit(func(c claimSet) { c["iat"] = h.Clock.Now().Add(10 * time.Minute).Unix() })},
		{"nbf in the future", edit(func(c claimSet) { c["nbf"] = h.Clock.Now().Add(10 * time.Minute).Unix() })},
		{"jti missing", edit(func(c claimSet) { delete(c, "jti") })},
		{"iss is another client", edit(func(c claimSet) { c["iss"] = other.Client.ID })},
		{"sub is another client", edit(func(c claimSet) { c["sub"] = other.Client.ID })},
		{"reused jti", func(*harness, *testTPP) string { return reused }},
		{"garbage", func(*harness, *testTPP) string { return "not.a.jwt" }},
		{"unknown critical header", func(h *harness, tpp *testTPP) string {
			payload, _ := json.Marshal(h.assertionClaimsFor(tpp))
			hdr := jws.NewHeaders()
			hdr.Set(jws.KeyIDKey, tpp.SigningKeyID)
			hdr.Set("http://example.com/must-understand", true)
			hdr.Set(jws.CriticalKey, []string{"http://example.com/must-understand"})
			out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), tpp.SigningKey, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}},
	}
	algRefusal := map[string]bool{"alg none": true, "HS256 with the public key as secret": true,
		"HS256 with an arbitrary secret": true, "RS256": true}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.postForm(tpp.HTTP, PathToken, assertionForm(tpp, tc.assertion(h, tpp)))
			if r.Status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("got %d %s, want 401 invalid_client", r.Status, r.Body)
			}
			// Refused for its alg before any key is tried, not merely
			// because the signature happened not to verify.
			if algRefusal[tc.name] && !strings.Contains(r.str("error_description"), "alg must be PS256") {
				t.Errorf("error_description = %q, want the alg refusal", r.str("error_description"))
			}
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("wrong assertion type", func(t *testing.T) {
		f := assertionForm(tpp, h.assertion(tpp, nil))
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		if r := h.postForm(tpp.HTTP, PathToken, f); r.Status != 401 {
			t.Errorf("got %d %s, want 401", r.Status, r.Body)
		}
	})
	t.Run("no assertion", func(t *testing.T) {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {tpp.Client.ID}}
		if r := h.postForm(tpp.HTTP, PathToken, f); r.Status != 401 {
			t.Errorf("got %d %s, want 401", r.Status, r.Body)
		}
	})
	t.Run("client_id does not match the assertion", func(t *testing.T) {
		f := assertionForm(tpp, h.assertion(tpp, nil))
		f.Set("client_id", other.Client.ID)
		if r := h.postForm(tpp.HTTP, PathToken, f); r.Status != 401 {
			t.Errorf("got %d %s, want 401", r.Status, r.Body)
		}
	})
	t.Run("issuer as aud is accepted", func(t *testing.T) {
		a := h.assertion(tpp, func(c claimSet) { c["aud"] = []string{"x", h.Server.cfg.Issuer} })
		if r := h.postForm(tpp.HTTP, PathToken, assertionForm(tpp, a)); r.Status != 200 {
			t.Errorf("got %d %s, want 200", r.Status, r.Body)
		}
	})
	t.Run("without client_id", func(t *testing.T) {
		f := assertionForm(tpp, h.assertion(tpp, nil))
		f.Del("client_id")
		if r := h.postForm(tpp.HTTP, PathToken, f); r.Status != 200 {
			t.Errorf("got %d %s, want 200 (client_id is optional with an assertion)", r.Status, r.Body)
		}
	})
}

// assertionClaimsFor returns valid assertion claims for tpp.
func (h *harness) assertionClaimsFor(tpp *testTPP) claimSet {
	now := h.Clock.Now()
	return claimSet{"iss": tpp.Client.ID, "sub": tpp.Client.ID, "aud": h.Server.mtlsEndpoint(PathToken),
		"jti": rand26(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
}

func rand26() string { return strings.ToLower(newToken()) }

// assertionForm is a client_credentials request authenticated by assertion.
func assertionForm(tpp *testTPP, assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {tpp.Client.ID},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}
}

// publicJWKJSON is the TPP's public signing JWK as JSON: the "secret" of
// the classic HS256 key-confusion attack.
func publicJWKJSON(t *testing.T, tpp *testTPP) string {
	k, _ := tpp.SigningJWKS.Key(0)
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func signHS256(t *testing.T, claims any, kid string, secret []byte) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, kid)
	out, err := jws.Sign(payload, jws.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func signWith(t *testing.T, alg jwa.SignatureAlgorithm, tpp *testTPP, claims any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, tpp.SigningKeyID)
	out, err := jws.Sign(payload, jws.WithKey(alg, tpp.SigningKey, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestTLSClientAuthRefused(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{Method: oauth.AuthTLSClientAuth})
	other := h.newTPP(tppOptions{Method: oauth.AuthTLSClientAuth})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tpp.Client.ID}}

	t.Run("certificate of another subject", func(t *testing.T) {
		r := h.postForm(other.HTTP, PathToken, form)
		if r.Status != 401 || r.str("error") != "invalid_client" {
			t.Errorf("got %d %s, want 401 invalid_client", r.Status, r.Body)
		}
	})
	t.Run("no certificate", func(t *testing.T) {
		r := h.postForm(h.noCertClient(), PathToken, form)
		if r.Status != 401 || r.str("error") != "invalid_client" {
			t.Errorf("got %d %s, want 401 invalid_client", r.Status, r.Body)
		}
	})
	t.Run("private_key_jwt assertion instead", func(t *testing.T) {
		f := assertionForm(tpp, h.signPS256(tpp.SigningKey, tpp.SigningKeyID, h.assertionClaimsFor(tpp)))
		r := h.postForm(tpp.HTTP, PathToken, f)
		if r.Status != 401 {
			t.Errorf("got %d %s, want 401", r.Status, r.Body)
		}
	})
	t.Run("subject DN compared by RDN, not string", func(t *testing.T) {
		// Lower-case types and spaces after commas are the same DN.
		var dn string
		loose := h.newTPP(tppOptions{Method: oauth.AuthTLSClientAuth, Edit: func(c *oauth.Client) {
			dn = "cn" + strings.ReplaceAll(c.TLSClientAuthSubjectDN, ",", ", ")[2:]
			c.TLSClientAuthSubjectDN = dn
		}})
		r := h.postForm(loose.HTTP, PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {loose.Client.ID}})
		if r.Status != 200 {
			t.Errorf("DN %q: got %d %s, want 200", dn, r.Status, r.Body)
		}
	})
}

// TestUntrustedCertificates: certificates from another CA, or expired,
// never reach the token endpoint (the handshake fails) or are refused.
func TestUntrustedCertificates(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{Method: oauth.AuthTLSClientAuth})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tpp.Client.ID}}

	// A CA the server does not trust issues a certificate with the very
	// subject the client registered.
	rogueCA, err := pki.NewRootCA(testRSAKey(t), pkix.Name{CommonName: "rogue CA"}, pki.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	key := testRSAKey(t)
	subject := pki.ClientCertRequest{SoftwareID: tpp.SoftwareID, OrgID: tpp.OrgID, OrgName: tpp.OrgName}
	rogue, err := rogueCA.IssueClientCert(key.Public(), subject)
	if err != nil {
		t.Fatal(err)
	}
	expiredReq := subject
	expiredReq.Validity = pki.Validity{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}
	expired, err := h.Dir.CA().IssueClientCert(key.Public(), expiredReq)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cert tls.Certificate
	}{
		{"untrusted CA", tls.Certificate{Certificate: [][]byte{rogue.Raw}, PrivateKey: key, Leaf: rogue}},
		{"expired", tls.Certificate{Certificate: [][]byte{expired.Raw}, PrivateKey: key, Leaf: expired}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !pki.SubjectMatchesDN(tc.cert.Leaf, tpp.Client.TLSClientAuthSubjectDN) {
				t.Fatal("test certificate does not carry the registered subject")
			}
			cfg := tpp.ClientTLSConfig()
			cfg.Certificates = []tls.Certificate{tc.cert}
			c := h.httpClient(cfg)
			resp, err := c.PostForm(h.MTLS.URL+PathToken, form)
			if err == nil {
				r := readResult(t, resp)
				if r.Status != 401 {
					t.Errorf("got %d %s, want a failed handshake or 401", r.Status, r.Body)
				}
			}
		})
	}
	// The certificate the server saw is not the request's certificate
	// unless verified: mtls.ClientCert ignores unverified peers.
	if mtls.ClientCert(&http.Request{TLS: &tls.ConnectionState{}}) != nil {
		t.Error("ClientCert returned a certificate for an unverified connection")
	}
}

func TestTokenRequestShape(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	t.Run("JSON body", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.MTLS.URL+PathToken, strings.NewReader(`{"grant_type":"client_credentials"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := tpp.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if r := readResult(t, resp); r.Status != 400 || r.str("error") != "invalid_request" {
			t.Errorf("got %d %s, want 400 invalid_request", r.Status, r.Body)
		}
	})
	t.Run("repeated parameter", func(t *testing.T) {
		f := h.clientAuth(tpp)
		f["grant_type"] = []string{"client_credentials", "client_credentials"}
		if r := h.postForm(tpp.HTTP, PathToken, f); r.Status != 400 || r.str("error") != "invalid_request" {
			t.Errorf("got %d %s, want 400 invalid_request", r.Status, r.Body)
		}
	})
	t.Run("unknown grant type", func(t *testing.T) {
		r := h.token(tpp, url.Values{"grant_type": {"password"}})
		if r.Status != 400 || r.str("error") != "unsupported_grant_type" {
			t.Errorf("got %d %s, want 400 unsupported_grant_type", r.Status, r.Body)
		}
	})
	t.Run("grant type not registered", func(t *testing.T) {
		cc := h.newTPP(tppOptions{Edit: func(c *oauth.Client) { c.GrantTypes = []string{oauth.GrantAuthorizationCode} }})
		r := h.token(cc, url.Values{"grant_type": {"client_credentials"}})
		if r.Status != 400 || r.str("error") != "unauthorized_client" {
			t.Errorf("got %d %s, want 400 unauthorized_client", r.Status, r.Body)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}}
		if r := h.postForm(tpp.HTTP, PathToken, f); r.Status != 401 || r.str("error") != "invalid_client" {
			t.Errorf("got %d %s, want 401 invalid_client", r.Status, r.Body)
		}
	})
}
