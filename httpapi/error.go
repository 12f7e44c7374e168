package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// This file is the only place that turns an error into an HTTP answer.
//
// Decisions where the spec is silent:
//   - 403 carries an OBErrorResponse1 body (the spec allows one) whose
//     ErrorCode is UK.OBIE.Resource.ConsentMismatch: the request asks for
//     something the consent does not cover (a permission it lacks, an
//     account not selected). obank.Forbidden is internal and never sent.
//   - 401, 404, 405, 406, 415 and 429 have no body; 401 carries
//     WWW-Authenticate: Bearer, 429 Retry-After.
//   - Anything that is not an *ob.Error is a 500 UK.OBIE.UnexpectedError
//     with a fixed message; the real error is logged with the interaction
//     id and never echoed.

// statusByCode is the one status table: ob.Error code → HTTP status.
// Codes not listed are 400 when they are OBIE UK.OBIE.* codes and 500
// otherwise.
var statusByCode = map[string]int{
	ob.CodeUnauthorized:               http.StatusUnauthorized,
	ob.CodeForbidden:                  http.StatusForbidden,
	ob.CodeReauthenticate:             http.StatusForbidden,
	ob.CodeConflict:                   http.StatusConflict,
	ob.CodeRulesResourceAlreadyExists: http.StatusConflict,
	ob.CodeTooManyRequests:            http.StatusTooManyRequests,
	ob.CodeNotAcceptable:              http.StatusNotAcceptable,
	ob.CodeUnsupportedMediaType:       http.StatusUnsupportedMediaType,
	ob.CodeUnexpectedError:            http.StatusInternalServerError,
}

// wireCodeByCode renames internal codes that appear in a body.
var wireCodeByCode = map[string]string{
	ob.CodeForbidden: ob.CodeResourceConsentMismatch,
	ob.CodeConflict:  ob.CodeRulesResourceAlreadyExists,
}

// noBody lists the statuses OBIE answers without a body.
func noBody(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusNotAcceptable, http.StatusUnsupportedMediaType, http.StatusTooManyRequests:
		return true
	}
	return false
}

// statusOf returns the HTTP status for an error.
func statusOf(err error) int {
	code := ob.ErrorCode(err)
	if s, ok := statusByCode[code]; ok {
		return s
	}
	if strings.HasPrefix(code, "UK.OBIE.") {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// retryAfterer is implemented by errors that know when to come back (a
// rate limiter's error, later). Without one, 429 says one second.
type retryAfterer interface{ RetryAfter() time.Duration }

const unexpectedMessage = "An unexpected error occurred. Quote the x-fapi-interaction-id when contacting the bank."

// writeError answers a request with err. It is called by s.handle for
// handler errors and by the middleware for errors raised before routing.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	st := stateOf(r)
	st.err = err
	h := w.Header()
	switch status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="obank", error="invalid_token"`)
	case http.StatusTooManyRequests:
		secs := 1
		var ra retryAfterer
		if errors.As(err, &ra) {
			secs = max(1, int((ra.RetryAfter()+time.Second-1)/time.Second))
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	if noBody(status) {
		w.WriteHeader(status)
		return
	}
	var e *ob.Error
	if status == http.StatusInternalServerError || !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "internal error",
			"interaction_id", st.interactionID, "route", routeOf(r), "err", err)
		e = &ob.Error{Code: ob.CodeUnexpectedError, Message: unexpectedMessage}
	}
	if err := writeJSON(w, status, errorBody(status, st.interactionID, e)); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// errorBody builds OBErrorResponse1 for e.
func errorBody(status int, interactionID string, e *ob.Error) obErrorResponse1 {
	code := e.Code
	if c, ok := wireCodeByCode[code]; ok {
		code = c
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	return obErrorResponse1{
		Code:    fmt.Sprintf("%d %s", status, strings.ReplaceAll(http.StatusText(status), " ", "")),
		Id:      truncate(interactionID, 40),
		Message: truncate(msg, 500),
		Errors: []obError1{{
			ErrorCode: code,
			Message:   truncate(msg, 500),
			Path:      truncate(e.Path, 500),
		}},
	}
}

// truncate keeps s within OBIE's MaxN lengths, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// writeJSON encodes v as the response body. It returns an error, before
// writing anything, only if v cannot be encoded (a programming error), so
// the caller can still answer 500.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("httpapi: encoding %T: %w", v, err)
	}
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that went away is not our error
	return nil
}

// contentTypeJSON is declared by every AIS response in the spec (alongside
// plain application/json) and validates cleanly with kin-openapi.
const contentTypeJSON = "application/json; charset=utf-8"
