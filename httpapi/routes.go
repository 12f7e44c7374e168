package httpapi

import (
	"net/http"
)

// aisPrefix is the base path of the account-information API ([AI] servers).
const aisPrefix = "/open-banking/v3.1/aisp"

// routes registers every route. The AIS routes are those of
// account-info-openapi.yaml; the account-access-consents ones are in
// consents.go.
func (s *Server) routes() {
	get := func(pattern string, h handlerFunc) {
		s.mux.Handle("GET "+aisPrefix+pattern, s.handle(apiRoute, h))
	}
	get("/accounts", s.getAccounts)
	get("/accounts/{AccountId}", s.getAccounts)
	get("/accounts/{AccountId}/balances", s.getBalances)
	get("/balances", s.getBalances)
	get("/accounts/{AccountId}/transactions", s.getTransactions)
	get("/transactions", s.getTransactions)
	get("/accounts/{AccountId}/beneficiaries", s.getBeneficiaries)
	get("/beneficiaries", s.getBeneficiaries)
	get("/accounts/{AccountId}/direct-debits", s.getDirectDebits)
	get("/direct-debits", s.getDirectDebits)
	get("/accounts/{AccountId}/standing-orders", s.getStandingOrders)
	get("/standing-orders", s.getStandingOrders)
	get("/accounts/{AccountId}/scheduled-payments", s.getScheduledPayments)
	get("/scheduled-payments", s.getScheduledPayments)
	get("/accounts/{AccountId}/statements", s.getStatements)
	get("/statements", s.getStatements)
	get("/accounts/{AccountId}/statements/{StatementId}", s.getStatement)
	get("/accounts/{AccountId}/statements/{StatementId}/file", s.getStatementFile)
	get("/accounts/{AccountId}/statements/{StatementId}/transactions", s.getTransactions)
	get("/accounts/{AccountId}/product", s.getProducts)
	get("/products", s.getProducts)
	get("/accounts/{AccountId}/offers", s.getOffers)
	get("/offers", s.getOffers)
	get("/accounts/{AccountId}/party", s.getAccountParty)
	get("/accounts/{AccountId}/parties", s.getAccountParties)
	get("/party", s.getParty)
	s.consentRoutes()
	s.eventRoutes()
	s.paymentRoutes()

	s.mux.Handle("GET /healthz", s.handle(opsRoute, s.healthz))
	s.mux.Handle("GET /readyz", s.handle(opsRoute, s.readyz))
	s.mux.Handle("GET /open-banking/specs/{$}", s.handle(opsRoute, s.specIndex))
	s.mux.Handle("GET /open-banking/specs/{file}", s.handle(opsRoute, s.specFile))
}

// healthz answers 200 while the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the store answers, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "readiness check failed", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
