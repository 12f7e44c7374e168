// Package ob holds obank's domain: the bank's read side (customers, accounts,
// balances, transactions and the rest of the OBIE account-information
// resources), money, permissions, access grants, the typed error every layer
// returns, and the small storage interfaces the backends implement.
//
// It imports neither net/http nor database/sql: a test in this package fails
// if it ever does.
package ob

import (
	"errors"
	"fmt"
)

// Error codes. The UK.OBIE.* values are the namespaced error codes of the OBIE
// Read/Write API v3.1 (OBError1.ErrorCode). The obank.* values are kinds that
// have no OBIE code because their HTTP answer has no body (401) or is
// internal (500 maps to UK.OBIE.UnexpectedError).
const (
	CodeFieldExpected    = "UK.OBIE.Field.Expected"
	CodeFieldInvalid     = "UK.OBIE.Field.Invalid"
	CodeFieldInvalidDate = "UK.OBIE.Field.InvalidDate"
	CodeFieldMissing     = "UK.OBIE.Field.Missing"
	CodeFieldUnexpected  = "UK.OBIE.Field.Unexpected"

	CodeHeaderInvalid = "UK.OBIE.Header.Invalid"
	CodeHeaderMissing = "UK.OBIE.Header.Missing"

	CodeReauthenticate = "UK.OBIE.Reauthenticate"

	CodeResourceConsentMismatch      = "UK.OBIE.Resource.ConsentMismatch"
	CodeResourceInvalidConsentStatus = "UK.OBIE.Resource.InvalidConsentStatus"
	CodeResourceInvalidFormat        = "UK.OBIE.Resource.InvalidFormat"
	CodeResourceNotFound             = "UK.OBIE.Resource.NotFound"

	CodeRulesAfterCutOffDateTime    = "UK.OBIE.Rules.AfterCutOffDateTime"
	CodeRulesDuplicateReference     = "UK.OBIE.Rules.DuplicateReference"
	CodeRulesResourceAlreadyExists  = "UK.OBIE.Rules.ResourceAlreadyExists"
	CodeRulesFailsControlParameters = "UK.OBIE.Rules.FailsControlParameters"

	CodeSignatureInvalid      = "UK.OBIE.Signature.Invalid"
	CodeSignatureInvalidClaim = "UK.OBIE.Signature.InvalidClaim"
	CodeSignatureMalformed    = "UK.OBIE.Signature.Malformed"
	CodeSignatureMissing      = "UK.OBIE.Signature.Missing"
	CodeSignatureMissingClaim = "UK.OBIE.Signature.MissingClaim"
	CodeSignatureUnexpected   = "UK.OBIE.Signature.Unexpected"

	CodeUnsupportedAccountIdentifier = "UK.OBIE.Unsupported.AccountIdentifier"
	CodeUnsupportedCurrency          = "UK.OBIE.Unsupported.Currency"
	CodeUnsupportedFrequency         = "UK.OBIE.Unsupported.Frequency"
	CodeUnsupportedLocalInstrument   = "UK.OBIE.Unsupported.LocalInstrument"
	CodeUnsupportedScheme            = "UK.OBIE.Unsupported.Scheme"

	CodeUnexpectedError = "UK.OBIE.UnexpectedError"

	// CodeUnauthorized: missing, unknown, revoked or expired access token.
	// Answered 401 with no body.
	CodeUnauthorized = "obank.Unauthorized"
	// CodeForbidden: a valid token asking for something outside its grant
	// (a permission it lacks, an account outside the consent, another TPP's
	// resource). Answered 403.
	CodeForbidden = "obank.Forbidden"
	// CodeConflict: a uniqueness rule of the store was violated.
	CodeConflict = "obank.Conflict"
	// CodeTooManyRequests: rate limited. Answered 429 with Retry-After.
	CodeTooManyRequests = "obank.TooManyRequests"
	// CodeNotAcceptable: the Accept header names nothing we can produce (406).
	CodeNotAcceptable = "obank.NotAcceptable"
	// CodeUnsupportedMediaType: a body in a content type we do not read (415).
	CodeUnsupportedMediaType = "obank.UnsupportedMediaType"
)

// Error is obank's one typed error. Code is an OBIE error code or one of the
// obank.* kinds above; Message is safe to show to a TPP; Path names the
// offending field, header or parameter; Err is the internal cause, logged
// but never sent to a client.
type Error struct {
	Code    string
	Message string
	Path    string
	Err     error
}

func (e *Error) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Path != "" {
		s += " (" + e.Path + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an *Error about one field, header or parameter.
func FieldError(code, path, message string) *Error {
	return &Error{Code: code, Path: path, Message: message}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeUnexpectedError for nil-free errors that are not ours: anything we did
// not classify is an internal error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnexpectedError
}

// Sentinel errors the stores return; callers turn them into client errors
// with the right OBIE code for the context (an unknown account is
// UK.OBIE.Resource.NotFound on the AIS API, a 401 for a token lookup).
var (
	ErrNotFound = &Error{Code: CodeResourceNotFound, Message: "resource not found"}
	ErrConflict = &Error{Code: CodeConflict, Message: "resource already exists"}
)

// IsNotFound reports whether err is, or wraps, a not-found error.
func IsNotFound(err error) bool { return ErrorCode(err) == CodeResourceNotFound }
