package client

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/sandbox"
)

// Authorization is a FAPI 1 Advanced hybrid authorization request.
type Authorization struct {
	// Issuer is the bank's issuer: the request object's aud and the base
	// of the authorize endpoint.
	Issuer   string
	ClientID string
	// RedirectURI defaults to the TPP's first redirect URI.
	RedirectURI string
	// IntentID is the ConsentId to authorise (openbanking_intent_id).
	IntentID string
	// Scope defaults to "openid accounts".
	Scope string
	Now   func() time.Time
}

// AuthorizeRequest is what a TPP keeps while the customer is at the bank.
type AuthorizeRequest struct {
	// URL is where to send the customer's browser.
	URL string
	// CodeVerifier (PKCE) is sent with the code at the token endpoint.
	CodeVerifier string
	State, Nonce string
	RedirectURI  string
}

// HybridAuthorizeURL builds a FAPI 1 Advanced authorization request: response
// type "code id_token", a PS256 request object signed with the TPP's key
// carrying every parameter (openbanking_intent_id as an essential claim, the
// SCA acr, nonce, state) and a PKCE S256 challenge.
func HybridAuthorizeURL(tpp *sandbox.TPPBundle, a Authorization) (AuthorizeRequest, error) {
	if a.Issuer == "" || a.ClientID == "" || a.IntentID == "" {
		return AuthorizeRequest{}, errors.New("client: issuer, client id and intent id are required")
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if a.RedirectURI == "" {
		if len(tpp.RedirectURIs) == 0 {
			return AuthorizeRequest{}, errors.New("client: the TPP has no redirect URI")
		}
		a.RedirectURI = tpp.RedirectURIs[0]
	}
	if a.Scope == "" {
		a.Scope = "openid accounts"
	}
	verifier := rand.Text() + rand.Text() // 52 characters of base32: a valid RFC 7636 verifier
	sum := sha256.Sum256([]byte(verifier))
	r := AuthorizeRequest{
		CodeVerifier: verifier, State: rand.Text(), Nonce: rand.Text(), RedirectURI: a.RedirectURI,
	}
	t := now()
	obj, err := signJWT(tpp, map[string]any{
		"iss":                   a.ClientID,
		"aud":                   strings.TrimSuffix(a.Issuer, "/"),
		"client_id":             a.ClientID,
		"jti":                   rand.Text(),
		"iat":                   t.Unix(),
		"nbf":                   t.Unix(),
		"exp":                   t.Add(30 * time.Minute).Unix(),
		"response_type":         "code id_token",
		"redirect_uri":          a.RedirectURI,
		"scope":                 a.Scope,
		"state":                 r.State,
		"nonce":                 r.Nonce,
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
		"code_challenge_method": "S256",
		"claims": map[string]any{"id_token": map[string]any{
			"openbanking_intent_id": map[string]any{"value": a.IntentID, "essential": true},
			"acr":                   map[string]any{"essential": true, "values": []string{oauth.ACRSCA}},
		}},
	}, "oauth-authz-req+jwt")
	if err != nil {
		return AuthorizeRequest{}, err
	}
	q := url.Values{
		"client_id":     {a.ClientID},
		"response_type": {"code id_token"},
		"scope":         {a.Scope},
		"request":       {obj},
	}
	r.URL = strings.TrimSuffix(a.Issuer, "/") + "/authorize?" + q.Encode()
	return r, nil
}
