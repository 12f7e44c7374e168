package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ob"
)

// This file is events.Store: event subscriptions and the notification
// outbox (migration 0005).
//
// Claiming is one UPDATE ... WHERE jti IN (SELECT ... LIMIT n) RETURNING
// that sets the lease: on PostgreSQL the inner SELECT adds FOR UPDATE SKIP
// LOCKED, so concurrent claimers (other instances) take disjoint rows
// without waiting on each other, and a row whose lease another claimer
// just set fails the re-checked WHERE; on SQLite the single writer
// connection runs claims one after the other. Outcomes are recorded by
// conditional writes on status = 'pending', so an event acknowledged by
// polling while a push was in flight stays acknowledged.

var _ events.Store = (*Store)(nil)

// Subscriptions.

const subscriptionCols = `id, tpp_id, callback_url, version, event_types, created_at, updated_at`

func scanSubscription(row scanner) (events.Subscription, error) {
	var (
		s                events.Subscription
		types            sql.NullString
		created, updated int64
	)
	if err := row.Scan(&s.ID, &s.TPPID, &s.CallbackURL, &s.Version, &types, &created, &updated); err != nil {
		return events.Subscription{}, err
	}
	if err := decodeCol(types, &s.EventTypes); err != nil {
		return events.Subscription{}, err
	}
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return s, nil
}

// CreateSubscription stores a subscription; ob.ErrConflict when the TPP
// already has one or the id exists.
func (s *Store) CreateSubscription(ctx context.Context, sub events.Subscription) error {
	var e jsonEnc
	types := e.col(sub.EventTypes)
	if e.err != nil {
		return fmt.Errorf("sqlstore: create subscription: %w", e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO event_subscriptions (`+subscriptionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sub.ID, sub.TPPID, sub.CallbackURL, sub.Version, types, micros(sub.CreatedAt), micros(sub.UpdatedAt))
	if err != nil {
		return s.wrapErr(err, "create subscription for %q", sub.TPPID)
	}
	return nil
}

// Subscription returns one subscription; ob.ErrNotFound if unknown.
func (s *Store) Subscription(ctx context.Context, id string) (events.Subscription, error) {
	sub, err := scanSubscription(s.w.QueryRowContext(ctx,
		`SELECT `+subscriptionCols+` FROM event_subscriptions WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return events.Subscription{}, ob.ErrNotFound
	}
	if err != nil {
		return events.Subscription{}, fmt.Errorf("sqlstore: subscription %q: %w", id, err)
	}
	return sub, nil
}

// SubscriptionsByTPP lists a TPP's subscriptions.
func (s *Store) SubscriptionsByTPP(ctx context.Context, tppID string) ([]events.Subscription, error) {
	// A reader: every statement on a reader connection outside a
	// transaction sees everything committed (WAL on SQLite, READ COMMITTED
	// on PostgreSQL), so a TPP reading right after writing sees its write;
	// and the publisher calls this from inside the payment scheduler's write
	// transaction, where on SQLite the single writer connection is taken.
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+subscriptionCols+` FROM event_subscriptions WHERE tpp_id = $1 ORDER BY created_at, id`, tppID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: subscriptions of %q: %w", tppID, err)
	}
	defer rows.Close()
	out := []events.Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: subscriptions of %q: %w", tppID, err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: subscriptions of %q: %w", tppID, err)
	}
	return out, nil
}

// UpdateSubscription replaces a subscription's callback, version, types and
// update time; ob.ErrNotFound if unknown.
func (s *Store) UpdateSubscription(ctx context.Context, sub events.Subscription) error {
	var e jsonEnc
	types := e.col(sub.EventTypes)
	if e.err != nil {
		return fmt.Errorf("sqlstore: update subscription: %w", e.err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE event_subscriptions
		SET callback_url = $2, version = $3, event_types = $4, updated_at = $5 WHERE id = $1`,
		sub.ID, sub.CallbackURL, sub.Version, types, micros(sub.UpdatedAt))
	return s.oneRow(res, err, "update subscription %q", sub.ID)
}

// DeleteSubscription removes a subscription; ob.ErrNotFound if unknown.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM event_subscriptions WHERE id = $1`, id)
	return s.oneRow(res, err, "delete subscription %q", id)
}

// oneRow turns the result of a write by key into nil, ob.ErrNotFound (no
// row touched) or a wrapped error.
func (s *Store) oneRow(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return s.wrapErr(err, format, args...)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(err, format, args...)
	}
	if n == 0 {
		return ob.ErrNotFound
	}
	return nil
}

// The outbox.

const outboxCols = `jti, tpp_id, event_type, claims, callback_url, status, attempts, next_attempt_at,
	locked_until, last_error, set_err, set_err_description, created_at, delivered_at, acked_at`

func scanNotification(row scanner) (events.Notification, error) {
	var (
		n                          events.Notification
		claims, status             string
		next, created              int64
		locked, delivered, ackedAt sql.NullInt64
	)
	err := row.Scan(&n.JTI, &n.TPPID, &n.EventType, &claims, &n.CallbackURL, &status, &n.Attempts, &next,
		&locked, &n.LastError, &n.SetErr, &n.SetErrDescription, &created, &delivered, &ackedAt)
	if err != nil {
		return events.Notification{}, err
	}
	n.Claims, n.Status = []byte(claims), events.Status(status)
	n.NextAttemptAt, n.CreatedAt = fromMicros(next), fromMicros(created)
	n.LockedUntil, n.DeliveredAt, n.AckedAt = timePtr(locked), timePtr(delivered), timePtr(ackedAt)
	return n, nil
}

func scanNotifications(rows *sql.Rows) ([]events.Notification, error) {
	defer rows.Close()
	var out []events.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// EnqueueNotification writes an outbox row; ob.ErrConflict if the jti
// exists.
func (s *Store) EnqueueNotification(ctx context.Context, n events.Notification) error {
	return s.enqueueNotification(ctx, s.w, n)
}

// enqueueNotification writes an outbox row through q: the pool, or the
// transaction of the change the event reports.
func (s *Store) enqueueNotification(ctx context.Context, q querier, n events.Notification) error {
	_, err := q.ExecContext(ctx, `INSERT INTO event_outbox (`+outboxCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		n.JTI, n.TPPID, n.EventType, string(n.Claims), n.CallbackURL, string(n.Status), n.Attempts,
		micros(n.NextAttemptAt), nullMicros(n.LockedUntil), n.LastError, n.SetErr, n.SetErrDescription,
		micros(n.CreatedAt), nullMicros(n.DeliveredAt), nullMicros(n.AckedAt))
	if err != nil {
		return s.wrapErr(err, "enqueue notification %q", n.JTI)
	}
	return nil
}

// Notification returns one outbox row; ob.ErrNotFound if unknown.
func (s *Store) Notification(ctx context.Context, jti string) (events.Notification, error) {
	n, err := scanNotification(s.w.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM event_outbox WHERE jti = $1`, jti))
	if err == sql.ErrNoRows {
		return events.Notification{}, ob.ErrNotFound
	}
	if err != nil {
		return events.Notification{}, fmt.Errorf("sqlstore: notification %q: %w", jti, err)
	}
	return n, nil
}

// ClaimNotifications leases up to limit due pending rows until now+lease.
func (s *Store) ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]events.Notification, error) {
	if limit <= 0 {
		return nil, nil
	}
	lock := ""
	if s.dialect.Name == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.w.QueryContext(ctx, `UPDATE event_outbox SET locked_until = $1
		WHERE jti IN (SELECT jti FROM event_outbox
			WHERE status = 'pending' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2)
			ORDER BY next_attempt_at, jti LIMIT $3`+lock+`)
		RETURNING `+outboxCols,
		micros(now.Add(lease)), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim notifications: %w", err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim notifications: %w", err)
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b events.Notification) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.JTI, b.JTI)
	})
	return out, nil
}

// MarkDelivered records a successful push of a pending row.
func (s *Store) MarkDelivered(ctx context.Context, jti string, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE event_outbox
		SET status = 'delivered', delivered_at = $2, locked_until = NULL, last_error = ''
		WHERE jti = $1 AND status = 'pending'`, jti, micros(at))
	return s.touched(res, err, "mark %q delivered", jti)
}

// MarkAttempt records a failed push of a pending row.
func (s *Store) MarkAttempt(ctx context.Context, jti string, attempts int, next time.Time, dead bool, lastErr string) (bool, error) {
	status := events.StatusPending
	if dead {
		status = events.StatusFailed
	}
	res, err := s.w.ExecContext(ctx, `UPDATE event_outbox
		SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5, locked_until = NULL
		WHERE jti = $1 AND status = 'pending'`, jti, string(status), attempts, micros(next), lastErr)
	return s.touched(res, err, "record attempt on %q", jti)
}

// touched reports whether a conditional write changed a row.
func (s *Store) touched(res sql.Result, err error, format string, args ...any) (bool, error) {
	if err != nil {
		return false, s.wrapErr(err, format, args...)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.wrapErr(err, format, args...)
	}
	return n > 0, nil
}

// outstanding is the statuses polling serves.
const outstanding = `('pending', 'polling', 'failed')`

// PendingForPolling returns up to limit of the TPP's outstanding rows,
// oldest first, and whether more remain.
func (s *Store) PendingForPolling(ctx context.Context, tppID string, limit int) ([]events.Notification, bool, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT `+outboxCols+` FROM event_outbox
		WHERE tpp_id = $1 AND status IN `+outstanding+`
		ORDER BY created_at, jti LIMIT $2`, tppID, max(limit, 0)+1)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: events of %q: %w", tppID, err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: events of %q: %w", tppID, err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// AckNotifications marks the TPP's listed outstanding rows acknowledged.
func (s *Store) AckNotifications(ctx context.Context, tppID string, jtis []string, at time.Time) error {
	if len(jtis) == 0 {
		return nil
	}
	var p params
	q := `UPDATE event_outbox SET status = 'acked', acked_at = ` + p.add(micros(at)) + `, locked_until = NULL
		WHERE tpp_id = ` + p.add(tppID) + ` AND status IN ` + outstanding + ` AND jti IN ` + p.in(jtis)
	if _, err := s.w.ExecContext(ctx, q, p...); err != nil {
		return s.wrapErr(err, "ack events of %q", tppID)
	}
	return nil
}

// RejectNotifications records the TPP's negative acknowledgements.
func (s *Store) RejectNotifications(ctx context.Context, tppID string, errs map[string]events.SETError, at time.Time) error {
	if len(errs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrapErr(err, "reject events of %q", tppID)
	}
	defer tx.Rollback()
	for jti, e := range errs {
		_, err := tx.ExecContext(ctx, `UPDATE event_outbox
			SET status = 'rejected', set_err = $3, set_err_description = $4, acked_at = $5, locked_until = NULL
			WHERE jti = $1 AND tpp_id = $2 AND status IN `+outstanding, jti, tppID, e.Err, e.Description, micros(at))
		if err != nil {
			return s.wrapErr(err, "reject event %q", jti)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "reject events of %q", tppID)
	}
	return nil
}
