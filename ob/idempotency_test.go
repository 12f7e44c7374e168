package ob

import (
	"strings"
	"testing"
)

func TestValidateIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		key, code string
	}{
		{"FRESCO.21302.GFX.20", ""},
		{"a", ""},
		{"a b", ""},
		{strings.Repeat("x", 40), ""},
		{strings.Repeat("é", 40), ""},
		{"", CodeHeaderMissing},
		{strings.Repeat("x", 41), CodeHeaderInvalid},
		{" abc", CodeHeaderInvalid},
		{"abc ", CodeHeaderInvalid},
		{"abc\t", CodeHeaderInvalid},
		{"\u00a0abc", CodeHeaderInvalid},
		{"\ufeffabc", CodeHeaderInvalid},
		{"ab\ncd", CodeHeaderInvalid},
		{"ab\u2028cd", CodeHeaderInvalid},
		{" ", CodeHeaderInvalid},
		{"ab\xffcd", CodeHeaderInvalid},
	} {
		err := ValidateIdempotencyKey(tc.key)
		if got := ErrorCode(err); got != tc.code {
			t.Errorf("ValidateIdempotencyKey(%q) = %v, want %q", tc.key, err, tc.code)
		}
		if err != nil && err.(*Error).Path != HeaderIdempotencyKey {
			t.Errorf("ValidateIdempotencyKey(%q): path %q", tc.key, err.(*Error).Path)
		}
	}
}
