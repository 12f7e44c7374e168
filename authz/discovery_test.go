package authz

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// oidcDiscovery is the discovery document as a FAPI / OIDC client library
// reads it (the fields of OpenID Connect Discovery §3, RFC 8414, RFC 8705
// §5 and RFC 9126 §5 such clients use), decoded independently of Metadata.
type oidcDiscovery struct {
	Issuer                                     string            `json:"issuer"`
	AuthorizationEndpoint                      string            `json:"authorization_endpoint"`
	TokenEndpoint                              string            `json:"token_endpoint"`
	RegistrationEndpoint                       string            `json:"registration_endpoint"`
	RevocationEndpoint                         string            `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string            `json:"introspection_endpoint"`
	PAREndpoint                                string            `json:"pushed_authorization_request_endpoint"`
	JWKSURI                                    string            `json:"jwks_uri"`
	MTLSEndpointAliases                        map[string]string `json:"mtls_endpoint_aliases"`
	ResponseTypesSupported                     []string          `json:"response_types_supported"`
	ResponseModesSupported                     []string          `json:"response_modes_supported"`
	GrantTypesSupported                        []string          `json:"grant_types_supported"`
	ScopesSupported                            []string          `json:"scopes_supported"`
	SubjectTypesSupported                      []string          `json:"subject_types_supported"`
	ClaimsSupported                            []string          `json:"claims_supported"`
	ClaimsParameterSupported                   *bool             `json:"claims_parameter_supported"`
	RequestParameterSupported                  *bool             `json:"request_parameter_supported"`
	RequestURIParameterSupported               *bool             `json:"request_uri_parameter_supported"`
	RequirePushedAuthorizationRequests         *bool             `json:"require_pushed_authorization_requests"`
	RequestObjectSigningAlgValuesSupported     []string          `json:"request_object_signing_alg_values_supported"`
	IDTokenSigningAlgValuesSupported           []string          `json:"id_token_signing_alg_values_supported"`
	IDTokenEncryptionAlgValuesSupported        []string          `json:"id_token_encryption_alg_values_supported"`
	IDTokenEncryptionEncValuesSupported        []string          `json:"id_token_encryption_enc_values_supported"`
	TokenEndpointAuthMethodsSupported          []string          `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string          `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthMethodsSupported     []string          `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string          `json:"introspection_endpoint_auth_methods_supported"`
	TLSClientCertificateBoundAccessTokens      *bool             `json:"tls_client_certificate_bound_access_tokens"`
	ACRValuesSupported                         []string          `json:"acr_values_supported"`
	CodeChallengeMethodsSupported              []string          `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported *bool             `json:"authorization_response_iss_parameter_supported"`
}

func TestDiscovery(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(h.Public.URL + PathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	r := readResult(t, resp)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET discovery: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var d oidcDiscovery
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode: %v", err)
	}

	// OIDC Discovery §4.3: issuer equals the URL the document was fetched
	// from, minus the well-known suffix.
	if d.Issuer != h.Public.URL {
		t.Errorf("issuer = %q, want %q", d.Issuer, h.Public.URL)
	}
	public := map[string]string{
		"authorization_endpoint": d.AuthorizationEndpoint,
		"jwks_uri":               d.JWKSURI,
	}
	mtlsURLs := map[string]string{
		"token_endpoint":                        d.TokenEndpoint,
		"registration_endpoint":                 d.RegistrationEndpoint,
		"revocation_endpoint":                   d.RevocationEndpoint,
		"introspection_endpoint":                d.IntrospectionEndpoint,
		"pushed_authorization_request_endpoint": d.PAREndpoint,
	}
	for name, u := range public {
		checkURL(t, name, u, h.Public.URL)
	}
	for name, u := range mtlsURLs {
		checkURL(t, name, u, h.MTLS.URL)
		alias := d.MTLSEndpointAliases[name]
		checkURL(t, "mtls_endpoint_aliases."+name, alias, h.MTLS.URL)
		if alias != u {
			t.Errorf("mtls_endpoint_aliases.%s = %q, top-level %q", name, alias, u)
		}
	}
	if len(d.MTLSEndpointAliases) != len(mtlsURLs) {
		t.Errorf("mtls_endpoint_aliases = %v", d.MTLSEndpointAliases)
	}

	contains := []struct {
		name string
		got  []string
		want []string
	}{
		{"response_types_supported", d.ResponseTypesSupported, []string{"code id_token", "code"}},
		{"response_modes_supported", d.ResponseModesSupported, []string{"fragment", "query"}},
		{"grant_types_supported", d.GrantTypesSupported, []string{"authorization_code", "client_credentials", "refresh_token"}},
		{"scopes_supported", d.ScopesSupported, []string{"openid", "accounts", "payments", "fundsconfirmations"}},
		{"subject_types_supported", d.SubjectTypesSupported, []string{"public"}},
		{"claims_supported", d.ClaimsSupported, []string{"sub", "openbanking_intent_id", "acr", "auth_time"}},
		{"acr_values_supported", d.ACRValuesSupported, []string{"urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"}},
	}
	for _, c := range contains {
		for _, w := range c.want {
			if !slices.Contains(c.got, w) {
				t.Errorf("%s = %v, lacks %q", c.name, c.got, w)
			}
		}
	}
	exactly := []struct {
		name      string
		got, want []string
	}{
		{"request_object_signing_alg_values_supported", d.RequestObjectSigningAlgValuesSupported, []string{"PS256"}},
		{"id_token_signing_alg_values_supported", d.IDTokenSigningAlgValuesSupported, []string{"PS256"}},
		{"id_token_encryption_alg_values_supported", d.IDTokenEncryptionAlgValuesSupported, []string{"RSA-OAEP-256"}},
		{"id_token_encryption_enc_values_supported", d.IDTokenEncryptionEncValuesSupported, []string{"A256GCM"}},
		{"token_endpoint_auth_methods_supported", d.TokenEndpointAuthMethodsSupported, []string{"tls_client_auth", "private_key_jwt"}},
		{"token_endpoint_auth_signing_alg_values_supported", d.TokenEndpointAuthSigningAlgValuesSupported, []string{"PS256"}},
		{"revocation_endpoint_auth_methods_supported", d.RevocationEndpointAuthMethodsSupported, []string{"tls_client_auth", "private_key_jwt"}},
		{"introspection_endpoint_auth_methods_supported", d.IntrospectionEndpointAuthMethodsSupported, []string{"tls_client_auth", "private_key_jwt"}},
		{"code_challenge_methods_supported", d.CodeChallengeMethodsSupported, []string{"S256"}},
	}
	for _, e := range exactly {
		if !slices.Equal(e.got, e.want) {
			t.Errorf("%s = %v, want %v", e.name, e.got, e.want)
		}
	}
	bools := []struct {
		name string
		got  *bool
		want bool
	}{
		{"tls_client_certificate_bound_access_tokens", d.TLSClientCertificateBoundAccessTokens, true},
		{"claims_parameter_supported", d.ClaimsParameterSupported, true},
		{"request_parameter_supported", d.RequestParameterSupported, true},
		{"request_uri_parameter_supported", d.RequestURIParameterSupported, false},
		{"require_pushed_authorization_requests", d.RequirePushedAuthorizationRequests, false},
		{"authorization_response_iss_parameter_supported", d.AuthorizationResponseIssParameterSupported, true},
	}
	for _, b := range bools {
		if b.got == nil || *b.got != b.want {
			t.Errorf("%s = %v, want %v", b.name, b.got, b.want)
		}
	}

	// jwks_uri serves the key set the server signs with.
	jr, err := http.Get(d.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	j := readResult(t, jr)
	if j.Status != 200 || !strings.Contains(j.Header.Get("Content-Type"), "json") || !strings.Contains(string(j.Body), `"x5c"`) {
		t.Errorf("GET jwks_uri: %d %s %s", j.Status, j.Header.Get("Content-Type"), j.Body)
	}
}

// checkURL checks that u is an absolute URL on the listener at base.
func checkURL(t *testing.T, name, u, base string) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() || p.Host == "" {
		t.Errorf("%s = %q is not an absolute URL", name, u)
		return
	}
	if !strings.HasPrefix(u, base+"/") {
		t.Errorf("%s = %q, want it on %s", name, u, base)
	}
}
