// Package ledger is obank's double-entry ledger: the bank's source of truth
// for the balances of its customers' accounts and of its own accounts. Every
// movement of money is an Entry of balanced Postings, written by a Store in
// one database transaction together with the new account balances (and, in
// the SQL store, the AIS balances and transactions the customer sees).
//
// # Sign convention
//
// A Posting's Amount is signed from the account holder's point of view, the
// same convention as ob.Balance and ob.Transaction: positive credits the
// account (the bank owes its holder more), negative debits it. A customer
// paying 10.00 GBP to another customer is
//
//	{AccountID: payer, Amount: -1000 GBP}, {AccountID: payee, Amount: +1000 GBP}
//
// and an entry balances when, per currency, its postings sum to zero (debits
// equal credits). The bank's own accounts (settlement, equity, suspense) use
// the same convention, so the balances of all accounts of the ledger sum to
// zero per currency at every committed state; Verify proves it.
//
// # The bank's own accounts
//
// The bank's own accounts are created by the store on first use, one per
// currency, with ids built by SettlementAccount, ClearingAccount,
// EquityAccount and SuspenseAccount ("bank:settlement:GBP"...). They have
// no limit.
//
//   - Settlement: the bank's position in the payment scheme (a Faster
//     Payments participant's settlement account at the central bank). A
//     payment to another bank debits the customer and credits settlement; a
//     payment received from another bank debits settlement and credits the
//     customer.
//   - Clearing: payments to other banks accepted for a scheme that settles
//     later (Bacs, CHAPS after its cut-off). The customer is debited when
//     the bank accepts the payment (EntryOutboundAccepted), so the money
//     cannot be spent twice meanwhile, and clearing pays settlement when
//     the scheme moves it (EntryOutboundSettled). Its balance is what the
//     bank owes the schemes for payments accepted and not yet settled.
//   - Equity (opening balances): the counterpart of the opening entries that
//     bring balances that existed before the ledger (the demo bank, an
//     import) into it. Its balance is minus the sum of the opening balances.
//   - Suspense: money the bank holds while it cannot yet post it to its
//     final account (a returned payment, an unmatched credit). Payments use
//     it for anything that is neither booked nor refused.
//
// # Limits
//
// A customer account may not be debited below minus its limit: a posting
// that lowers the balance is refused (ErrInsufficientFunds) when the new
// balance would be below -Limit. Credits are always accepted, even to an
// account already past its limit. Account.Limit is the overdraft or credit
// line in minor units, stored with the ledger account (overdraft_limit) and
// taken, when the ledger opens an existing account, from the credit lines
// included in the account's InterimAvailable balance (0 when it has none).
// The bank's own accounts have no limit (Limit nil).
//
// Pending amounts (card authorisations shown in InterimAvailable) are not
// in the ledger: the funds check uses the booked balance and the limit.
package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// Error codes of the ledger. They are obank.* kinds: the payments layer
// turns them into a payment status (Rejected with a reason) or an OBIE error.
const (
	// CodeInsufficientFunds: a debit would take an account below its limit.
	CodeInsufficientFunds = "obank.Ledger.InsufficientFunds"
	// CodeUnbalanced: an entry's postings do not sum to zero per currency.
	CodeUnbalanced = "obank.Ledger.Unbalanced"
	// CodeInvalidEntry: an entry is malformed (too few postings, a zero
	// posting, an account in two currencies, a missing id...).
	CodeInvalidEntry = "obank.Ledger.InvalidEntry"
	// CodeUnknownAccount: a posting names an account the ledger does not
	// hold (a customer account not yet opened in the ledger, see Open).
	CodeUnknownAccount = "obank.Ledger.UnknownAccount"
	// CodeCurrencyMismatch: a posting's currency is not its account's.
	CodeCurrencyMismatch = "obank.Ledger.CurrencyMismatch"
)

// Sentinel errors. Errors the ledger returns wrap them (errors.Is works) and
// are *ob.Error (ob.ErrorCode works).
var (
	ErrInsufficientFunds = &ob.Error{Code: CodeInsufficientFunds, Message: "insufficient funds"}
	ErrUnbalanced        = &ob.Error{Code: CodeUnbalanced, Message: "entry does not balance"}
	ErrInvalidEntry      = &ob.Error{Code: CodeInvalidEntry, Message: "invalid ledger entry"}
	ErrUnknownAccount    = &ob.Error{Code: CodeUnknownAccount, Message: "unknown ledger account"}
	ErrCurrencyMismatch  = &ob.Error{Code: CodeCurrencyMismatch, Message: "currency differs from the account's"}
)

// errorf wraps a sentinel with detail for logs; the client-safe message
// stays the sentinel's.
func errorf(sentinel *ob.Error, format string, args ...any) error {
	return fmt.Errorf("ledger: "+format+": %w", append(args, sentinel)...)
}

// Refusedf returns an error wrapping ErrInsufficientFunds, for stores.
func Refusedf(format string, args ...any) error { return errorf(ErrInsufficientFunds, format, args...) }

// UnknownAccountf returns an error wrapping ErrUnknownAccount, for stores.
func UnknownAccountf(format string, args ...any) error {
	return errorf(ErrUnknownAccount, format, args...)
}

// CurrencyMismatchf returns an error wrapping ErrCurrencyMismatch, for stores.
func CurrencyMismatchf(format string, args ...any) error {
	return errorf(ErrCurrencyMismatch, format, args...)
}

// IsInsufficientFunds reports whether err is, or wraps, a refusal for funds.
func IsInsufficientFunds(err error) bool { return errors.Is(err, ErrInsufficientFunds) }

// Account kinds.
const (
	KindCustomer   = "customer"   // a customer's account: same id as ob.Account
	KindSettlement = "settlement" // the bank's settlement position, per currency
	KindClearing   = "clearing"   // payments accepted, not yet settled, per currency
	KindEquity     = "equity"     // opening balances, per currency
	KindSuspense   = "suspense"   // unallocated money, per currency
)

// bankPrefix starts the id of every bank-owned account. Customer account
// ids never start with it (ids of the demo and of imports are UUID-like).
const bankPrefix = "bank:"

// SettlementAccount is the id of the bank's settlement account in currency.
func SettlementAccount(currency string) string { return bankPrefix + KindSettlement + ":" + currency }

// ClearingAccount is the id of the bank's clearing account in currency.
func ClearingAccount(currency string) string { return bankPrefix + KindClearing + ":" + currency }

// EquityAccount is the id of the opening-balance (equity) account in currency.
func EquityAccount(currency string) string { return bankPrefix + KindEquity + ":" + currency }

// SuspenseAccount is the id of the bank's suspense account in currency.
func SuspenseAccount(currency string) string { return bankPrefix + KindSuspense + ":" + currency }

// BankAccount reports whether id names one of the bank's own accounts and
// returns its kind and currency.
func BankAccount(id string) (kind, currency string, ok bool) {
	rest, found := strings.CutPrefix(id, bankPrefix)
	if !found {
		return "", "", false
	}
	kind, currency, found = strings.Cut(rest, ":")
	if !found || !ob.ValidCurrency(currency) {
		return "", "", false
	}
	switch kind {
	case KindSettlement, KindClearing, KindEquity, KindSuspense:
		return kind, currency, true
	}
	return "", "", false
}

// Entry kinds the bank uses. Kind is free text to the store; these are the
// ones defined so far.
const (
	EntryOpening  = "Opening"  // an opening balance, see Open
	EntryInternal = "Internal" // a payment between two customers of the bank
	EntryOutbound = "Outbound" // a payment to another bank, through settlement
	// A payment to another bank whose scheme settles later: from the
	// customer to clearing when accepted, then from clearing to settlement.
	EntryOutboundAccepted = "OutboundAccepted"
	EntryOutboundSettled  = "OutboundSettled"
	EntryInbound          = "Inbound" // a payment from another bank, through settlement
)

// Posting is one leg of an entry: an amount credited (positive) or debited
// (negative) to one account.
type Posting struct {
	AccountID string
	Amount    ob.Money
	// Tx, when set, is the AIS transaction to show on a customer account
	// for this posting: the store fills ID (when empty: "<entry id>-<n>"),
	// AccountID, Amount, Status (Booked), BookingDateTime (the entry's At)
	// and BalanceAfter, and keeps the rest (references, bank transaction
	// code, counterparty...). A posting to a customer account without Tx
	// gets a plain transaction with the entry's Reference. Ignored for the
	// bank's own accounts, which have no AIS view.
	Tx *ob.Transaction
}

// Entry is one balanced movement of money.
type Entry struct {
	// ID is unique in the ledger: posting an entry whose id exists fails
	// with ob.ErrConflict, which is what stops a payment from moving money
	// twice. Payments use their own id.
	ID        string
	Kind      string
	Reference string
	Postings  []Posting
	// At is the booking time, required: stores have no clock of their own
	// (the caller's frozen per-request clock stamps the entry).
	At time.Time
}

// Validate checks that the entry can be posted: an id, at least two
// postings, no zero amount, a valid currency and one currency per account,
// and postings that sum to zero per currency. It returns an error wrapping
// ErrInvalidEntry or ErrUnbalanced, with the offending posting's path.
func (e *Entry) Validate() error {
	if e.ID == "" {
		return invalid("ID", "entry has no id")
	}
	if e.At.IsZero() {
		return invalid("At", "entry has no booking time")
	}
	if len(e.Postings) < 2 {
		return invalid("Postings", "entry has %d postings, needs at least two", len(e.Postings))
	}
	currencyOf := make(map[string]string, len(e.Postings))
	sums := make(map[string]int64)
	for i, p := range e.Postings {
		path := fmt.Sprintf("Postings[%d]", i)
		if p.AccountID == "" {
			return invalid(path+".AccountID", "posting has no account")
		}
		if !ob.ValidCurrency(p.Amount.Currency) {
			return invalid(path+".Amount.Currency", "currency %q is not an ISO 4217 code", p.Amount.Currency)
		}
		if p.Amount.Minor == 0 {
			return invalid(path+".Amount", "posting of zero")
		}
		if c, ok := currencyOf[p.AccountID]; ok && c != p.Amount.Currency {
			return invalid(path+".Amount.Currency", "account %s posted in %s and %s", p.AccountID, c, p.Amount.Currency)
		}
		if _, cur, ok := BankAccount(p.AccountID); ok && cur != p.Amount.Currency {
			return invalid(path+".Amount.Currency", "bank account %s takes %s only", p.AccountID, cur)
		}
		currencyOf[p.AccountID] = p.Amount.Currency
		s, ok := addChecked(sums[p.Amount.Currency], p.Amount.Minor)
		if !ok {
			return invalid(path+".Amount", "amounts overflow")
		}
		sums[p.Amount.Currency] = s
	}
	for _, cur := range slices.Sorted(maps.Keys(sums)) {
		if sums[cur] != 0 {
			return &ob.Error{Code: CodeUnbalanced, Path: "Postings",
				Message: fmt.Sprintf("postings in %s sum to %s, want zero", cur, ob.Money{Minor: sums[cur], Currency: cur}),
				Err:     ErrUnbalanced}
		}
	}
	return nil
}

func invalid(path, format string, args ...any) error {
	return &ob.Error{Code: CodeInvalidEntry, Path: path, Message: fmt.Sprintf(format, args...), Err: ErrInvalidEntry}
}

// addChecked adds without silent int64 overflow.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// AccountIDs returns the entry's distinct account ids, sorted: the order a
// store locks them in, so that concurrent entries never deadlock.
func (e *Entry) AccountIDs() []string {
	ids := make([]string, 0, len(e.Postings))
	for _, p := range e.Postings {
		ids = append(ids, p.AccountID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Transfer builds the two-posting entry moving amount (positive) from one
// account to another.
func Transfer(id, kind, reference string, from, to string, amount ob.Money, at time.Time) Entry {
	return Entry{ID: id, Kind: kind, Reference: reference, At: at, Postings: []Posting{
		{AccountID: from, Amount: amount.Neg()},
		{AccountID: to, Amount: amount},
	}}
}

// Account is a ledger account as the store holds it.
type Account struct {
	ID       string
	Kind     string // Kind*
	Currency string
	// Balance is the sum of the account's postings.
	Balance ob.Money
	// Limit is how far below zero a debit may take Balance (an overdraft or
	// credit line, in minor units); nil means no limit (the bank's own
	// accounts).
	Limit *int64
}

// Allows reports whether the account may take a posting of delta.
func (a Account) Allows(delta int64) bool {
	if delta >= 0 || a.Limit == nil {
		return true
	}
	next, ok := addChecked(a.Balance.Minor, delta)
	return ok && next >= -*a.Limit
}

// Outcome is what posting an entry did. Exactly one of Posted and Refused
// holds for an entry that was valid.
type Outcome struct {
	EntryID string
	// Posted: the postings are written and Balances are the new balances
	// of the entry's accounts.
	Posted   bool
	Balances map[string]ob.Money
	// Refused is the reason nothing was written (an error wrapping
	// ErrInsufficientFunds), when the entry was refused by a limit.
	Refused error
}

// Store keeps the ledger. Both SQL backends implement it
// (internal/sqlstore), held to the same behaviour by obtest.RunLedgerTests.
type Store interface {
	// Post validates e and writes its postings and the new balances of its
	// accounts in one database transaction, checking limits inside it. It
	// returns an error wrapping ErrInsufficientFunds (nothing written) when
	// a debit would pass an account's limit, ErrUnknownAccount,
	// ErrCurrencyMismatch, ErrInvalidEntry or ErrUnbalanced for a bad
	// entry, and ob.ErrConflict when an entry with the id exists.
	Post(ctx context.Context, e Entry) (Outcome, error)
	// LedgerAccount returns one account; an error wrapping
	// ErrUnknownAccount when the ledger has none with the id.
	LedgerAccount(ctx context.Context, id string) (Account, error)
	// OpenLedger brings every customer account the ledger does not hold yet
	// into it, with an opening entry (kind EntryOpening, id
	// OpeningEntryID(account)) against the equity account for its current
	// InterimBooked balance, and its limit from its credit lines. It is
	// idempotent and returns the number of accounts opened.
	OpenLedger(ctx context.Context, at time.Time) (int, error)
	// Verify checks the whole ledger; see Report.
	Verify(ctx context.Context) (Report, error)
}

// OpeningEntryID is the id of the opening entry of a customer account.
func OpeningEntryID(accountID string) string { return "opening:" + accountID }

// Open brings the accounts that exist outside the ledger into it (see
// Store.OpenLedger). The server calls it at start, and seeding calls it after
// Import; running it again does nothing.
func Open(ctx context.Context, s Store, at time.Time) (int, error) {
	n, err := s.OpenLedger(ctx, at)
	if err != nil {
		return n, fmt.Errorf("ledger: open: %w", err)
	}
	return n, nil
}

// Mismatch kinds of a Report.
const (
	// MismatchBalance: an account's stored balance is not the sum of its
	// postings.
	MismatchBalance = "balance"
	// MismatchAIS: a customer account's AIS InterimBooked balance is not its
	// ledger balance.
	MismatchAIS = "ais-balance"
	// MismatchCurrency: the ledger's balances do not sum to zero in a
	// currency.
	MismatchCurrency = "currency-total"
	// MismatchEntry: an entry's postings do not sum to zero.
	MismatchEntry = "entry"
	// MismatchUnopened: a customer account is not in the ledger.
	MismatchUnopened = "unopened"
)

// Mismatch is one problem Verify found.
type Mismatch struct {
	Kind string // Mismatch*
	// ID is the account, entry or currency the mismatch is about.
	ID string
	// Want is what the postings say; Got what is stored.
	Want, Got ob.Money
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s %s: want %s, got %s", m.Kind, m.ID, m.Want, m.Got)
}

// Report is the result of Verify: the ledger holds when Mismatches is empty.
// Verify proves that every account's balance equals the sum of its
// postings, that every entry and the whole ledger sum to zero per currency,
// that AIS InterimBooked balances equal ledger balances and that no customer
// account is outside the ledger. (Limits are not checked: an account may be
// below its limit legitimately, a loan opened in debit or a card whose limit
// was lowered; Post only refuses to debit it further.)
type Report struct {
	Accounts, Entries, Postings int
	// Totals is the sum of all balances per currency: zero when it holds.
	Totals     map[string]int64
	Mismatches []Mismatch
}

// OK reports whether the ledger verified.
func (r Report) OK() bool { return len(r.Mismatches) == 0 }

// Sort orders the mismatches by kind and id, for stable output.
func (r *Report) Sort() {
	slices.SortFunc(r.Mismatches, func(a, b Mismatch) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
}

// String summarises the report, one line per mismatch.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ledger: %d accounts, %d entries, %d postings", r.Accounts, r.Entries, r.Postings)
	if r.OK() {
		b.WriteString(": verified")
	} else {
		fmt.Fprintf(&b, ": %d mismatches", len(r.Mismatches))
		for _, m := range r.Mismatches {
			b.WriteString("\n  " + m.String())
		}
	}
	return b.String()
}
