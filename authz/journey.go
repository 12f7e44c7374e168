package authz

import (
	"net/http"

	"github.com/obank/obank/oauth"
)

// Journey takes the customer through login, strong customer authentication
// and the consent decision for one authorization session. The authorize
// endpoint stores the validated request as an oauth.AuthSession and calls
// Begin, which writes the response (typically a redirect to the bank's login
// page). However many pages later, the journey ends the session through
// Finisher.Finish, which sends the browser back to the TPP with a code (and
// id_token) or an error. The consent issue provides the real journey.
type Journey interface {
	Begin(w http.ResponseWriter, r *http.Request, s oauth.AuthSession, f Finisher) error
}

// Finisher ends an authorization session; *Server implements it.
type Finisher interface {
	// Finish records the outcome of session sessionID and redirects the
	// browser to the TPP. A session finishes once.
	Finish(w http.ResponseWriter, r *http.Request, sessionID string, o oauth.Outcome) error
}

// AutoApprove is a Journey for tests and the authorization-server demo
// before the consent pages exist: it decides at once, without a customer.
type AutoApprove struct {
	// Decide returns the outcome for a session (e.g. approve as a fixed
	// customer with ACR urn:openbanking:psd2:sca).
	Decide func(s oauth.AuthSession) oauth.Outcome
}

// Begin finishes the session immediately with Decide's outcome.
func (a AutoApprove) Begin(w http.ResponseWriter, r *http.Request, s oauth.AuthSession, f Finisher) error {
	return f.Finish(w, r, s.ID, a.Decide(s))
}

// Unavailable is the Journey of a server without customer pages: it answers
// the customer's browser with a 503 page saying so, and leaves the session
// to expire. The consent issue replaces it with the real journey.
type Unavailable struct{}

// Begin writes the 503 page.
func (Unavailable) Begin(w http.ResponseWriter, r *http.Request, s oauth.AuthSession, f Finisher) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, err := w.Write([]byte(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Not available</title>` +
		`<h1>Sign-in is not available</h1><p>This bank cannot take you through sign-in and consent yet. ` +
		`Please return to the app you came from.</p></html>`))
	return err
}
