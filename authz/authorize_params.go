package authz

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/obank/obank/oauth"
)

// authParams are the authorization request parameters obank reads, taken
// from a verified request object or from a PAR form, before validation.
type authParams struct {
	ClientID            string
	ResponseType        string
	ResponseMode        string
	RedirectURI         string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	ACRValues           string
	MaxAge              string
	// Claims is the OIDC claims parameter (a JSON object).
	Claims json.RawMessage
	// fromRequestObject is set for parameters of a verified request object.
	fromRequestObject bool
}

// authParamsFromForm reads the parameters of a PAR request sent without a
// request object.
func authParamsFromForm(f url.Values) authParams {
	p := authParams{
		ClientID:            f.Get("client_id"),
		ResponseType:        f.Get("response_type"),
		ResponseMode:        f.Get("response_mode"),
		RedirectURI:         f.Get("redirect_uri"),
		Scope:               f.Get("scope"),
		State:               f.Get("state"),
		Nonce:               f.Get("nonce"),
		CodeChallenge:       f.Get("code_challenge"),
		CodeChallengeMethod: f.Get("code_challenge_method"),
		ACRValues:           f.Get("acr_values"),
		MaxAge:              f.Get("max_age"),
	}
	if c := f.Get("claims"); c != "" {
		p.Claims = json.RawMessage(c)
	}
	return p
}

// authFlow is the style of authorization request being validated.
type authFlow int

const (
	// flowHybrid is FAPI 1 Advanced: a signed request object at the
	// authorize endpoint, response type "code id_token".
	flowHybrid authFlow = iota
	// flowPushed is FAPI 2 style: a pushed request (PAR), response type
	// "code", PKCE required.
	flowPushed
)

// Response types and modes obank supports.
const (
	responseTypeHybrid = "code id_token"
	responseTypeCode   = "code"
	responseModeQuery  = "query"
	responseModeFrag   = "fragment"
	pkceS256           = "S256"
)

// defaultResponseMode is where a response of type rt goes: the fragment
// for anything returning a token from the authorization endpoint (OAuth 2.0
// Multiple Response Types §5), the query otherwise.
func defaultResponseMode(rt string) string {
	if strings.Contains(rt, "token") {
		return responseModeFrag
	}
	return responseModeQuery
}

// Parameter size limits, against abuse of the session store.
const (
	maxStateLen = 512
	maxNonceLen = 512
)

// checkAuthParams validates the parameters of an authorization request of
// client c in the given flow and returns the request.
//
// The redirect URI is checked first (exact match with a registered one).
// On any later error, the returned request carries RedirectURI, State,
// ResponseType and ResponseMode, so the caller can send the error to the
// client; when the redirect URI itself is wrong, it is empty and the error
// must not be redirected anywhere.
func checkAuthParams(c oauth.Client, p authParams, flow authFlow, requirePKCE bool) (oauth.AuthRequest, error) {
	if p.RedirectURI == "" {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequest.WithDescription("redirect_uri is required")
	}
	if !c.HasRedirectURI(p.RedirectURI) {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequest.WithDescription("redirect_uri is not registered for this client")
	}
	req := oauth.AuthRequest{
		ClientID:     c.ID,
		RedirectURI:  p.RedirectURI,
		ResponseType: p.ResponseType,
		ResponseMode: defaultResponseMode(p.ResponseType),
		State:        p.State,
	}
	if len(req.State) > maxStateLen {
		// Drop it rather than echo a huge value in the error redirect.
		req.State = ""
		return req, oauth.ErrInvalidRequest.WithDescription("state is too long")
	}

	wantRT := responseTypeHybrid
	if flow == flowPushed {
		wantRT = responseTypeCode
	}
	switch {
	case p.ResponseType == "":
		return req, oauth.ErrInvalidRequest.WithDescription("response_type is required")
	case p.ResponseType != wantRT:
		return req, oauth.ErrUnsupportedResponseType.WithDescription("response_type must be %q here", wantRT)
	case len(c.ResponseTypes) > 0 && !slices.Contains(c.ResponseTypes, p.ResponseType):
		return req, oauth.ErrUnauthorizedClient.WithDescription("client did not register response_type %q", p.ResponseType)
	case len(c.GrantTypes) > 0 && !c.HasGrantType(oauth.GrantAuthorizationCode):
		return req, oauth.ErrUnauthorizedClient.WithDescription("client did not register the authorization_code grant")
	}
	if p.ResponseMode != "" && p.ResponseMode != req.ResponseMode {
		// JARM and form_post are not offered; the default mode only.
		return req, oauth.ErrInvalidRequest.WithDescription("response_mode must be %q for response_type %q", req.ResponseMode, p.ResponseType)
	}

	req.Scopes = oauth.ParseScope(p.Scope)
	if len(req.Scopes) == 0 {
		return req, oauth.ErrInvalidScope.WithDescription("scope is required")
	}
	for _, sc := range req.Scopes {
		if sc != oauth.ScopeOpenID && !c.HasScope(sc) {
			return req, oauth.ErrInvalidScope.WithDescription("scope %q is not allowed for this client", sc)
		}
	}
	if req.Hybrid() && !slices.Contains(req.Scopes, oauth.ScopeOpenID) {
		return req, oauth.ErrInvalidScope.WithDescription("scope must contain openid")
	}

	req.Nonce = p.Nonce
	if req.Hybrid() && req.Nonce == "" {
		// OIDC Core §3.3.2.11: nonce is required when an id_token comes
		// from the authorization endpoint (it is the replay protection).
		return req, oauth.ErrInvalidRequest.WithDescription("nonce is required")
	}
	if len(req.Nonce) > maxNonceLen {
		return req, oauth.ErrInvalidRequest.WithDescription("nonce is too long")
	}

	if err := checkPKCEParams(p, flow == flowPushed || requirePKCE); err != nil {
		return req, err
	}
	req.CodeChallenge, req.CodeChallengeMethod = p.CodeChallenge, p.CodeChallengeMethod

	cr, err := parseClaimsParam(p.Claims)
	if err != nil {
		return req, err
	}
	if req.IntentID, err = cr.intentID(); err != nil {
		return req, err
	}
	if req.ACRValues, err = cr.acrValues(p.ACRValues); err != nil {
		return req, err
	}
	if p.MaxAge != "" {
		n, err := strconv.Atoi(p.MaxAge)
		if err != nil || n < 0 {
			return req, oauth.ErrInvalidRequest.WithDescription("max_age must be a non-negative integer")
		}
		req.MaxAge = &n
	}
	return req, nil
}

// checkPKCEParams checks an RFC 7636 challenge: S256 only (a missing
// method means plain, RFC 7636 §4.3, and plain is refused), a 43-character
// base64url value (a SHA-256), and present when required.
func checkPKCEParams(p authParams, required bool) error {
	if p.CodeChallenge == "" {
		if p.CodeChallengeMethod != "" {
			return oauth.ErrInvalidRequest.WithDescription("code_challenge_method without code_challenge")
		}
		if required {
			return oauth.ErrInvalidRequest.WithDescription("PKCE is required: code_challenge with code_challenge_method S256")
		}
		return nil
	}
	if p.CodeChallengeMethod != pkceS256 {
		return oauth.ErrInvalidRequest.WithDescription("code_challenge_method must be S256")
	}
	if len(p.CodeChallenge) != 43 || strings.Trim(p.CodeChallenge, base64URLAlphabet) != "" {
		return oauth.ErrInvalidRequest.WithDescription("code_challenge must be a base64url SHA-256 (43 characters)")
	}
	return nil
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// claimsParam is the OIDC claims request parameter (OIDC Core §5.5) as far
// as obank reads it: openbanking_intent_id and acr, in id_token or userinfo.
type claimsParam struct {
	IDToken  map[string]*claimRequest `json:"id_token"`
	UserInfo map[string]*claimRequest `json:"userinfo"`
}

// claimRequest is one requested claim: {"essential":..., "value":...} or
// {"values":[...]}, or null.
type claimRequest struct {
	Essential bool            `json:"essential"`
	Value     json.RawMessage `json:"value"`
	Values    []string        `json:"values"`
}

func parseClaimsParam(raw json.RawMessage) (claimsParam, error) {
	var cp claimsParam
	if len(raw) == 0 || string(raw) == "null" {
		return cp, nil
	}
	// A few clients put the claims object in a request object as a JSON
	// string, the way it travels in a query; accept both.
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	if err := json.Unmarshal(raw, &cp); err != nil {
		return cp, oauth.ErrInvalidRequest.WithDescription("claims parameter is malformed")
	}
	return cp, nil
}

// intentID returns the openbanking_intent_id value requested in id_token
// or userinfo. It is required: every authorization in obank is for one
// consent, which the tokens are bound to.
func (cp claimsParam) intentID() (string, error) {
	var id string
	for _, m := range []map[string]*claimRequest{cp.IDToken, cp.UserInfo} {
		cr := m["openbanking_intent_id"]
		if cr == nil || len(cr.Value) == 0 {
			continue
		}
		var v string
		if err := json.Unmarshal(cr.Value, &v); err != nil || v == "" {
			return "", oauth.ErrInvalidRequest.WithDescription("openbanking_intent_id value must be a string")
		}
		if id != "" && id != v {
			return "", oauth.ErrInvalidRequest.WithDescription("openbanking_intent_id differs between id_token and userinfo")
		}
		id = v
	}
	if id == "" {
		return "", oauth.ErrInvalidRequest.WithDescription("claims must request openbanking_intent_id with the intent id as value")
	}
	return id, nil
}

// acrValues returns the supported ACR values requested by the acr claim
// and the acr_values parameter, in order, without duplicates. Unsupported
// values are ignored unless the acr claim is essential and none of its
// values is supported (OIDC Core §5.5.1.1).
func (cp claimsParam) acrValues(param string) ([]string, error) {
	var out []string
	add := func(v string) bool {
		if v != oauth.ACRSCA && v != oauth.ACRCA {
			return false
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
		return true
	}
	if cr := cp.IDToken["acr"]; cr != nil {
		vals := cr.Values
		if len(cr.Value) > 0 {
			var v string
			if err := json.Unmarshal(cr.Value, &v); err != nil {
				return nil, oauth.ErrInvalidRequest.WithDescription("acr value must be a string")
			}
			vals = append([]string{v}, vals...)
		}
		supported := false
		for _, v := range vals {
			supported = add(v) || supported
		}
		if cr.Essential && len(vals) > 0 && !supported {
			return nil, oauth.ErrInvalidRequest.WithDescription("none of the essential acr values is supported")
		}
	}
	for _, v := range strings.Fields(param) {
		add(v)
	}
	return out, nil
}
