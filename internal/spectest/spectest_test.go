package spectest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/obank/obank/api/obie"
	"github.com/obank/obank/internal/spectest"
)

const base = "http://127.0.0.1:8443"

func TestValidate(t *testing.T) {
	v := spectest.MustNew(t, obie.AccountInfo, base)
	hdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Fapi-Interaction-Id": {"93bac548-d2de-4546-b106-880a5018460d"}}
	ok := `{"Data":{"Account":[{"AccountId":"a1","Currency":"GBP","OpeningDate":"2026-01-01T00:00:00Z"}]},"Links":{"Self":"https://x.example/accounts"},"Meta":{"TotalPages":1}}`
	tests := []struct {
		name, path, body string
		status           int
		wantErr          string
	}{
		{"valid", "/open-banking/v3.1/aisp/accounts", ok, 200, ""},
		{"unknown property", "/open-banking/v3.1/aisp/accounts", strings.Replace(ok, `"Currency"`, `"Colour"`, 1), 200, "Colour"},
		{"bad currency pattern", "/open-banking/v3.1/aisp/accounts", strings.Replace(ok, `"GBP"`, `"gbp"`, 1), 200, "Currency"},
		{"date-time without zone", "/open-banking/v3.1/aisp/accounts", strings.Replace(ok, `T00:00:00Z`, `T00:00:00`, 1), 200, "OpeningDate"},
		{"undeclared status", "/open-banking/v3.1/aisp/accounts", ok, 404, "status is not supported"},
		{"no such operation", "/open-banking/v3.1/aisp/nothing", ok, 200, "no operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, base+tt.path, nil)
			err := v.Validate(req, tt.status, hdr, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate: %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestLoadAll checks that every embedded spec loads with the ECMAScript
// regex compiler (the PIS file has lookahead patterns RE2 rejects).
func TestLoadAll(t *testing.T) {
	for _, name := range []string{obie.AccountInfo, obie.PaymentInitiation, obie.ConfirmationFunds, obie.VRP} {
		if _, err := spectest.New(name, base); err != nil {
			t.Errorf("New(%s): %v", name, err)
		}
	}
}
