package ais

import (
	"context"
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// In every method below, accountID names the account of a per-account
// endpoint (/accounts/{AccountId}/...); an empty accountID asks for every
// account of the grant (the bulk endpoints such as /balances).

// Accounts returns the accounts of the grant, or the one named account.
// It needs ReadAccountsBasic or ReadAccountsDetail; under Basic the
// identifications and servicer are cleared.
func (s *Service) Accounts(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.Account, View, error) {
	v, err := s.level(g, ob.ReadAccountsBasic, ob.ReadAccountsDetail)
	if err != nil {
		return nil, v, err
	}
	accs, err := s.listAccounts(ctx, g, accountID)
	if err != nil {
		return nil, v, err
	}
	for i := range accs {
		accs[i] = redactAccount(accs[i], v)
	}
	return accs, v, nil
}

// Balances needs ReadBalances.
func (s *Service) Balances(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.Balance, View, error) {
	return list(ctx, s, g, accountID, ob.ReadBalances, s.Store.Balances, nil)
}

// Beneficiaries needs ReadBeneficiariesBasic or Detail; under Basic the
// creditor agent and account are cleared.
func (s *Service) Beneficiaries(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.Beneficiary, View, error) {
	return listLevel(ctx, s, g, accountID, ob.ReadBeneficiariesBasic, ob.ReadBeneficiariesDetail, s.Store.Beneficiaries,
		func(b ob.Beneficiary, v View) ob.Beneficiary {
			b.CreditorAgent, b.CreditorAccount = redactCreditor(b.CreditorAgent, b.CreditorAccount, v)
			return b
		})
}

// DirectDebits needs ReadDirectDebits.
func (s *Service) DirectDebits(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.DirectDebit, View, error) {
	return list(ctx, s, g, accountID, ob.ReadDirectDebits, s.Store.DirectDebits, nil)
}

// StandingOrders needs ReadStandingOrdersBasic or Detail; under Basic the
// creditor agent and account are cleared.
func (s *Service) StandingOrders(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.StandingOrder, View, error) {
	return listLevel(ctx, s, g, accountID, ob.ReadStandingOrdersBasic, ob.ReadStandingOrdersDetail, s.Store.StandingOrders,
		func(o ob.StandingOrder, v View) ob.StandingOrder {
			o.CreditorAgent, o.CreditorAccount = redactCreditor(o.CreditorAgent, o.CreditorAccount, v)
			return o
		})
}

// ScheduledPayments needs ReadScheduledPaymentsBasic or Detail; under Basic
// the creditor agent and account are cleared.
func (s *Service) ScheduledPayments(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.ScheduledPayment, View, error) {
	return listLevel(ctx, s, g, accountID, ob.ReadScheduledPaymentsBasic, ob.ReadScheduledPaymentsDetail, s.Store.ScheduledPayments,
		func(p ob.ScheduledPayment, v View) ob.ScheduledPayment {
			p.CreditorAgent, p.CreditorAccount = redactCreditor(p.CreditorAgent, p.CreditorAccount, v)
			return p
		})
}

// Products needs ReadProducts.
func (s *Service) Products(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.Product, View, error) {
	return list(ctx, s, g, accountID, ob.ReadProducts, s.Store.Products, nil)
}

// Offers needs ReadOffers.
func (s *Service) Offers(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.Offer, View, error) {
	return list(ctx, s, g, accountID, ob.ReadOffers, s.Store.Offers, nil)
}

// list serves a per-account collection guarded by one permission.
func list[T any](ctx context.Context, s *Service, g ob.AccessGrant, accountID string, p ob.Permission,
	read func(context.Context, []string) ([]T, error), redact func(T, View) T) ([]T, View, error) {
	v, err := s.require(g, p)
	if err != nil {
		return nil, v, err
	}
	return readScope(ctx, s, g, accountID, v, read, redact)
}

// listLevel serves a per-account collection with a Basic/Detail pair.
func listLevel[T any](ctx context.Context, s *Service, g ob.AccessGrant, accountID string, basic, detail ob.Permission,
	read func(context.Context, []string) ([]T, error), redact func(T, View) T) ([]T, View, error) {
	v, err := s.level(g, basic, detail)
	if err != nil {
		return nil, v, err
	}
	return readScope(ctx, s, g, accountID, v, read, redact)
}

func readScope[T any](ctx context.Context, s *Service, g ob.AccessGrant, accountID string, v View,
	read func(context.Context, []string) ([]T, error), redact func(T, View) T) ([]T, View, error) {
	ids, err := s.scope(ctx, g, accountID)
	if err != nil {
		return nil, v, err
	}
	if len(ids) == 0 {
		return []T{}, v, nil
	}
	items, err := read(ctx, ids)
	if err != nil {
		return nil, v, fmt.Errorf("ais: reading %T: %w", items, err)
	}
	if items == nil {
		items = []T{}
	}
	if redact != nil {
		for i := range items {
			items[i] = redact(items[i], v)
		}
	}
	return items, v, nil
}

// StatementsRequest selects statements. From and To are the TPP's
// fromStatementDateTime/toStatementDateTime filter (nil = open).
type StatementsRequest struct {
	AccountID string
	From, To  *time.Time
}

// Statements needs ReadStatementsBasic or Detail. Only statements lying
// wholly inside both the TPP's filter and the consent's transaction window
// are listed; under Basic the statement amounts are cleared.
func (s *Service) Statements(ctx context.Context, g ob.AccessGrant, req StatementsRequest) ([]ob.Statement, View, error) {
	v, err := s.level(g, ob.ReadStatementsBasic, ob.ReadStatementsDetail)
	if err != nil {
		return nil, v, err
	}
	ids, err := s.scope(ctx, g, req.AccountID)
	if err != nil {
		return nil, v, err
	}
	if len(ids) == 0 {
		return []ob.Statement{}, v, nil
	}
	q := ob.StatementQuery{
		AccountIDs: ids,
		From:       later(req.From, g.TransactionFrom),
		To:         earlier(req.To, g.TransactionTo),
	}
	sts, err := s.Store.Statements(ctx, q)
	if err != nil {
		return nil, v, fmt.Errorf("ais: reading statements: %w", err)
	}
	if sts == nil {
		sts = []ob.Statement{}
	}
	for i := range sts {
		sts[i] = redactStatement(sts[i], v)
	}
	return sts, v, nil
}

// Statement returns one statement; it needs ReadStatementsBasic or Detail.
// An unknown statement is UK.OBIE.Resource.NotFound; one reaching outside
// the consent's transaction window is forbidden.
func (s *Service) Statement(ctx context.Context, g ob.AccessGrant, accountID, statementID string) (ob.Statement, View, error) {
	v, err := s.level(g, ob.ReadStatementsBasic, ob.ReadStatementsDetail)
	if err != nil {
		return ob.Statement{}, v, err
	}
	st, err := s.statement(ctx, g, accountID, statementID)
	if err != nil {
		return ob.Statement{}, v, err
	}
	return redactStatement(st, v), v, nil
}

// StatementFile returns the statement behind GET .../statements/{id}/file.
// OBIE reserves the file for ReadStatementsDetail.
func (s *Service) StatementFile(ctx context.Context, g ob.AccessGrant, accountID, statementID string) (ob.Statement, View, error) {
	v, err := s.require(g, ob.ReadStatementsDetail)
	if err != nil {
		return ob.Statement{}, v, err
	}
	st, err := s.statement(ctx, g, accountID, statementID)
	return st, v, err
}

// statement looks a statement up within the grant: the account must be in
// scope, the statement must exist, and it must lie inside the consent's
// transaction window (OBIE: statements must lie wholly inside it).
func (s *Service) statement(ctx context.Context, g ob.AccessGrant, accountID, statementID string) (ob.Statement, error) {
	if _, err := s.scope(ctx, g, accountID); err != nil {
		return ob.Statement{}, err
	}
	st, err := s.Store.Statement(ctx, accountID, statementID)
	if ob.IsNotFound(err) {
		return ob.Statement{}, notFound("StatementId", statementID)
	}
	if err != nil {
		return ob.Statement{}, fmt.Errorf("ais: reading statement %s: %w", statementID, err)
	}
	if (g.TransactionFrom != nil && st.StartDateTime.Before(*g.TransactionFrom)) ||
		(g.TransactionTo != nil && st.EndDateTime.After(*g.TransactionTo)) {
		return ob.Statement{}, ob.Errorf(ob.CodeForbidden, "statement %s is outside the consent's transaction window", statementID)
	}
	return st, nil
}

// TransactionsRequest selects one page of transactions.
type TransactionsRequest struct {
	// AccountID is the account of the path; empty for the bulk /transactions.
	AccountID string
	// StatementID, with AccountID, lists the transactions of a statement:
	// those booked within the statement's period.
	StatementID string
	// From and To are the TPP's fromBookingDateTime/toBookingDateTime
	// filter, inclusive; nil = open.
	From, To *time.Time
	PageSize int
	Cursor   ob.TxCursor
}

// Transactions returns one page of transactions. It needs
// ReadTransactionsBasic or Detail, plus ReadTransactionsCredits and/or
// ReadTransactionsDebits, which choose the sides listed. The booking window
// is the TPP's filter intersected with the consent's window (and, for a
// statement, with the statement's period). Under Basic the information,
// running balance, merchant and counterparty fields are cleared.
func (s *Service) Transactions(ctx context.Context, g ob.AccessGrant, req TransactionsRequest) (ob.TransactionPage, View, error) {
	q, v, err := s.transactionQuery(ctx, g, req)
	if err != nil {
		return ob.TransactionPage{}, v, err
	}
	if q.AccountIDs == nil {
		return ob.TransactionPage{Transactions: []ob.Transaction{}}, v, nil
	}
	page, err := s.Store.Transactions(ctx, q)
	if err != nil {
		return ob.TransactionPage{}, v, fmt.Errorf("ais: reading transactions: %w", err)
	}
	if page.Transactions == nil {
		page.Transactions = []ob.Transaction{}
	}
	for i := range page.Transactions {
		page.Transactions[i] = redactTransaction(page.Transactions[i], v)
	}
	return page, v, nil
}

// ScanTransactions is Transactions for a caller that handles the page's
// transactions one at a time, as an encoder does: it calls each with every
// transaction of the page, in order and redacted exactly as Transactions
// redacts them (with the store's plain-text mark, see
// ob.TransactionScanner), and returns the page with nil Transactions. The
// *ob.Transaction is only valid during the call, and each must not modify
// it (it may be the store's own). With a store that is an
// ob.TransactionScanner no slice of the page is built; with any other
// store it reads Transactions.
func (s *Service) ScanTransactions(ctx context.Context, g ob.AccessGrant, req TransactionsRequest,
	each func(t *ob.Transaction, plain bool) error) (ob.TransactionPage, View, error) {
	sc, ok := s.Store.(ob.TransactionScanner)
	if !ok {
		page, v, err := s.Transactions(ctx, g, req)
		if err != nil {
			return ob.TransactionPage{}, v, err
		}
		for i := range page.Transactions {
			if err := each(&page.Transactions[i], false); err != nil {
				return ob.TransactionPage{}, v, err
			}
		}
		page.Transactions = nil
		return page, v, nil
	}
	q, v, err := s.transactionQuery(ctx, g, req)
	if err != nil || q.AccountIDs == nil {
		return ob.TransactionPage{}, v, err
	}
	// The same redaction as Transactions, so the rules stay in one place,
	// into one transaction reused for the page (the store's is never
	// written through); a transaction the view sees whole goes as it is.
	r := new(ob.Transaction)
	page, err := sc.ScanTransactions(ctx, q, func(t *ob.Transaction, plain bool) error {
		if transactionIntact(t, v) {
			return each(t, plain)
		}
		// Redaction only drops fields and masks numbers with '*': plain
		// text stays plain.
		*r = redactTransaction(*t, v)
		return each(r, plain)
	})
	if err != nil {
		return ob.TransactionPage{}, v, fmt.Errorf("ais: reading transactions: %w", err)
	}
	return page, v, nil
}

// transactionQuery checks the grant's permissions for a page of
// transactions and returns the store query for it; a query with nil
// AccountIDs means an empty page (a bulk request of a grant without
// accounts).
func (s *Service) transactionQuery(ctx context.Context, g ob.AccessGrant, req TransactionsRequest) (ob.TransactionQuery, View, error) {
	v, err := s.level(g, ob.ReadTransactionsBasic, ob.ReadTransactionsDetail)
	if err != nil {
		return ob.TransactionQuery{}, v, err
	}
	credits, debits := g.Permissions.Has(ob.ReadTransactionsCredits), g.Permissions.Has(ob.ReadTransactionsDebits)
	if !credits && !debits {
		return ob.TransactionQuery{}, v, forbidden(ob.ReadTransactionsCredits, ob.ReadTransactionsDebits)
	}
	from, to := later(req.From, g.TransactionFrom), earlier(req.To, g.TransactionTo)
	var ids []string
	if req.StatementID != "" {
		st, err := s.statement(ctx, g, req.AccountID, req.StatementID)
		if err != nil {
			return ob.TransactionQuery{}, v, err
		}
		ids = []string{req.AccountID}
		from, to = later(from, &st.StartDateTime), earlier(to, &st.EndDateTime)
	} else if ids, err = s.scope(ctx, g, req.AccountID); err != nil {
		return ob.TransactionQuery{}, v, err
	}
	if len(ids) == 0 {
		return ob.TransactionQuery{}, v, nil
	}
	return ob.TransactionQuery{
		AccountIDs: ids,
		From:       from,
		To:         to,
		WindowFrom: g.TransactionFrom,
		WindowTo:   g.TransactionTo,
		Credits:    credits,
		Debits:     debits,
		PageSize:   req.PageSize,
		Cursor:     req.Cursor,
	}, v, nil
}

// Party is a customer as a party of an account (or as the PSU).
type Party struct {
	Customer ob.Customer
	// PartyType and AccountRole describe the customer's relation to the
	// account; for the PSU's own /party they are the customer's PartyType
	// and empty.
	PartyType   string
	AccountRole string
	// AccountID is the account the party was read through; empty for /party.
	AccountID string
}

// AccountParty returns the party of an account that the grant's customer
// is: the PSU when they hold the account, else its principal holder. It
// needs ReadParty.
func (s *Service) AccountParty(ctx context.Context, g ob.AccessGrant, accountID string) (Party, View, error) {
	parties, v, err := s.AccountParties(ctx, g, accountID)
	if err != nil {
		return Party{}, v, err
	}
	if len(parties) == 0 {
		return Party{}, v, fmt.Errorf("ais: account %s has no holders", accountID)
	}
	for _, p := range parties {
		if p.Customer.ID == g.CustomerID {
			return p, v, nil
		}
	}
	return parties[0], v, nil
}

// AccountParties returns every holder of an account; it needs ReadParty.
func (s *Service) AccountParties(ctx context.Context, g ob.AccessGrant, accountID string) ([]Party, View, error) {
	v, err := s.require(g, ob.ReadParty)
	if err != nil {
		return nil, v, err
	}
	if _, err := s.scope(ctx, g, accountID); err != nil {
		return nil, v, err
	}
	holders, err := s.Store.AccountHolders(ctx, accountID)
	if err != nil {
		return nil, v, fmt.Errorf("ais: holders of account %s: %w", accountID, err)
	}
	parties := make([]Party, 0, len(holders))
	for _, h := range holders {
		c, err := s.Store.Customer(ctx, h.CustomerID)
		if err != nil {
			return nil, v, fmt.Errorf("ais: holder %s of account %s: %w", h.CustomerID, accountID, err)
		}
		pt := h.PartyType
		if pt == "" {
			pt = c.PartyType
		}
		parties = append(parties, Party{Customer: c, PartyType: pt, AccountRole: h.AccountRole, AccountID: accountID})
	}
	return parties, v, nil
}

// PSUParty returns the customer who authorised the grant; it needs
// ReadPartyPSU.
func (s *Service) PSUParty(ctx context.Context, g ob.AccessGrant) (Party, View, error) {
	v, err := s.require(g, ob.ReadPartyPSU)
	if err != nil {
		return Party{}, v, err
	}
	c, err := s.Store.Customer(ctx, g.CustomerID)
	if err != nil {
		return Party{}, v, fmt.Errorf("ais: the grant's customer %s: %w", g.CustomerID, err)
	}
	return Party{Customer: c, PartyType: c.PartyType}, v, nil
}

// later returns the later of two optional bounds.
func later(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.After(*b):
		return a
	}
	return b
}

// earlier returns the earlier of two optional bounds.
func earlier(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.Before(*b):
		return a
	}
	return b
}
