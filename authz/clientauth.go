package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/oauth"
)

// (Stub: replaced by clientauth.go.)

// authenticateClient authenticates the client of a token, PAR, revocation
// or introspection request from its form (client_id, client_assertion,
// client_assertion_type) and its TLS client certificate
// (mtls.ClientCert), by the method it registered: tls_client_auth (subject
// DN match) or private_key_jwt (PS256 assertion against the client's JWKS,
// aud, exp, single-use jti). It returns invalid_client on failure.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (oauth.Client, error) {
	return oauth.Client{}, errors.New("todo")
}

// clientKeys returns a client's public signing keys: its inline JWKS, or
// the set at its jwks_uri (fetched and cached).
func (s *Server) clientKeys(ctx context.Context, c oauth.Client) (jwk.Set, error) {
	return nil, errors.New("todo")
}
