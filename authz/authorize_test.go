package authz

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/oauth"
)

// End-to-end tests of the authorize endpoint, PAR and Finish over the
// harness's real listeners (PAR over mutual TLS).

// browser is a client for the public listener that does not follow
// redirects, like a browser whose next hop the test inspects.
func (h *harness) browser() *http.Client {
	return h.httpClient(&tls.Config{MinVersion: tls.VersionTLS12})
}

// requestObject returns a valid PS256 request object of tpp for intentID
// (hybrid, nonce, state, acr); edit changes the claims before signing.
func (h *harness) requestObject(tpp *testTPP, intentID string, edit func(claimSet)) string {
	h.t.Helper()
	now := h.Clock.Now()
	c := claimSet{
		"iss":           tpp.Client.ID,
		"aud":           h.Server.cfg.Issuer,
		"client_id":     tpp.Client.ID,
		"jti":           uuid.NewString(),
		"iat":           now.Unix(),
		"nbf":           now.Unix(),
		"exp":           now.Add(10 * time.Minute).Unix(),
		"response_type": "code id_token",
		"redirect_uri":  tpp.Client.RedirectURIs[0],
		"scope":         "openid accounts",
		"state":         "st-" + uuid.NewString(),
		"nonce":         "n-" + uuid.NewString(),
		"claims": map[string]any{"id_token": map[string]any{
			"openbanking_intent_id": map[string]any{"value": intentID, "essential": true},
			"acr":                   map[string]any{"essential": true, "values": []string{oauth.ACRSCA, oauth.ACRCA}},
		}},
	}
	if edit != nil {
		edit(c)
	}
	return h.signPS256(tpp.SigningKey, tpp.SigningKeyID, c)
}

// hybridQuery is the front-channel query of a FAPI 1 Advanced request.
func hybridQuery(tpp *testTPP, request string) url.Values {
	return url.Values{
		"client_id":     {tpp.Client.ID},
		"response_type": {"code id_token"},
		"scope":         {"openid accounts"},
		"request":       {request},
	}
}

// authorize sends GET /authorize?q from the browser.
func (h *harness) authorize(q url.Values) httpResult {
	h.t.Helper()
	resp, err := h.browser().Get(h.Public.URL + PathAuthorize + "?" + q.Encode())
	if err != nil {
		h.t.Fatalf("GET /authorize: %v", err)
	}
	return readResult(h.t, resp)
}

// redirectResult is a redirect to the client, split up.
type redirectResult struct {
	// Base is the Location without query or fragment.
	Base     string
	Query    url.Values
	Fragment url.Values
}

// params returns the response parameters, from wherever they are.
func (r redirectResult) params() url.Values {
	if len(r.Fragment) > 0 {
		return r.Fragment
	}
	return r.Query
}

// mustRedirect checks that r redirects and splits the Location.
func mustRedirect(tb testing.TB, r httpResult) redirectResult {
	tb.Helper()
	if r.Status != http.StatusFound && r.Status != http.StatusSeeOther {
		tb.Fatalf("status = %d, want a redirect; body %s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		tb.Fatalf("Location %q: %v", r.Header.Get("Location"), err)
	}
	frag, err := url.ParseQuery(loc.Fragment)
	if err != nil {
		tb.Fatalf("fragment of %q: %v", loc, err)
	}
	out := redirectResult{Query: loc.Query(), Fragment: frag}
	loc.RawQuery, loc.Fragment = "", ""
	out.Base = loc.String()
	return out
}

// mustErrorPage checks that r is the safe error page with error code: 400,
// HTML, and no redirect anywhere.
func mustErrorPage(tb testing.TB, r httpResult, code string) {
	tb.Helper()
	if r.Status != http.StatusBadRequest {
		tb.Fatalf("status = %d, want 400 error page; Location %q body %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		tb.Errorf("error page redirects to %q", loc)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		tb.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(string(r.Body), "<code>"+code+"</code>") {
		tb.Errorf("error page does not show %s: %s", code, r.Body)
	}
}

// mustRedirectError checks that r redirects to the client's redirect URI
// with error code, the state and iss, in the given response mode.
func (h *harness) mustRedirectError(r httpResult, tpp *testTPP, mode, code, state string) redirectResult {
	h.t.Helper()
	rr := mustRedirect(h.t, r)
	if rr.Base != tpp.Client.RedirectURIs[0] {
		h.t.Errorf("redirected to %q, want %q", rr.Base, tpp.Client.RedirectURIs[0])
	}
	p := rr.Query
	if mode == "fragment" {
		p = rr.Fragment
		if len(rr.Query) != 0 {
			h.t.Errorf("query %v on a fragment response", rr.Query)
		}
	} else if len(rr.Fragment) != 0 {
		h.t.Errorf("fragment %v on a query response", rr.Fragment)
	}
	if got := p.Get("error"); got != code {
		h.t.Errorf("error = %q (%s), want %q", got, p.Get("error_description"), code)
	}
	if got := p.Get("state"); got != state {
		h.t.Errorf("state = %q, want %q", got, state)
	}
	if got := p.Get("iss"); got != h.Server.cfg.Issuer {
		h.t.Errorf("iss = %q, want %q", got, h.Server.cfg.Issuer)
	}
	if p.Has("code") || p.Has("id_token") {
		h.t.Errorf("error response carries a code or id_token: %v", p)
	}
	return rr
}

// serverJWKS fetches the server's published keys from /jwks, as a TPP does.
func (h *harness) serverJWKS() jwk.Set {
	h.t.Helper()
	resp, err := h.browser().Get(h.Public.URL + PathJWKS)
	if err != nil {
		h.t.Fatalf("GET /jwks: %v", err)
	}
	r := readResult(h.t, resp)
	if r.Status != http.StatusOK {
		h.t.Fatalf("GET /jwks: %d %s", r.Status, r.Body)
	}
	set, err := jwk.Parse(r.Body)
	if err != nil {
		h.t.Fatalf("parse /jwks: %v", err)
	}
	return set
}

// verifyIDToken verifies a PS256 id_token against /jwks and returns its
// claims.
func (h *harness) verifyIDToken(token string) map[string]any {
	h.t.Helper()
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		h.t.Fatalf("parse id_token: %v", err)
	}
	if alg, _ := msg.Signatures()[0].ProtectedHeaders().Algorithm(); alg != jwa.PS256() {
		h.t.Errorf("id_token alg = %v, want PS256", alg)
	}
	payload, err := jws.Verify([]byte(token), jws.WithKeySet(h.serverJWKS(), jws.WithRequireKid(true)))
	if err != nil {
		h.t.Fatalf("verify id_token: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		h.t.Fatal(err)
	}
	return claims
}

// checkHybridIDToken checks the id_token of a hybrid response.
func (h *harness) checkHybridIDToken(claims map[string]any, tpp *testTPP, ro claimSet, intentID, code, state string) {
	h.t.Helper()
	want := map[string]any{
		"iss":                   h.Server.cfg.Issuer,
		"aud":                   tpp.Client.ID,
		"sub":                   "cust-1",
		"nonce":                 ro["nonce"],
		"openbanking_intent_id": intentID,
		"acr":                   oauth.ACRSCA,
		"c_hash":                halfHash(code),
		"s_hash":                halfHash(state),
	}
	for k, v := range want {
		if claims[k] != v {
			h.t.Errorf("id_token %s = %v, want %v", k, claims[k], v)
		}
	}
	now := float64(h.Clock.Now().Unix())
	if exp, _ := claims["exp"].(float64); exp <= now {
		h.t.Errorf("id_token exp %v not after now %v", exp, now)
	}
	if at, _ := claims["auth_time"].(float64); at == 0 || at > now {
		h.t.Errorf("id_token auth_time = %v", claims["auth_time"])
	}
}

// unverifiedClaims decodes a JWT's claims without verification.
func unverifiedClaims(tb testing.TB, token string) claimSet {
	tb.Helper()
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		tb.Fatal(err)
	}
	var c claimSet
	if err := json.Unmarshal(msg.Payload(), &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestAuthorizeHybrid(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	ro := h.requestObject(tpp, intent, nil)
	roClaims := unverifiedClaims(t, ro)
	state := roClaims["state"].(string)

	r := h.authorize(hybridQuery(tpp, ro))
	rr := mustRedirect(t, r)
	if rr.Base != tpp.Client.RedirectURIs[0] {
		t.Errorf("redirected to %q", rr.Base)
	}
	if len(rr.Query) != 0 {
		t.Errorf("hybrid response parameters in the query: %v", rr.Query)
	}
	p := rr.Fragment
	code := p.Get("code")
	if len(code) < 43 {
		t.Errorf("code = %q, want 256 random bits", code)
	}
	if p.Get("state") != state {
		t.Errorf("state = %q, want %q", p.Get("state"), state)
	}
	if p.Get("iss") != h.Server.cfg.Issuer {
		t.Errorf("iss = %q, want %q", p.Get("iss"), h.Server.cfg.Issuer)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	h.checkHybridIDToken(h.verifyIDToken(p.Get("id_token")), tpp, roClaims, intent, code, state)

	// The code is exchanged at the token endpoint (no PKCE: FAPI 1
	// Advanced hybrid with a request object may omit it).
	tok := h.token(tpp, url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {tpp.Client.RedirectURIs[0]},
	})
	if tok.Status != http.StatusOK || tok.str("access_token") == "" {
		t.Fatalf("exchange: %d %s", tok.Status, tok.Body)
	}
	if idt := tok.str("id_token"); idt != "" {
		c := h.verifyIDToken(idt)
		if c["openbanking_intent_id"] != intent || c["sub"] != "cust-1" {
			t.Errorf("token endpoint id_token claims = %v", c)
		}
	}
}

// TestAuthorizeHybridPOST sends the request as a form post (OIDC Core
// §3.1.2.1); the answer is a 303.
func TestAuthorizeHybridPOST(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	ro := h.requestObject(tpp, h.grantFor(tpp), nil)
	resp, err := h.browser().PostForm(h.Public.URL+PathAuthorize, hybridQuery(tpp, ro))
	if err != nil {
		t.Fatal(err)
	}
	r := readResult(t, resp)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; %s", r.Status, r.Body)
	}
	if p := mustRedirect(t, r).Fragment; p.Get("code") == "" || p.Get("id_token") == "" {
		t.Errorf("fragment = %v", p)
	}
}

// TestAuthorizeHybridPKCE: a hybrid request that sent a challenge must
// redeem the code with its verifier.
func TestAuthorizeHybridPKCE(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	verifier := strings.Repeat("v", 43)
	ro := h.requestObject(tpp, h.grantFor(tpp), func(c claimSet) {
		c["code_challenge"] = s256(verifier)
		c["code_challenge_method"] = "S256"
	})
	code := mustRedirect(t, h.authorize(hybridQuery(tpp, ro))).Fragment.Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {tpp.Client.RedirectURIs[0]}}
	if r := h.token(tpp, form); r.Status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Errorf("exchange without verifier: %d %s, want 400 invalid_grant", r.Status, r.Body)
	}
}

// TestAuthorizeEncryptedIDToken: a client that registered id_token
// encryption gets a JWE (RSA-OAEP-256, A256GCM, cty JWT) nesting the signed
// id_token.
func TestAuthorizeEncryptedIDToken(t *testing.T) {
	h := newHarness(t)
	encKey := testRSAKey(t)
	tpp := h.newTPP(tppOptions{Edit: func(c *oauth.Client) {
		c.IDTokenEncryptedResponseAlg = "RSA-OAEP-256"
		c.IDTokenEncryptedResponseEnc = "A256GCM"
		c.JWKS = withEncryptionKey(t, c.JWKS, &encKey.PublicKey)
	}})
	intent := h.grantFor(tpp)
	ro := h.requestObject(tpp, intent, nil)
	p := mustRedirect(t, h.authorize(hybridQuery(tpp, ro))).Fragment
	idt := p.Get("id_token")
	if strings.Count(idt, ".") != 4 {
		t.Fatalf("id_token is not a JWE: %q", idt)
	}
	msg, err := jwe.Parse([]byte(idt))
	if err != nil {
		t.Fatal(err)
	}
	if cty, _ := msg.ProtectedHeaders().ContentType(); cty != "JWT" {
		t.Errorf("cty = %q", cty)
	}
	signed, err := jwe.Decrypt([]byte(idt), jwe.WithKey(jwa.RSA_OAEP_256(), encKey))
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	claims := h.verifyIDToken(string(signed))
	h.checkHybridIDToken(claims, tpp, unverifiedClaims(t, ro), intent, p.Get("code"), p.Get("state"))
}

// withEncryptionKey adds pub as an encryption key to a JWKS document.
func withEncryptionKey(tb testing.TB, jwks []byte, pub *rsa.PublicKey) []byte {
	tb.Helper()
	set, err := jwk.Parse(jwks)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := jwk.Import(pub)
	if err != nil {
		tb.Fatal(err)
	}
	k.Set(jwk.KeyIDKey, "enc-"+uuid.NewString())
	k.Set(jwk.KeyUsageKey, "enc")
	k.Set(jwk.AlgorithmKey, jwa.RSA_OAEP_256())
	set.AddKey(k)
	b, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// parForm is a valid FAPI 2 pushed request of tpp for intentID, with its
// client authentication.
func (h *harness) parForm(tpp *testTPP, intentID, verifier string) url.Values {
	f := h.clientAuth(tpp)
	claims, _ := json.Marshal(map[string]any{"id_token": map[string]any{
		"openbanking_intent_id": map[string]any{"value": intentID, "essential": true},
	}})
	f.Set("response_type", "code")
	f.Set("redirect_uri", tpp.Client.RedirectURIs[0])
	f.Set("scope", "openid accounts")
	f.Set("state", "st-"+uuid.NewString())
	f.Set("code_challenge", s256(verifier))
	f.Set("code_challenge_method", "S256")
	f.Set("claims", string(claims))
	return f
}

// push posts form to /par as tpp.
func (h *harness) push(tpp *testTPP, form url.Values) httpResult {
	h.t.Helper()
	return h.postForm(tpp.HTTP, PathPAR, form)
}

// mustPush pushes form and returns the request_uri.
func (h *harness) mustPush(tpp *testTPP, form url.Values) string {
	h.t.Helper()
	r := h.push(tpp, form)
	if r.Status != http.StatusCreated {
		h.t.Fatalf("PAR: %d %s", r.Status, r.Body)
	}
	uri := r.str("request_uri")
	if !strings.HasPrefix(uri, requestURIPrefix) || len(uri) < len(requestURIPrefix)+43 {
		h.t.Errorf("request_uri = %q", uri)
	}
	if got, _ := r.JSON["expires_in"].(float64); got != 90 {
		h.t.Errorf("expires_in = %v, want 90", r.JSON["expires_in"])
	}
	return uri
}

// pushedQuery is the front-channel query of a FAPI 2 request.
func pushedQuery(tpp *testTPP, requestURI string) url.Values {
	return url.Values{"client_id": {tpp.Client.ID}, "request_uri": {requestURI}, "response_type": {"code"}, "scope": {"openid"}}
}

func TestPARCodeFlow(t *testing.T) {
	for _, method := range []string{oauth.AuthPrivateKeyJWT, oauth.AuthTLSClientAuth} {
		t.Run(method, func(t *testing.T) {
			h := newHarness(t)
			tpp := h.newTPP(tppOptions{Method: method})
			intent := h.grantFor(tpp)
			verifier := strings.Repeat("x", 50)
			form := h.parForm(tpp, intent, verifier)
			uri := h.mustPush(tpp, form)

			rr := mustRedirect(t, h.authorize(pushedQuery(tpp, uri)))
			if rr.Base != tpp.Client.RedirectURIs[0] || len(rr.Fragment) != 0 {
				t.Errorf("redirect = %+v", rr)
			}
			p := rr.Query
			if p.Get("code") == "" || p.Get("state") != form.Get("state") || p.Get("iss") != h.Server.cfg.Issuer {
				t.Errorf("response = %v", p)
			}
			if p.Has("id_token") {
				t.Errorf("code flow returned an id_token at the front channel")
			}

			tok := h.token(tpp, url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {p.Get("code")},
				"redirect_uri":  {tpp.Client.RedirectURIs[0]},
				"code_verifier": {verifier},
			})
			if tok.Status != http.StatusOK || tok.str("access_token") == "" {
				t.Fatalf("exchange: %d %s", tok.Status, tok.Body)
			}
		})
	}
}

// TestPARRequestObject pushes a signed request object: only its parameters
// count.
func TestPARRequestObject(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	verifier := strings.Repeat("y", 60)
	ro := h.requestObject(tpp, intent, func(c claimSet) {
		c["response_type"] = "code"
		c["state"] = "from-object"
		c["code_challenge"] = s256(verifier)
		c["code_challenge_method"] = "S256"
	})
	form := h.clientAuth(tpp)
	form.Set("request", ro)
	form.Set("state", "from-form") // ignored
	form.Set("redirect_uri", "https://evil.example/cb")
	uri := h.mustPush(tpp, form)
	p := mustRedirect(t, h.authorize(pushedQuery(tpp, uri))).Query
	if p.Get("state") != "from-object" || p.Get("code") == "" {
		t.Errorf("response = %v", p)
	}

	// An alg none object is refused at PAR as at the authorize endpoint.
	form = h.clientAuth(tpp)
	form.Set("request", unsignedJWT(unverifiedClaims(t, ro)))
	if r := h.push(tpp, form); r.Status != http.StatusBadRequest || r.str("error") != "invalid_request_object" {
		t.Errorf("alg none at PAR: %d %s", r.Status, r.Body)
	}
}

func TestAuthorizeDenied(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Journey = AutoApprove{Decide: func(oauth.AuthSession) oauth.Outcome {
			return oauth.Outcome{Approved: false, Reason: "the customer cancelled"}
		}}
	})
	tpp := h.newTPP(tppOptions{})
	ro := h.requestObject(tpp, h.grantFor(tpp), nil)
	rr := h.mustRedirectError(h.authorize(hybridQuery(tpp, ro)), tpp, "fragment", "access_denied", unverifiedClaims(t, ro)["state"].(string))
	if d := rr.Fragment.Get("error_description"); d != "the customer cancelled" {
		t.Errorf("error_description = %q", d)
	}

	// PAR flow: the error goes in the query.
	intent := h.grantFor(tpp)
	form := h.parForm(tpp, intent, strings.Repeat("z", 43))
	uri := h.mustPush(tpp, form)
	h.mustRedirectError(h.authorize(pushedQuery(tpp, uri)), tpp, "query", "access_denied", form.Get("state"))
}

// TestAuthorizeSecurity: every check of the front channel, each case
// failing if its check is removed. Until the request object is verified
// and its redirect URI found registered, the answer is the error page;
// after, a redirect to the client.
func TestAuthorizeSecurity(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{Roles: []string{"AISP"}})
	other := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	otherIntent := h.grantFor(other)
	now := h.Clock.Now()

	type want struct {
		page  bool   // error page (else redirect)
		code  string // error code
		mode  string // redirect mode
		state bool   // the redirect carries the request object's state
		// desc is a substring of the description shown, naming the check
		// that refused, where other layers would refuse too.
		desc string
	}
	tests := []struct {
		name string
		// query builds the authorize query (given a default request object).
		query func() url.Values
		want  want
	}{
		{"alg none", func() url.Values {
			c := unverifiedClaims(t, h.requestObject(tpp, intent, nil))
			return hybridQuery(tpp, unsignedJWT(c))
		}, want{page: true, code: "invalid_request_object", desc: "must be signed with PS256"}},
		{"HS256 with a guessable secret", func() url.Values {
			c := unverifiedClaims(t, h.requestObject(tpp, intent, nil))
			return hybridQuery(tpp, signJWT(t, jwa.HS256(), tpp.SigningKey.PublicKey.N.Bytes(), tpp.SigningKeyID, c, nil))
		}, want{page: true, code: "invalid_request_object", desc: "must be signed with PS256"}},
		{"signed by another client's key", func() url.Values {
			c := unverifiedClaims(t, h.requestObject(tpp, intent, nil))
			return hybridQuery(tpp, h.signPS256(other.SigningKey, other.SigningKeyID, c))
		}, want{page: true, code: "invalid_request_object"}},
		{"another client's key under this client's kid", func() url.Values {
			c := unverifiedClaims(t, h.requestObject(tpp, intent, nil))
			return hybridQuery(tpp, h.signPS256(other.SigningKey, tpp.SigningKeyID, c))
		}, want{page: true, code: "invalid_request_object"}},
		{"redirect_uri not registered", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { c["redirect_uri"] = "https://evil.example/cb" }))
		}, want{page: true, code: "invalid_request"}},
		{"redirect_uri not exactly registered", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { c["redirect_uri"] = tpp.Client.RedirectURIs[0] + "/" }))
		}, want{page: true, code: "invalid_request"}},
		{"unknown client", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, nil))
			q.Set("client_id", "nobody")
			return q
		}, want{page: true, code: "invalid_request"}},
		{"no client_id", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, nil))
			q.Del("client_id")
			return q
		}, want{page: true, code: "invalid_request"}},
		{"client_id of another client", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, nil))
			q.Set("client_id", other.Client.ID)
			return q
		}, want{page: true, code: "invalid_request_object"}},
		{"request and request_uri", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, nil))
			q.Set("request_uri", requestURIPrefix+"x")
			return q
		}, want{page: true, code: "invalid_request"}},

		{"expired", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) {
				c["nbf"] = now.Add(-20 * time.Minute).Unix()
				c["exp"] = now.Add(-time.Minute).Unix()
			}))
		}, want{code: "invalid_request_object", mode: "fragment", state: true}},
		{"exp - nbf over 60 minutes", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) {
				c["nbf"] = now.Add(-time.Minute).Unix()
				c["exp"] = now.Add(60 * time.Minute).Unix()
			}))
		}, want{code: "invalid_request_object", mode: "fragment", state: true}},
		{"no nbf", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { delete(c, "nbf") }))
		}, want{code: "invalid_request_object", mode: "fragment", state: true}},
		{"wrong aud", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { c["aud"] = "https://other-bank.example" }))
		}, want{code: "invalid_request_object", mode: "fragment", state: true}},
		{"PKCE plain", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) {
				c["code_challenge"] = strings.Repeat("p", 43)
				c["code_challenge_method"] = "plain"
			}))
		}, want{code: "invalid_request", mode: "fragment", state: true}},
		{"no nonce", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { delete(c, "nonce") }))
		}, want{code: "invalid_request", mode: "fragment", state: true}},
		{"unknown intent", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, "aac-unknown", nil))
		}, want{code: "invalid_request", mode: "fragment", state: true}},
		{"intent of another client", func() url.Values {
			return hybridQuery(tpp, h.requestObject(tpp, otherIntent, nil))
		}, want{code: "invalid_request", mode: "fragment", state: true}},
		{"scope beyond the client's roles", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { c["scope"] = "openid payments" }))
			q.Del("scope")
			return q
		}, want{code: "invalid_scope", mode: "fragment", state: true}},
		{"query response_type differs", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, nil))
			q.Set("response_type", "code")
			return q
		}, want{code: "invalid_request", mode: "fragment", state: true}},
		{"response_type code without PAR", func() url.Values {
			q := hybridQuery(tpp, h.requestObject(tpp, intent, func(c claimSet) { c["response_type"] = "code" }))
			q.Set("response_type", "code")
			return q
		}, want{code: "unsupported_response_type", mode: "query", state: true}},
		{"plain code request without PAR", func() url.Values {
			return url.Values{"client_id": {tpp.Client.ID}, "response_type": {"code"}, "scope": {"openid accounts"},
				"redirect_uri": {tpp.Client.RedirectURIs[0]}, "code_challenge": {s256(strings.Repeat("q", 43))}, "code_challenge_method": {"S256"}}
		}, want{code: "invalid_request", mode: "query"}},
		{"plain request to an unregistered redirect_uri", func() url.Values {
			return url.Values{"client_id": {tpp.Client.ID}, "response_type": {"code id_token"}, "scope": {"openid accounts"},
				"redirect_uri": {"https://evil.example/cb"}, "nonce": {"n"}}
		}, want{page: true, code: "invalid_request"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.query()
			r := h.authorize(q)
			if tc.want.page {
				mustErrorPage(t, r, tc.want.code)
				if !strings.Contains(string(r.Body), tc.want.desc) {
					t.Errorf("error page does not say %q: %s", tc.want.desc, r.Body)
				}
				return
			}
			state := ""
			if tc.want.state {
				state = unverifiedClaims(t, q.Get("request"))["state"].(string)
			}
			h.mustRedirectError(r, tpp, tc.want.mode, tc.want.code, state)
		})
	}
}

func TestPARSecurity(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	other := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	verifier := strings.Repeat("w", 43)

	t.Run("request_uri reused", func(t *testing.T) {
		uri := h.mustPush(tpp, h.parForm(tpp, intent, verifier))
		mustRedirect(t, h.authorize(pushedQuery(tpp, uri)))
		mustErrorPage(t, h.authorize(pushedQuery(tpp, uri)), "invalid_request_uri")
	})
	t.Run("request_uri expired", func(t *testing.T) {
		uri := h.mustPush(tpp, h.parForm(tpp, intent, verifier))
		h.Clock.Advance(91 * time.Second)
		mustErrorPage(t, h.authorize(pushedQuery(tpp, uri)), "invalid_request_uri")
	})
	t.Run("request_uri of another client", func(t *testing.T) {
		uri := h.mustPush(tpp, h.parForm(tpp, intent, verifier))
		mustErrorPage(t, h.authorize(pushedQuery(other, uri)), "invalid_request_uri")
	})
	t.Run("request_uri unknown", func(t *testing.T) {
		mustErrorPage(t, h.authorize(pushedQuery(tpp, requestURIPrefix+"nothing")), "invalid_request_uri")
	})
	t.Run("request_uri of another server", func(t *testing.T) {
		mustErrorPage(t, h.authorize(pushedQuery(tpp, "https://tpp.example/request.jwt")), "invalid_request_uri")
	})

	// Refusals at the PAR endpoint itself, as JSON.
	tests := []struct {
		name   string
		edit   func(url.Values)
		status int
		code   string
	}{
		{"no PKCE", func(f url.Values) { f.Del("code_challenge"); f.Del("code_challenge_method") }, 400, "invalid_request"},
		{"PKCE plain", func(f url.Values) { f.Set("code_challenge", verifier); f.Set("code_challenge_method", "plain") }, 400, "invalid_request"},
		{"PKCE without method", func(f url.Values) { f.Del("code_challenge_method") }, 400, "invalid_request"},
		{"request_uri in the body", func(f url.Values) { f.Set("request_uri", requestURIPrefix+"x") }, 400, "invalid_request"},
		{"unregistered redirect_uri", func(f url.Values) { f.Set("redirect_uri", "https://evil.example/cb") }, 400, "invalid_request"},
		{"hybrid response type", func(f url.Values) { f.Set("response_type", "code id_token"); f.Set("nonce", "n") }, 400, "unsupported_response_type"},
		{"unknown intent", func(f url.Values) {
			f.Set("claims", `{"id_token":{"openbanking_intent_id":{"value":"aac-nope","essential":true}}}`)
		}, 400, "invalid_request"},
		{"no intent", func(f url.Values) { f.Del("claims") }, 400, "invalid_request"},
		{"client_id of another client", func(f url.Values) { f.Set("client_id", other.Client.ID) }, 401, "invalid_client"},
		{"no client authentication", func(f url.Values) { f.Del("client_assertion"); f.Del("client_assertion_type") }, 401, "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := h.parForm(tpp, intent, verifier)
			tc.edit(f)
			r := h.push(tpp, f)
			if r.Status != tc.status || r.str("error") != tc.code {
				t.Errorf("PAR: %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
}

// captureJourney is a Journey that records sessions and leaves them open,
// so tests can call Finish themselves.
type captureJourney struct {
	mu       sync.Mutex
	sessions []oauth.AuthSession
}

func (c *captureJourney) Begin(w http.ResponseWriter, r *http.Request, s oauth.AuthSession, f Finisher) error {
	c.mu.Lock()
	c.sessions = append(c.sessions, s)
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	return nil
}

func (c *captureJourney) last(tb testing.TB) oauth.AuthSession {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sessions) == 0 {
		tb.Fatal("no session began")
	}
	return c.sessions[len(c.sessions)-1]
}

// finish calls Finish as the journey would, from a POST of the consent page.
func (h *harness) finish(sessionID string, o oauth.Outcome) (httpResult, error) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, h.Public.URL+"/journey/consent", nil)
	err := h.Server.Finish(rec, req, sessionID, o)
	res := rec.Result()
	return readResult(h.t, res), err
}

func TestFinish(t *testing.T) {
	j := &captureJourney{}
	h := newHarness(t, func(c *Config) { c.Journey = j })
	tpp := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	approve := oauth.Outcome{Approved: true, CustomerID: "cust-1", ACR: oauth.ACRSCA, AuthTime: h.Clock.Now()}

	begin := func(t *testing.T) (oauth.AuthSession, claimSet) {
		t.Helper()
		ro := h.requestObject(tpp, intent, nil)
		if r := h.authorize(hybridQuery(tpp, ro)); r.Status != http.StatusOK {
			t.Fatalf("authorize: %d %s", r.Status, r.Body)
		}
		s := j.last(t)
		if got := h.Clock.Now().Add(h.Server.cfg.SessionTTL); !s.ExpiresAt.Equal(got) {
			t.Errorf("session expires %v, want %v", s.ExpiresAt, got)
		}
		return s, unverifiedClaims(t, ro)
	}

	t.Run("twice", func(t *testing.T) {
		s, _ := begin(t)
		r, err := h.finish(s.ID, approve)
		if err != nil {
			t.Fatalf("first Finish: %v", err)
		}
		if r.Status != http.StatusSeeOther || mustRedirect(t, r).Fragment.Get("code") == "" {
			t.Fatalf("first Finish: %d %v", r.Status, r.Header)
		}
		r, err = h.finish(s.ID, approve)
		if err == nil {
			t.Error("second Finish returned no error")
		}
		mustErrorPage(t, r, "invalid_request")
	})
	t.Run("session expired", func(t *testing.T) {
		s, ro := begin(t)
		h.Clock.Advance(h.Server.cfg.SessionTTL + time.Second)
		r, err := h.finish(s.ID, approve)
		if err == nil {
			t.Error("Finish of an expired session returned no error")
		}
		h.mustRedirectError(r, tpp, "fragment", "access_denied", ro["state"].(string))
	})
	t.Run("unknown session", func(t *testing.T) {
		r, err := h.finish("no-such-session", approve)
		if err == nil {
			t.Error("no error")
		}
		mustErrorPage(t, r, "invalid_request")
	})
	t.Run("approved without customer", func(t *testing.T) {
		s, ro := begin(t)
		r, _ := h.finish(s.ID, oauth.Outcome{Approved: true})
		h.mustRedirectError(r, tpp, "fragment", "server_error", ro["state"].(string))
	})
}
