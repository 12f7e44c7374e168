package authz

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// revoke is the RFC 7009 revocation endpoint. A client may revoke only its
// own tokens; revoking a refresh token revokes its whole family (RFC 7009
// §2.1 allows it, and a TPP that drops a refresh token means to end the
// access). Unknown tokens, and other clients' tokens, are answered 200 as
// RFC 7009 §2.2 asks for invalid ones, so the endpoint tells nobody which
// tokens exist.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return err
	}
	token := form.Get("token")
	if token == "" {
		return oauth.ErrInvalidRequest.WithDescription("token is missing")
	}
	ctx := r.Context()
	hash := ob.HashToken(token)
	now := s.now()
	// The hint only orders the lookups (RFC 7009 §2.1).
	for _, kind := range lookupOrder(form.Get("token_type_hint")) {
		switch kind {
		case "access_token":
			at, err := s.store.AccessToken(ctx, hash)
			if ob.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("authz: revoke: read access token: %w", err)
			}
			if at.ClientID == c.ID {
				if err := s.store.RevokeAccessToken(ctx, hash, now); err != nil {
					return fmt.Errorf("authz: revoke access token: %w", err)
				}
			}
		case "refresh_token":
			rt, err := s.store.RefreshToken(ctx, hash)
			if ob.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("authz: revoke: read refresh token: %w", err)
			}
			if rt.ClientID == c.ID {
				if err := s.store.RevokeFamily(ctx, rt.FamilyID, now); err != nil {
					return fmt.Errorf("authz: revoke refresh token family: %w", err)
				}
			}
		}
		break
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// lookupOrder returns the token kinds to try, the hinted one first.
func lookupOrder(hint string) []string {
	if hint == "refresh_token" {
		return []string{"refresh_token", "access_token"}
	}
	return []string{"access_token", "refresh_token"}
}

// introspection is the RFC 7662 §2.2 response of an active token.
type introspection struct {
	Active    bool              `json:"active"`
	Scope     string            `json:"scope,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	TokenType string            `json:"token_type,omitempty"`
	Exp       int64             `json:"exp,omitempty"`
	Iat       int64             `json:"iat,omitempty"`
	Sub       string            `json:"sub,omitempty"`
	Iss       string            `json:"iss,omitempty"`
	Cnf       map[string]string `json:"cnf,omitempty"`
	IntentID  string            `json:"openbanking_intent_id,omitempty"`
}

// inactive is the whole answer for any token that is not active for the
// caller (RFC 7662 §2.2: nothing else is said).
var inactive = introspection{Active: false}

// introspect is the RFC 7662 introspection endpoint. A client sees only
// its own tokens as active; unknown, expired, revoked and other clients'
// tokens are {"active":false}.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return err
	}
	token := form.Get("token")
	if token == "" {
		return oauth.ErrInvalidRequest.WithDescription("token is missing")
	}
	res := inactive
	for _, kind := range lookupOrder(form.Get("token_type_hint")) {
		var found bool
		switch kind {
		case "access_token":
			res, found, err = s.introspectAccess(r.Context(), c, token)
		case "refresh_token":
			res, found, err = s.introspectRefresh(r.Context(), c, token)
		}
		if err != nil {
			return err
		}
		if found {
			break
		}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// introspectAccess describes an access token; found is false when no
// access token has that value.
func (s *Server) introspectAccess(ctx context.Context, c oauth.Client, token string) (introspection, bool, error) {
	at, g, err := s.store.TokenGrant(ctx, ob.HashToken(token))
	if ob.IsNotFound(err) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, fmt.Errorf("authz: introspect: read access token: %w", err)
	}
	now := s.now()
	if at.ClientID != c.ID || !at.Active(now) || (g != nil && !g.Active(now)) {
		return inactive, true, nil
	}
	res := introspection{
		Active:    true,
		Scope:     strings.Join(at.Scopes, " "),
		ClientID:  at.ClientID,
		TokenType: "Bearer",
		Exp:       at.ExpiresAt.Unix(),
		Iat:       at.CreatedAt.Unix(),
		Iss:       s.cfg.Issuer,
		IntentID:  at.GrantID,
	}
	if g != nil {
		res.Sub = g.CustomerID
	}
	if at.CertThumbprint != "" {
		res.Cnf = map[string]string{"x5t#S256": at.CertThumbprint}
	}
	return res, true, nil
}

// introspectRefresh describes a refresh token; found is false when no
// refresh token has that value. A rotated refresh token is inactive.
func (s *Server) introspectRefresh(ctx context.Context, c oauth.Client, token string) (introspection, bool, error) {
	rt, err := s.store.RefreshToken(ctx, ob.HashToken(token))
	if ob.IsNotFound(err) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, fmt.Errorf("authz: introspect: read refresh token: %w", err)
	}
	now := s.now()
	if rt.ClientID != c.ID || rt.RevokedAt != nil || rt.RotatedAt != nil ||
		(rt.ExpiresAt != nil && !now.Before(*rt.ExpiresAt)) {
		return inactive, true, nil
	}
	res := introspection{
		Active:    true,
		Scope:     strings.Join(rt.Scopes, " "),
		ClientID:  rt.ClientID,
		TokenType: "refresh_token",
		Iat:       rt.IssuedAt.Unix(),
		Sub:       rt.CustomerID,
		Iss:       s.cfg.Issuer,
		IntentID:  rt.GrantID,
	}
	if rt.ExpiresAt != nil {
		res.Exp = rt.ExpiresAt.Unix()
	}
	if rt.CertThumbprint != "" {
		res.Cnf = map[string]string{"x5t#S256": rt.CertThumbprint}
	}
	return res, true, nil
}
