// Package oauth is the domain of obank's authorization server: registered
// clients (TPPs), authorization requests and sessions, codes, refresh-token
// families, pushed requests, signing keys, PKCE, and the RFC 6749 error
// model. It imports neither net/http nor SQL, nor a JOSE library (those pull
// in net/http); the HTTP and JOSE work lives in package authz.
package oauth

import (
	"errors"
	"fmt"
	"net/url"
)

// Error is an OAuth 2.0 / OpenID Connect / RFC 7591 error, separate from the
// OBIE error model of the resource APIs: it renders as
// {"error","error_description"} at the token, PAR, revocation, introspection
// and registration endpoints, and as redirect parameters at the authorize
// endpoint.
type Error struct {
	// Code is the RFC error code ("invalid_request", "invalid_client"...).
	Code string
	// Description is safe to show to the client.
	Description string
	// Status is the HTTP status at JSON endpoints.
	Status int
	// Err is the internal cause: logged, never sent.
	Err error
}

func (e *Error) Error() string {
	s := e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches errors by code, so errors.Is(err, oauth.ErrInvalidGrant) holds
// for any invalid_grant whatever its description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithDescription returns a copy of e with a client-safe description.
func (e *Error) WithDescription(format string, args ...any) *Error {
	c := *e
	c.Description = fmt.Sprintf(format, args...)
	return &c
}

// WithCause returns a copy of e carrying an internal cause.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// Values renders e as the query or fragment parameters of an error redirect.
func (e *Error) Values(state string) url.Values {
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	if state != "" {
		v.Set("state", state)
	}
	return v
}

// The errors of RFC 6749, OpenID Connect Core, RFC 7009, RFC 9126 and RFC
// 7591. Status is what a JSON endpoint answers.
var (
	ErrInvalidRequest          = &Error{Code: "invalid_request", Status: 400}
	ErrInvalidClient           = &Error{Code: "invalid_client", Status: 401}
	ErrInvalidGrant            = &Error{Code: "invalid_grant", Status: 400}
	ErrUnauthorizedClient      = &Error{Code: "unauthorized_client", Status: 400}
	ErrUnsupportedGrantType    = &Error{Code: "unsupported_grant_type", Status: 400}
	ErrInvalidScope            = &Error{Code: "invalid_scope", Status: 400}
	ErrAccessDenied            = &Error{Code: "access_denied", Status: 403}
	ErrUnsupportedResponseType = &Error{Code: "unsupported_response_type", Status: 400}
	ErrServerError             = &Error{Code: "server_error", Status: 500}
	ErrTemporarilyUnavailable  = &Error{Code: "temporarily_unavailable", Status: 503}
	ErrInvalidRequestObject    = &Error{Code: "invalid_request_object", Status: 400}
	ErrInvalidRequestURI       = &Error{Code: "invalid_request_uri", Status: 400}
	ErrRequestNotSupported     = &Error{Code: "request_not_supported", Status: 400}
	ErrLoginRequired           = &Error{Code: "login_required", Status: 400}
	ErrConsentRequired         = &Error{Code: "consent_required", Status: 400}
	ErrInvalidToken            = &Error{Code: "invalid_token", Status: 401}
	ErrUnsupportedTokenType    = &Error{Code: "unsupported_token_type", Status: 400}

	// RFC 7591 §3.2.2, as OBIE DCR uses them.
	ErrInvalidRedirectURI          = &Error{Code: "invalid_redirect_uri", Status: 400}
	ErrInvalidClientMetadata       = &Error{Code: "invalid_client_metadata", Status: 400}
	ErrInvalidSoftwareStatement    = &Error{Code: "invalid_software_statement", Status: 400}
	ErrUnapprovedSoftwareStatement = &Error{Code: "unapproved_software_statement", Status: 400}
)

// AsError returns err as an *Error; anything else is server_error carrying
// err as its hidden cause.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrServerError.WithCause(err)
}
