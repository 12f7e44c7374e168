package ais_test

import (
	"context"
	"slices"
	"strings"

	"github.com/obank/obank/ob"
)

// fakeStore is an in-memory ob.BankReader over a BankData, enough for the
// service's permission semantics. It records the last transaction and
// statement queries so tests can check the windows the service computed.
type fakeStore struct {
	ob.BankReader // unimplemented methods panic
	d             *ob.BankData
	lastTxQuery   ob.TransactionQuery
	lastStQuery   ob.StatementQuery
}

func byAccount[T any](items []T, ids []string, acc func(T) string) []T {
	out := []T{}
	for _, it := range items {
		if slices.Contains(ids, acc(it)) {
			out = append(out, it)
		}
	}
	return out
}

func (f *fakeStore) Customer(_ context.Context, id string) (ob.Customer, error) {
	for _, c := range f.d.Customers {
		if c.ID == id {
			return c, nil
		}
	}
	return ob.Customer{}, ob.ErrNotFound
}

func (f *fakeStore) Account(_ context.Context, id string) (ob.Account, error) {
	for _, a := range f.d.Accounts {
		if a.ID == id {
			return a, nil
		}
	}
	return ob.Account{}, ob.ErrNotFound
}

func (f *fakeStore) Accounts(_ context.Context, ids []string) ([]ob.Account, error) {
	return byAccount(f.d.Accounts, ids, func(a ob.Account) string { return a.ID }), nil
}

func (f *fakeStore) AccountHolders(_ context.Context, id string) ([]ob.AccountHolder, error) {
	hs := byAccount(f.d.AccountHolders, []string{id}, func(h ob.AccountHolder) string { return h.AccountID })
	slices.SortStableFunc(hs, func(a, b ob.AccountHolder) int {
		return boolCmp(a.AccountRole != "UK.OBIE.Principal", b.AccountRole != "UK.OBIE.Principal")
	})
	return hs, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func (f *fakeStore) Balances(_ context.Context, ids []string) ([]ob.Balance, error) {
	return byAccount(f.d.Balances, ids, func(b ob.Balance) string { return b.AccountID }), nil
}

func (f *fakeStore) Beneficiaries(_ context.Context, ids []string) ([]ob.Beneficiary, error) {
	return byAccount(f.d.Beneficiaries, ids, func(b ob.Beneficiary) string { return b.AccountID }), nil
}

func (f *fakeStore) DirectDebits(_ context.Context, ids []string) ([]ob.DirectDebit, error) {
	return byAccount(f.d.DirectDebits, ids, func(b ob.DirectDebit) string { return b.AccountID }), nil
}

func (f *fakeStore) StandingOrders(_ context.Context, ids []string) ([]ob.StandingOrder, error) {
	return byAccount(f.d.StandingOrders, ids, func(b ob.StandingOrder) string { return b.AccountID }), nil
}

func (f *fakeStore) ScheduledPayments(_ context.Context, ids []string) ([]ob.ScheduledPayment, error) {
	return byAccount(f.d.ScheduledPayments, ids, func(b ob.ScheduledPayment) string { return b.AccountID }), nil
}

func (f *fakeStore) Products(_ context.Context, ids []string) ([]ob.Product, error) {
	return byAccount(f.d.Products, ids, func(b ob.Product) string { return b.AccountID }), nil
}

func (f *fakeStore) Offers(_ context.Context, ids []string) ([]ob.Offer, error) {
	return byAccount(f.d.Offers, ids, func(b ob.Offer) string { return b.AccountID }), nil
}

func (f *fakeStore) Statements(_ context.Context, q ob.StatementQuery) ([]ob.Statement, error) {
	f.lastStQuery = q
	var out []ob.Statement
	for _, s := range byAccount(f.d.Statements, q.AccountIDs, func(s ob.Statement) string { return s.AccountID }) {
		if (q.From == nil || !s.StartDateTime.Before(*q.From)) && (q.To == nil || !s.EndDateTime.After(*q.To)) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) Statement(_ context.Context, accountID, id string) (ob.Statement, error) {
	for _, s := range f.d.Statements {
		if s.AccountID == accountID && s.ID == id {
			return s, nil
		}
	}
	return ob.Statement{}, ob.ErrNotFound
}

// Transactions filters and orders like the real stores but ignores
// pagination: one page holds everything.
func (f *fakeStore) Transactions(_ context.Context, q ob.TransactionQuery) (ob.TransactionPage, error) {
	f.lastTxQuery = q
	var out []ob.Transaction
	for _, t := range byAccount(f.d.Transactions, q.AccountIDs, func(t ob.Transaction) string { return t.AccountID }) {
		if q.From != nil && t.BookingDateTime.Before(*q.From) || q.To != nil && t.BookingDateTime.After(*q.To) {
			continue
		}
		if t.IsCredit() && !q.Credits || !t.IsCredit() && !q.Debits {
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b ob.Transaction) int {
		if c := b.BookingDateTime.Compare(a.BookingDateTime); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return ob.TransactionPage{Transactions: out, Total: len(out)}, nil
}
