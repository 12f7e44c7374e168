package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/obank/obank/ob"
)

// decodeJSON reads a JSON request body into v, for the POST/PUT handlers of
// later APIs (the AIS GETs have no body). The front middleware has already
// wrapped the body in http.MaxBytesReader and s.handle has checked the
// Content-Type. A body over Config.MaxBodyBytes is 400
// UK.OBIE.Field.Invalid with Path "body" (OBIE lists no 413); malformed
// JSON is 400 UK.OBIE.Resource.InvalidFormat; a field the schema does not
// know is 400 UK.OBIE.Field.Unexpected.
func (s *Server) decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Exactly one JSON value: trailing data is malformed too.
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return bodyTooLarge(tooBig.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return ob.FieldError(ob.CodeFieldUnexpected, "body", strings.TrimPrefix(err.Error(), "json: "))
	}
	return &ob.Error{Code: ob.CodeResourceInvalidFormat, Path: "body",
		Message: "the request body is not valid JSON for this resource", Err: fmt.Errorf("decoding body: %w", err)}
}
