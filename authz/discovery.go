package authz

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/obank/obank/oauth"
)

// Metadata is the OpenID Provider / OAuth 2.0 authorization server metadata
// (OpenID Connect Discovery 1.0 §3, RFC 8414, RFC 8705 §5, RFC 9126 §5,
// RFC 9207) obank publishes.
type Metadata struct {
	Issuer                                     string            `json:"issuer"`
	AuthorizationEndpoint                      string            `json:"authorization_endpoint"`
	TokenEndpoint                              string            `json:"token_endpoint"`
	RegistrationEndpoint                       string            `json:"registration_endpoint"`
	RevocationEndpoint                         string            `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string            `json:"introspection_endpoint"`
	PushedAuthorizationRequestEndpoint         string            `json:"pushed_authorization_request_endpoint"`
	JWKSURI                                    string            `json:"jwks_uri"`
	MTLSEndpointAliases                        map[string]string `json:"mtls_endpoint_aliases"`
	ResponseTypesSupported                     []string          `json:"response_types_supported"`
	ResponseModesSupported                     []string          `json:"response_modes_supported"`
	GrantTypesSupported                        []string          `json:"grant_types_supported"`
	ScopesSupported                            []string          `json:"scopes_supported"`
	SubjectTypesSupported                      []string          `json:"subject_types_supported"`
	ClaimsSupported                            []string          `json:"claims_supported"`
	ClaimTypesSupported                        []string          `json:"claim_types_supported"`
	ClaimsParameterSupported                   bool              `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool              `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool              `json:"request_uri_parameter_supported"`
	RequireRequestURIRegistration              bool              `json:"require_request_uri_registration"`
	RequirePushedAuthorizationRequests         bool              `json:"require_pushed_authorization_requests"`
	RequestObjectSigningAlgValuesSupported     []string          `json:"request_object_signing_alg_values_supported"`
	IDTokenSigningAlgValuesSupported           []string          `json:"id_token_signing_alg_values_supported"`
	IDTokenEncryptionAlgValuesSupported        []string          `json:"id_token_encryption_alg_values_supported"`
	IDTokenEncryptionEncValuesSupported        []string          `json:"id_token_encryption_enc_values_supported"`
	UserinfoSigningAlgValuesSupported          []string          `json:"userinfo_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string          `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string          `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthMethodsSupported     []string          `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgValues     []string          `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string          `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgValues  []string          `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	TLSClientCertificateBoundAccessTokens      bool              `json:"tls_client_certificate_bound_access_tokens"`
	ACRValuesSupported                         []string          `json:"acr_values_supported"`
	CodeChallengeMethodsSupported              []string          `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool              `json:"authorization_response_iss_parameter_supported"`
}

// Metadata returns the discovery document of this server.
//
// Endpoints a TPP calls with its certificate (token, registration, PAR,
// revocation, introspection) live only on the mTLS listener, so both the
// top-level values and mtls_endpoint_aliases (RFC 8705 §5) name the mTLS
// base: a FAPI client uses the alias, a plain OAuth client the top-level
// value, and either reaches a listener that asks for its certificate.
// Discovery, JWKS and the authorize endpoint are on the public listener.
func (s *Server) Metadata() Metadata {
	ps256 := []string{"PS256"}
	authMethods := []string{oauth.AuthTLSClientAuth, oauth.AuthPrivateKeyJWT}
	return Metadata{
		Issuer:                             s.cfg.Issuer,
		AuthorizationEndpoint:              s.endpoint(PathAuthorize),
		TokenEndpoint:                      s.mtlsEndpoint(PathToken),
		RegistrationEndpoint:               s.mtlsEndpoint(PathRegister),
		RevocationEndpoint:                 s.mtlsEndpoint(PathRevoke),
		IntrospectionEndpoint:              s.mtlsEndpoint(PathIntrospect),
		PushedAuthorizationRequestEndpoint: s.mtlsEndpoint(PathPAR),
		JWKSURI:                            s.endpoint(PathJWKS),
		MTLSEndpointAliases: map[string]string{
			"token_endpoint":                        s.mtlsEndpoint(PathToken),
			"registration_endpoint":                 s.mtlsEndpoint(PathRegister),
			"revocation_endpoint":                   s.mtlsEndpoint(PathRevoke),
			"introspection_endpoint":                s.mtlsEndpoint(PathIntrospect),
			"pushed_authorization_request_endpoint": s.mtlsEndpoint(PathPAR),
		},
		ResponseTypesSupported: []string{"code id_token", "code"},
		ResponseModesSupported: []string{"fragment", "query"},
		GrantTypesSupported:    []string{oauth.GrantAuthorizationCode, oauth.GrantClientCredentials, oauth.GrantRefreshToken},
		ScopesSupported:        []string{oauth.ScopeOpenID, oauth.ScopeAccounts, oauth.ScopePayments, oauth.ScopeFundsConfirmations},
		SubjectTypesSupported:  []string{"public"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr",
			"openbanking_intent_id", "at_hash", "c_hash", "s_hash"},
		ClaimTypesSupported:       []string{"normal"},
		ClaimsParameterSupported:  true,
		RequestParameterSupported: true,
		// request_uri here means RFC 9101 by-reference request objects
		// fetched from the client, which obank does not do; PAR's
		// request_uri is advertised by pushed_authorization_request_endpoint.
		RequestURIParameterSupported:               false,
		RequirePushedAuthorizationRequests:         false,
		RequestObjectSigningAlgValuesSupported:     ps256,
		IDTokenSigningAlgValuesSupported:           ps256,
		IDTokenEncryptionAlgValuesSupported:        []string{idTokenEncAlg},
		IDTokenEncryptionEncValuesSupported:        []string{idTokenEncEnc},
		TokenEndpointAuthMethodsSupported:          authMethods,
		TokenEndpointAuthSigningAlgValuesSupported: ps256,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		RevocationEndpointAuthSigningAlgValues:     ps256,
		IntrospectionEndpointAuthMethodsSupported:  authMethods,
		IntrospectionEndpointAuthSigningAlgValues:  ps256,
		TLSClientCertificateBoundAccessTokens:      true,
		ACRValuesSupported:                         []string{oauth.ACRSCA, oauth.ACRCA},
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
	}
}

// discovery serves /.well-known/openid-configuration. The document may be
// cached briefly: it changes only with configuration.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Del("Pragma")
	writeJSON(w, http.StatusOK, s.Metadata())
	return nil
}

// jwks serves the server's public signing keys (RFC 7517 JWK set), each
// with its x5c chain. Short caching lets a rotation reach TPPs quickly.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	set, err := s.keys.PublicSet(r.Context())
	if err != nil {
		return fmt.Errorf("authz: JWKS: %w", err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("authz: JWKS: %w", err)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Del("Pragma")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}
