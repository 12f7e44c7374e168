package authz

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/oauth"
)

const roIssuer = "https://bank.example"

// roFixture is a client with one PS256 signing key, for request object
// unit tests that need no server.
type roFixture struct {
	client oauth.Client
	key    *rsa.PrivateKey
	kid    string
	keys   jwk.Set
	now    time.Time
}

func newROFixture(t *testing.T) roFixture {
	t.Helper()
	key := testRSAKey(t)
	f := roFixture{
		client: oauth.Client{
			ID:            "client-1",
			RedirectURIs:  []string{"https://tpp.example/cb"},
			Scopes:        []string{"openid", "accounts"},
			GrantTypes:    []string{oauth.GrantAuthorizationCode},
			ResponseTypes: []string{"code id_token", "code"},
		},
		key:  key,
		kid:  "kid-1",
		keys: mustKeySet(t, key.Public(), "kid-1", "sig", "PS256"),
		now:  time.Unix(1_800_000_000, 0),
	}
	return f
}

// mustKeySet returns a set holding the public key pub.
func mustKeySet(t *testing.T, pub any, kid, use, alg string) jwk.Set {
	t.Helper()
	k, err := jwk.Import(pub)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{jwk.KeyIDKey: kid, jwk.KeyUsageKey: use, jwk.AlgorithmKey: alg} {
		if v == "" {
			continue
		}
		if err := k.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	set := jwk.NewSet()
	if err := set.AddKey(k); err != nil {
		t.Fatal(err)
	}
	return set
}

// claims returns valid request object claims for the fixture's client.
func (f roFixture) claims() claimSet {
	return claimSet{
		"iss":           f.client.ID,
		"aud":           roIssuer,
		"client_id":     f.client.ID,
		"exp":           f.now.Add(5 * time.Minute).Unix(),
		"nbf":           f.now.Add(-time.Minute).Unix(),
		"iat":           f.now.Unix(),
		"jti":           "jti-1",
		"response_type": "code id_token",
		"redirect_uri":  "https://tpp.example/cb",
		"scope":         "openid accounts",
		"state":         "st-1",
		"nonce":         "n-1",
		"claims": map[string]any{"id_token": map[string]any{
			"openbanking_intent_id": map[string]any{"value": "intent-1", "essential": true},
			"acr":                   map[string]any{"essential": true, "values": []string{oauth.ACRSCA, oauth.ACRCA}},
		}},
	}
}

// signJWT signs claims with alg and key, with the given extra headers
// (kid when non-empty).
func signJWT(t *testing.T, alg jwa.SignatureAlgorithm, key any, kid string, claims any, extra map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	if kid != "" {
		hdr.Set(jws.KeyIDKey, kid)
	}
	for k, v := range extra {
		if err := hdr.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestVerifyRequestObject(t *testing.T) {
	f := newROFixture(t)
	other := freshRSAKey(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(e func(claimSet)) claimSet {
		c := f.claims()
		e(c)
		return c
	}
	ps256 := func(c claimSet) string { return signJWT(t, jwa.PS256(), f.key, f.kid, c, nil) }

	tests := []struct {
		name string
		raw  string
		// keys overrides the client's key set; client edits the client.
		keys   jwk.Set
		client func(*oauth.Client)
		// wantErr is a substring of the error description; "" = success.
		wantErr string
		// wantParams: parameters come back with the error (signature
		// verified).
		wantParams bool
	}{
		{name: "valid", raw: ps256(f.claims())},
		{name: "aud array with issuer", raw: ps256(edit(func(c claimSet) { c["aud"] = []string{"x", roIssuer} }))},
		{name: "no iss", raw: ps256(edit(func(c claimSet) { delete(c, "iss") }))},
		{name: "exactly 60 minutes", raw: ps256(edit(func(c claimSet) {
			c["nbf"] = f.now.Add(-time.Minute).Unix()
			c["exp"] = f.now.Add(59 * time.Minute).Unix()
		}))},
		{name: "no kid, single key", raw: signJWT(t, jwa.PS256(), f.key, "", f.claims(), nil)},
		{name: "typ oauth-authz-req+jwt", raw: signJWT(t, jwa.PS256(), f.key, f.kid, f.claims(), map[string]any{"typ": "oauth-authz-req+jwt"})},

		{name: "alg none", raw: unsignedJWT(f.claims()), wantErr: "must be signed with PS256"},
		{name: "HS256 with the public modulus as secret", raw: signJWT(t, jwa.HS256(), f.key.PublicKey.N.Bytes(), f.kid, f.claims(), nil), wantErr: "must be signed with PS256"},
		{name: "RS256 with the client's key", raw: signJWT(t, jwa.RS256(), f.key, f.kid, f.claims(), nil), wantErr: "must be signed with PS256"},
		{name: "ES256 not registered", raw: signJWT(t, jwa.ES256(), ecKey, f.kid, f.claims(), nil), wantErr: "must be signed with PS256"},
		{name: "ES256 registered", raw: signJWT(t, jwa.ES256(), ecKey, "ec-1", f.claims(), nil),
			keys:   mustKeySet(t, ecKey.Public(), "ec-1", "sig", "ES256"),
			client: func(c *oauth.Client) { c.RequestObjectSigningAlg = "ES256" }},
		{name: "PS256 when the client registered ES256", raw: ps256(f.claims()),
			client: func(c *oauth.Client) { c.RequestObjectSigningAlg = "ES256" }, wantErr: "must be signed with ES256"},
		{name: "another client's key and kid", raw: signJWT(t, jwa.PS256(), other, "other-kid", f.claims(), nil), wantErr: "no key of the client"},
		{name: "another key under the client's kid", raw: signJWT(t, jwa.PS256(), other, f.kid, f.claims(), nil), wantErr: "signature is invalid"},
		{name: "encryption key", raw: ps256(f.claims()), keys: mustKeySet(t, f.key.Public(), f.kid, "enc", ""), wantErr: "no key of the client"},
		{name: "crit header", raw: signJWT(t, jwa.PS256(), f.key, f.kid, f.claims(), map[string]any{"crit": []string{"x"}, "x": 1}), wantErr: "crit"},
		{name: "typ JOSE", raw: signJWT(t, jwa.PS256(), f.key, f.kid, f.claims(), map[string]any{"typ": "JOSE"}), wantErr: "typ"},
		{name: "encrypted", raw: "a.b.c.d.e", wantErr: "encrypted"},
		{name: "garbage", raw: "not-a-jwt", wantErr: "not a compact JWS"},

		{name: "wrong iss", raw: ps256(edit(func(c claimSet) { c["iss"] = "other" })), wantErr: "iss", wantParams: true},
		{name: "no client_id", raw: ps256(edit(func(c claimSet) { delete(c, "client_id") })), wantErr: "client_id", wantParams: true},
		{name: "wrong client_id", raw: ps256(edit(func(c claimSet) { c["client_id"] = "other" })), wantErr: "client_id", wantParams: true},
		{name: "wrong aud", raw: ps256(edit(func(c claimSet) { c["aud"] = "https://other.example" })), wantErr: "aud", wantParams: true},
		{name: "no aud", raw: ps256(edit(func(c claimSet) { delete(c, "aud") })), wantErr: "aud", wantParams: true},
		{name: "no exp", raw: ps256(edit(func(c claimSet) { delete(c, "exp") })), wantErr: "no exp", wantParams: true},
		{name: "expired", raw: ps256(edit(func(c claimSet) {
			c["exp"] = f.now.Add(-time.Minute).Unix()
			c["nbf"] = f.now.Add(-10 * time.Minute).Unix()
		})), wantErr: "expired", wantParams: true},
		{name: "no nbf", raw: ps256(edit(func(c claimSet) { delete(c, "nbf") })), wantErr: "no nbf", wantParams: true},
		{name: "nbf in the future", raw: ps256(edit(func(c claimSet) { c["nbf"] = f.now.Add(time.Minute).Unix() })), wantErr: "nbf", wantParams: true},
		{name: "exp - nbf over 60 minutes", raw: ps256(edit(func(c claimSet) {
			c["nbf"] = f.now.Add(-time.Minute).Unix()
			c["exp"] = f.now.Add(60*time.Minute + time.Second).Unix()
		})), wantErr: "60 minutes", wantParams: true},
		{name: "nested request_uri", raw: ps256(edit(func(c claimSet) { c["request_uri"] = "urn:x" })), wantErr: "request_uri", wantParams: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client
			if tc.client != nil {
				tc.client(&c)
			}
			keys := f.keys
			if tc.keys != nil {
				keys = tc.keys
			}
			p, err := verifyRequestObject(tc.raw, c, keys, roIssuer, f.now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("verifyRequestObject: %v", err)
				}
				if p.RedirectURI != "https://tpp.example/cb" || p.State != "st-1" || !p.fromRequestObject {
					t.Errorf("params = %+v", p)
				}
				return
			}
			if !errors.Is(err, oauth.ErrInvalidRequestObject) {
				t.Fatalf("err = %v, want invalid_request_object", err)
			}
			if d := oauth.AsError(err).Description; !strings.Contains(d, tc.wantErr) {
				t.Errorf("description %q does not contain %q", d, tc.wantErr)
			}
			if got := p.fromRequestObject; got != tc.wantParams {
				t.Errorf("params returned = %v, want %v (%+v)", got, tc.wantParams, p)
			}
		})
	}
}

// TestVerifyRequestObjectOnlyObjectParams checks that the parameters come
// from the object's claims, nothing else.
func TestVerifyRequestObjectParams(t *testing.T) {
	f := newROFixture(t)
	c := f.claims()
	c["max_age"] = 300
	c["code_challenge"] = strings.Repeat("a", 43)
	c["code_challenge_method"] = "S256"
	c["acr_values"] = oauth.ACRCA
	p, err := verifyRequestObject(signJWT(t, jwa.PS256(), f.key, f.kid, c, nil), f.client, f.keys, roIssuer, f.now)
	if err != nil {
		t.Fatal(err)
	}
	req, err := checkAuthParams(f.client, p, flowHybrid, false)
	if err != nil {
		t.Fatal(err)
	}
	if req.IntentID != "intent-1" || req.Nonce != "n-1" || req.State != "st-1" || req.ResponseMode != "fragment" ||
		req.MaxAge == nil || *req.MaxAge != 300 || req.CodeChallenge != strings.Repeat("a", 43) ||
		strings.Join(req.ACRValues, " ") != oauth.ACRSCA+" "+oauth.ACRCA || strings.Join(req.Scopes, " ") != "openid accounts" {
		t.Errorf("request = %+v", req)
	}
}

func TestCheckAuthParams(t *testing.T) {
	client := oauth.Client{
		ID:            "client-1",
		RedirectURIs:  []string{"https://tpp.example/cb"},
		Scopes:        []string{"openid", "accounts"},
		GrantTypes:    []string{oauth.GrantAuthorizationCode},
		ResponseTypes: []string{"code id_token", "code"},
	}
	challenge := s256(strings.Repeat("v", 50))
	intent := func(where string, v any) json.RawMessage {
		b, _ := json.Marshal(map[string]any{where: map[string]any{"openbanking_intent_id": map[string]any{"value": v, "essential": true}}})
		return b
	}
	hybrid := authParams{
		ClientID: "client-1", ResponseType: "code id_token", RedirectURI: "https://tpp.example/cb",
		Scope: "openid accounts", State: "st", Nonce: "n", Claims: intent("id_token", "intent-1"),
	}
	pushed := authParams{
		ClientID: "client-1", ResponseType: "code", RedirectURI: "https://tpp.example/cb",
		Scope: "openid accounts", State: "st", CodeChallenge: challenge, CodeChallengeMethod: "S256",
		Claims: intent("userinfo", "intent-1"),
	}
	tests := []struct {
		name        string
		base        authParams
		flow        authFlow
		requirePKCE bool
		edit        func(*authParams)
		client      func(*oauth.Client)
		want        *oauth.Error // nil: success
		// redirectable: the error may go to the redirect URI.
		redirectable bool
	}{
		{name: "hybrid", base: hybrid, flow: flowHybrid},
		{name: "pushed", base: pushed, flow: flowPushed},
		{name: "hybrid with PKCE", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.CodeChallenge, p.CodeChallengeMethod = challenge, "S256" }},
		{name: "hybrid with explicit fragment mode", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.ResponseMode = "fragment" }},

		{name: "no redirect_uri", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.RedirectURI = "" }, want: oauth.ErrInvalidRequest},
		{name: "unregistered redirect_uri", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.RedirectURI = "https://evil.example/cb" }, want: oauth.ErrInvalidRequest},
		{name: "redirect_uri not exact", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.RedirectURI += "/" }, want: oauth.ErrInvalidRequest},
		{name: "redirect_uri extra query", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.RedirectURI += "?a=b" }, want: oauth.ErrInvalidRequest},

		{name: "code without PAR", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.ResponseType = "code" }, want: oauth.ErrUnsupportedResponseType, redirectable: true},
		{name: "hybrid via PAR", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.ResponseType = "code id_token"; p.Nonce = "n" }, want: oauth.ErrUnsupportedResponseType, redirectable: true},
		{name: "token response type", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.ResponseType = "code id_token token" }, want: oauth.ErrUnsupportedResponseType, redirectable: true},
		{name: "no response type", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.ResponseType = "" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "response type not registered", base: pushed, flow: flowPushed, client: func(c *oauth.Client) { c.ResponseTypes = []string{"code id_token"} }, want: oauth.ErrUnauthorizedClient, redirectable: true},
		{name: "query mode for hybrid", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.ResponseMode = "query" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "jwt mode", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.ResponseMode = "jwt" }, want: oauth.ErrInvalidRequest, redirectable: true},

		{name: "no openid in hybrid", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.Scope = "accounts" }, want: oauth.ErrInvalidScope, redirectable: true},
		{name: "unregistered scope", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.Scope = "openid payments" }, want: oauth.ErrInvalidScope, redirectable: true},
		{name: "no scope", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.Scope = "" }, want: oauth.ErrInvalidScope, redirectable: true},
		{name: "no nonce in hybrid", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.Nonce = "" }, want: oauth.ErrInvalidRequest, redirectable: true},

		{name: "PKCE plain", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.CodeChallengeMethod = "plain" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "PKCE plain in hybrid", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.CodeChallenge, p.CodeChallengeMethod = challenge, "plain" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "PKCE without method (plain)", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.CodeChallenge = challenge }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "PKCE missing in PAR", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.CodeChallenge, p.CodeChallengeMethod = "", "" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "PKCE required by config", base: hybrid, flow: flowHybrid, requirePKCE: true, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "PKCE challenge too short", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.CodeChallenge = "abc" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "PKCE challenge not base64url", base: pushed, flow: flowPushed, edit: func(p *authParams) { p.CodeChallenge = strings.Repeat("+", 43) }, want: oauth.ErrInvalidRequest, redirectable: true},

		{name: "no intent", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.Claims = nil }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "intent not a string", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.Claims = intent("id_token", 42) }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "intents differ", base: hybrid, flow: flowHybrid, edit: func(p *authParams) {
			p.Claims = json.RawMessage(`{"id_token":{"openbanking_intent_id":{"value":"a"}},"userinfo":{"openbanking_intent_id":{"value":"b"}}}`)
		}, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "claims malformed", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.Claims = json.RawMessage(`[1]`) }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "essential acr unsupported", base: hybrid, flow: flowHybrid, edit: func(p *authParams) {
			p.Claims = json.RawMessage(`{"id_token":{"openbanking_intent_id":{"value":"a"},"acr":{"essential":true,"value":"urn:x"}}}`)
		}, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "max_age negative", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.MaxAge = "-1" }, want: oauth.ErrInvalidRequest, redirectable: true},
		{name: "state too long", base: hybrid, flow: flowHybrid, edit: func(p *authParams) { p.State = strings.Repeat("s", 513) }, want: oauth.ErrInvalidRequest, redirectable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.base
			p.Claims = append(json.RawMessage(nil), p.Claims...)
			if tc.edit != nil {
				tc.edit(&p)
			}
			c := client
			if tc.client != nil {
				tc.client(&c)
			}
			req, err := checkAuthParams(c, p, tc.flow, tc.requirePKCE)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("checkAuthParams: %v", err)
				}
				if req.IntentID != "intent-1" || req.RedirectURI != p.RedirectURI {
					t.Errorf("request = %+v", req)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %s", err, tc.want.Code)
			}
			if got := req.RedirectURI != ""; got != tc.redirectable {
				t.Errorf("redirectable = %v, want %v", got, tc.redirectable)
			}
		})
	}
}

func TestACRValues(t *testing.T) {
	tests := []struct {
		claims string
		param  string
		want   string
	}{
		{`{"id_token":{"acr":{"essential":true,"values":["urn:openbanking:psd2:sca","urn:openbanking:psd2:ca"]}}}`, "", "urn:openbanking:psd2:sca urn:openbanking:psd2:ca"},
		{`{"id_token":{"acr":{"value":"urn:openbanking:psd2:ca"}}}`, "urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca urn:openbanking:psd2:sca"},
		{`{"id_token":{"acr":{"values":["urn:x"]}}}`, "", ""},
		{`{"id_token":{"acr":null}}`, "urn:x urn:openbanking:psd2:sca", "urn:openbanking:psd2:sca"},
		{``, "", ""},
	}
	for _, tc := range tests {
		cp, err := parseClaimsParam(json.RawMessage(tc.claims))
		if err != nil {
			t.Fatalf("parseClaimsParam(%s): %v", tc.claims, err)
		}
		got, err := cp.acrValues(tc.param)
		if err != nil {
			t.Fatalf("acrValues(%s, %q): %v", tc.claims, tc.param, err)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("acrValues(%s, %q) = %q, want %q", tc.claims, tc.param, got, tc.want)
		}
	}
}

// TestClaimsAsString accepts the claims parameter as a JSON string inside a
// request object.
func TestClaimsAsString(t *testing.T) {
	inner := `{"userinfo":{"openbanking_intent_id":{"value":"i-9","essential":true}}}`
	b, _ := json.Marshal(inner)
	cp, err := parseClaimsParam(b)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := cp.intentID(); err != nil || id != "i-9" {
		t.Errorf("intentID = %q, %v", id, err)
	}
}
