// Package client is the TPP side of obank: what a third party's software
// does to talk to the bank — sign a dynamic-client-registration request,
// authenticate with a client assertion, build signed request objects. The
// e2e tests, `obank tpp` and (later) `obank conformance` and `obank
// loadtest` use it, so TPP developers can read working code.
package client

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/sandbox"
)

// Registration describes the client a TPP asks the bank to register.
type Registration struct {
	// Audience is the bank: its issuer URL (or its directory org id).
	Audience string
	// AuthMethod is tls_client_auth (default) or private_key_jwt.
	AuthMethod string
	// RedirectURIs default to every redirect URI of the software statement.
	RedirectURIs []string
	// Scope defaults to openid plus the scopes the TPP's roles allow.
	Scope string
	// ResponseTypes default to ["code id_token", "code"].
	ResponseTypes []string
	// EncryptIDToken asks for RSA-OAEP-256/A256GCM encrypted id_tokens.
	EncryptIDToken bool
	// Lifetime of the request JWT (default 5 minutes).
	Lifetime time.Duration
	Now      func() time.Time
}

// RegistrationRequest returns the signed registration request JWT (OBIE DCR
// v3.4) for the TPP: PS256 with the TPP's signing key, the software
// statement embedded, POSTed to /register as application/jose.
func RegistrationRequest(tpp *sandbox.TPPBundle, r Registration) (string, error) {
	if tpp == nil || tpp.SigningKey == nil {
		return "", errors.New("client: TPP has no signing key")
	}
	if r.Audience == "" {
		return "", errors.New("client: registration audience (the bank's issuer) is required")
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if r.AuthMethod == "" {
		r.AuthMethod = oauth.AuthTLSClientAuth
	}
	if r.Lifetime <= 0 {
		r.Lifetime = 5 * time.Minute
	}
	if r.RedirectURIs == nil {
		r.RedirectURIs = tpp.RedirectURIs
	}
	if r.Scope == "" {
		r.Scope = strings.Join(oauth.ScopesForRoles(tpp.Roles), " ")
	}
	if r.ResponseTypes == nil {
		r.ResponseTypes = []string{"code id_token", "code"}
	}
	t := now()
	claims := map[string]any{
		"iss":                          tpp.SoftwareID,
		"aud":                          r.Audience,
		"iat":                          t.Unix(),
		"exp":                          t.Add(r.Lifetime).Unix(),
		"jti":                          rand.Text(),
		"software_id":                  tpp.SoftwareID,
		"software_statement":           tpp.SSA,
		"redirect_uris":                r.RedirectURIs,
		"token_endpoint_auth_method":   r.AuthMethod,
		"grant_types":                  []string{oauth.GrantAuthorizationCode, oauth.GrantClientCredentials, oauth.GrantRefreshToken},
		"response_types":               r.ResponseTypes,
		"scope":                        r.Scope,
		"application_type":             "web",
		"id_token_signed_response_alg": "PS256",
		"request_object_signing_alg":   "PS256",
	}
	switch r.AuthMethod {
	case oauth.AuthTLSClientAuth:
		claims["tls_client_auth_subject_dn"] = tpp.SubjectDN()
	case oauth.AuthPrivateKeyJWT:
		claims["token_endpoint_auth_signing_alg"] = "PS256"
	default:
		return "", fmt.Errorf("client: unsupported auth method %q", r.AuthMethod)
	}
	if r.EncryptIDToken {
		claims["id_token_encrypted_response_alg"] = "RSA-OAEP-256"
		claims["id_token_encrypted_response_enc"] = "A256GCM"
	}
	return signJWT(tpp, claims, "JWT")
}

// signJWT signs claims as a compact PS256 JWS with the TPP's signing key.
func signJWT(tpp *sandbox.TPPBundle, claims map[string]any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, tpp.SigningKeyID); err != nil {
		return "", err
	}
	if err := h.Set(jws.TypeKey, typ); err != nil {
		return "", err
	}
	sig, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), tpp.SigningKey, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("client: sign: %w", err)
	}
	return string(sig), nil
}

// ClientAssertion returns a private_key_jwt client assertion (RFC 7523) for
// clientID, signed PS256 with the TPP's signing key, for audience aud (the
// token endpoint URL). Each call has a fresh jti: the bank accepts one use.
func ClientAssertion(tpp *sandbox.TPPBundle, clientID, aud string, now time.Time) (string, error) {
	return signJWT(tpp, map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": rand.Text(),
	}, "JWT")
}
