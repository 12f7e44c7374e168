package ob

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// HeaderIdempotencyKey is the request header that makes a PIS POST
// idempotent.
const HeaderIdempotencyKey = "x-idempotency-key"

// IdempotencyTTL is how long a key binds: the same key and body from the
// same TPP within it return the resource it created (SUMMARY §1).
const IdempotencyTTL = 24 * time.Hour

// MaxIdempotencyKeyLen is the header's maxLength.
const MaxIdempotencyKeyLen = 40

// ValidateIdempotencyKey checks an x-idempotency-key against the spec:
// required, at most 40 characters, and the ECMAScript pattern
// ^(?!\s)(.*)(\S)$, i.e. neither starting nor ending with white space and
// with no line terminator (ECMAScript "." matches neither \n, \r, U+2028
// nor U+2029). It is hand-checked, not compiled, because Go's RE2 has no
// lookahead. The error is UK.OBIE.Header.Missing or UK.OBIE.Header.Invalid
// with the header's name as Path.
func ValidateIdempotencyKey(key string) error {
	if key == "" {
		return FieldError(CodeHeaderMissing, HeaderIdempotencyKey, "is required")
	}
	if !utf8.ValidString(key) {
		return FieldError(CodeHeaderInvalid, HeaderIdempotencyKey, "is not valid UTF-8")
	}
	if utf8.RuneCountInString(key) > MaxIdempotencyKeyLen {
		return FieldError(CodeHeaderInvalid, HeaderIdempotencyKey, "is longer than 40 characters")
	}
	first, _ := utf8.DecodeRuneInString(key)
	last, _ := utf8.DecodeLastRuneInString(key)
	if ecmaSpace(first) || ecmaSpace(last) {
		return FieldError(CodeHeaderInvalid, HeaderIdempotencyKey, "must not start or end with white space")
	}
	for _, r := range key {
		if r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' {
			return FieldError(CodeHeaderInvalid, HeaderIdempotencyKey, "must not contain a line break")
		}
	}
	return nil
}

// ecmaSpace reports whether r is in ECMAScript's \s: the Unicode white
// space (category Zs and the ASCII/Latin-1 spaces) plus U+FEFF.
func ecmaSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }
