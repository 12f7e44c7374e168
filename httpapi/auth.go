package httpapi

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/ob"
)

// scopeAccounts is the OAuth scope of the AIS API.
const scopeAccounts = "accounts"

// errUnauthorized is every 401: OBIE answers it without a body, so the
// reason (missing, malformed, unknown, expired, revoked) only reaches the
// log through the access log's status.
func errUnauthorized(reason string) error {
	return ob.Errorf(ob.CodeUnauthorized, "%s", reason)
}

// authenticate resolves the bearer token to its token and grant and stores
// them in st. Missing or malformed headers, unknown, expired or revoked
// tokens, revoked or expired grants, and certificate-bound tokens presented
// without their certificate are all 401.
func (s *Server) authenticate(r *http.Request, st *reqState) error {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errUnauthorized("missing or malformed bearer token")
	}
	tok, grant, err := s.store.TokenGrant(r.Context(), ob.HashToken(token))
	if ob.IsNotFound(err) {
		return errUnauthorized("unknown token")
	}
	if err != nil {
		return fmt.Errorf("httpapi: resolving token: %w", err)
	}
	now := s.now()
	if !tok.Active(now) {
		return errUnauthorized("token expired or revoked")
	}
	if !tokenBound(r, tok) {
		return errUnauthorized("token is bound to another client certificate")
	}
	if grant != nil && !grant.Active(now) {
		return errUnauthorized("consent revoked or expired")
	}
	st.token = tok
	st.clientID = tok.ClientID
	if grant != nil {
		st.grant = grant
		st.grantID = grant.ID
	}
	return nil
}

// tokenBound enforces RFC 8705: a token bound to a client certificate
// (CertThumbprint set) is only honoured from a request presenting that
// certificate — on the mutual-TLS listener, or forwarded by a trusted
// TLS-terminating proxy (mtls.ClientCert covers both). Unbound tokens (the
// operator's `obank token`) pass.
func tokenBound(r *http.Request, tok ob.AccessToken) bool {
	if tok.CertThumbprint == "" {
		return true
	}
	cert := mtls.ClientCert(r)
	if cert == nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(mtls.Thumbprint(cert)), []byte(tok.CertThumbprint)) == 1
}

// aisGrant returns the account-access grant of an authenticated request. A
// token without a grant (client credentials), without the accounts scope,
// or whose grant belongs to another TPP is 403: it is a valid token asking
// for something it may not have.
func aisGrant(r *http.Request) (ob.AccessGrant, error) {
	st := stateOf(r)
	if st.grant == nil {
		return ob.AccessGrant{}, ob.Errorf(ob.CodeForbidden, "the access token is not bound to an account-access consent")
	}
	if !slices.Contains(st.token.Scopes, scopeAccounts) {
		return ob.AccessGrant{}, ob.Errorf(ob.CodeForbidden, "the access token lacks the accounts scope")
	}
	if st.grant.TPPID != "" && st.grant.TPPID != st.token.ClientID {
		return ob.AccessGrant{}, ob.Errorf(ob.CodeForbidden, "the consent belongs to another TPP")
	}
	return *st.grant, nil
}
