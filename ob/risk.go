package ob

import (
	"bytes"
	"encoding/json"
)

// CheckRisk checks the Risk member every OBIE consent and payment request
// carries: required (UK.OBIE.Field.Missing when absent or null) and a JSON
// object (UK.OBIE.Field.Invalid otherwise). It returns it compacted, the
// form a payment consent keeps to compare its order's with.
func CheckRisk(raw []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, FieldError(CodeFieldMissing, "Risk", "Risk is required")
	}
	if trimmed[0] != '{' {
		return nil, FieldError(CodeFieldInvalid, "Risk", "Risk must be an object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, trimmed); err != nil {
		return nil, FieldError(CodeFieldInvalid, "Risk", "Risk is not valid JSON")
	}
	return b.Bytes(), nil
}
