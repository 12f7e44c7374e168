package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/obank/obank/ob"
)

// This file is ob.ConsentStore.
//
// Every change to a consent is a read-modify-write inside one write
// transaction: the row is loaded with a lock (PostgreSQL: SELECT ... FOR
// UPDATE; SQLite: the writer's BEGIN IMMEDIATE already excludes every other
// writer), the domain transition runs on it, and the row is written back
// together with the access grant it implies. Two requests racing to
// authorise and delete the same consent therefore see each other's result
// instead of both succeeding.

var _ ob.ConsentStore = (*Store)(nil)

const consentCols = `id, kind, tpp_id, status, creation_date_time, status_update_date_time, permissions,
	expiration_date_time, transaction_from, transaction_to, customer_id, account_ids, deleted_at, payload`

// forUpdate returns the row-locking clause of a read-modify-write SELECT:
// FOR UPDATE on PostgreSQL (plus SKIP LOCKED for work-claiming queries),
// nothing on SQLite, which has no row locks and serialises writers instead.
func (s *Store) forUpdate(skipLocked bool) string {
	if s.dialect.Name == "sqlite" {
		return ""
	}
	if skipLocked {
		return " FOR UPDATE SKIP LOCKED"
	}
	return " FOR UPDATE"
}

// CreateConsent stores a new consent; ob.ErrConflict when the id exists.
func (s *Store) CreateConsent(ctx context.Context, c ob.Consent) error {
	args, err := consentArgs(c)
	if err != nil {
		return fmt.Errorf("sqlstore: create consent: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO consents (`+consentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
	if err != nil {
		return s.wrapErr(err, "create consent %q", c.ID)
	}
	return nil
}

// consentArgs returns the bind arguments of consentCols, in order.
func consentArgs(c ob.Consent) ([]any, error) {
	var e jsonEnc
	accounts := e.col(c.AccountIDs)
	if e.err != nil {
		return nil, e.err
	}
	var payload any
	if len(c.Payload) > 0 {
		payload = c.Payload
	}
	return []any{c.ID, string(c.Kind), c.TPPID, string(c.Status), micros(c.CreationDateTime),
		micros(c.StatusUpdateDateTime), c.Permissions.String(), nullMicros(c.ExpirationDateTime),
		nullMicros(c.TransactionFrom), nullMicros(c.TransactionTo), c.CustomerID, accounts,
		nullMicros(c.DeletedAt), payload}, nil
}

// scanConsent reads one row of consentCols.
func scanConsent(sc scanner) (ob.Consent, error) {
	var (
		c                          ob.Consent
		kind, status, perms        string
		created, updated           int64
		expires, from, to, deleted sql.NullInt64
		accounts                   sql.NullString
		payload                    []byte
	)
	err := sc.Scan(&c.ID, &kind, &c.TPPID, &status, &created, &updated, &perms, &expires, &from, &to,
		&c.CustomerID, &accounts, &deleted, &payload)
	if err != nil {
		return ob.Consent{}, err
	}
	c.Kind, c.Status = ob.ConsentKind(kind), ob.ConsentStatus(status)
	c.CreationDateTime, c.StatusUpdateDateTime = fromMicros(created), fromMicros(updated)
	c.Permissions = ob.ParsePermissions(perms)
	c.ExpirationDateTime, c.TransactionFrom, c.TransactionTo = timePtr(expires), timePtr(from), timePtr(to)
	c.DeletedAt = timePtr(deleted)
	if len(payload) > 0 {
		c.Payload = payload
	}
	if err := decodeCol(accounts, &c.AccountIDs); err != nil {
		return ob.Consent{}, err
	}
	return c, nil
}

// Consent returns the consent with the id, deleted ones included;
// ob.ErrNotFound for an unknown id.
func (s *Store) Consent(ctx context.Context, id string) (ob.Consent, error) {
	c, err := findConsent(ctx, s.r, id, "")
	if err != nil {
		return ob.Consent{}, s.wrapErr(err, "consent %q", id)
	}
	return c, nil
}

// findConsent loads one consent, with lock appended to the query.
func findConsent(ctx context.Context, q querier, id, lock string) (ob.Consent, error) {
	c, err := scanConsent(q.QueryRowContext(ctx, `SELECT `+consentCols+` FROM consents WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ob.Consent{}, ob.ErrNotFound
	}
	return c, err
}

// UpdateConsent applies change to the stored consent and saves it, in one
// transaction that also creates the access grant when the consent becomes
// Authorised and revokes the grant and its tokens when it leaves Authorised
// or is deleted. An error from change is returned unchanged and nothing is
// written. change may not change the consent's id.
func (s *Store) UpdateConsent(ctx context.Context, id string, now time.Time, change func(c *ob.Consent) error) (ob.Consent, error) {
	return s.UpdateConsentNotifying(ctx, id, now, change, nil)
}

// UpdateConsentNotifying is UpdateConsent that also writes the events
// reporting the change to the outbox in the same transaction (only when the
// change is saved).
func (s *Store) UpdateConsentNotifying(ctx context.Context, id string, now time.Time, change func(c *ob.Consent) error,
	notes []ob.EventNotification) (ob.Consent, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return ob.Consent{}, fmt.Errorf("sqlstore: update consent: begin: %w", err)
	}
	defer tx.Rollback()
	before, err := findConsent(ctx, tx, id, s.forUpdate(false))
	if err != nil {
		return ob.Consent{}, s.wrapErr(err, "update consent %q", id)
	}
	c := before
	// change gets its own slices: a failed change must not alter before.
	c.Permissions, c.AccountIDs = slices.Clone(before.Permissions), slices.Clone(before.AccountIDs)
	if err := change(&c); err != nil {
		return ob.Consent{}, err
	}
	if c.ID != id {
		return ob.Consent{}, fmt.Errorf("sqlstore: update consent %q: change altered the id to %q", id, c.ID)
	}
	if err := s.saveConsent(ctx, tx, before, c, now); err != nil {
		return ob.Consent{}, s.wrapErr(err, "update consent %q", id)
	}
	for _, n := range notes {
		if err := s.enqueueNotification(ctx, tx, n); err != nil {
			return ob.Consent{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return ob.Consent{}, s.wrapErr(err, "update consent %q: commit", id)
	}
	return c, nil
}

// saveConsent writes c over its row and applies the grant side effects of
// the change from before to c, inside tx.
func (s *Store) saveConsent(ctx context.Context, tx *sql.Tx, before, c ob.Consent, now time.Time) error {
	args, err := consentArgs(c)
	if err != nil {
		return err
	}
	// args[0] is the id; the rest follow consentCols' order.
	_, err = tx.ExecContext(ctx, `UPDATE consents SET kind = $2, tpp_id = $3, status = $4,
		creation_date_time = $5, status_update_date_time = $6, permissions = $7, expiration_date_time = $8,
		transaction_from = $9, transaction_to = $10, customer_id = $11, account_ids = $12, deleted_at = $13,
		payload = $14 WHERE id = $1`, args...)
	if err != nil {
		return err
	}
	wasAuthorised := before.Status == ob.ConsentAuthorised && before.DeletedAt == nil
	isAuthorised := c.Status == ob.ConsentAuthorised && c.DeletedAt == nil
	switch {
	case !wasAuthorised && isAuthorised:
		return insertGrant(ctx, tx, c.Grant())
	case wasAuthorised && !isAuthorised && c.Status != ob.ConsentConsumed:
		// A consumed payment consent keeps its grant until its tokens
		// expire: the TPP retrying the order with its idempotency key must
		// get the order it made, and a second order is refused by the
		// consent's status, not by a 401 that hides why.
		err := revokeGrant(ctx, tx, c.ID, micros(now))
		if errors.Is(err, ob.ErrNotFound) {
			// An authorised consent always has its grant; if a bug ever
			// lost it there are no tokens to revoke either.
			return nil
		}
		return err
	}
	return nil
}

// insertGrant stores an access grant inside a transaction (CreateAccessGrant
// writes through the pool, outside any).
func insertGrant(ctx context.Context, q querier, g ob.AccessGrant) error {
	var e jsonEnc
	accounts := e.col(g.AccountIDs)
	if e.err != nil {
		return e.err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO access_grants (id, tpp_id, customer_id, permissions,
		account_ids, transaction_from, transaction_to, expires_at, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		g.ID, g.TPPID, g.CustomerID, g.Permissions.String(), accounts, nullMicros(g.TransactionFrom),
		nullMicros(g.TransactionTo), nullMicros(g.ExpiresAt), micros(g.CreatedAt), nullMicros(g.RevokedAt))
	return err
}

// ConsentsByCustomer lists the consents a customer authorised, deleted and
// ended ones included, newest first.
func (s *Store) ConsentsByCustomer(ctx context.Context, customerID string) ([]ob.Consent, error) {
	if customerID == "" {
		// Unauthorised consents carry an empty customer: they belong to no one.
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+consentCols+` FROM consents WHERE customer_id = $1
		ORDER BY creation_date_time DESC, id DESC`, customerID)
	if err != nil {
		return nil, s.wrapErr(err, "consents of customer %q", customerID)
	}
	defer rows.Close()
	var out []ob.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, s.wrapErr(err, "consents of customer %q", customerID)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrapErr(err, "consents of customer %q", customerID)
	}
	return out, nil
}

// ExpireConsents applies ob.Consent.Expire to at most limit consents due at
// now, revokes the grants of those that were authorised, and returns the
// consents it changed. On PostgreSQL the due rows are claimed with FOR
// UPDATE SKIP LOCKED, so concurrent sweepers (several obank instances)
// take disjoint batches and never wait on each other or on a customer's
// request holding a consent; on SQLite the single writer serialises them.
func (s *Store) ExpireConsents(ctx context.Context, now time.Time, limit int) ([]ob.Consent, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: expire consents: begin: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+consentCols+` FROM consents
		WHERE status IN ($1, $2) AND expiration_date_time <= $3
		ORDER BY expiration_date_time, id LIMIT $4`+s.forUpdate(true),
		string(ob.ConsentAwaitingAuthorisation), string(ob.ConsentAuthorised), micros(now), limit)
	if err != nil {
		return nil, s.wrapErr(err, "expire consents")
	}
	var due []ob.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			rows.Close()
			return nil, s.wrapErr(err, "expire consents")
		}
		due = append(due, c)
	}
	// Close before writing: the transaction's connection must be free.
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, s.wrapErr(err, "expire consents")
	}
	var changed []ob.Consent
	for _, before := range due {
		c := before
		if !c.Expire(now) {
			continue
		}
		if err := s.saveConsent(ctx, tx, before, c, now); err != nil {
			return nil, s.wrapErr(err, "expire consent %q", c.ID)
		}
		changed = append(changed, c)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrapErr(err, "expire consents: commit")
	}
	return changed, nil
}
