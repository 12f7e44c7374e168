package authz

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// The authorize endpoint (OpenID Connect Core §3, FAPI 1 Advanced, RFC
// 9101 JAR, RFC 9126 PAR, RFC 9207 iss).
//
// Two request styles are accepted:
//
//   - FAPI 1 Advanced hybrid: client_id, response_type=code id_token and a
//     signed request object (request=<JWT>). Only the object's parameters
//     are used; client_id, response_type and scope in the query must agree
//     with it when sent. PKCE is optional unless Config.RequirePKCE, but a
//     challenge, when sent, must be S256 and is enforced at the token
//     endpoint.
//   - FAPI 2 style: client_id and request_uri from PAR (used once), response
//     type code, PKCE required (checked when the request was pushed).
//
// A plain request (no request object, no request_uri) is refused.
//
// Where errors go: until the client and its redirect URI are trusted (the
// client is registered, the request object's signature verified or the
// pushed request found, and the redirect URI an exact match of a
// registered one), an error is shown on a plain HTML error page with
// status 400 and no redirect: redirecting to an unchecked URI would make
// the bank an open redirector. From then on, errors go back to the client
// as error, error_description, state and iss parameters, in the fragment
// for code id_token and in the query for code.

// requestURIPrefix starts every request_uri obank's PAR endpoint issues.
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// maxAuthorizeForm bounds the body of POST /authorize.
const maxAuthorizeForm = 128 << 10

func (s *Server) authorizeRoutes(mux *http.ServeMux) {
	h := http.HandlerFunc(s.authorize)
	mux.Handle("GET "+PathAuthorize, h)
	mux.Handle("POST "+PathAuthorize, h)
}

// authorize handles GET and POST /authorize. It always answers itself: an
// error page, an error redirect, or whatever the journey's Begin writes.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	start := s.now()
	req, err := s.authorizeRequest(w, r)
	if err != nil {
		s.authorizeError(w, r, req, err)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "oauth request",
		slog.String("method", r.Method), slog.String("route", r.Pattern),
		slog.Duration("latency", s.now().Sub(start)), slog.Any("error", errorCode(err)))
}

// authorizeRequest validates the request, stores the session and begins
// the journey. On error, the returned request has a RedirectURI only when
// the error may be sent there.
func (s *Server) authorizeRequest(w http.ResponseWriter, r *http.Request) (oauth.AuthRequest, error) {
	q, err := authorizeParams(w, r)
	if err != nil {
		return oauth.AuthRequest{}, err
	}
	ctx := r.Context()
	clientID := q.Get("client_id")
	if clientID == "" {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequest.WithDescription("client_id is required")
	}
	client, err := s.clients.get(ctx, clientID)
	if ob.IsNotFound(err) {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequest.WithDescription("unknown client_id")
	} else if err != nil {
		return oauth.AuthRequest{}, oauth.ErrServerError.WithCause(fmt.Errorf("read client: %w", err))
	}

	var req oauth.AuthRequest
	switch {
	case q.Has("request") && q.Has("request_uri"):
		return oauth.AuthRequest{}, oauth.ErrInvalidRequest.WithDescription("request and request_uri are mutually exclusive")
	case q.Has("request_uri"):
		req, err = s.pushedAuthRequest(ctx, client, q)
	case q.Has("request"):
		req, err = s.requestObjectAuthRequest(ctx, client, q)
	default:
		// FAPI: no unsigned front-channel requests. The error can still be
		// redirected when the query names a registered redirect URI.
		err = oauth.ErrInvalidRequest.WithDescription("a signed request object (request) or a pushed request (request_uri) is required")
		if ru := q.Get("redirect_uri"); client.HasRedirectURI(ru) {
			req = errorTarget(client.ID, ru, q.Get("state"), q.Get("response_type"))
		}
	}
	if err != nil {
		return req, err
	}
	if err := s.checkIntent(ctx, client, req); err != nil {
		return req, err
	}
	return req, s.beginSession(w, r, req)
}

// authorizeParams returns the request's parameters: the query of a GET,
// the form body of a POST (OIDC Core §3.1.2.1). A parameter sent twice is
// refused (RFC 6749 §3.1).
func authorizeParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxAuthorizeForm)
		if err := r.ParseForm(); err != nil {
			return nil, oauth.ErrInvalidRequest.WithDescription("malformed form body")
		}
		q = r.PostForm
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, oauth.ErrInvalidRequest.WithDescription("parameter %s is repeated", k)
		}
	}
	return q, nil
}

// errorTarget is the part of a request an error redirect needs, for
// errors found before the full request exists. redirectURI must already be
// known to be registered.
func errorTarget(clientID, redirectURI, state, responseType string) oauth.AuthRequest {
	return oauth.AuthRequest{
		ClientID:     clientID,
		RedirectURI:  redirectURI,
		State:        state,
		ResponseType: responseType,
		ResponseMode: defaultResponseMode(responseType),
	}
}

// requestObjectAuthRequest validates a FAPI 1 Advanced request carrying a
// signed request object.
func (s *Server) requestObjectAuthRequest(ctx context.Context, client oauth.Client, q url.Values) (oauth.AuthRequest, error) {
	keys, err := s.clientKeys(ctx, client)
	if err != nil {
		return oauth.AuthRequest{}, oauth.ErrServerError.WithCause(fmt.Errorf("keys of client %s: %w", client.ID, err))
	}
	p, err := verifyRequestObject(q.Get("request"), client, keys, s.cfg.Issuer, s.now())
	// Only a verified object's redirect URI, and only a registered one,
	// may receive errors.
	var target oauth.AuthRequest
	if p.fromRequestObject && client.HasRedirectURI(p.RedirectURI) {
		rt := p.ResponseType
		if rt == "" {
			rt = q.Get("response_type")
		}
		target = errorTarget(client.ID, p.RedirectURI, p.State, rt)
	}
	if err != nil {
		return target, err
	}
	// The query's copies of these must agree with the object (OIDC Core
	// §6.1); every other query parameter is ignored (FAPI 1 Advanced
	// §5.2.2-10).
	if rt := q.Get("response_type"); rt != "" && rt != p.ResponseType {
		return target, oauth.ErrInvalidRequest.WithDescription("response_type differs from the request object")
	}
	if sc := q.Get("scope"); sc != "" && !sameScopes(sc, p.Scope) {
		return target, oauth.ErrInvalidRequest.WithDescription("scope differs from the request object")
	}
	// On error, req has a redirect URI only when it is registered.
	return checkAuthParams(client, p, flowHybrid, s.cfg.RequirePKCE)
}

// sameScopes reports whether two scope strings name the same set.
func sameScopes(a, b string) bool {
	x, y := oauth.ParseScope(a), oauth.ParseScope(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// pushedAuthRequest resolves a request_uri from PAR. It is used once, by
// the client that pushed it, before it expires; any failure shows the
// error page (the pushed request is not the caller's to learn about).
func (s *Server) pushedAuthRequest(ctx context.Context, client oauth.Client, q url.Values) (oauth.AuthRequest, error) {
	id, ok := strings.CutPrefix(q.Get("request_uri"), requestURIPrefix)
	if !ok || id == "" {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequestURI.WithDescription("request_uri was not issued by this server")
	}
	pr, err := s.store.UsePushedRequest(ctx, id, s.now())
	switch {
	case ob.IsNotFound(err):
		return oauth.AuthRequest{}, oauth.ErrInvalidRequestURI.WithDescription("unknown request_uri")
	case ob.ErrorCode(err) == ob.CodeConflict:
		return oauth.AuthRequest{}, oauth.ErrInvalidRequestURI.WithDescription("request_uri was already used")
	case err != nil:
		return oauth.AuthRequest{}, oauth.ErrServerError.WithCause(fmt.Errorf("use pushed request: %w", err))
	}
	if pr.ClientID != client.ID || pr.Request.ClientID != client.ID {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequestURI.WithDescription("request_uri was pushed by another client")
	}
	if !s.now().Before(pr.ExpiresAt) {
		return oauth.AuthRequest{}, oauth.ErrInvalidRequestURI.WithDescription("request_uri has expired")
	}
	req := pr.Request
	// The pushed request is authoritative (RFC 9126 §4); a response_type
	// in the query, which OIDC requires, must agree with it.
	if rt := q.Get("response_type"); rt != "" && rt != req.ResponseType {
		return req, oauth.ErrInvalidRequest.WithDescription("response_type differs from the pushed request")
	}
	return req, nil
}

// checkIntent checks that the openbanking_intent_id names a consent of this
// client that the customer may authorise now: it exists, is not deleted,
// belongs to the client, has not expired, is of the kind the requested
// scope is for (accounts → account-access, payments → domestic payment,
// fundsconfirmations → funds confirmation), and is AwaitingAuthorisation —
// or Authorised with an active grant, which is re-authentication (OBIE
// allows it while the consent is authorised and unexpired). The journey
// authorises an awaiting consent; on re-authentication it must leave the
// consent as it is, and the token endpoint only issues tokens when the
// customer is the one who authorised it.
//
// Every refusal is invalid_request; another client's consent reads as
// unknown, so consent ids cannot be probed.
func (s *Server) checkIntent(ctx context.Context, client oauth.Client, req oauth.AuthRequest) error {
	unknown := oauth.ErrInvalidRequest.WithDescription("unknown openbanking_intent_id")
	c, err := s.store.Consent(ctx, req.IntentID)
	if ob.IsNotFound(err) {
		return unknown
	} else if err != nil {
		return oauth.ErrServerError.WithCause(fmt.Errorf("read consent: %w", err))
	}
	if c.TPPID != client.ID {
		return unknown
	}
	if c.DeletedAt != nil {
		return oauth.ErrInvalidRequest.WithDescription("the consent of openbanking_intent_id was deleted")
	}
	now := s.now()
	if c.ExpirationDateTime != nil && !now.Before(*c.ExpirationDateTime) {
		return oauth.ErrInvalidRequest.WithDescription("the consent of openbanking_intent_id has expired")
	}
	if scope := consentScope(c.Kind); scope == "" || !slices.Contains(req.Scopes, scope) {
		return oauth.ErrInvalidRequest.WithDescription("the consent of openbanking_intent_id is not for the requested scope")
	}
	switch c.Status {
	case ob.ConsentAwaitingAuthorisation:
		return nil
	case ob.ConsentAuthorised:
		if c.Kind.Payment() {
			// Payment consents are single use: they cannot be
			// re-authenticated (OBIE PIS profile).
			break
		}
		g, err := s.store.AccessGrant(ctx, c.ID)
		if err != nil && !ob.IsNotFound(err) {
			return oauth.ErrServerError.WithCause(fmt.Errorf("read access grant: %w", err))
		}
		if err == nil && g.Active(now) {
			return nil
		}
	}
	return oauth.ErrInvalidRequest.WithDescription("the consent of openbanking_intent_id cannot be authorised: it is %s", c.Status.WireStatus())
}

// consentScope is the OAuth scope that authorises consents of kind k.
func consentScope(k ob.ConsentKind) string {
	switch k {
	case ob.KindAccountAccess:
		return oauth.ScopeAccounts
	case ob.KindDomesticPayment, ob.KindDomesticScheduledPayment, ob.KindDomesticStandingOrder:
		return oauth.ScopePayments
	case ob.KindFundsConfirmation:
		return oauth.ScopeFundsConfirmations
	}
	return ""
}

// beginSession stores the validated request as an authorization session
// and hands the browser to the customer's journey.
func (s *Server) beginSession(w http.ResponseWriter, r *http.Request, req oauth.AuthRequest) error {
	if s.cfg.Journey == nil {
		return oauth.ErrServerError.WithCause(errors.New("no journey configured"))
	}
	now := s.now()
	sess := oauth.AuthSession{
		ID:        randomToken(),
		Request:   req,
		CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.SessionTTL),
	}
	if err := s.store.CreateAuthSession(r.Context(), sess); err != nil {
		return oauth.ErrServerError.WithCause(fmt.Errorf("create auth session: %w", err))
	}
	tw := &trackingWriter{ResponseWriter: w}
	if err := s.cfg.Journey.Begin(tw, r, sess, s); err != nil {
		if tw.wrote {
			// The journey (or Finish) answered already; log only.
			s.log.WarnContext(r.Context(), "journey ended with an error", "session", sess.ID, "err", err)
			return nil
		}
		// The request itself was valid, so the server's failure goes back
		// to the client.
		return oauth.ErrServerError.WithCause(fmt.Errorf("journey begin: %w", err))
	}
	return nil
}

// trackingWriter records whether a response was started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// Finish implements Finisher: it ends the authorization session once and
// sends the browser back to the client, with a code (and, for hybrid
// requests, an id_token) when the customer approved, or access_denied.
//
// Finish always writes the response. An unknown session or one finished
// before gets the error page (there is nothing trustworthy to redirect to,
// or the first Finish already did); every other failure, an expired
// session included, is redirected to the client. The returned error is for
// the caller's log: it must not write another response.
func (s *Server) Finish(w http.ResponseWriter, r *http.Request, sessionID string, o oauth.Outcome) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	req, err := s.finish(r.Context(), sessionID, o)
	if err != nil {
		s.authorizeError(w, r, req.AuthRequest, err)
		return err
	}
	s.redirect(w, r, req.AuthRequest, req.values)
	return nil
}

// finished is a successful end of a session: where to send the browser and
// with what.
type finished struct {
	oauth.AuthRequest
	values url.Values
}

func (s *Server) finish(ctx context.Context, sessionID string, o oauth.Outcome) (finished, error) {
	now := s.now()
	sess, err := s.store.AuthSession(ctx, sessionID)
	if ob.IsNotFound(err) {
		return finished{}, oauth.ErrInvalidRequest.WithDescription("unknown authorization session")
	} else if err != nil {
		return finished{}, oauth.ErrServerError.WithCause(fmt.Errorf("read auth session: %w", err))
	}
	// Complete first, expired or not, so a session is decided exactly once
	// even when two instances race.
	err = s.store.CompleteAuthSession(ctx, sessionID, now)
	if ob.ErrorCode(err) == ob.CodeConflict {
		return finished{}, oauth.ErrInvalidRequest.WithDescription("this authorization session has already ended")
	} else if err != nil {
		return finished{}, oauth.ErrServerError.WithCause(fmt.Errorf("complete auth session: %w", err))
	}
	req := sess.Request
	f := finished{AuthRequest: req}
	if !now.Before(sess.ExpiresAt) {
		return f, oauth.ErrAccessDenied.WithDescription("the authorization session expired")
	}
	if !o.Approved {
		reason := o.Reason
		if reason == "" {
			reason = "the customer did not authorise the request"
		}
		return f, oauth.ErrAccessDenied.WithDescription("%s", reason)
	}
	if o.CustomerID == "" {
		return f, oauth.ErrServerError.WithCause(errors.New("journey approved without a customer id"))
	}
	authTime := o.AuthTime
	if authTime.IsZero() {
		authTime = now
	}
	code := randomToken()
	f.values = url.Values{"code": {code}}
	if req.State != "" {
		f.values.Set("state", req.State)
	}
	if req.Hybrid() {
		client, err := s.clients.get(ctx, req.ClientID)
		if err != nil {
			return f, oauth.ErrServerError.WithCause(fmt.Errorf("read client: %w", err))
		}
		idt, err := s.idToken(ctx, idTokenParams{
			Client:   client,
			Subject:  o.CustomerID,
			Nonce:    req.Nonce,
			IntentID: req.IntentID,
			ACR:      o.ACR,
			AuthTime: authTime,
			Code:     code,
			State:    req.State,
		})
		if err != nil {
			return f, err
		}
		f.values.Set("id_token", idt)
	}
	c := oauth.Code{
		Hash:       ob.HashToken(code),
		SessionID:  sessionID,
		ClientID:   req.ClientID,
		Request:    req,
		CustomerID: o.CustomerID,
		ACR:        o.ACR,
		AuthTime:   authTime,
		IssuedAt:   now,
		ExpiresAt:  now.Add(s.cfg.CodeTTL),
		FamilyID:   randomToken(),
	}
	if err := s.store.CreateCode(ctx, c); err != nil {
		return f, oauth.ErrServerError.WithCause(fmt.Errorf("create code: %w", err))
	}
	return f, nil
}

// authorizeError answers an authorize-endpoint error: redirected to the
// client when req carries a trusted redirect URI, the error page
// otherwise. Server errors are logged with their cause and sent without it.
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, req oauth.AuthRequest, err error) {
	e := oauth.AsError(err)
	if e.Status >= 500 || e.Err != nil {
		s.log.ErrorContext(r.Context(), "oauth error", "route", r.Pattern, "code", e.Code, "err", err)
	}
	if e.Status >= 500 {
		e = e.WithDescription("internal error")
	}
	if req.RedirectURI == "" {
		s.errorPage(w, e)
		return
	}
	s.redirect(w, r, req, e.Values(req.State))
}

// redirect sends the browser to the request's redirect URI with v and the
// issuer (RFC 9207), in the fragment or the query by the response mode. A
// POST is answered 303 so the browser does not repost the form.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, req oauth.AuthRequest, v url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		// Registered URIs are validated at registration; never guess.
		s.log.ErrorContext(r.Context(), "unparsable registered redirect_uri", "client", req.ClientID, "err", err)
		s.errorPage(w, oauth.ErrServerError.WithDescription("internal error"))
		return
	}
	v.Set("iss", s.cfg.Issuer)
	var target string
	if req.ResponseMode == responseModeFrag {
		u.Fragment, u.RawFragment = "", ""
		target = u.String() + "#" + v.Encode()
	} else {
		// Keep any query the registered URI has (RFC 6749 §3.1.2).
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		target = u.String()
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", target)
	w.WriteHeader(status)
}

// errorPageTemplate is the safe error page: no script, no link back, only
// the escaped error.
var errorPageTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Request refused</title></head>
<body><h1>This request cannot be processed</h1>
<p>The application that sent you here made an authorization request the bank cannot accept. Close this window and return to the application.</p>
<p>Error: <code>{{.Code}}</code>{{with .Description}}: {{.}}{{end}}</p>
</body></html>
`))

// errorPage shows e without redirecting anywhere: 400 for request errors,
// the error's own status for server errors.
func (s *Server) errorPage(w http.ResponseWriter, e *oauth.Error) {
	status := http.StatusBadRequest
	if e.Status >= 500 {
		status = e.Status
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = errorPageTemplate.Execute(w, struct{ Code, Description string }{e.Code, e.Description})
}

// randomToken returns 256 random bits, base64url: codes, session ids,
// request_uri ids and family ids.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read does not fail on supported platforms (Go 1.24+).
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
