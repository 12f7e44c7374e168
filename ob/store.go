package ob

import (
	"context"
	"time"
)

// The storage interfaces. Two backends implement all of them (sqlite/ and
// postgres/), and one contract suite (obtest.RunStoreTests) holds both to the
// same behaviour. Methods document the errors they return: ErrNotFound (code
// UK.OBIE.Resource.NotFound) and ErrConflict; anything else is internal.

// BankReader is the read side of the bank the AIS API serves.
type BankReader interface {
	// Customer returns ErrNotFound when no customer has the id.
	Customer(ctx context.Context, id string) (Customer, error)
	// CustomerByUsername returns ErrNotFound for an unknown login name.
	CustomerByUsername(ctx context.Context, username string) (Customer, error)
	// Customers lists customers ordered by ID (for operators and the demo banner).
	Customers(ctx context.Context, limit int) ([]Customer, error)

	// Account returns ErrNotFound when no account has the id.
	Account(ctx context.Context, id string) (Account, error)
	// Accounts returns the accounts with the given ids, ordered by ID; ids
	// that do not exist are skipped.
	Accounts(ctx context.Context, ids []string) ([]Account, error)
	// AccountsByCustomer returns the accounts a customer holds, ordered by ID.
	AccountsByCustomer(ctx context.Context, customerID string) ([]Account, error)
	// AccountHolders returns who holds an account, principal first.
	AccountHolders(ctx context.Context, accountID string) ([]AccountHolder, error)

	// The per-account collections below take a list of account ids and return
	// the rows of those accounts ordered by (AccountID, ID).
	Balances(ctx context.Context, accountIDs []string) ([]Balance, error)
	Beneficiaries(ctx context.Context, accountIDs []string) ([]Beneficiary, error)
	DirectDebits(ctx context.Context, accountIDs []string) ([]DirectDebit, error)
	StandingOrders(ctx context.Context, accountIDs []string) ([]StandingOrder, error)
	ScheduledPayments(ctx context.Context, accountIDs []string) ([]ScheduledPayment, error)
	Products(ctx context.Context, accountIDs []string) ([]Product, error)
	Offers(ctx context.Context, accountIDs []string) ([]Offer, error)

	// Statements returns statements of the accounts, ordered by (AccountID,
	// StartDateTime, ID), restricted to those lying wholly inside [From, To]
	// when those bounds are set.
	Statements(ctx context.Context, q StatementQuery) ([]Statement, error)
	// Statement returns ErrNotFound when the account has no such statement.
	Statement(ctx context.Context, accountID, statementID string) (Statement, error)

	// Transactions returns one page of transactions. It reads only the rows
	// of that page (keyset pagination over an index on account and booking
	// time), never an account's whole history.
	Transactions(ctx context.Context, q TransactionQuery) (TransactionPage, error)
}

// TransactionScanner is an optional fast path of BankReader.Transactions for
// a store that can hand over a page's transactions one at a time instead of
// as a slice: serving a page then needs no slice of a hundred transactions
// and their parts, which was most of the garbage a page made. Callers use it
// when the store has it (a type assertion) and Transactions otherwise; both
// read the same page.
type TransactionScanner interface {
	// ScanTransactions reads the page Transactions(ctx, q) would and calls
	// each with its transactions in the same order; the returned page has
	// the same figures and nil Transactions. The *Transaction, and
	// everything it points to, is only valid during the call: the store
	// reuses it for the next one. An error from each stops the scan and is
	// returned as it is. plain reports that every text field of the
	// transaction is PlainText, as recorded when it was stored (false when
	// unknown).
	ScanTransactions(ctx context.Context, q TransactionQuery, each func(t *Transaction, plain bool) error) (TransactionPage, error)
}

// BankWriter loads bank data: the demo seed, `obank import`, and later the
// ledger. Import writes everything in one database transaction: all of it
// lands or none does.
type BankWriter interface {
	Import(ctx context.Context, data *BankData) error
}

// BankData is a batch of bank records to load, in dependency order.
type BankData struct {
	Customers         []Customer
	Accounts          []Account
	AccountHolders    []AccountHolder
	Balances          []Balance
	Transactions      []Transaction
	Beneficiaries     []Beneficiary
	DirectDebits      []DirectDebit
	StandingOrders    []StandingOrder
	ScheduledPayments []ScheduledPayment
	Statements        []Statement
	Products          []Product
	Offers            []Offer
}

// GrantStore keeps access grants and the tokens bound to them.
type GrantStore interface {
	// CreateAccessGrant returns ErrConflict when the id exists.
	CreateAccessGrant(ctx context.Context, g AccessGrant) error
	// AccessGrant returns ErrNotFound for an unknown id.
	AccessGrant(ctx context.Context, id string) (AccessGrant, error)
	// CreateAccessToken returns ErrConflict when the hash exists.
	CreateAccessToken(ctx context.Context, t AccessToken) error
	// TokenGrant resolves a token hash to the token and, when the token is
	// bound to one, its grant, in one round trip. It returns ErrNotFound for
	// an unknown hash. It does not judge expiry or revocation: the caller
	// does, with its clock.
	TokenGrant(ctx context.Context, tokenHash string) (AccessToken, *AccessGrant, error)
	// RevokeGrant marks the grant and every token bound to it revoked at the
	// given time. ErrNotFound for an unknown id.
	RevokeGrant(ctx context.Context, id string, at time.Time) error
}

// CallRecorder stores resource-API calls in batches.
type CallRecorder interface {
	RecordAPICalls(ctx context.Context, calls []APICall) error
}

// Store is everything a backend provides.
type Store interface {
	BankReader
	BankWriter
	GrantStore
	CallRecorder
	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
	// Empty reports whether the bank holds no customers (a new store).
	Empty(ctx context.Context) (bool, error)
	Close() error
}

// StatementQuery selects statements.
type StatementQuery struct {
	AccountIDs []string
	From, To   *time.Time // statements must lie wholly inside [From, To]
}

// TransactionQuery selects one page of transactions. Transactions are
// ordered newest first: by BookingDateTime descending, then ID descending.
type TransactionQuery struct {
	AccountIDs []string
	// From and To bound BookingDateTime, both inclusive. The caller has
	// already intersected the TPP's filter with the consent's window.
	From, To *time.Time
	// WindowFrom and WindowTo are the consent's window alone; the store
	// reports the oldest and newest booking time inside it as the page's
	// FirstAvailable/LastAvailable.
	WindowFrom, WindowTo *time.Time
	// Credits and Debits choose the sides; at least one must be true.
	Credits, Debits bool
	PageSize        int
	Cursor          TxCursor
}

// TxCursorMode says where a page starts.
type TxCursorMode int

const (
	// CursorFirst is the newest PageSize rows.
	CursorFirst TxCursorMode = iota
	// CursorAfter is the PageSize rows older than Key.
	CursorAfter
	// CursorBefore is the PageSize rows newer than Key (the previous page).
	CursorBefore
	// CursorLast is the oldest page, aligned so every earlier page is full.
	CursorLast
	// CursorPage is page number Page counted from the newest, by offset.
	CursorPage
)

// TxKey is the position of one transaction in the page order.
type TxKey struct {
	BookingDateTime time.Time
	ID              string
}

// TxCursor is a position in a stable listing. Snapshot freezes the listing:
// rows stored after the first page was served (a higher insertion sequence)
// never appear on, or shift, later pages. Zero means "as of now".
type TxCursor struct {
	Snapshot int64
	Mode     TxCursorMode
	Key      TxKey // for CursorAfter and CursorBefore
	Page     int   // the 1-based number of the page this cursor lands on
	// Totals, when Known, are the Total, FirstAvailable and LastAvailable
	// the listing's first page reported as of Snapshot. A store serving a
	// cursor that carries them returns them unchanged instead of counting
	// again (they cannot change under a snapshot). They are ignored when
	// Snapshot is zero.
	Totals TxTotals
}

// TxTotals are the listing-wide figures of a TransactionPage, carried from
// page to page in a TxCursor.
type TxTotals struct {
	Known bool
	Total int
	// FirstAvailable and LastAvailable are zero when the consent window
	// holds no rows.
	FirstAvailable, LastAvailable time.Time
}

// Totals returns the page's listing-wide figures for the cursors of later
// pages.
func (p TransactionPage) Totals() TxTotals {
	t := TxTotals{Known: true, Total: p.Total}
	if p.FirstAvailable != nil && p.LastAvailable != nil {
		t.FirstAvailable, t.LastAvailable = *p.FirstAvailable, *p.LastAvailable
	}
	return t
}

// TransactionPage is one page of a transaction listing.
type TransactionPage struct {
	Transactions []Transaction
	// Snapshot is the insertion sequence the listing is frozen at; later
	// cursors must carry it.
	Snapshot int64
	// Total is the number of rows matching the query across all pages.
	Total int
	// FirstAvailable and LastAvailable are the oldest and newest booking
	// times inside the consent window (nil when there are none).
	FirstAvailable, LastAvailable *time.Time
}
