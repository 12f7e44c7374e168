package authz

import (
	"fmt"
	"net/http"

	"github.com/obank/obank/oauth"
)

// maxPARForm bounds the body of a pushed authorization request.
const maxPARForm = 128 << 10

func (s *Server) parRoutes(mux *http.ServeMux) {
	mux.Handle("POST "+PathPAR, s.handle(s.par))
}

// par handles POST /par (RFC 9126) on the mTLS listener, FAPI 2 style: the
// client authenticates as at the token endpoint and pushes its
// authorization request as form parameters, or as a signed request object
// (request=<JWT>), of which then only the object's parameters are used.
// The request must have response_type code, a registered redirect_uri, an
// openbanking_intent_id of one of the client's consents and PKCE S256. The
// answer is 201 {"request_uri","expires_in"}; the request_uri works once,
// at the authorize endpoint, for this client, within PARTTL.
func (s *Server) par(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxPARForm)
	if err := r.ParseForm(); err != nil {
		return oauth.ErrInvalidRequest.WithDescription("malformed form body")
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return oauth.ErrInvalidRequest.WithDescription("parameter %s is repeated", k)
		}
	}
	ctx := r.Context()
	client, err := s.authenticateClient(r, form)
	if err != nil {
		return err
	}
	if form.Has("request_uri") {
		// RFC 9126 §2.1: a pushed request cannot point at another one.
		return oauth.ErrInvalidRequest.WithDescription("request_uri is not allowed in a pushed authorization request")
	}
	var p authParams
	if form.Has("request") {
		keys, err := s.clientKeys(ctx, client)
		if err != nil {
			return oauth.ErrServerError.WithCause(fmt.Errorf("keys of client %s: %w", client.ID, err))
		}
		if p, err = verifyRequestObject(form.Get("request"), client, keys, s.cfg.Issuer, s.now()); err != nil {
			return err
		}
	} else {
		p = authParamsFromForm(form)
		if p.ClientID != "" && p.ClientID != client.ID {
			return oauth.ErrInvalidRequest.WithDescription("client_id does not match the authenticated client")
		}
	}
	req, err := checkAuthParams(client, p, flowPushed, true)
	if err != nil {
		return err
	}
	if err := s.checkIntent(ctx, client, req); err != nil {
		return err
	}
	now := s.now()
	pr := oauth.PushedRequest{
		ID:        randomToken(),
		ClientID:  client.ID,
		Request:   req,
		ExpiresAt: now.Add(s.cfg.PARTTL),
	}
	if err := s.store.CreatePushedRequest(ctx, pr); err != nil {
		return oauth.ErrServerError.WithCause(fmt.Errorf("create pushed request: %w", err))
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"request_uri": requestURIPrefix + pr.ID,
		"expires_in":  int64(s.cfg.PARTTL.Seconds()),
	})
	return nil
}
