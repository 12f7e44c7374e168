package authz

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/sandbox"
)

// dcrTPP is a sandbox TPP that has not registered yet.
type dcrTPP struct {
	*sandbox.TPPBundle
	HTTP *http.Client
}

// issueDCRTPP issues a TPP from the harness directory with pooled keys and
// redirect URIs https://tpp.example/cb and https://tpp.example/cb2; edit
// (optional) changes the request.
func (h *harness) issueDCRTPP(edit func(*sandbox.TPPRequest)) *dcrTPP {
	h.t.Helper()
	req := sandbox.TPPRequest{
		Name:         "DCR TPP",
		RedirectURIs: []string{"https://tpp.example/cb", "https://tpp.example/cb2"},
		TransportKey: testRSAKey(h.t),
		SigningKey:   testRSAKey(h.t),
	}
	if edit != nil {
		edit(&req)
	}
	b, err := h.Dir.IssueTPP(req)
	if err != nil {
		h.t.Fatalf("IssueTPP: %v", err)
	}
	return &dcrTPP{TPPBundle: b, HTTP: h.httpClient(b.ClientTLSConfig())}
}

// ssaClaims returns the claims of the TPP's SSA, for tests that re-sign
// them changed.
func (tpp *dcrTPP) ssaClaims(tb testing.TB) *sandbox.SSA {
	tb.Helper()
	msg, err := jws.Parse([]byte(tpp.SSA), jws.WithCompact())
	if err != nil {
		tb.Fatal(err)
	}
	var c sandbox.SSA
	if err := json.Unmarshal(msg.Payload(), &c); err != nil {
		tb.Fatal(err)
	}
	return &c
}

// resignSSA returns the TPP's SSA with edit applied, signed by the
// harness directory.
func (h *harness) resignSSA(tpp *dcrTPP, edit func(*sandbox.SSA)) string {
	h.t.Helper()
	c := tpp.ssaClaims(h.t)
	edit(c)
	ssa, err := h.Dir.SignSSA(c)
	if err != nil {
		h.t.Fatal(err)
	}
	return ssa
}

// dcrClaims returns valid registration request claims for tpp with the
// given token endpoint auth method.
func (h *harness) dcrClaims(tpp *dcrTPP, method string) claimSet {
	now := h.Clock.Now()
	c := claimSet{
		"iss":                          tpp.SoftwareID,
		"aud":                          h.Server.cfg.Issuer,
		"iat":                          now.Unix(),
		"exp":                          now.Add(5 * time.Minute).Unix(),
		"jti":                          uuid.NewString(),
		"software_statement":           tpp.SSA,
		"software_id":                  tpp.SoftwareID,
		"redirect_uris":                []string{"https://tpp.example/cb"},
		"token_endpoint_auth_method":   method,
		"grant_types":                  []string{"authorization_code", "client_credentials", "refresh_token"},
		"response_types":               []string{"code id_token"},
		"scope":                        "openid accounts payments",
		"application_type":             "web",
		"id_token_signed_response_alg": "PS256",
		"request_object_signing_alg":   "PS256",
	}
	switch method {
	case oauth.AuthTLSClientAuth:
		c["tls_client_auth_subject_dn"] = tpp.SubjectDN()
	case oauth.AuthPrivateKeyJWT:
		c["token_endpoint_auth_signing_alg"] = "PS256"
	}
	return c
}

// dcrJWT signs registration claims with the TPP's signing key.
func (h *harness) dcrJWT(tpp *dcrTPP, claims claimSet) string {
	h.t.Helper()
	return h.signPS256(tpp.SigningKey, tpp.SigningKeyID, claims)
}

// dcrCall sends a registration request to the mTLS listener. body is sent
// as is; bearer, when set, goes in the Authorization header.
func (h *harness) dcrCall(c *http.Client, method, path, contentType, body, bearer string) httpResult {
	h.t.Helper()
	req, err := http.NewRequest(method, h.MTLS.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return readResult(h.t, resp)
}

// register registers tpp through POST /register with claims, failing the
// test unless it answers 201; it returns the response and the stored
// client.
func (h *harness) register(tpp *dcrTPP, claims claimSet) (httpResult, oauth.Client) {
	h.t.Helper()
	r := h.dcrCall(tpp.HTTP, http.MethodPost, PathRegister, "application/jose", h.dcrJWT(tpp, claims), "")
	if r.Status != http.StatusCreated {
		h.t.Fatalf("POST /register: %d %s", r.Status, r.Body)
	}
	c, err := h.Store.Client(context.Background(), r.str("client_id"))
	if err != nil {
		h.t.Fatalf("stored client: %v", err)
	}
	return r, c
}

// ccToken stores a client-credentials access token for client c bound to
// the certificate thumbprint x5t, as the token endpoint issues them, and
// returns its value. edit (optional) changes the token before it is stored.
func (h *harness) ccToken(c oauth.Client, x5t string, edit func(*ob.AccessToken)) string {
	h.t.Helper()
	value := rand.Text() + rand.Text()
	now := h.Clock.Now()
	at := ob.AccessToken{
		Hash: ob.HashToken(value), ClientID: c.ID, CertThumbprint: x5t,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	if edit != nil {
		edit(&at)
	}
	if err := h.Store.IssueTokens(context.Background(), at, nil); err != nil {
		h.t.Fatalf("IssueTokens: %v", err)
	}
	return value
}

func wantOAuthError(t *testing.T, r httpResult, status int, code string) {
	t.Helper()
	if r.Status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d error %q", r.Status, r.Body, status, code)
	}
}

// TestRegister registers over real mutual TLS with both authentication
// methods and every accepted body type, then uses the client: the stored
// client, the registration response and a client-credentials token from
// the token endpoint.
func TestRegister(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.OrgID = "0015800001041RHAAY" })
	for _, tc := range []struct {
		name, method, contentType string
		edit                      func(claimSet)
		quoteBody                 bool
	}{
		{name: "tls_client_auth jose", method: oauth.AuthTLSClientAuth, contentType: "application/jose"},
		{name: "private_key_jwt jwt", method: oauth.AuthPrivateKeyJWT, contentType: "application/jwt"},
		{name: "private_key_jwt json string", method: oauth.AuthPrivateKeyJWT, contentType: "application/json", quoteBody: true},
		{name: "jose with charset", method: oauth.AuthTLSClientAuth, contentType: "application/jose; charset=utf-8"},
		{name: "aud org id", method: oauth.AuthPrivateKeyJWT, contentType: "application/jwt",
			edit: func(c claimSet) { c["aud"] = "0015800001041RHAAY" }},
		{name: "aud array with registration endpoint", method: oauth.AuthPrivateKeyJWT, contentType: "application/jwt",
			edit: func(c claimSet) { c["aud"] = []string{"someone-else", h.MTLS.URL + PathRegister} }},
		{name: "dn with a lower-case attribute type", method: oauth.AuthTLSClientAuth, contentType: "application/jose",
			edit: func(c claimSet) {
				c["tls_client_auth_subject_dn"] = strings.ToLower(c["tls_client_auth_subject_dn"].(string)[:2]) + c["tls_client_auth_subject_dn"].(string)[2:]
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpp := h.issueDCRTPP(nil)
			claims := h.dcrClaims(tpp, tc.method)
			if tc.edit != nil {
				tc.edit(claims)
			}
			body := h.dcrJWT(tpp, claims)
			if tc.quoteBody {
				b, _ := json.Marshal(body)
				body = string(b)
			}
			r := h.dcrCall(tpp.HTTP, http.MethodPost, PathRegister, tc.contentType, body, "")
			if r.Status != http.StatusCreated {
				t.Fatalf("POST /register: %d %s", r.Status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			id := r.str("client_id")
			if _, err := uuid.Parse(id); err != nil || id == tpp.SoftwareID {
				t.Errorf("client_id = %q, want a fresh UUID", id)
			}
			if got := r.JSON["client_id_issued_at"]; got != float64(h.Clock.Now().Unix()) {
				t.Errorf("client_id_issued_at = %v", got)
			}
			// Metadata echoed, SSA claims flattened (OBIE), request JWT
			// claims of OBClientRegistration1 present.
			for k, want := range map[string]any{
				"token_endpoint_auth_method":   tc.method,
				"software_id":                  tpp.SoftwareID,
				"software_statement":           tpp.SSA,
				"scope":                        "openid accounts payments",
				"application_type":             "web",
				"id_token_signed_response_alg": "PS256",
				"request_object_signing_alg":   "PS256",
				"org_id":                       tpp.OrgID,
				"org_name":                     tpp.OrgName,
				"software_client_name":         tpp.ClientName,
				"iss":                          tpp.SoftwareID,
				"jti":                          claims["jti"],
			} {
				if got := r.JSON[k]; got != want {
					t.Errorf("response %s = %v, want %v", k, got, want)
				}
			}
			if got := r.JSON["redirect_uris"]; !cmp.Equal(got, []any{"https://tpp.example/cb"}) {
				t.Errorf("redirect_uris = %v", got)
			}
			if got := r.JSON["software_roles"]; !cmp.Equal(got, []any{"AISP", "PISP", "CBPII"}) {
				t.Errorf("software_roles = %v", got)
			}

			c, err := h.Store.Client(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			want := oauth.Client{
				ID: id, SoftwareID: tpp.SoftwareID, OrgID: tpp.OrgID, OrgName: tpp.OrgName, Name: tpp.ClientName,
				Roles: []string{"AISP", "PISP", "CBPII"}, RedirectURIs: []string{"https://tpp.example/cb"},
				Scopes:          []string{"openid", "accounts", "payments"},
				GrantTypes:      []string{"authorization_code", "client_credentials", "refresh_token"},
				ResponseTypes:   []string{"code id_token"},
				ApplicationType: "web", TokenEndpointAuthMethod: tc.method,
				IDTokenSignedResponseAlg: "PS256", RequestObjectSigningAlg: "PS256", SoftwareStatement: tpp.SSA,
			}
			if tc.method == oauth.AuthTLSClientAuth {
				want.TLSClientAuthSubjectDN = claims["tls_client_auth_subject_dn"].(string)
			} else {
				want.TokenEndpointAuthSigningAlg = "PS256"
			}
			if diff := cmp.Diff(want, c, cmpIgnoreClientFields); diff != "" {
				t.Errorf("stored client (-want +got):\n%s", diff)
			}
			if !bytes.Equal(compactJSON(t, c.Metadata), compactJSON(t, r.Body)) {
				t.Errorf("stored metadata %s differs from the response %s", c.Metadata, r.Body)
			}
			keys, err := jwk.Parse(c.JWKS)
			if err != nil {
				t.Fatalf("stored JWKS: %v", err)
			}
			if _, ok := keys.LookupKeyID(tpp.SigningKeyID); !ok {
				t.Errorf("stored JWKS lacks the signing key %s", tpp.SigningKeyID)
			}

			// The new client authenticates at the token endpoint.
			cc := h.clientCredentials(&testTPP{TPPBundle: tpp.TPPBundle, Client: c, HTTP: tpp.HTTP}, "accounts")
			if cc.str("access_token") == "" {
				t.Fatal("no access token")
			}
		})
	}
}

// cmpIgnoreClientFields ignores what TestRegister checks separately.
var cmpIgnoreClientFields = cmp.FilterPath(func(p cmp.Path) bool {
	switch p.Last().String() {
	case ".JWKS", ".Metadata", ".CreatedAt", ".UpdatedAt":
		return true
	}
	return false
}, cmp.Ignore())

func compactJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return out
}

// TestRegisterDefaults: omitted metadata gets the documented defaults,
// echoed in the response.
func TestRegisterDefaults(t *testing.T) {
	h := newHarness(t)
	tpp := h.issueDCRTPP(func(r *sandbox.TPPRequest) { r.Roles = []string{sandbox.RoleAISP, sandbox.RoleCBPII} })
	claims := h.dcrClaims(tpp, oauth.AuthPrivateKeyJWT)
	for _, k := range []string{"redirect_uris", "grant_types", "response_types", "scope", "application_type",
		"id_token_signed_response_alg", "request_object_signing_alg", "software_id"} {
		delete(claims, k)
	}
	r, c := h.register(tpp, claims)
	for k, want := range map[string]any{
		"redirect_uris":                []any{"https://tpp.example/cb", "https://tpp.example/cb2"},
		"grant_types":                  []any{"authorization_code", "client_credentials", "refresh_token"},
		"response_types":               []any{"code id_token"},
		"scope":                        "openid accounts fundsconfirmations",
		"application_type":             "web",
		"id_token_signed_response_alg": "PS256",
		"request_object_signing_alg":   "PS256",
	} {
		if got := r.JSON[k]; !cmp.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if !slices.Equal(c.Scopes, []string{"openid", "accounts", "fundsconfirmations"}) {
		t.Errorf("stored scopes = %v", c.Scopes)
	}

	// A client-credentials-only client needs no redirect URI or response
	// type.
	claims = h.dcrClaims(tpp, oauth.AuthPrivateKeyJWT)
	claims["grant_types"] = []string{"client_credentials"}
	claims["redirect_uris"] = []string{}
	claims["scope"] = "accounts"
	delete(claims, "response_types")
	r, _ = h.register(tpp, claims)
	if got := r.JSON["response_types"]; !cmp.Equal(got, []any{}) {
		t.Errorf("response_types = %v, want []", got)
	}
}

// TestRegisterIDTokenEncryption: RSA-OAEP-256/A256GCM is accepted (enc
// defaulting to A256GCM) when the software's JWKS has an encryption key.
func TestRegisterIDTokenEncryption(t *testing.T) {
	h := newHarness(t)
	tpp := h.issueDCRTPP(nil)
	tpp.SSA = h.resignSSA(tpp, func(c *sandbox.SSA) { c.SoftwareJWKS = jwksWithEncryptionKey(t, tpp.SigningJWKS) })
	claims := h.dcrClaims(tpp, oauth.AuthPrivateKeyJWT)
	claims["id_token_encrypted_response_alg"] = "RSA-OAEP-256"
	r, c := h.register(tpp, claims)
	if r.str("id_token_encrypted_response_enc") != "A256GCM" || c.IDTokenEncryptedResponseEnc != "A256GCM" ||
		c.IDTokenEncryptedResponseAlg != "RSA-OAEP-256" {
		t.Errorf("encryption metadata: response %s, stored %q/%q", r.Body, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc)
	}
}

// jwksWithEncryptionKey returns set plus a public RSA key with use=enc, as
// JSON.
func jwksWithEncryptionKey(t *testing.T, set jwk.Set) json.RawMessage {
	t.Helper()
	out, err := set.Clone()
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.PublicKeyOf(testRSAKey(t))
	if err != nil {
		t.Fatal(err)
	}
	k.Set(jwk.KeyIDKey, "enc-1")
	k.Set(jwk.KeyUsageKey, "enc")
	k.Set(jwk.AlgorithmKey, jwa.RSA_OAEP_256())
	out.AddKey(k)
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwksWithKeyParam returns set, as JSON, with parameter name of every key
// set to v.
func jwksWithKeyParam(t *testing.T, set jwk.Set, name string, v any) json.RawMessage {
	t.Helper()
	// A copy through JSON: Set.Clone shares the keys.
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwk.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out.Len() {
		k, _ := out.Key(i)
		if err := k.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRegisterRefused checks every rule with its error code. Each case
// must fail if its check is removed: the request is valid but for the one
// thing the case changes.
func TestRegisterRefused(t *testing.T) {
	// Insecure redirects are refused here, as in production.
	h := newHarness(t, func(c *Config) { c.AllowInsecureRedirects = false })
	tpp := h.issueDCRTPP(nil)
	other := h.issueDCRTPP(nil)
	aispOnly := h.issueDCRTPP(func(r *sandbox.TPPRequest) { r.Roles = []string{sandbox.RoleAISP} })

	// req is one request: who sends it, with which content type, what body.
	type req struct {
		client      *http.Client
		contentType string
		body        string
	}
	// signed is a valid request from tpp with edit applied to its claims.
	signed := func(method string, edit func(claimSet)) req {
		c := h.dcrClaims(tpp, method)
		if edit != nil {
			edit(c)
		}
		return req{tpp.HTTP, "application/jose", h.dcrJWT(tpp, c)}
	}
	// signedWith signs tpp's valid claims with key/kid/alg.
	signedWith := func(alg jwa.SignatureAlgorithm, key any, kid string) req {
		payload, _ := json.Marshal(h.dcrClaims(tpp, oauth.AuthPrivateKeyJWT))
		hdr := jws.NewHeaders()
		hdr.Set(jws.KeyIDKey, kid)
		out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			t.Fatal(err)
		}
		return req{tpp.HTTP, "application/jose", string(out)}
	}
	withSSA := func(ssa string) func(claimSet) {
		return func(c claimSet) { c["software_statement"] = ssa }
	}
	resigned := func(edit func(*sandbox.SSA)) func(claimSet) { return withSSA(h.resignSSA(tpp, edit)) }

	// An SSA signed by a key the bank does not trust, under the directory's
	// own kid and under another.
	foreignSSA := func(kid string) string {
		payload, _ := json.Marshal(tpp.ssaClaims(t))
		hdr := jws.NewHeaders()
		hdr.Set(jws.KeyIDKey, kid)
		hdr.Set(jws.TypeKey, "JWT")
		out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), freshKey(t), jws.WithProtectedHeaders(hdr)))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	tampered := func() string {
		parts := strings.Split(tpp.SSA, ".")
		c := tpp.ssaClaims(t)
		c.SoftwareRoles = append(c.SoftwareRoles, "ASPSP")
		payload, _ := json.Marshal(c)
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}

	const (
		invalidMetadata = "invalid_client_metadata"
		invalidRedirect = "invalid_redirect_uri"
		invalidSSA      = "invalid_software_statement"
		unapprovedSSA   = "unapproved_software_statement"
	)
	for _, tc := range []struct {
		name string
		req  func() req
		code string
		// desc is part of the expected error_description: it shows which
		// check refused the request.
		desc string
	}{
		// The software statement.
		{"ssa missing", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "software_statement") })
		}, invalidSSA, "software_statement is required"},
		{"ssa from an unknown directory key", func() req { return signed(oauth.AuthTLSClientAuth, withSSA(foreignSSA("unknown-kid"))) }, invalidSSA, "not signed by a directory the bank trusts"},
		{"ssa signed by another key under the directory kid", func() req {
			return signed(oauth.AuthTLSClientAuth, withSSA(foreignSSA(h.Dir.KeyID())))
		}, invalidSSA, "signature is invalid"},
		{"ssa tampered", func() req { return signed(oauth.AuthTLSClientAuth, withSSA(tampered())) }, invalidSSA, "signature is invalid"},
		{"ssa expired", func() req {
			return signed(oauth.AuthTLSClientAuth, resigned(func(c *sandbox.SSA) {
				c.ExpiresAt = sandbox.NewNumericDate(h.Clock.Now().Add(-time.Hour))
			}))
		}, invalidSSA, "has expired"},
		{"ssa alg none", func() req {
			return signed(oauth.AuthTLSClientAuth, withSSA(unsignedJWT(tpp.ssaClaims(t))))
		}, invalidSSA, "must be signed with PS256 or ES256"},
		{"ssa org revoked", func() req {
			return signed(oauth.AuthTLSClientAuth, resigned(func(c *sandbox.SSA) { c.OrgStatus = "Revoked" }))
		}, unapprovedSSA, "organisation is not active"},
		{"ssa jwks endpoint not https", func() req {
			return signed(oauth.AuthTLSClientAuth, resigned(func(c *sandbox.SSA) {
				c.SoftwareJWKS = nil
				c.SoftwareJWKSEndpoint = "http://tpp.example/jwks"
			}))
		}, invalidSSA, "software_jwks_endpoint could not be fetched"},

		// The request JWT.
		{"request signed by a key not in the ssa", func() req { return signedWith(jwa.PS256(), freshKey(t), tpp.SigningKeyID) }, invalidMetadata, "registration request signature is invalid"},
		{"request signed by another tpp's key", func() req { return signedWith(jwa.PS256(), other.SigningKey, other.SigningKeyID) }, invalidMetadata, "not signed by a key of the software statement"},
		{"request key registered for RS256", func() req {
			return signed(oauth.AuthTLSClientAuth, resigned(func(c *sandbox.SSA) {
				c.SoftwareJWKS = jwksWithKeyParam(t, tpp.SigningJWKS, jwk.AlgorithmKey, jwa.RS256())
			}))
		}, invalidMetadata, "not signed by a key of the software statement"},
		{"request key registered for encryption", func() req {
			return signed(oauth.AuthTLSClientAuth, resigned(func(c *sandbox.SSA) {
				c.SoftwareJWKS = jwksWithKeyParam(t, tpp.SigningJWKS, jwk.KeyUsageKey, "enc")
			}))
		}, invalidMetadata, "not signed by a key of the software statement"},
		{"request without kid", func() req { return signedWith(jwa.PS256(), tpp.SigningKey, "") }, invalidMetadata, "must name its key (kid)"},
		{"request alg none", func() req {
			return req{tpp.HTTP, "application/jose", unsignedJWT(h.dcrClaims(tpp, oauth.AuthTLSClientAuth))}
		}, invalidMetadata, "must be signed with PS256"},
		{"request HS256 with the public key as secret", func() req {
			pub, _ := json.Marshal(tpp.SigningKey.PublicKey)
			return signedWith(jwa.HS256(), pub, tpp.SigningKeyID)
		}, invalidMetadata, "must be signed with PS256"},
		{"request RS256 with the right key", func() req { return signedWith(jwa.RS256(), tpp.SigningKey, tpp.SigningKeyID) }, invalidMetadata, "must be signed with PS256"},
		{"request expired", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				c["iat"] = h.Clock.Now().Add(-10 * time.Minute).Unix()
				c["exp"] = h.Clock.Now().Add(-time.Second).Unix()
			})
		}, invalidMetadata, "has expired"},
		{"request without exp", func() req { return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "exp") }) }, invalidMetadata, "exp is required"},
		{"request without iat", func() req { return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "iat") }) }, invalidMetadata, "iat is required"},
		{"request iat in the future", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["iat"] = h.Clock.Now().Add(5 * time.Minute).Unix() })
		}, invalidMetadata, "iat is in the future"},
		{"request iat too old", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["iat"] = h.Clock.Now().Add(-2 * time.Hour).Unix() })
		}, invalidMetadata, "old"},
		{"request lifetime too long", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["exp"] = h.Clock.Now().Add(48 * time.Hour).Unix() })
		}, invalidMetadata, "at most 24h0m0s after iat"},
		{"request without jti", func() req { return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "jti") }) }, invalidMetadata, "jti is required"},
		{"request iss not the software id", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["iss"] = other.SoftwareID })
		}, invalidMetadata, "iss must be the software statement's software_id"},
		{"request iss bad pattern", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["iss"] = tpp.SoftwareID + "-x" })
		}, invalidMetadata, "iss must match"},
		{"request iss too long", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["iss"] = strings.Repeat("a", 23) })
		}, invalidMetadata, "iss must match"},
		{"request aud another bank", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["aud"] = "https://other-bank.example" })
		}, invalidMetadata, "aud must identify this bank"},
		{"request aud missing", func() req { return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "aud") }) }, invalidMetadata, "aud must identify this bank"},
		{"request crit header", func() req {
			payload, _ := json.Marshal(h.dcrClaims(tpp, oauth.AuthTLSClientAuth))
			hdr := jws.NewHeaders()
			hdr.Set(jws.KeyIDKey, tpp.SigningKeyID)
			hdr.Set("http://openbanking.org.uk/iat", 1)
			hdr.Set(jws.CriticalKey, []string{"http://openbanking.org.uk/iat"})
			out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), tpp.SigningKey, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				t.Fatal(err)
			}
			return req{tpp.HTTP, "application/jose", string(out)}
		}, invalidMetadata, "crit header"},

		// The body.
		{"content type text/plain", func() req {
			r := signed(oauth.AuthTLSClientAuth, nil)
			r.contentType = "text/plain"
			return r
		}, invalidMetadata, "sent as application/jose or application/jwt"},
		{"no content type", func() req {
			r := signed(oauth.AuthTLSClientAuth, nil)
			r.contentType = ""
			return r
		}, invalidMetadata, "sent as application/jose or application/jwt"},
		{"unsigned json metadata", func() req {
			b, _ := json.Marshal(h.dcrClaims(tpp, oauth.AuthTLSClientAuth))
			return req{tpp.HTTP, "application/json", string(b)}
		}, invalidMetadata, "compact serialisation"},
		{"no client certificate", func() req {
			r := signed(oauth.AuthPrivateKeyJWT, nil)
			r.client = h.noCertClient()
			return r
		}, invalidMetadata, "requires a TLS client certificate"},

		// Redirect URIs.
		{"redirect uri not in the ssa", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["redirect_uris"] = []string{"https://evil.example/cb"} })
		}, invalidRedirect, "is not in the software statement"},
		{"redirect uri differing in case from the ssa's", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["redirect_uris"] = []string{"https://TPP.example/cb"} })
		}, invalidRedirect, "is not in the software statement"},
		{"redirect uri http (in the ssa)", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				resigned(func(s *sandbox.SSA) { s.SoftwareRedirectURIs = []string{"http://tpp.example/cb"} })(c)
				c["redirect_uris"] = []string{"http://tpp.example/cb"}
			})
		}, invalidRedirect, "is not https"},
		{"redirect uri localhost (in the ssa, omitted)", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				resigned(func(s *sandbox.SSA) { s.SoftwareRedirectURIs = []string{"https://localhost/cb"} })(c)
				delete(c, "redirect_uris")
			})
		}, invalidRedirect, "points at localhost"},
		{"redirect uri loopback ip (in the ssa)", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				resigned(func(s *sandbox.SSA) { s.SoftwareRedirectURIs = []string{"https://127.0.0.1/cb"} })(c)
				c["redirect_uris"] = []string{"https://127.0.0.1/cb"}
			})
		}, invalidRedirect, "points at a loopback address"},
		{"redirect uri with fragment (in the ssa)", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				resigned(func(s *sandbox.SSA) { s.SoftwareRedirectURIs = []string{"https://tpp.example/cb#x"} })(c)
				c["redirect_uris"] = []string{"https://tpp.example/cb#x"}
			})
		}, invalidRedirect, "has a fragment"},
		{"no redirect uri for the code flow", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["redirect_uris"] = []string{} })
		}, invalidRedirect, "needs a redirect URI"},

		// Client authentication.
		{"client_secret_basic", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["token_endpoint_auth_method"] = "client_secret_basic" })
		}, invalidMetadata, "must be tls_client_auth or private_key_jwt"},
		{"client_secret_jwt", func() req {
			return signed(oauth.AuthPrivateKeyJWT, func(c claimSet) { c["token_endpoint_auth_method"] = "client_secret_jwt" })
		}, invalidMetadata, "must be tls_client_auth or private_key_jwt"},
		{"auth method missing", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "token_endpoint_auth_method") })
		}, invalidMetadata, "token_endpoint_auth_method is required"},
		{"tls_client_auth without dn", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { delete(c, "tls_client_auth_subject_dn") })
		}, invalidMetadata, "tls_client_auth_subject_dn is required"},
		{"tls_client_auth dn of another certificate", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["tls_client_auth_subject_dn"] = other.SubjectDN() })
		}, invalidMetadata, "does not match the TLS client certificate"},
		{"tls_client_auth presented over another certificate", func() req {
			r := signed(oauth.AuthTLSClientAuth, nil)
			r.client = other.HTTP
			return r
		}, invalidMetadata, "does not match the TLS client certificate"},
		{"tls_client_auth dn not starting with CN", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				// The same DN, RDNs reversed: EqualDN would not match it either,
				// but the pattern refuses it first.
				parts := strings.Split(tpp.SubjectDN(), ",")
				slices.Reverse(parts)
				c["tls_client_auth_subject_dn"] = strings.Join(parts, ",")
			})
		}, invalidMetadata, "is not a valid subject DN"},
		{"private_key_jwt with a dn", func() req {
			return signed(oauth.AuthPrivateKeyJWT, func(c claimSet) { c["tls_client_auth_subject_dn"] = tpp.SubjectDN() })
		}, invalidMetadata, "only for tls_client_auth"},
		{"private_key_jwt without signing alg", func() req {
			return signed(oauth.AuthPrivateKeyJWT, func(c claimSet) { delete(c, "token_endpoint_auth_signing_alg") })
		}, invalidMetadata, "token_endpoint_auth_signing_alg is required"},
		{"token_endpoint_auth_signing_alg RS256", func() req {
			return signed(oauth.AuthPrivateKeyJWT, func(c claimSet) { c["token_endpoint_auth_signing_alg"] = "RS256" })
		}, invalidMetadata, "token_endpoint_auth_signing_alg must be PS256"},

		// Algorithms.
		{"id_token_signed_response_alg RS256", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["id_token_signed_response_alg"] = "RS256" })
		}, invalidMetadata, "id_token_signed_response_alg must be PS256"},
		{"request_object_signing_alg RS256", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["request_object_signing_alg"] = "RS256" })
		}, invalidMetadata, "request_object_signing_alg must be PS256"},
		{"request_object_signing_alg none", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["request_object_signing_alg"] = "none" })
		}, invalidMetadata, "request_object_signing_alg must be PS256"},
		{"id_token encryption RSA1_5", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["id_token_encrypted_response_alg"] = "RSA1_5" })
		}, invalidMetadata, "id_token_encrypted_response_alg must be RSA-OAEP-256"},
		{"id_token encryption A128CBC-HS256", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				c["id_token_encrypted_response_alg"] = "RSA-OAEP-256"
				c["id_token_encrypted_response_enc"] = "A128CBC-HS256"
			})
		}, invalidMetadata, "id_token_encrypted_response_enc must be A256GCM"},
		{"id_token encryption enc without alg", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["id_token_encrypted_response_enc"] = "A256GCM" })
		}, invalidMetadata, "needs id_token_encrypted_response_alg"},
		{"id_token encryption without an encryption key", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["id_token_encrypted_response_alg"] = "RSA-OAEP-256" })
		}, invalidMetadata, "needs an RSA encryption key"},

		// Grants, response types, application type, scopes, software id.
		{"grant type ciba", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) {
				c["grant_types"] = []string{"client_credentials", "urn:openid:params:grant-type:ciba"}
			})
		}, invalidMetadata, "not supported"},
		{"grant type implicit", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["grant_types"] = []string{"implicit"} })
		}, invalidMetadata, "not supported"},
		{"grant types empty", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["grant_types"] = []string{} })
		}, invalidMetadata, "grant_types must not be empty"},
		{"response type token", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["response_types"] = []string{"code id_token", "token"} })
		}, invalidMetadata, "response type \"token\" is not supported"},
		{"response type without the code grant", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["grant_types"] = []string{"client_credentials"} })
		}, invalidMetadata, "need the authorization_code grant type"},
		{"application type desktop", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["application_type"] = "desktop" })
		}, invalidMetadata, "application_type must be web or native"},
		{"scope beyond the roles", func() req {
			c := h.dcrClaims(aispOnly, oauth.AuthTLSClientAuth)
			c["scope"] = "openid accounts payments"
			return req{aispOnly.HTTP, "application/jose", h.dcrJWT(aispOnly, c)}
		}, invalidMetadata, "scope \"payments\" is not allowed"},
		{"scope unknown", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["scope"] = "openid admin" })
		}, invalidMetadata, "scope \"admin\" is not allowed"},
		{"software_id mismatch", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["software_id"] = other.SoftwareID })
		}, invalidMetadata, "software_id does not match"},
		{"redirect_uris not an array", func() req {
			return signed(oauth.AuthTLSClientAuth, func(c claimSet) { c["redirect_uris"] = "https://tpp.example/cb" })
		}, invalidMetadata, "claims are malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req()
			got := h.dcrCall(r.client, http.MethodPost, PathRegister, r.contentType, r.body, "")
			wantOAuthError(t, got, http.StatusBadRequest, tc.code)
			if d := got.str("error_description"); !strings.Contains(d, tc.desc) {
				t.Errorf("error_description = %q, want it to contain %q", d, tc.desc)
			}
		})
	}

	// Nothing above registered a client: the valid request still works
	// (its jti was never recorded by a refused request).
	if r := h.dcrCall(tpp.HTTP, http.MethodPost, PathRegister, "application/jose", signed(oauth.AuthTLSClientAuth, nil).body, ""); r.Status != http.StatusCreated {
		t.Fatalf("valid request after the refusals: %d %s", r.Status, r.Body)
	}
}

// freshKey returns an RSA key that is in no JWKS and no pool: an
// attacker's. It is generated once per test binary.
func freshKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	registerAttackerKey.once.Do(func() { registerAttackerKey.key = freshRSAKey(t) })
	if registerAttackerKey.key == nil {
		t.Fatal("attacker key generation failed")
	}
	return registerAttackerKey.key
}

var registerAttackerKey struct {
	once sync.Once
	key  *rsa.PrivateKey
}

// TestRegisterJTIReplay: a registration request is accepted once.
func TestRegisterJTIReplay(t *testing.T) {
	h := newHarness(t)
	tpp := h.issueDCRTPP(nil)
	body := h.dcrJWT(tpp, h.dcrClaims(tpp, oauth.AuthTLSClientAuth))
	if r := h.dcrCall(tpp.HTTP, http.MethodPost, PathRegister, "application/jose", body, ""); r.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	r := h.dcrCall(tpp.HTTP, http.MethodPost, PathRegister, "application/jwt", body, "")
	wantOAuthError(t, r, http.StatusBadRequest, "invalid_client_metadata")

	// The same software registering again with a new jti gets a second
	// client (documented choice).
	r2, _ := h.register(tpp, h.dcrClaims(tpp, oauth.AuthTLSClientAuth))
	if r2.str("client_id") == "" {
		t.Fatal("no second client")
	}
}

// TestRegistrationManagement covers GET, PUT and DELETE /register/{id}
// with client-credentials tokens.
func TestRegistrationManagement(t *testing.T) {
	h := newHarness(t)
	tpp := h.issueDCRTPP(nil)
	other := h.issueDCRTPP(nil)
	created, c := h.register(tpp, h.dcrClaims(tpp, oauth.AuthTLSClientAuth))
	_, otherClient := h.register(other, h.dcrClaims(other, oauth.AuthPrivateKeyJWT))
	path := PathRegister + "/" + c.ID
	x5t := mtls.Thumbprint(tpp.TransportCert)

	// A token from the real token endpoint.
	cc := h.clientCredentials(&testTPP{TPPBundle: tpp.TPPBundle, Client: c, HTTP: tpp.HTTP}, "accounts")
	token := cc.str("access_token")

	t.Run("get", func(t *testing.T) {
		r := h.dcrCall(tpp.HTTP, http.MethodGet, path, "", "", token)
		if r.Status != http.StatusOK {
			t.Fatalf("GET: %d %s", r.Status, r.Body)
		}
		if diff := cmp.Diff(created.JSON, r.JSON); diff != "" {
			t.Errorf("GET differs from the POST response (-post +get):\n%s", diff)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q", cc)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			client *http.Client
			path   string
			bearer string
			// revoked: the token is revoked by the refusal.
			revoked bool
		}{
			{name: "no token", client: tpp.HTTP, path: path},
			{name: "unknown token", client: tpp.HTTP, path: path, bearer: "not-a-token"},
			{name: "token over another certificate", client: other.HTTP, path: path, bearer: h.ccToken(c, x5t, nil)},
			{name: "no client certificate", client: h.noCertClient(), path: path, bearer: h.ccToken(c, x5t, nil)},
			{name: "unbound token", client: tpp.HTTP, path: path, bearer: h.ccToken(c, "", nil)},
			{name: "expired token", client: tpp.HTTP, path: path, bearer: h.ccToken(c, x5t, func(a *ob.AccessToken) {
				a.ExpiresAt = h.Clock.Now().Add(-time.Second)
			})},
			{name: "revoked token", client: tpp.HTTP, path: path, bearer: h.ccToken(c, x5t, func(a *ob.AccessToken) {
				at := h.Clock.Now()
				a.RevokedAt = &at
			})},
			{name: "consent-bound token", client: tpp.HTTP, path: path, bearer: h.ccToken(c, x5t, func(a *ob.AccessToken) {
				a.GrantID = h.grantFor(&testTPP{Client: c})
			})},
			{name: "another client's id", client: tpp.HTTP, path: PathRegister + "/" + otherClient.ID, bearer: h.ccToken(c, x5t, nil), revoked: true},
			{name: "unknown client id", client: tpp.HTTP, path: PathRegister + "/nope", bearer: h.ccToken(c, x5t, nil), revoked: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, method := range []string{http.MethodGet, http.MethodDelete} {
					r := h.dcrCall(tc.client, method, tc.path, "", "", tc.bearer)
					wantOAuthError(t, r, http.StatusUnauthorized, "invalid_token")
					if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
					}
				}
				if tc.bearer == "" || tc.bearer == "not-a-token" {
					return
				}
				at, err := h.Store.AccessToken(context.Background(), ob.HashToken(tc.bearer))
				if err != nil {
					t.Fatal(err)
				}
				if got := at.RevokedAt != nil; got != tc.revoked && tc.name != "revoked token" {
					t.Errorf("token revoked = %v, want %v", got, tc.revoked)
				}
			})
		}
		// Neither client was touched.
		for _, id := range []string{c.ID, otherClient.ID} {
			if _, err := h.Store.Client(context.Background(), id); err != nil {
				t.Errorf("client %s: %v", id, err)
			}
		}
	})

	t.Run("put", func(t *testing.T) {
		claims := h.dcrClaims(tpp, oauth.AuthTLSClientAuth)
		claims["client_id"] = c.ID
		claims["redirect_uris"] = []string{"https://tpp.example/cb2"}
		claims["scope"] = "openid accounts"
		h.Clock.Advance(time.Minute)
		// Warm the client cache so the test shows PUT invalidates it.
		if _, err := h.Server.clients.get(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		r := h.dcrCall(tpp.HTTP, http.MethodPut, path, "application/jose", h.dcrJWT(tpp, claims), token)
		if r.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s", r.Status, r.Body)
		}
		if r.str("client_id") != c.ID || r.JSON["client_id_issued_at"] != created.JSON["client_id_issued_at"] {
			t.Errorf("PUT changed client_id/client_id_issued_at: %s", r.Body)
		}
		if got := r.JSON["redirect_uris"]; !cmp.Equal(got, []any{"https://tpp.example/cb2"}) {
			t.Errorf("redirect_uris = %v", got)
		}
		updated, err := h.Store.Client(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(updated.RedirectURIs, []string{"https://tpp.example/cb2"}) || !slices.Equal(updated.Scopes, []string{"openid", "accounts"}) {
			t.Errorf("stored after PUT: %v %v", updated.RedirectURIs, updated.Scopes)
		}
		// The existing token keeps working, and GET serves the new metadata.
		g := h.dcrCall(tpp.HTTP, http.MethodGet, path, "", "", token)
		if g.Status != http.StatusOK || g.str("scope") != "openid accounts" {
			t.Fatalf("GET after PUT: %d %s", g.Status, g.Body)
		}
		// The token endpoint sees the change at once (cache invalidated):
		// payments is no longer registered.
		if cached, err := h.Server.clients.get(context.Background(), c.ID); err != nil || !slices.Equal(cached.Scopes, updated.Scopes) {
			t.Errorf("cached client after PUT: scopes %v, err %v", cached.Scopes, err)
		}
		tt := &testTPP{TPPBundle: tpp.TPPBundle, Client: updated, HTTP: tpp.HTTP}
		if r := h.token(tt, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"payments"}}); r.Status == http.StatusOK {
			t.Errorf("payments token after PUT removed the scope: %s", r.Body)
		}

		for _, tc := range []struct {
			name string
			tpp  *dcrTPP
			edit func(claimSet)
			code string
		}{
			{"replayed jti", tpp, func(c claimSet) { c["jti"] = claims["jti"] }, "invalid_client_metadata"},
			{"other software's statement", other, nil, "invalid_client_metadata"},
			{"client_id of another client", tpp, func(c claimSet) { c["client_id"] = otherClient.ID }, "invalid_client_metadata"},
			{"redirect uri not in the ssa", tpp, func(c claimSet) { c["redirect_uris"] = []string{"https://evil.example/cb"} }, "invalid_redirect_uri"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cl := h.dcrClaims(tc.tpp, oauth.AuthTLSClientAuth)
				if tc.tpp == other {
					// Signed by the other software, DN of this client's certificate.
					cl["tls_client_auth_subject_dn"] = tpp.SubjectDN()
				}
				if tc.edit != nil {
					tc.edit(cl)
				}
				r := h.dcrCall(tpp.HTTP, http.MethodPut, path, "application/jose", h.dcrJWT(tc.tpp, cl), token)
				wantOAuthError(t, r, http.StatusBadRequest, tc.code)
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		// Warm the client cache so the test shows DELETE invalidates it.
		if _, err := h.Server.clients.get(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		other := h.ccToken(c, x5t, nil)
		r := h.dcrCall(tpp.HTTP, http.MethodDelete, path, "", "", token)
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		if _, err := h.Store.Client(context.Background(), c.ID); !ob.IsNotFound(err) {
			t.Errorf("client after DELETE: %v", err)
		}
		if _, err := h.Server.clients.get(context.Background(), c.ID); !ob.IsNotFound(err) {
			t.Errorf("cached client after DELETE: %v", err)
		}
		for _, tok := range []string{token, other} {
			at, err := h.Store.AccessToken(context.Background(), ob.HashToken(tok))
			if err != nil || at.RevokedAt == nil {
				t.Errorf("token after DELETE: revoked %v, err %v", at.RevokedAt, err)
			}
		}
		g := h.dcrCall(tpp.HTTP, http.MethodGet, path, "", "", token)
		wantOAuthError(t, g, http.StatusUnauthorized, "invalid_token")
		// The deleted client can no longer obtain tokens.
		tt := &testTPP{TPPBundle: tpp.TPPBundle, Client: c, HTTP: tpp.HTTP}
		if r := h.token(tt, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"accounts"}}); r.Status == http.StatusOK {
			t.Errorf("token for a deleted client: %s", r.Body)
		}
	})
}

// TestReadRegistrationWithoutMetadata: a client created other than through
// DCR (no stored registration response) is still described by GET.
func TestReadRegistrationWithoutMetadata(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{Method: oauth.AuthTLSClientAuth})
	token := h.ccToken(tpp.Client, tpp.Thumbprint(), nil)
	r := h.dcrCall(tpp.HTTP, http.MethodGet, PathRegister+"/"+tpp.Client.ID, "", "", token)
	if r.Status != http.StatusOK {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	for k, want := range map[string]string{
		"client_id":                  tpp.Client.ID,
		"software_id":                tpp.SoftwareID,
		"token_endpoint_auth_method": oauth.AuthTLSClientAuth,
		"tls_client_auth_subject_dn": tpp.SubjectDN(),
	} {
		if got := r.str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
