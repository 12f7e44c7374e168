package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTransactionsPageServe serves the page of BenchmarkTransactionsPage
// in process, one request at a time and without the network: steadier
// figures for comparing changes to the page's own path.
func BenchmarkTransactionsPageServe(b *testing.B) {
	h, bearer := benchHandler(b, benchBackends[0].open)
	req := httptest.NewRequest(http.MethodGet, aisPrefix+"/accounts/"+benchAccount+"/transactions", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
