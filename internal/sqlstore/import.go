package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/obank/obank/ob"
)

// maxBatchRows caps the rows of one multi-row INSERT. Beyond a few hundred
// rows the statement text grows without making inserts faster.
const maxBatchRows = 500

// Import writes the batch in one transaction: all of it lands or none does.
// Rows are written with prepared multi-row INSERT statements, which is what
// makes seeding 150,000 transactions take seconds rather than minutes. A
// record whose key exists already fails the whole import with ob.ErrConflict.
func (s *Store) Import(ctx context.Context, data *ob.BankData) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: import: begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.importData(ctx, tx, data); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "import: commit")
	}
	return nil
}

func (s *Store) importData(ctx context.Context, tx *sql.Tx, d *ob.BankData) error {
	txCols, seq, err := s.txInsertColumns(ctx, tx, len(d.Transactions))
	if err != nil {
		return s.wrapErr(err, "import transactions")
	}
	steps := []struct {
		table string
		cols  []string
		n     int
		row   func(i int, e *jsonEnc) []any
	}{
		{"customers", []string{"id", "username", "password_hash", "party_number", "party_type", "name",
			"full_legal_name", "legal_structure", "email", "phone", "mobile", "address", "created_at", "totp_secret"},
			len(d.Customers), func(i int, e *jsonEnc) []any {
				c := &d.Customers[i]
				totp, err := s.sealTOTP(c.ID, c.TOTPSecret)
				if err != nil && e.err == nil {
					e.err = err
				}
				return []any{c.ID, c.Username, c.PasswordHash, c.PartyNumber, c.PartyType, c.Name,
					c.FullLegalName, c.LegalStructure, c.Email, c.Phone, c.Mobile,
					e.col(toAddressJSON(c.Address)), micros(c.CreatedAt), totp}
			}},
		{"accounts", []string{"id", "customer_id", "status", "status_updated_at", "currency", "type",
			"sub_type", "description", "nickname", "opening_date", "maturity_date", "switch_status",
			"identifications", "servicer", "product_id", "created_at"},
			len(d.Accounts), func(i int, e *jsonEnc) []any {
				a := &d.Accounts[i]
				return []any{a.ID, a.CustomerID, a.Status, micros(a.StatusUpdateDateTime), a.Currency, a.Type,
					a.SubType, a.Description, a.Nickname, micros(a.OpeningDate), nullMicros(a.MaturityDate),
					a.SwitchStatus, e.col(toAccountIDsJSON(a.Identifications)), e.col(toAgentJSON(a.Servicer)),
					a.ProductID, micros(a.CreatedAt)}
			}},
		{"account_holders", []string{"account_id", "customer_id", "party_type", "account_role"},
			len(d.AccountHolders), func(i int, e *jsonEnc) []any {
				h := &d.AccountHolders[i]
				return []any{h.AccountID, h.CustomerID, h.PartyType, h.AccountRole}
			}},
		{"balances", []string{"account_id", "type", "date_time", "amount_minor", "currency", "credit_lines"},
			len(d.Balances), func(i int, e *jsonEnc) []any {
				b := &d.Balances[i]
				return []any{b.AccountID, b.Type, micros(b.DateTime), b.Amount.Minor, b.Amount.Currency,
					e.col(toCreditLinesJSON(b.CreditLines))}
			}},
		{"transactions", txCols, len(d.Transactions), func(i int, e *jsonEnc) []any {
			t := &d.Transactions[i]
			row := []any{t.ID, t.AccountID, micros(t.BookingDateTime), t.Amount.Minor, encodeTxRecord(t), encodeRiskRecord(t)}
			if seq > 0 {
				row = append(row, seq+int64(i))
			}
			return row
		}},
		{"beneficiaries", []string{"account_id", "id", "type", "reference", "creditor_agent", "creditor_account"},
			len(d.Beneficiaries), func(i int, e *jsonEnc) []any {
				b := &d.Beneficiaries[i]
				return []any{b.AccountID, b.ID, b.Type, b.Reference, e.col(toAgentJSON(b.CreditorAgent)),
					e.col(toAccountIDJSON(b.CreditorAccount))}
			}},
		{"direct_debits", []string{"account_id", "id", "mandate_identification", "status", "name",
			"previous_payment_time", "frequency", "previous_payment_minor", "previous_payment_currency"},
			len(d.DirectDebits), func(i int, e *jsonEnc) []any {
				dd := &d.DirectDebits[i]
				minor, ccy := nullMoney(dd.PreviousPaymentAmount)
				return []any{dd.AccountID, dd.ID, dd.MandateIdentification, dd.Status, dd.Name,
					nullMicros(dd.PreviousPaymentDateTime), dd.Frequency, minor, ccy}
			}},
		{"standing_orders", []string{"account_id", "id", "frequency", "reference", "first_payment_time",
			"next_payment_time", "last_payment_time", "final_payment_time", "number_of_payments", "status",
			"first_payment_minor", "first_payment_currency", "next_payment_minor", "next_payment_currency",
			"last_payment_minor", "last_payment_currency", "final_payment_minor", "final_payment_currency",
			"creditor_agent", "creditor_account"},
			len(d.StandingOrders), func(i int, e *jsonEnc) []any {
				o := &d.StandingOrders[i]
				firstM, firstC := nullMoney(o.FirstPaymentAmount)
				nextM, nextC := nullMoney(o.NextPaymentAmount)
				lastM, lastC := nullMoney(o.LastPaymentAmount)
				finalM, finalC := nullMoney(o.FinalPaymentAmount)
				return []any{o.AccountID, o.ID, o.Frequency, o.Reference, nullMicros(o.FirstPaymentDateTime),
					nullMicros(o.NextPaymentDateTime), nullMicros(o.LastPaymentDateTime),
					nullMicros(o.FinalPaymentDateTime), o.NumberOfPayments, o.Status, firstM, firstC,
					nextM, nextC, lastM, lastC, finalM, finalC, e.col(toAgentJSON(o.CreditorAgent)),
					e.col(toAccountIDJSON(o.CreditorAccount))}
			}},
		{"scheduled_payments", []string{"account_id", "id", "scheduled_time", "scheduled_type", "reference",
			"debtor_reference", "amount_minor", "currency", "creditor_agent", "creditor_account"},
			len(d.ScheduledPayments), func(i int, e *jsonEnc) []any {
				p := &d.ScheduledPayments[i]
				return []any{p.AccountID, p.ID, micros(p.ScheduledPaymentDateTime), p.ScheduledType, p.Reference,
					p.DebtorReference, p.InstructedAmount.Minor, p.InstructedAmount.Currency,
					e.col(toAgentJSON(p.CreditorAgent)), e.col(toAccountIDJSON(p.CreditorAccount))}
			}},
		{"statements", []string{"account_id", "id", "reference", "type", "start_time", "end_time",
			"creation_time", "detail"},
			len(d.Statements), func(i int, e *jsonEnc) []any {
				st := &d.Statements[i]
				return []any{st.AccountID, st.ID, st.Reference, st.Type, micros(st.StartDateTime),
					micros(st.EndDateTime), micros(st.CreationDateTime), e.col(toStatementDetailJSON(st))}
			}},
		{"products", []string{"account_id", "id", "name", "secondary_id", "type", "marketing_state_id"},
			len(d.Products), func(i int, e *jsonEnc) []any {
				p := &d.Products[i]
				return []any{p.AccountID, p.ID, p.Name, p.SecondaryID, p.Type, p.MarketingStateID}
			}},
		{"offers", []string{"account_id", "id", "type", "description", "start_time", "end_time", "rate",
			"value", "term", "url", "amount_minor", "amount_currency", "fee_minor", "fee_currency"},
			len(d.Offers), func(i int, e *jsonEnc) []any {
				o := &d.Offers[i]
				amountM, amountC := nullMoney(o.Amount)
				feeM, feeC := nullMoney(o.Fee)
				var value any
				if o.Value != nil {
					value = *o.Value
				}
				return []any{o.AccountID, o.ID, o.Type, o.Description, nullMicros(o.StartDateTime),
					nullMicros(o.EndDateTime), o.Rate, value, o.Term, o.URL, amountM, amountC, feeM, feeC}
			}},
	}
	for _, st := range steps {
		if st.n == 0 {
			continue
		}
		ins := newInserter(tx, s.dialect, st.table, st.cols)
		var enc jsonEnc
		for i := range st.n {
			row := st.row(i, &enc)
			if enc.err != nil {
				return fmt.Errorf("sqlstore: import %s: %w", st.table, enc.err)
			}
			if err := ins.add(ctx, row...); err != nil {
				ins.close()
				return s.wrapErr(err, "import %s", st.table)
			}
		}
		err := ins.flush(ctx)
		ins.close()
		if err != nil {
			return s.wrapErr(err, "import %s", st.table)
		}
	}
	// Index the accounts' identifications (account_identifiers, 0009).
	if err := s.importIdentifiers(ctx, tx, d.Accounts); err != nil {
		return err
	}
	// Account for the transactions in the same database transaction.
	if err := addTxStats(ctx, tx, d.Transactions); err != nil {
		return s.wrapErr(err, "import")
	}
	return nil
}

// inserter writes rows into one table with multi-row INSERT statements. Full
// batches reuse one prepared statement; the remainder is sent once, unprepared.
type inserter struct {
	tx      *sql.Tx
	bare    bool // "?" placeholders, see Dialect.BarePlaceholders
	table   string
	cols    []string
	perStmt int       // rows in a full batch
	suffix  string    // appended to every statement (an ON CONFLICT clause)
	full    *sql.Stmt // prepared on first use
	args    []any
	rows    int
}

func newInserter(tx *sql.Tx, d Dialect, table string, cols []string) *inserter {
	per := min(maxBatchRows, d.MaxParams/len(cols))
	return &inserter{tx: tx, bare: d.BarePlaceholders, table: table, cols: cols, perStmt: per,
		args: make([]any, 0, per*len(cols))}
}

// add queues one row (one value per column) and writes a full batch.
func (b *inserter) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows < b.perStmt {
		return nil
	}
	return b.flush(ctx)
}

// flush writes the queued rows.
func (b *inserter) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	var err error
	if b.rows == b.perStmt {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(ctx, b.query(b.rows)); err != nil {
				return err
			}
		}
		_, err = b.full.ExecContext(ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(ctx, b.query(b.rows), b.args...)
	}
	// The driver is done with the arguments once Exec returns: reuse them.
	clear(b.args)
	b.args, b.rows = b.args[:0], 0
	return err
}

// query returns INSERT INTO table (cols) VALUES ($1,...),(...) for n rows,
// or with "?" placeholders.
func (b *inserter) query(n int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	k := 1
	for r := range n {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := range b.cols {
			if c > 0 {
				sb.WriteByte(',')
			}
			if b.bare {
				sb.WriteByte('?')
			} else {
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(k))
			}
			k++
		}
		sb.WriteByte(')')
	}
	sb.WriteString(b.suffix)
	return sb.String()
}

func (b *inserter) close() {
	if b.full != nil {
		b.full.Close()
	}
}
