package httpapi

import (
	"context"
	"net/http"

	"github.com/obank/obank/ais"
	"github.com/obank/obank/ob"
)

// The AIS handlers. Each one: read the grant and parameters, make one
// ais.Service call, encode. The bulk endpoints (/balances, /transactions...)
// share the per-account handler: an absent {AccountId} means every account
// of the grant.

func (s *Server) getAccounts(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.Accounts, account, func(d []obAccount6) obAccountData {
		return obAccountData{Account: d}
	})
}

func (s *Server) getBalances(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.Balances, balance, func(d []obBalance) obBalanceData {
		return obBalanceData{Balance: d}
	})
}

func (s *Server) getBeneficiaries(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.Beneficiaries, beneficiary, func(d []obBeneficiary5) obBeneficiaryData {
		return obBeneficiaryData{Beneficiary: d}
	})
}

func (s *Server) getDirectDebits(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.DirectDebits, directDebit, func(d []obDirectDebit) obDirectDebitData {
		return obDirectDebitData{DirectDebit: d}
	})
}

func (s *Server) getStandingOrders(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.StandingOrders, standingOrder, func(d []obStandingOrder6) obStandingOrderData {
		return obStandingOrderData{StandingOrder: d}
	})
}

func (s *Server) getScheduledPayments(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.ScheduledPayments, scheduledPayment, func(d []obScheduledPayment3) obScheduledPaymentData {
		return obScheduledPaymentData{ScheduledPayment: d}
	})
}

func (s *Server) getProducts(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.Products, product, func(d []obProduct) obProductData {
		return obProductData{Product: d}
	})
}

func (s *Server) getOffers(w http.ResponseWriter, r *http.Request) error {
	return serveList(s, w, r, s.ais.Offers, offer, func(d []obOffer) obOfferData {
		return obOfferData{Offer: d}
	})
}

// serveList serves a small per-account (or bulk) collection, paginated in
// memory by "page".
func serveList[T, W, D any](s *Server, w http.ResponseWriter, r *http.Request,
	read func(ctx context.Context, g ob.AccessGrant, accountID string) ([]T, ais.View, error),
	conv func(T) W, data func([]W) D) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	page, err := pageParam(r.URL.Query())
	if err != nil {
		return err
	}
	items, _, err := read(r.Context(), g, r.PathValue("AccountId"))
	if err != nil {
		return err
	}
	return writePage(s, w, r, items, page, conv, data)
}

// writePage encodes page number page of items in the envelope.
func writePage[T, W, D any](s *Server, w http.ResponseWriter, r *http.Request, items []T, page int,
	conv func(T) W, data func([]W) D) error {
	items, page, pages, err := paginate(items, page, s.pageSize)
	if err != nil {
		return err
	}
	links, meta := s.linker(r).pageLinks(page, pages)
	return writeJSON(w, http.StatusOK, envelope[D]{Data: data(mapSlice(items, conv)), Links: links, Meta: meta})
}

func (s *Server) getTransactions(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := dateRange(q, "fromBookingDateTime", "toBookingDateTime")
	if err != nil {
		return err
	}
	cur, err := txCursorParam(q)
	if err != nil {
		return err
	}
	// The rows are encoded as the store reads them: a page never exists
	// as a slice (see txPageWriter).
	pw := newTxPageWriter()
	defer pw.release()
	page, _, err := s.ais.ScanTransactions(r.Context(), g, ais.TransactionsRequest{
		AccountID:   r.PathValue("AccountId"),
		StatementID: r.PathValue("StatementId"),
		From:        from,
		To:          to,
		PageSize:    s.pageSize,
		Cursor:      cur,
	}, pw.add)
	if err != nil {
		return err
	}
	links, meta, err := s.linker(r).txLinks(cur, page, s.pageSize, pw.ends)
	if err != nil {
		return err
	}
	return pw.write(w, links, meta)
}

func (s *Server) getStatements(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := dateRange(q, "fromStatementDateTime", "toStatementDateTime")
	if err != nil {
		return err
	}
	page, err := pageParam(q)
	if err != nil {
		return err
	}
	sts, _, err := s.ais.Statements(r.Context(), g, ais.StatementsRequest{AccountID: r.PathValue("AccountId"), From: from, To: to})
	if err != nil {
		return err
	}
	return writePage(s, w, r, sts, page, statement, statementData)
}

func statementData(d []obStatement2) obStatementData { return obStatementData{Statement: d} }

func (s *Server) getStatement(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	st, _, err := s.ais.Statement(r.Context(), g, r.PathValue("AccountId"), r.PathValue("StatementId"))
	if err != nil {
		return err
	}
	return writePage(s, w, r, []ob.Statement{st}, 1, statement, statementData)
}

// getStatementFile answers the statement "file". The spec declares the File
// schema as a JSON object in the JSON content types only, so a PDF would
// not be a valid answer; obank renders the statement itself, at Detail
// level, in the same OBReadStatement2 envelope. A TPP asking for a
// non-JSON rendering (Accept: application/pdf) gets 406.
func (s *Server) getStatementFile(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	st, _, err := s.ais.StatementFile(r.Context(), g, r.PathValue("AccountId"), r.PathValue("StatementId"))
	if err != nil {
		return err
	}
	return writePage(s, w, r, []ob.Statement{st}, 1, statement, statementData)
}

func (s *Server) getAccountParty(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	accountID := r.PathValue("AccountId")
	p, _, err := s.ais.AccountParty(r.Context(), g, accountID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, envelope[obPartyData]{
		Data:  obPartyData{Party: party(p, s.accountURL(r, accountID))},
		Links: obLinks{Self: s.linker(r).self},
	})
}

func (s *Server) getAccountParties(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	page, err := pageParam(r.URL.Query())
	if err != nil {
		return err
	}
	accountID := r.PathValue("AccountId")
	ps, _, err := s.ais.AccountParties(r.Context(), g, accountID)
	if err != nil {
		return err
	}
	accURL := s.accountURL(r, accountID)
	return writePage(s, w, r, ps, page, func(p ais.Party) obParty2 { return party(p, accURL) },
		func(d []obParty2) obPartiesData { return obPartiesData{Party: d} })
}

func (s *Server) getParty(w http.ResponseWriter, r *http.Request) error {
	g, err := aisGrant(r)
	if err != nil {
		return err
	}
	p, _, err := s.ais.PSUParty(r.Context(), g)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, envelope[obPartyData]{
		Data:  obPartyData{Party: party(p, "")},
		Links: obLinks{Self: s.linker(r).self},
	})
}

// accountURL is the absolute URL of an account resource.
func (s *Server) accountURL(r *http.Request, accountID string) string {
	return s.linkBase(r) + aisPrefix + "/accounts/" + accountID
}
