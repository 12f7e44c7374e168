package authz

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestKeyFetchRefusesPrivateAddresses: TPP key sets are fetched with the
// SSRF guard, so a jwks_uri or software_jwks_endpoint on a loopback or
// private address is never dialled (unless tests allow it).
func TestKeyFetchRefusesPrivateAddresses(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer ts.Close()
	if _, err := keyFetchClient(false).Get(ts.URL); err == nil || !strings.Contains(err.Error(), "non-public") {
		t.Errorf("fetch from %s: err = %v, want the private address refused", ts.URL, err)
	}
	// Allowed for tests and demos (the TLS error shows it was dialled).
	if _, err := keyFetchClient(true).Get(ts.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("fetch with private addresses allowed: err = %v, want a certificate error after dialling", err)
	}
}
