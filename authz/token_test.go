package authz

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/oauth"
)

func TestAuthorizationCodeExchange(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	c := h.newCode(tpp, intent, nil)
	r := h.exchange(tpp, c)
	if r.Status != 200 {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	access, refresh, idToken := r.str("access_token"), r.str("refresh_token"), r.str("id_token")
	if access == "" || refresh == "" || idToken == "" {
		t.Fatalf("exchange returned %s, want access, refresh and id tokens", r.Body)
	}
	if r.str("scope") != "openid accounts" || r.str("token_type") != "Bearer" {
		t.Errorf("scope/token_type = %q/%q", r.str("scope"), r.str("token_type"))
	}

	// The id_token is PS256 by the server's key with the OBIE claims.
	payload, err := h.Keys.VerifyJWT(ctx, idToken)
	if err != nil {
		t.Fatalf("id_token does not verify: %v", err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	sum := sha256.Sum256([]byte(access))
	want := map[string]any{
		"iss": h.Server.cfg.Issuer, "sub": "cust-1", "aud": tpp.Client.ID, "acr": oauth.ACRSCA,
		"openbanking_intent_id": intent, "nonce": c.Code.Request.Nonce,
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("id_token %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"exp", "iat", "auth_time"} {
		if _, ok := claims[k].(float64); !ok {
			t.Errorf("id_token has no numeric %s: %s", k, payload)
		}
	}

	// The access token is bound to the consent, the customer and the
	// certificate.
	in := h.introspect(tpp, access)
	wantIn := map[string]any{
		"active": true, "scope": "openid accounts", "client_id": tpp.Client.ID, "token_type": "Bearer",
		"sub": "cust-1", "openbanking_intent_id": intent, "iss": h.Server.cfg.Issuer,
		"cnf": map[string]any{"x5t#S256": tpp.Thumbprint()},
	}
	got := in.JSON
	delete(got, "exp")
	delete(got, "iat")
	if d := cmp.Diff(wantIn, got); d != "" {
		t.Errorf("introspection (-want +got):\n%s", d)
	}
	tok, err := h.Store.AccessToken(ctx, hashOf(access))
	if err != nil || tok.GrantID != intent || tok.FamilyID != c.Code.FamilyID || tok.CertThumbprint != tpp.Thumbprint() {
		t.Errorf("stored token = %+v, %v", tok, err)
	}
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	const hexdigits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, v := range sum {
		b[2*i], b[2*i+1] = hexdigits[v>>4], hexdigits[v&15]
	}
	return string(b)
}

func TestAuthorizationCodeRefused(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	other := h.newTPP(tppOptions{})
	intent := h.grantFor(tpp)
	hybrid := func(c *oauth.Code) {
		c.Request.ResponseType = "code id_token"
		c.Request.CodeChallenge, c.Request.CodeChallengeMethod = "", ""
	}
	for _, tc := range []struct {
		name string
		edit func(*oauth.Code)
		form func(c testCode) url.Values // nil: the correct exchange
		as   *testTPP
	}{
		{name: "PKCE verifier missing", form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Del("code_verifier")
			return f
		}},
		{name: "PKCE wrong verifier", form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Set("code_verifier", c.Verifier[:len(c.Verifier)-1]+"x")
			return f
		}},
		{name: "PKCE plain (verifier = challenge)", edit: func(c *oauth.Code) {
			c.Request.CodeChallengeMethod = "plain"
		}, form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Set("code_verifier", c.Code.Request.CodeChallenge)
			return f
		}},
		{name: "PKCE plain method with the right verifier", edit: func(c *oauth.Code) {
			c.Request.CodeChallengeMethod = "plain"
		}},
		{name: "PKCE missing for response_type code", edit: func(c *oauth.Code) {
			c.Request.CodeChallenge, c.Request.CodeChallengeMethod = "", ""
		}, form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Del("code_verifier")
			return f
		}},
		{name: "verifier without a challenge (downgrade)", edit: hybrid},
		{name: "redirect_uri differs", form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Set("redirect_uri", "https://tpp.example/other")
			return f
		}},
		{name: "redirect_uri missing", form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Del("redirect_uri")
			return f
		}},
		{name: "expired", edit: func(c *oauth.Code) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) }},
		{name: "issued to another client", as: other},
		{name: "issued to another client, for that client's consent", as: other,
			edit: func(c *oauth.Code) { c.Request.IntentID = h.grantFor(other) }},
		{name: "unknown code", form: func(c testCode) url.Values {
			f := exchangeForm(c)
			f.Set("code", "nope")
			return f
		}},
		{name: "consent of another client", edit: func(c *oauth.Code) { c.Request.IntentID = h.grantFor(other) }},
		{name: "unknown consent", edit: func(c *oauth.Code) { c.Request.IntentID = "aac-missing" }},
		{name: "no consent", edit: func(c *oauth.Code) { c.Request.IntentID = "" }},
		{name: "consent of another customer", edit: func(c *oauth.Code) { c.CustomerID = "cust-2" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.newCode(tpp, intent, tc.edit)
			as := tpp
			if tc.as != nil {
				as = tc.as
			}
			f := exchangeForm(c)
			if tc.form != nil {
				f = tc.form(c)
			}
			r := h.token(as, f)
			if r.Status != 400 || r.str("error") != "invalid_grant" {
				t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
			}
		})
	}

	t.Run("hybrid without PKCE is allowed", func(t *testing.T) {
		c := h.newCode(tpp, intent, hybrid)
		f := exchangeForm(c)
		f.Del("code_verifier")
		if r := h.token(tpp, f); r.Status != 200 {
			t.Errorf("got %d %s, want 200", r.Status, r.Body)
		}
	})
	t.Run("hybrid without PKCE under --require-pkce", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.RequirePKCE = true })
		tpp := h.newTPP(tppOptions{})
		c := h.newCode(tpp, h.grantFor(tpp), hybrid)
		f := exchangeForm(c)
		f.Del("code_verifier")
		if r := h.token(tpp, f); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
	})
	t.Run("revoked consent", func(t *testing.T) {
		intent := h.grantFor(tpp)
		c := h.newCode(tpp, intent, nil)
		if err := h.Store.RevokeGrant(t.Context(), intent, h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if r := h.exchange(tpp, c); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
	})
}

func exchangeForm(c testCode) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {c.Value},
		"redirect_uri":  {c.Code.Request.RedirectURI},
		"code_verifier": {c.Verifier},
	}
}

func TestAuthorizationCodeReplayRevokesTokens(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	c := h.newCode(tpp, h.grantFor(tpp), nil)
	first := h.exchange(tpp, c)
	if first.Status != 200 {
		t.Fatalf("first exchange: %d %s", first.Status, first.Body)
	}
	if !h.active(tpp, first.str("access_token")) {
		t.Fatal("access token inactive after the first exchange")
	}
	second := h.exchange(tpp, c)
	if second.Status != 400 || second.str("error") != "invalid_grant" {
		t.Errorf("second exchange: %d %s, want 400 invalid_grant", second.Status, second.Body)
	}
	if h.active(tpp, first.str("access_token")) {
		t.Error("access token of the first exchange still active after the replay")
	}
	if h.active(tpp, first.str("refresh_token")) {
		t.Error("refresh token of the first exchange still active after the replay")
	}
	r := h.token(tpp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}})
	if r.Status != 400 {
		t.Errorf("refresh after the replay: %d %s, want 400", r.Status, r.Body)
	}
}

// refresh presents a refresh token as tpp.
func (h *harness) refresh(tpp *testTPP, token string) httpResult {
	h.t.Helper()
	return h.token(tpp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

// codeTokens runs a code exchange for a new consent and returns the
// response.
func (h *harness) codeTokens(tpp *testTPP) httpResult {
	h.t.Helper()
	r := h.exchange(tpp, h.newCode(tpp, h.grantFor(tpp), nil))
	if r.Status != 200 {
		h.t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	return r
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	first := h.codeTokens(tpp)
	second := h.refresh(tpp, first.str("refresh_token"))
	if second.Status != 200 {
		t.Fatalf("refresh: %d %s", second.Status, second.Body)
	}
	if second.str("refresh_token") == first.str("refresh_token") || second.str("access_token") == first.str("access_token") {
		t.Error("refresh did not rotate the tokens")
	}
	if second.str("scope") != "openid accounts" || second.str("refresh_token") == "" {
		t.Errorf("refresh response %s", second.Body)
	}
	if h.active(tpp, first.str("refresh_token")) {
		t.Error("rotated refresh token still introspects active")
	}
	if !h.active(tpp, second.str("access_token")) || !h.active(tpp, second.str("refresh_token")) {
		t.Error("new pair inactive")
	}
	// The chain goes on.
	third := h.refresh(tpp, second.str("refresh_token"))
	if third.Status != 200 {
		t.Fatalf("second refresh: %d %s", third.Status, third.Body)
	}

	t.Run("narrower scope", func(t *testing.T) {
		r := h.codeTokens(tpp)
		n := h.token(tpp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}, "scope": {"accounts"}})
		if n.Status != 200 || n.str("scope") != "accounts" {
			t.Errorf("got %d %s, want scope accounts", n.Status, n.Body)
		}
		w := h.token(tpp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {n.str("refresh_token")}, "scope": {"accounts payments"}})
		if w.Status != 400 || w.str("error") != "invalid_scope" {
			t.Errorf("wider scope: got %d %s, want invalid_scope", w.Status, w.Body)
		}
	})
}

// TestRefreshRetryAcrossSecretRotation: an instance whose secret was
// rotated recognises the retry of a refresh that the old secret rotated,
// as long as it keeps the old one among PreviousSecrets; without it, the
// retry is a replay.
func TestRefreshRetryAcrossSecretRotation(t *testing.T) {
	rotated := func(keepOld bool) func(*Config) {
		return func(c *Config) {
			old := c.Secret
			c.Secret = []byte("the next refresh derivation secret, 32+ bytes")
			c.PreviousSecrets = nil
			if keepOld {
				c.PreviousSecrets = [][]byte{old}
			}
		}
	}
	t.Run("with the old secret kept", func(t *testing.T) {
		h := newHarness(t)
		tpp := h.newTPP(tppOptions{})
		first := h.codeTokens(tpp)
		a := h.refresh(tpp, first.str("refresh_token"))
		h2 := h.newInstance(rotated(true))
		h.Clock.Advance(30 * time.Second)
		b := h2.refresh(tpp, first.str("refresh_token"))
		if a.Status != 200 || b.Status != 200 || a.str("refresh_token") != b.str("refresh_token") ||
			a.str("access_token") != b.str("access_token") {
			t.Fatalf("refresh, then its retry after the rotation: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
		}
		// The new instance rotates the retried pair under the new secret.
		c := h2.refresh(tpp, b.str("refresh_token"))
		if c.Status != 200 || !h2.active(tpp, c.str("access_token")) {
			t.Fatalf("refresh on the new secret: %d %s", c.Status, c.Body)
		}
	})
	t.Run("without it", func(t *testing.T) {
		h := newHarness(t)
		tpp := h.newTPP(tppOptions{})
		first := h.codeTokens(tpp)
		a := h.refresh(tpp, first.str("refresh_token"))
		h2 := h.newInstance(rotated(false))
		b := h2.refresh(tpp, first.str("refresh_token"))
		if a.Status != 200 || b.Status != 400 || b.str("error") != "invalid_grant" {
			t.Fatalf("refresh, then its retry on a secret that forgot the old one: %d / %d %s", a.Status, b.Status, b.Body)
		}
		if h.active(tpp, a.str("access_token")) {
			t.Error("the family survived a retry taken for a replay")
		}
	})
}

func TestRefreshRetryWithinGrace(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	first := h.codeTokens(tpp)
	a := h.refresh(tpp, first.str("refresh_token"))
	h.Clock.Advance(30 * time.Second) // within the 60 s grace
	b := h.refresh(tpp, first.str("refresh_token"))
	if a.Status != 200 || b.Status != 200 {
		t.Fatalf("refresh then retry: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
	}
	if a.str("access_token") != b.str("access_token") || a.str("refresh_token") != b.str("refresh_token") {
		t.Error("retry within the grace window got a different pair")
	}
	if !h.active(tpp, b.str("access_token")) || !h.active(tpp, b.str("refresh_token")) {
		t.Error("the pair is inactive after the retry")
	}
	// The retried pair works as usual.
	if r := h.refresh(tpp, b.str("refresh_token")); r.Status != 200 {
		t.Errorf("refresh with the retried pair: %d %s", r.Status, r.Body)
	}
}

func TestRefreshReplayRevokesFamily(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness, tpp *testTPP, first, second httpResult)
	}{
		{"after the grace window", func(h *harness, _ *testTPP, _, _ httpResult) {
			h.Clock.Advance(61 * time.Second)
		}},
		{"after the successor was used", func(h *harness, tpp *testTPP, _, second httpResult) {
			if r := h.refresh(tpp, second.str("refresh_token")); r.Status != 200 {
				h.t.Fatalf("refresh of the successor: %d %s", r.Status, r.Body)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tpp := h.newTPP(tppOptions{})
			first := h.codeTokens(tpp)
			second := h.refresh(tpp, first.str("refresh_token"))
			if second.Status != 200 {
				t.Fatalf("refresh: %d %s", second.Status, second.Body)
			}
			tc.setup(h, tpp, first, second)
			r := h.refresh(tpp, first.str("refresh_token"))
			if r.Status != 400 || r.str("error") != "invalid_grant" {
				t.Errorf("replay: %d %s, want 400 invalid_grant", r.Status, r.Body)
			}
			for _, tok := range []string{second.str("access_token"), second.str("refresh_token"), first.str("access_token")} {
				if h.active(tpp, tok) {
					t.Error("a token of the family is still active after the replay")
				}
			}
		})
	}
}

func TestRefreshRefused(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	t.Run("other certificate", func(t *testing.T) {
		first := h.codeTokens(tpp)
		// The same client (same signing key, same client id) over a
		// different transport certificate.
		otherCert := h.newTPP(tppOptions{})
		moved := *tpp
		moved.HTTP = otherCert.HTTP
		if r := h.refresh(&moved, first.str("refresh_token")); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
		// Refusing is not a replay: the rightful client still refreshes.
		if r := h.refresh(tpp, first.str("refresh_token")); r.Status != 200 {
			t.Errorf("rightful refresh afterwards: %d %s", r.Status, r.Body)
		}
	})
	t.Run("retry within grace over another certificate", func(t *testing.T) {
		first := h.codeTokens(tpp)
		if r := h.refresh(tpp, first.str("refresh_token")); r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		moved := *tpp
		moved.HTTP = h.newTPP(tppOptions{}).HTTP
		if r := h.refresh(&moved, first.str("refresh_token")); r.Status != 400 {
			t.Errorf("got %d %s, want 400", r.Status, r.Body)
		}
	})
	t.Run("another client", func(t *testing.T) {
		first := h.codeTokens(tpp)
		thief := h.newTPP(tppOptions{})
		if r := h.refresh(thief, first.str("refresh_token")); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
		if h.active(tpp, first.str("access_token")) {
			t.Error("a leaked refresh token did not revoke its family")
		}
	})
	t.Run("expired", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.RefreshTokenTTL = time.Hour })
		tpp := h.newTPP(tppOptions{})
		first := h.codeTokens(tpp)
		h.Clock.Advance(time.Hour)
		if r := h.refresh(tpp, first.str("refresh_token")); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
	})
	t.Run("consent revoked", func(t *testing.T) {
		first := h.codeTokens(tpp)
		in := h.introspect(tpp, first.str("access_token"))
		if err := h.Store.RevokeGrant(t.Context(), in.str("openbanking_intent_id"), h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if r := h.refresh(tpp, first.str("refresh_token")); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if r := h.refresh(tpp, "nope"); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Errorf("got %d %s, want 400 invalid_grant", r.Status, r.Body)
		}
	})
	t.Run("access token as refresh token", func(t *testing.T) {
		first := h.codeTokens(tpp)
		if r := h.refresh(tpp, first.str("access_token")); r.Status != 400 {
			t.Errorf("got %d %s, want 400", r.Status, r.Body)
		}
	})
}

func TestRevokeAndIntrospect(t *testing.T) {
	h := newHarness(t)
	tpp := h.newTPP(tppOptions{})
	other := h.newTPP(tppOptions{Method: oauth.AuthTLSClientAuth})
	revoke := func(as *testTPP, token, hint string) httpResult {
		f := h.clientAuth(as)
		f.Set("token", token)
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		return h.postForm(as.HTTP, PathRevoke, f)
	}

	t.Run("another client's token is inactive and not revoked", func(t *testing.T) {
		r := h.codeTokens(tpp)
		if h.active(other, r.str("access_token")) || h.active(other, r.str("refresh_token")) {
			t.Error("another client's token introspects active")
		}
		if got := revoke(other, r.str("access_token"), ""); got.Status != 200 {
			t.Errorf("revoke of another client's token: %d %s, want 200", got.Status, got.Body)
		}
		if got := revoke(other, r.str("refresh_token"), "refresh_token"); got.Status != 200 {
			t.Errorf("revoke of another client's token: %d %s, want 200", got.Status, got.Body)
		}
		if !h.active(tpp, r.str("access_token")) || !h.active(tpp, r.str("refresh_token")) {
			t.Error("another client revoked this client's tokens")
		}
	})
	t.Run("access token", func(t *testing.T) {
		r := h.codeTokens(tpp)
		if got := revoke(tpp, r.str("access_token"), "access_token"); got.Status != 200 {
			t.Fatalf("revoke: %d %s", got.Status, got.Body)
		}
		if h.active(tpp, r.str("access_token")) {
			t.Error("revoked access token active")
		}
		if !h.active(tpp, r.str("refresh_token")) {
			t.Error("revoking the access token revoked the refresh token")
		}
	})
	t.Run("refresh token revokes the family", func(t *testing.T) {
		r := h.codeTokens(tpp)
		// A wrong hint only changes the lookup order.
		if got := revoke(tpp, r.str("refresh_token"), "access_token"); got.Status != 200 {
			t.Fatalf("revoke: %d %s", got.Status, got.Body)
		}
		if h.active(tpp, r.str("access_token")) || h.active(tpp, r.str("refresh_token")) {
			t.Error("family still active after revoking its refresh token")
		}
		if got := h.refresh(tpp, r.str("refresh_token")); got.Status != 400 {
			t.Errorf("refresh with a revoked token: %d", got.Status)
		}
	})
	t.Run("client-credentials token", func(t *testing.T) {
		cc := h.clientCredentials(other, "accounts").str("access_token")
		if !h.active(other, cc) {
			t.Fatal("cc token inactive")
		}
		revoke(other, cc, "")
		if h.active(other, cc) {
			t.Error("revoked cc token active")
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		if got := revoke(tpp, "nope", ""); got.Status != 200 {
			t.Errorf("revoke unknown: %d %s, want 200", got.Status, got.Body)
		}
		if in := h.introspect(tpp, "nope"); string(in.Body) != `{"active":false}` {
			t.Errorf("introspect unknown = %s", in.Body)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		cc := h.clientCredentials(tpp, "accounts").str("access_token")
		h.Clock.Advance(time.Hour)
		if h.active(tpp, cc) {
			t.Error("expired token active")
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		f := url.Values{"token": {"x"}, "client_id": {tpp.Client.ID}}
		for _, p := range []string{PathRevoke, PathIntrospect} {
			if got := h.postForm(tpp.HTTP, p, f); got.Status != 401 {
				t.Errorf("%s without an assertion: %d, want 401", p, got.Status)
			}
			if got := h.postForm(h.noCertClient(), p, h.clientAuth(tpp)); got.Status != 401 {
				t.Errorf("%s without a certificate: %d, want 401", p, got.Status)
			}
		}
	})
	t.Run("assertion with the endpoint as aud", func(t *testing.T) {
		f := url.Values{"client_id": {tpp.Client.ID}, "client_assertion_type": {clientAssertionType}, "token": {"x"},
			"client_assertion": {h.assertion(tpp, func(c claimSet) { c["aud"] = h.Server.mtlsEndpoint(PathIntrospect) })}}
		if got := h.postForm(tpp.HTTP, PathIntrospect, f); got.Status != 200 {
			t.Errorf("got %d %s, want 200", got.Status, got.Body)
		}
	})
}
