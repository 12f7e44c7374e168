package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/obank/obank/events"
)

// This file is events.CallbackURLStore: legacy callback URLs, kept as
// event_subscriptions rows with legacy = 1 (migration 0008). The UNIQUE
// tpp_id of 0005 keeps a TPP at one callback URL or one subscription; the
// queries of events.go ignore the column, so the publisher sees a callback
// URL as a subscription to every event type.

var _ events.CallbackURLStore = (*Store)(nil)

// CreateCallbackURL stores a legacy callback URL; ob.ErrConflict when the
// TPP has a callback URL or a subscription, or the id exists.
func (s *Store) CreateCallbackURL(ctx context.Context, sub events.Subscription) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO event_subscriptions (`+subscriptionCols+`, legacy)
		VALUES ($1, $2, $3, $4, NULL, $5, $6, 1)`,
		sub.ID, sub.TPPID, sub.CallbackURL, sub.Version, micros(sub.CreatedAt), micros(sub.UpdatedAt))
	if err != nil {
		return s.wrapErr(err, "create callback URL for %q", sub.TPPID)
	}
	return nil
}

// CallbackURLsByTPP lists the TPP's callback URLs (zero or one).
func (s *Store) CallbackURLsByTPP(ctx context.Context, tppID string) ([]events.Subscription, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT `+subscriptionCols+` FROM event_subscriptions
		WHERE tpp_id = $1 AND legacy = 1 ORDER BY created_at, id`, tppID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: callback URLs of %q: %w", tppID, err)
	}
	defer rows.Close()
	out := []events.Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: callback URLs of %q: %w", tppID, err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: callback URLs of %q: %w", tppID, err)
	}
	return out, nil
}

// IsCallbackURL reports whether id is a legacy callback URL.
func (s *Store) IsCallbackURL(ctx context.Context, id string) (bool, error) {
	var legacy int
	err := s.w.QueryRowContext(ctx, `SELECT legacy FROM event_subscriptions WHERE id = $1`, id).Scan(&legacy)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: callback URL %q: %w", id, err)
	}
	return legacy == 1, nil
}

// UpdateCallbackURL replaces a callback URL's URL, version and update time;
// ob.ErrNotFound unless id is a callback URL.
func (s *Store) UpdateCallbackURL(ctx context.Context, sub events.Subscription) error {
	res, err := s.w.ExecContext(ctx, `UPDATE event_subscriptions
		SET callback_url = $2, version = $3, updated_at = $4 WHERE id = $1 AND legacy = 1`,
		sub.ID, sub.CallbackURL, sub.Version, micros(sub.UpdatedAt))
	return s.oneRow(res, err, "update callback URL %q", sub.ID)
}

// DeleteCallbackURL removes a callback URL; ob.ErrNotFound unless id is one.
func (s *Store) DeleteCallbackURL(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM event_subscriptions WHERE id = $1 AND legacy = 1`, id)
	return s.oneRow(res, err, "delete callback URL %q", id)
}

// SupersedeCallbackURL replaces the TPP's callback URL by the subscription
// sub in one transaction; false, changing nothing, if it has none.
func (s *Store) SupersedeCallbackURL(ctx context.Context, sub events.Subscription) (bool, error) {
	var e jsonEnc
	types := e.col(sub.EventTypes)
	if e.err != nil {
		return false, fmt.Errorf("sqlstore: supersede callback URL: %w", e.err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, s.wrapErr(err, "supersede callback URL of %q", sub.TPPID)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM event_subscriptions WHERE tpp_id = $1 AND legacy = 1`, sub.TPPID)
	if err != nil {
		return false, s.wrapErr(err, "supersede callback URL of %q", sub.TPPID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return false, s.wrapErr(err, "supersede callback URL of %q", sub.TPPID)
		}
		return false, nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO event_subscriptions (`+subscriptionCols+`, legacy)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
		sub.ID, sub.TPPID, sub.CallbackURL, sub.Version, types, micros(sub.CreatedAt), micros(sub.UpdatedAt))
	if err != nil {
		return false, s.wrapErr(err, "supersede callback URL of %q", sub.TPPID)
	}
	if err := tx.Commit(); err != nil {
		return false, s.wrapErr(err, "supersede callback URL of %q", sub.TPPID)
	}
	return true, nil
}
