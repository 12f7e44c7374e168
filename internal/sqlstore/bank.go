package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/obank/obank/ob"
)

// This file is the read side of the bank (ob.BankReader) except transactions,
// which have their own file.

const customerCols = `id, username, password_hash, party_number, party_type, name, full_legal_name,
	legal_structure, email, phone, mobile, address, created_at, totp_secret`

func scanCustomer(sc scanner) (ob.Customer, error) {
	var (
		c       ob.Customer
		address sql.NullString
		created int64
	)
	err := sc.Scan(&c.ID, &c.Username, &c.PasswordHash, &c.PartyNumber, &c.PartyType, &c.Name,
		&c.FullLegalName, &c.LegalStructure, &c.Email, &c.Phone, &c.Mobile, &address, &created, &c.TOTPSecret)
	if err != nil {
		return c, err
	}
	c.CreatedAt = fromMicros(created)
	var a *addressJSON
	if err := decodeCol(address, &a); err != nil {
		return c, err
	}
	c.Address = a.domain()
	return c, nil
}

// Customer returns the customer with the id, or ob.ErrNotFound.
func (s *Store) Customer(ctx context.Context, id string) (ob.Customer, error) {
	c, err := findCustomer(ctx, s.r, `id`, id)
	if err == nil {
		err = s.openCustomer(&c)
	}
	if err != nil {
		return c, s.wrapErr(err, "customer %q", id)
	}
	return c, nil
}

// CustomerByUsername returns the customer with the login name, or
// ob.ErrNotFound. Customers without a login name cannot be found this way.
func (s *Store) CustomerByUsername(ctx context.Context, username string) (ob.Customer, error) {
	if username == "" {
		return ob.Customer{}, fmt.Errorf("sqlstore: customer by empty username: %w", ob.ErrNotFound)
	}
	c, err := findCustomer(ctx, s.r, `username`, username)
	if err == nil {
		err = s.openCustomer(&c)
	}
	if err != nil {
		return c, s.wrapErr(err, "customer by username")
	}
	return c, nil
}

// findCustomer looks a customer up by a unique column.
func findCustomer(ctx context.Context, q querier, col, v string) (ob.Customer, error) {
	c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE `+col+` = $1`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ob.ErrNotFound
	}
	return c, err
}

// Customers lists customers ordered by ID; limit <= 0 means all of them.
func (s *Store) Customers(ctx context.Context, limit int) ([]ob.Customer, error) {
	var p params
	query := `SELECT ` + customerCols + ` FROM customers ORDER BY id`
	if limit > 0 {
		query += ` LIMIT ` + p.add(limit)
	}
	cs, err := queryAll(ctx, s.r, scanCustomer, query, p...)
	if err != nil {
		return nil, s.wrapErr(err, "customers")
	}
	for i := range cs {
		if err := s.openCustomer(&cs[i]); err != nil {
			return nil, s.wrapErr(err, "customers")
		}
	}
	return cs, nil
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const accountCols = `id, customer_id, status, status_updated_at, currency, type, sub_type, description,
	nickname, opening_date, maturity_date, switch_status, identifications, servicer, product_id, created_at`

func scanAccount(sc scanner) (ob.Account, error) {
	var (
		a                         ob.Account
		statusAt, opened, created int64
		maturity                  sql.NullInt64
		idents, servicer          sql.NullString
	)
	err := sc.Scan(&a.ID, &a.CustomerID, &a.Status, &statusAt, &a.Currency, &a.Type, &a.SubType,
		&a.Description, &a.Nickname, &opened, &maturity, &a.SwitchStatus, &idents, &servicer,
		&a.ProductID, &created)
	if err != nil {
		return a, err
	}
	a.StatusUpdateDateTime = fromMicros(statusAt)
	a.OpeningDate = fromMicros(opened)
	a.MaturityDate = timePtr(maturity)
	a.CreatedAt = fromMicros(created)
	var (
		ids []accountIDJSON
		ag  *agentJSON
	)
	if err := decodeCol(idents, &ids); err != nil {
		return a, err
	}
	if err := decodeCol(servicer, &ag); err != nil {
		return a, err
	}
	a.Identifications = accountIDsDomain(ids)
	a.Servicer = ag.domain()
	return a, nil
}

// Account returns the account with the id, or ob.ErrNotFound.
func (s *Store) Account(ctx context.Context, id string) (ob.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err != nil {
		return a, s.wrapErr(err, "account %q", id)
	}
	return a, nil
}

// Accounts returns the accounts with the given ids, ordered by ID, skipping
// ids that do not exist.
func (s *Store) Accounts(ctx context.Context, ids []string) ([]ob.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var p params
	as, err := queryAll(ctx, s.r, scanAccount,
		`SELECT `+accountCols+` FROM accounts WHERE id IN `+p.in(ids)+` ORDER BY id`, p...)
	if err != nil {
		return nil, s.wrapErr(err, "accounts")
	}
	return as, nil
}

// AccountsByCustomer returns the accounts a customer holds, ordered by ID:
// those whose primary holder the customer is, and those an account-holder
// link gives them (joint accounts, delegates).
func (s *Store) AccountsByCustomer(ctx context.Context, customerID string) ([]ob.Account, error) {
	as, err := queryAll(ctx, s.r, scanAccount, `SELECT `+accountCols+` FROM accounts
		WHERE customer_id = $1 OR id IN (SELECT account_id FROM account_holders WHERE customer_id = $1)
		ORDER BY id`, customerID)
	if err != nil {
		return nil, s.wrapErr(err, "accounts of customer %q", customerID)
	}
	return as, nil
}

// AccountHolders returns who holds an account: the UK.OBIE.Principal first,
// then the others by customer ID.
func (s *Store) AccountHolders(ctx context.Context, accountID string) ([]ob.AccountHolder, error) {
	hs, err := queryAll(ctx, s.r, func(sc scanner) (ob.AccountHolder, error) {
		var h ob.AccountHolder
		err := sc.Scan(&h.AccountID, &h.CustomerID, &h.PartyType, &h.AccountRole)
		return h, err
	}, `SELECT account_id, customer_id, party_type, account_role FROM account_holders
		WHERE account_id = $1
		ORDER BY CASE WHEN account_role = 'UK.OBIE.Principal' THEN 0 ELSE 1 END, customer_id`, accountID)
	if err != nil {
		return nil, s.wrapErr(err, "holders of account %q", accountID)
	}
	return hs, nil
}

// perAccount lists the rows of a per-account table for the given accounts,
// ordered by (account_id, id) unless order says otherwise.
func perAccount[T any](ctx context.Context, s *Store, what, cols, table, order string, accountIDs []string, scan func(scanner) (T, error)) ([]T, error) {
	if len(accountIDs) == 0 {
		return nil, nil
	}
	if order == "" {
		order = `account_id, id`
	}
	var p params
	out, err := queryAll(ctx, s.r, scan,
		`SELECT `+cols+` FROM `+table+` WHERE account_id IN `+p.in(accountIDs)+` ORDER BY `+order, p...)
	if err != nil {
		return nil, s.wrapErr(err, "%s", what)
	}
	return out, nil
}

// Balances returns the balances of the accounts ordered by account, then
// type and time (balances have no id of their own).
func (s *Store) Balances(ctx context.Context, accountIDs []string) ([]ob.Balance, error) {
	return perAccount(ctx, s, "balances", `account_id, type, date_time, amount_minor, currency, credit_lines`,
		`balances`, `account_id, type, date_time`, accountIDs, func(sc scanner) (ob.Balance, error) {
			var (
				b     ob.Balance
				at    int64
				lines sql.NullString
			)
			if err := sc.Scan(&b.AccountID, &b.Type, &at, &b.Amount.Minor, &b.Amount.Currency, &lines); err != nil {
				return b, err
			}
			b.DateTime = fromMicros(at)
			var cls []creditLineJSON
			if err := decodeCol(lines, &cls); err != nil {
				return b, err
			}
			b.CreditLines = creditLinesDomain(cls)
			return b, nil
		})
}

// decodeCreditor decodes the creditor agent and account columns several
// tables share.
func decodeCreditor(agent, account sql.NullString) (*ob.Agent, *ob.AccountIdentification, error) {
	var (
		ag *agentJSON
		ac *accountIDJSON
	)
	if err := decodeCol(agent, &ag); err != nil {
		return nil, nil, err
	}
	if err := decodeCol(account, &ac); err != nil {
		return nil, nil, err
	}
	return ag.domain(), ac.domain(), nil
}

// Beneficiaries returns the accounts' beneficiaries ordered by (AccountID, ID).
func (s *Store) Beneficiaries(ctx context.Context, accountIDs []string) ([]ob.Beneficiary, error) {
	return perAccount(ctx, s, "beneficiaries", `account_id, id, type, reference, creditor_agent, creditor_account`,
		`beneficiaries`, ``, accountIDs, func(sc scanner) (ob.Beneficiary, error) {
			var (
				b           ob.Beneficiary
				agent, acct sql.NullString
			)
			if err := sc.Scan(&b.AccountID, &b.ID, &b.Type, &b.Reference, &agent, &acct); err != nil {
				return b, err
			}
			var err error
			b.CreditorAgent, b.CreditorAccount, err = decodeCreditor(agent, acct)
			return b, err
		})
}

// DirectDebits returns the accounts' direct debits ordered by (AccountID, ID).
func (s *Store) DirectDebits(ctx context.Context, accountIDs []string) ([]ob.DirectDebit, error) {
	return perAccount(ctx, s, "direct debits", `account_id, id, mandate_identification, status, name,
		previous_payment_time, frequency, previous_payment_minor, previous_payment_currency`,
		`direct_debits`, ``, accountIDs, func(sc scanner) (ob.DirectDebit, error) {
			var (
				d      ob.DirectDebit
				prevAt sql.NullInt64
				prev   moneyCols
			)
			err := sc.Scan(&d.AccountID, &d.ID, &d.MandateIdentification, &d.Status, &d.Name, &prevAt,
				&d.Frequency, &prev.Minor, &prev.Currency)
			d.PreviousPaymentDateTime = timePtr(prevAt)
			d.PreviousPaymentAmount = prev.ptr()
			return d, err
		})
}

// StandingOrders returns the accounts' standing orders ordered by (AccountID, ID).
func (s *Store) StandingOrders(ctx context.Context, accountIDs []string) ([]ob.StandingOrder, error) {
	return perAccount(ctx, s, "standing orders", `account_id, id, frequency, reference,
		first_payment_time, next_payment_time, last_payment_time, final_payment_time, number_of_payments, status,
		first_payment_minor, first_payment_currency, next_payment_minor, next_payment_currency,
		last_payment_minor, last_payment_currency, final_payment_minor, final_payment_currency,
		creditor_agent, creditor_account`,
		`standing_orders`, ``, accountIDs, func(sc scanner) (ob.StandingOrder, error) {
			var (
				o                         ob.StandingOrder
				first, next, last, final  sql.NullInt64
				firstA, nextA, lastA, fin moneyCols
				agent, acct               sql.NullString
			)
			err := sc.Scan(&o.AccountID, &o.ID, &o.Frequency, &o.Reference, &first, &next, &last, &final,
				&o.NumberOfPayments, &o.Status, &firstA.Minor, &firstA.Currency, &nextA.Minor, &nextA.Currency,
				&lastA.Minor, &lastA.Currency, &fin.Minor, &fin.Currency, &agent, &acct)
			if err != nil {
				return o, err
			}
			o.FirstPaymentDateTime, o.NextPaymentDateTime = timePtr(first), timePtr(next)
			o.LastPaymentDateTime, o.FinalPaymentDateTime = timePtr(last), timePtr(final)
			o.FirstPaymentAmount, o.NextPaymentAmount = firstA.ptr(), nextA.ptr()
			o.LastPaymentAmount, o.FinalPaymentAmount = lastA.ptr(), fin.ptr()
			o.CreditorAgent, o.CreditorAccount, err = decodeCreditor(agent, acct)
			return o, err
		})
}

// ScheduledPayments returns the accounts' scheduled payments ordered by
// (AccountID, ID).
func (s *Store) ScheduledPayments(ctx context.Context, accountIDs []string) ([]ob.ScheduledPayment, error) {
	return perAccount(ctx, s, "scheduled payments", `account_id, id, scheduled_time, scheduled_type, reference,
		debtor_reference, amount_minor, currency, creditor_agent, creditor_account`,
		`scheduled_payments`, ``, accountIDs, func(sc scanner) (ob.ScheduledPayment, error) {
			var (
				p           ob.ScheduledPayment
				at          int64
				agent, acct sql.NullString
			)
			err := sc.Scan(&p.AccountID, &p.ID, &at, &p.ScheduledType, &p.Reference, &p.DebtorReference,
				&p.InstructedAmount.Minor, &p.InstructedAmount.Currency, &agent, &acct)
			if err != nil {
				return p, err
			}
			p.ScheduledPaymentDateTime = fromMicros(at)
			p.CreditorAgent, p.CreditorAccount, err = decodeCreditor(agent, acct)
			return p, err
		})
}

// Products returns the accounts' products ordered by (AccountID, ID).
func (s *Store) Products(ctx context.Context, accountIDs []string) ([]ob.Product, error) {
	return perAccount(ctx, s, "products", `account_id, id, name, secondary_id, type, marketing_state_id`,
		`products`, ``, accountIDs, func(sc scanner) (ob.Product, error) {
			var p ob.Product
			err := sc.Scan(&p.AccountID, &p.ID, &p.Name, &p.SecondaryID, &p.Type, &p.MarketingStateID)
			return p, err
		})
}

// Offers returns the accounts' offers ordered by (AccountID, ID).
func (s *Store) Offers(ctx context.Context, accountIDs []string) ([]ob.Offer, error) {
	return perAccount(ctx, s, "offers", `account_id, id, type, description, start_time, end_time, rate,
		value, term, url, amount_minor, amount_currency, fee_minor, fee_currency`,
		`offers`, ``, accountIDs, func(sc scanner) (ob.Offer, error) {
			var (
				o           ob.Offer
				start, end  sql.NullInt64
				value       sql.NullInt64
				amount, fee moneyCols
			)
			err := sc.Scan(&o.AccountID, &o.ID, &o.Type, &o.Description, &start, &end, &o.Rate, &value,
				&o.Term, &o.URL, &amount.Minor, &amount.Currency, &fee.Minor, &fee.Currency)
			o.StartDateTime, o.EndDateTime = timePtr(start), timePtr(end)
			if value.Valid {
				o.Value = &value.Int64
			}
			o.Amount, o.Fee = amount.ptr(), fee.ptr()
			return o, err
		})
}

const statementCols = `account_id, id, reference, type, start_time, end_time, creation_time, detail`

func scanStatement(sc scanner) (ob.Statement, error) {
	var (
		st                       ob.Statement
		start, end, creationTime int64
		detail                   sql.NullString
	)
	if err := sc.Scan(&st.AccountID, &st.ID, &st.Reference, &st.Type, &start, &end, &creationTime, &detail); err != nil {
		return st, err
	}
	st.StartDateTime, st.EndDateTime, st.CreationDateTime = fromMicros(start), fromMicros(end), fromMicros(creationTime)
	var d statementDetailJSON
	if err := decodeCol(detail, &d); err != nil {
		return st, err
	}
	d.apply(&st)
	return st, nil
}

// Statements returns the accounts' statements ordered by (AccountID,
// StartDateTime, ID), only those lying wholly inside [From, To] when the
// bounds are set.
func (s *Store) Statements(ctx context.Context, q ob.StatementQuery) ([]ob.Statement, error) {
	if len(q.AccountIDs) == 0 {
		return nil, nil
	}
	var p params
	query := `SELECT ` + statementCols + ` FROM statements WHERE account_id IN ` + p.in(q.AccountIDs)
	if q.From != nil {
		query += ` AND start_time >= ` + p.add(micros(*q.From))
	}
	if q.To != nil {
		query += ` AND end_time <= ` + p.add(micros(*q.To))
	}
	query += ` ORDER BY account_id, start_time, id`
	sts, err := queryAll(ctx, s.r, scanStatement, query, p...)
	if err != nil {
		return nil, s.wrapErr(err, "statements")
	}
	return sts, nil
}

// Statement returns one statement of an account, or ob.ErrNotFound.
func (s *Store) Statement(ctx context.Context, accountID, statementID string) (ob.Statement, error) {
	st, err := scanStatement(s.r.QueryRowContext(ctx,
		`SELECT `+statementCols+` FROM statements WHERE account_id = $1 AND id = $2`, accountID, statementID))
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err != nil {
		return st, s.wrapErr(err, "statement %q of account %q", statementID, accountID)
	}
	return st, nil
}
