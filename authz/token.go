package authz

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// maxFormBytes bounds the body of the form endpoints (token, revocation,
// introspection): a client assertion plus a few parameters.
const maxFormBytes = 64 << 10

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// token is the token endpoint (RFC 6749 §3.2): client authentication, then
// one of the client_credentials, authorization_code and refresh_token
// grants. Every access token is bound to the certificate the request came
// with (RFC 8705).
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return err
	}
	// authenticateClient refuses a request without a certificate.
	cert := mtls.ClientCert(r)
	var resp tokenResponse
	switch gt := form.Get("grant_type"); gt {
	case oauth.GrantClientCredentials:
		resp, err = s.clientCredentialsGrant(r.Context(), c, cert, form)
	case oauth.GrantAuthorizationCode:
		resp, err = s.authorizationCodeGrant(r.Context(), c, cert, form)
	case oauth.GrantRefreshToken:
		resp, err = s.refreshTokenGrant(r.Context(), c, cert, form)
	case "":
		return oauth.ErrInvalidRequest.WithDescription("grant_type is missing")
	default:
		return oauth.ErrUnsupportedGrantType.WithDescription("grant_type %q is not supported", gt)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// readForm reads an application/x-www-form-urlencoded body (the only
// encoding RFC 6749 allows), bounded in size, refusing repeated
// parameters (RFC 6749 §3.1). Query parameters are ignored: credentials in
// URLs end up in logs.
// clientForm reads the form of a client-authenticated endpoint (token,
// revocation, introspection) and authenticates its client.
func (s *Server) clientForm(w http.ResponseWriter, r *http.Request) (url.Values, oauth.Client, error) {
	form, err := readForm(w, r)
	if err != nil {
		return nil, oauth.Client{}, err
	}
	c, err := s.authenticateClient(r, form)
	if err != nil {
		return nil, oauth.Client{}, err
	}
	return form, c, nil
}

func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauth.ErrInvalidRequest.WithDescription("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, oauth.ErrInvalidRequest.WithDescription("the body is not a valid form")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, oauth.ErrInvalidRequest.WithDescription("parameter %s is repeated", k)
		}
	}
	return r.PostForm, nil
}

// clientCredentialsScopes are the scopes a client-credentials token may
// carry.
var clientCredentialsScopes = []string{oauth.ScopeOpenID, oauth.ScopeAccounts, oauth.ScopePayments, oauth.ScopeFundsConfirmations}

// clientCredentialsGrant issues a token for the client itself (consent
// creation, payment status): no consent, no refresh token.
func (s *Server) clientCredentialsGrant(ctx context.Context, c oauth.Client, cert *x509.Certificate, form url.Values) (tokenResponse, error) {
	if !c.HasGrantType(oauth.GrantClientCredentials) {
		return tokenResponse{}, oauth.ErrUnauthorizedClient.WithDescription("the client did not register the client_credentials grant")
	}
	var scopes []string
	if req := oauth.ParseScope(form.Get("scope")); len(req) > 0 {
		for _, sc := range req {
			if !c.HasScope(sc) || !slices.Contains(clientCredentialsScopes, sc) {
				return tokenResponse{}, oauth.ErrInvalidScope.WithDescription("scope %q is not allowed for this client", sc)
			}
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	} else {
		// No scope asked: everything the client registered that a
		// client-credentials token can carry (RFC 6749 §3.3 default).
		for _, sc := range c.Scopes {
			if slices.Contains(clientCredentialsScopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	now := s.now()
	value := newToken()
	at := ob.AccessToken{
		Hash:           ob.HashToken(value),
		ClientID:       c.ID,
		Scopes:         scopes,
		CertThumbprint: mtls.Thumbprint(cert),
		CreatedAt:      now,
		ExpiresAt:      now.Add(s.cfg.AccessTokenTTL),
	}
	if err := s.store.IssueTokens(ctx, at, nil); err != nil {
		return tokenResponse{}, fmt.Errorf("authz: issue client-credentials token: %w", err)
	}
	return s.response(value, at, "", ""), nil
}

// response is the token response for an issued access token.
func (s *Server) response(access string, at ob.AccessToken, refresh, idToken string) tokenResponse {
	return tokenResponse{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    max(int64(at.ExpiresAt.Sub(s.now())/time.Second), 0),
		RefreshToken: refresh,
		IDToken:      idToken,
		Scope:        strings.Join(at.Scopes, " "),
	}
}

// newToken returns a new opaque token: 256 random bits, base64url.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorizationCodeGrant exchanges a code (RFC 6749 §4.1.3) with PKCE
// (RFC 7636). A code redeemed twice revokes everything its first
// redemption issued.
func (s *Server) authorizationCodeGrant(ctx context.Context, c oauth.Client, cert *x509.Certificate, form url.Values) (tokenResponse, error) {
	if !c.HasGrantType(oauth.GrantAuthorizationCode) {
		return tokenResponse{}, oauth.ErrUnauthorizedClient.WithDescription("the client did not register the authorization_code grant")
	}
	value := form.Get("code")
	if value == "" {
		return tokenResponse{}, oauth.ErrInvalidRequest.WithDescription("code is missing")
	}
	now := s.now()
	code, err := s.store.RedeemCode(ctx, ob.HashToken(value), now)
	switch {
	case ob.IsNotFound(err):
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("unknown authorization code")
	case ob.ErrorCode(err) == ob.CodeConflict:
		// RFC 6749 §4.1.2 / RFC 9700 §4.5: a replayed code means it leaked;
		// whatever it bought is revoked, whoever presents it.
		if rerr := s.store.RevokeFamily(ctx, code.FamilyID, now); rerr != nil {
			return tokenResponse{}, fmt.Errorf("authz: revoke family of a replayed code: %w", rerr)
		}
		s.log.WarnContext(ctx, "authorization code replayed; its tokens are revoked", "client", c.ID, "family", code.FamilyID)
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("authorization code was already used")
	case err != nil:
		return tokenResponse{}, fmt.Errorf("authz: redeem code: %w", err)
	}
	if !now.Before(code.ExpiresAt) {
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("authorization code has expired")
	}
	if code.ClientID != c.ID {
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("authorization code was issued to another client")
	}
	if form.Get("redirect_uri") != code.Request.RedirectURI {
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("redirect_uri does not match the authorization request")
	}
	if err := s.checkPKCE(code.Request, form); err != nil {
		return tokenResponse{}, err
	}
	if code.Request.IntentID == "" {
		// A consent-less token would look like a client-credentials one to
		// the resource server; the authorize endpoint never issues such a
		// code.
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("authorization code is not bound to a consent")
	}
	g, err := s.activeGrant(ctx, c, code.Request.IntentID, code.CustomerID)
	if err != nil {
		return tokenResponse{}, err
	}

	accessValue := newToken()
	access := ob.AccessToken{
		Hash:           ob.HashToken(accessValue),
		GrantID:        code.Request.IntentID,
		ClientID:       c.ID,
		Scopes:         code.Request.Scopes,
		CertThumbprint: mtls.Thumbprint(cert),
		FamilyID:       code.FamilyID,
		CreatedAt:      now,
		ExpiresAt:      capTime(now.Add(s.cfg.AccessTokenTTL), g.ExpiresAt),
	}
	var refresh *oauth.RefreshToken
	var refreshValue string
	if c.HasGrantType(oauth.GrantRefreshToken) {
		refreshValue = newToken()
		exp := capTime(now.Add(s.cfg.RefreshTokenTTL), g.ExpiresAt)
		refresh = &oauth.RefreshToken{
			Hash:           ob.HashToken(refreshValue),
			FamilyID:       code.FamilyID,
			ClientID:       c.ID,
			GrantID:        code.Request.IntentID,
			CustomerID:     code.CustomerID,
			Scopes:         code.Request.Scopes,
			CertThumbprint: access.CertThumbprint,
			IssuedAt:       now,
			ExpiresAt:      &exp,
		}
	}
	var idToken string
	if slices.Contains(code.Request.Scopes, oauth.ScopeOpenID) {
		idToken, err = s.idToken(ctx, idTokenParams{
			Client:      c,
			Subject:     code.CustomerID,
			Nonce:       code.Request.Nonce,
			IntentID:    code.Request.IntentID,
			ACR:         code.ACR,
			AuthTime:    code.AuthTime,
			AccessToken: accessValue,
		})
		if err != nil {
			return tokenResponse{}, err
		}
	}
	if err := s.store.IssueTokens(ctx, access, refresh); err != nil {
		return tokenResponse{}, fmt.Errorf("authz: issue tokens: %w", err)
	}
	return s.response(accessValue, access, refreshValue, idToken), nil
}

// checkPKCE enforces RFC 7636 at the token endpoint. When the
// authorization request carried a challenge, the verifier must match it by
// S256. Without one, the request must have been a FAPI 1 hybrid one (the
// only kind that may omit PKCE, and only without --require-pkce), and a
// verifier must not be sent (RFC 9700 §4.8.2: a verifier with no challenge
// is a PKCE downgrade attempt).
func (s *Server) checkPKCE(req oauth.AuthRequest, form url.Values) error {
	verifier := form.Get("code_verifier")
	if req.CodeChallenge == "" {
		if verifier != "" {
			return oauth.ErrInvalidGrant.WithDescription("code_verifier sent, but the authorization request had no code_challenge")
		}
		if !req.Hybrid() || s.cfg.RequirePKCE {
			return oauth.ErrInvalidGrant.WithDescription("PKCE is required")
		}
		return nil
	}
	if req.CodeChallengeMethod != "S256" {
		return oauth.ErrInvalidGrant.WithDescription("only the S256 code_challenge_method is supported")
	}
	if verifier == "" {
		return oauth.ErrInvalidGrant.WithDescription("code_verifier is missing")
	}
	if !oauth.VerifyPKCE(verifier, req.CodeChallenge) {
		return oauth.ErrInvalidGrant.WithDescription("code_verifier does not match the code_challenge")
	}
	return nil
}

// activeGrant returns the consent a token is being issued for, refusing
// it (invalid_grant) unless it exists, is active, belongs to client c and
// was authorised by customer.
func (s *Server) activeGrant(ctx context.Context, c oauth.Client, grantID, customer string) (ob.AccessGrant, error) {
	g, err := s.store.AccessGrant(ctx, grantID)
	if ob.IsNotFound(err) {
		return ob.AccessGrant{}, oauth.ErrInvalidGrant.WithDescription("the consent no longer exists")
	}
	if err != nil {
		return ob.AccessGrant{}, fmt.Errorf("authz: read consent: %w", err)
	}
	if g.TPPID != c.ID {
		return ob.AccessGrant{}, oauth.ErrInvalidGrant.WithDescription("the consent belongs to another client")
	}
	if g.CustomerID != "" && customer != "" && g.CustomerID != customer {
		return ob.AccessGrant{}, oauth.ErrInvalidGrant.WithDescription("the consent was authorised by another customer")
	}
	if !g.Active(s.now()) {
		return ob.AccessGrant{}, oauth.ErrInvalidGrant.WithDescription("the consent is no longer active")
	}
	return g, nil
}

// capTime returns t, or limit when limit is set and earlier.
func capTime(t time.Time, limit *time.Time) time.Time {
	if limit != nil && limit.Before(t) {
		return *limit
	}
	return t
}

// Labels of the derivation of rotated tokens.
const (
	labelRefresh = "obank refresh v1\x00"
	labelAccess  = "obank access v1\x00"
)

// derive returns the token the rotation of refresh token old produces for
// label: base64url(HMAC-SHA256(Secret, label || old)). Deriving the new pair
// from the old token (rather than drawing it at random) lets a retry of the
// same refresh get the same pair back without the server keeping tokens in
// clear; only a holder of the old token and the secret can compute it.
func (s *Server) derive(label, old string) string {
	return derive(s.cfg.Secret, label, old)
}

func derive(secret []byte, label, old string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte(old))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// derivedPair returns the pair the rotation of refresh token old produced
// under Secret or one of PreviousSecrets: the one whose refresh token
// hashes to replacedBy. ok is false when none does.
func (s *Server) derivedPair(old, replacedBy string) (access, refresh string, ok bool) {
	for _, secret := range append([][]byte{s.cfg.Secret}, s.cfg.PreviousSecrets...) {
		refresh = derive(secret, labelRefresh, old)
		if ob.HashToken(refresh) == replacedBy {
			return derive(secret, labelAccess, old), refresh, true
		}
	}
	return "", "", false
}

// errNoSecret is the cause when Config.Secret is unset.
var errNoSecret = errors.New("authz: Config.Secret is empty: refresh-token rotation needs it")

// refreshTokenGrant rotates a refresh token (RFC 6749 §6, RFC 9700
// §4.14.2). The old token is spent; presenting it again revokes the whole
// family, except for a retry within RefreshGrace by the same client over
// the same certificate, which gets the same new pair (a TPP that lost the
// response to a network error or a 5xx must not lose the consent).
func (s *Server) refreshTokenGrant(ctx context.Context, c oauth.Client, cert *x509.Certificate, form url.Values) (tokenResponse, error) {
	if !c.HasGrantType(oauth.GrantRefreshToken) {
		return tokenResponse{}, oauth.ErrUnauthorizedClient.WithDescription("the client did not register the refresh_token grant")
	}
	if len(s.cfg.Secret) == 0 {
		return tokenResponse{}, errNoSecret
	}
	value := form.Get("refresh_token")
	if value == "" {
		return tokenResponse{}, oauth.ErrInvalidRequest.WithDescription("refresh_token is missing")
	}
	oldHash := ob.HashToken(value)
	thumb := mtls.Thumbprint(cert)
	newRefresh := s.derive(labelRefresh, value)
	newAccess := s.derive(labelAccess, value)

	// Two passes at most: when RotateRefreshToken loses a race with a
	// concurrent rotation, the token is read again and judged as a retry.
	for range 2 {
		now := s.now()
		old, err := s.store.RefreshToken(ctx, oldHash)
		if ob.IsNotFound(err) {
			return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("unknown refresh token")
		}
		if err != nil {
			return tokenResponse{}, fmt.Errorf("authz: read refresh token: %w", err)
		}
		if old.ClientID != c.ID {
			// Another client holds this client's token: it leaked.
			return tokenResponse{}, s.revokeFamily(ctx, old, now, "refresh token presented by another client")
		}
		if old.RevokedAt != nil {
			return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("refresh token was revoked")
		}
		if old.CertThumbprint != "" && old.CertThumbprint != thumb {
			return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("refresh token is bound to another certificate")
		}
		if old.RotatedAt != nil {
			return s.refreshRetry(ctx, c, old, now, value)
		}
		if old.ExpiresAt != nil && !now.Before(*old.ExpiresAt) {
			return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("refresh token has expired")
		}
		scopes, err := narrowScopes(old.Scopes, form.Get("scope"))
		if err != nil {
			return tokenResponse{}, err
		}
		g, err := s.activeGrant(ctx, c, old.GrantID, old.CustomerID)
		if err != nil {
			return tokenResponse{}, err
		}
		access := ob.AccessToken{
			Hash:           ob.HashToken(newAccess),
			GrantID:        old.GrantID,
			ClientID:       c.ID,
			Scopes:         scopes,
			CertThumbprint: thumb,
			FamilyID:       old.FamilyID,
			CreatedAt:      now,
			ExpiresAt:      capTime(now.Add(s.cfg.AccessTokenTTL), g.ExpiresAt),
		}
		// Rotation does not extend the refresh token's life: the new one
		// expires when the old one would have.
		refresh := oauth.RefreshToken{
			Hash:           ob.HashToken(newRefresh),
			FamilyID:       old.FamilyID,
			ClientID:       c.ID,
			GrantID:        old.GrantID,
			CustomerID:     old.CustomerID,
			Scopes:         scopes,
			CertThumbprint: thumb,
			IssuedAt:       now,
			ExpiresAt:      old.ExpiresAt,
		}
		err = s.store.RotateRefreshToken(ctx, oldHash, now, access, refresh)
		if ob.ErrorCode(err) == ob.CodeConflict {
			continue // rotated or revoked meanwhile: judge it again
		}
		if err != nil {
			return tokenResponse{}, fmt.Errorf("authz: rotate refresh token: %w", err)
		}
		return s.response(newAccess, access, newRefresh, ""), nil
	}
	return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("refresh token was used concurrently")
}

// refreshRetry answers the presentation of an already rotated refresh
// token: within RefreshGrace, by the same client and certificate (checked
// by the caller), with the pair the rotation derived still unused, it
// returns that pair again; anything else is a replay, which revokes the
// family.
func (s *Server) refreshRetry(ctx context.Context, c oauth.Client, old oauth.RefreshToken, now time.Time, value string) (tokenResponse, error) {
	newAccess, newRefresh, derived := s.derivedPair(value, old.ReplacedBy)
	if !derived || now.Sub(*old.RotatedAt) > s.cfg.RefreshGrace {
		return tokenResponse{}, s.revokeFamily(ctx, old, now, "refresh token reused after rotation")
	}
	next, err := s.store.RefreshToken(ctx, old.ReplacedBy)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("authz: read rotated refresh token: %w", err)
	}
	if next.RotatedAt != nil {
		// The client already used the new token, so this is not a retry of
		// a lost response but a second party holding the old token.
		return tokenResponse{}, s.revokeFamily(ctx, old, now, "refresh token reused after its successor was used")
	}
	if next.RevokedAt != nil {
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("refresh token was revoked")
	}
	at, err := s.store.AccessToken(ctx, ob.HashToken(newAccess))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("authz: read rotated access token: %w", err)
	}
	if !at.Active(now) {
		return tokenResponse{}, oauth.ErrInvalidGrant.WithDescription("refresh token was revoked")
	}
	if _, err := s.activeGrant(ctx, c, old.GrantID, old.CustomerID); err != nil {
		return tokenResponse{}, err
	}
	return s.response(newAccess, at, newRefresh, ""), nil
}

// revokeFamily revokes the family of rt after a replay and returns the
// invalid_grant to answer.
func (s *Server) revokeFamily(ctx context.Context, rt oauth.RefreshToken, now time.Time, why string) error {
	if err := s.store.RevokeFamily(ctx, rt.FamilyID, now); err != nil {
		return fmt.Errorf("authz: revoke family: %w", err)
	}
	s.log.WarnContext(ctx, why+"; its family is revoked", "client", rt.ClientID, "family", rt.FamilyID)
	return oauth.ErrInvalidGrant.WithDescription("refresh token is no longer valid")
}

// narrowScopes returns the scopes of a refreshed token: the original ones,
// or the requested subset of them (RFC 6749 §6).
func narrowScopes(granted []string, requested string) ([]string, error) {
	req := oauth.ParseScope(requested)
	if len(req) == 0 {
		return granted, nil
	}
	var out []string
	for _, sc := range req {
		if !slices.Contains(granted, sc) {
			return nil, oauth.ErrInvalidScope.WithDescription("scope %q exceeds the original grant", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}
