package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// This file implements webstore.Store: the records of the customer's pages.
// Each method is one statement (two for a lock), atomic on its own, so none
// opens a transaction.

var _ webstore.Store = (*Store)(nil)

const webSessionCols = `id, purpose, auth_session_id, csrf, customer_id, password_at, sca_at,
	created_at, last_seen_at, expires_at`

func scanWebSession(sc scanner) (webstore.Session, error) {
	var (
		s                          webstore.Session
		passwordAt, scaAt          sql.NullInt64
		created, lastSeen, expires int64
	)
	err := sc.Scan(&s.ID, &s.Purpose, &s.AuthSessionID, &s.CSRF, &s.CustomerID, &passwordAt, &scaAt,
		&created, &lastSeen, &expires)
	if err != nil {
		return s, err
	}
	s.PasswordAt, s.SCAAt = timePtr(passwordAt), timePtr(scaAt)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(lastSeen), fromMicros(expires)
	return s, nil
}

// CreateWebSession stores a new session; ob.ErrConflict when the id exists.
func (s *Store) CreateWebSession(ctx context.Context, ws webstore.Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO web_sessions (`+webSessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ws.ID, ws.Purpose, ws.AuthSessionID, ws.CSRF, ws.CustomerID, nullMicros(ws.PasswordAt),
		nullMicros(ws.SCAAt), micros(ws.CreatedAt), micros(ws.LastSeenAt), micros(ws.ExpiresAt))
	if err != nil {
		return s.wrapErr(err, "create web session")
	}
	return nil
}

// WebSession returns a session, expired or not; ob.ErrNotFound when unknown.
func (s *Store) WebSession(ctx context.Context, id string) (webstore.Session, error) {
	ws, err := scanWebSession(s.r.QueryRowContext(ctx, `SELECT `+webSessionCols+` FROM web_sessions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ws, s.wrapErr(ob.ErrNotFound, "web session")
	} else if err != nil {
		return ws, s.wrapErr(err, "web session")
	}
	return ws, nil
}

// UpdateWebSession saves the mutable fields of a session; ob.ErrNotFound
// when it does not exist (any more).
func (s *Store) UpdateWebSession(ctx context.Context, ws webstore.Session) error {
	res, err := s.w.ExecContext(ctx, `UPDATE web_sessions SET customer_id = $2, password_at = $3, sca_at = $4,
		last_seen_at = $5, expires_at = $6 WHERE id = $1`,
		ws.ID, ws.CustomerID, nullMicros(ws.PasswordAt), nullMicros(ws.SCAAt), micros(ws.LastSeenAt), micros(ws.ExpiresAt))
	if err != nil {
		return s.wrapErr(err, "update web session")
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrapErr(err, "update web session")
	} else if n == 0 {
		return s.wrapErr(ob.ErrNotFound, "update web session")
	}
	return nil
}

// DeleteWebSession removes a session if it exists.
func (s *Store) DeleteWebSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM web_sessions WHERE id = $1`, id); err != nil {
		return s.wrapErr(err, "delete web session")
	}
	return nil
}

// PurgeWebSessions deletes up to webSessionPurgeLimit sessions that expired
// before now and returns how many. The pages call it on every new
// authorization, so it is bounded to keep that request short; the janitor
// (PurgeExpired) deletes any backlog.
func (s *Store) PurgeWebSessions(ctx context.Context, now time.Time) (int, error) {
	return s.purge(ctx, webSessionsRule, now, webSessionPurgeLimit)
}

// webSessionPurgeLimit is how many sessions PurgeWebSessions deletes at
// most: more than one authorization's worth, so the table shrinks even
// without the janitor.
const webSessionPurgeLimit = 100

// LoginThrottle returns the failed-login state of username at now.
func (s *Store) LoginThrottle(ctx context.Context, username string, now time.Time) (webstore.LoginThrottle, error) {
	var (
		l      webstore.LoginThrottle
		locked sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT CASE WHEN updated_at < $2 THEN 0 ELSE failures END, locked_until
		FROM login_failures WHERE username = $1`, username, micros(failureWindowStart(now))).
		Scan(&l.Failures, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return webstore.LoginThrottle{}, nil
	} else if err != nil {
		return l, s.wrapErr(err, "login throttle")
	}
	l.LockedUntil = timePtr(locked)
	return l, nil
}

// failureWindowStart is the oldest time a login failure still counts at
// now. updated_at is the time of a row's last failure or lock (a success
// clears the count and touches nothing else), so a row updated before it
// counts no failures.
func failureWindowStart(now time.Time) time.Time { return now.Add(-webstore.LoginFailureWindow) }

// RecordLoginFailure counts a failure with an atomic upsert (concurrent
// failures on several instances are all counted) and locks the username on
// the max-th.
func (s *Store) RecordLoginFailure(ctx context.Context, username string, now time.Time, max int, lockFor time.Duration) (webstore.LoginThrottle, error) {
	var (
		l      webstore.LoginThrottle
		locked sql.NullInt64
	)
	err := s.w.QueryRowContext(ctx, `INSERT INTO login_failures (username, failures, locked_until, updated_at)
		VALUES ($1, 1, NULL, $2)
		ON CONFLICT (username) DO UPDATE SET
			failures = CASE WHEN login_failures.updated_at < $3 THEN 1 ELSE login_failures.failures + 1 END,
			updated_at = $2
		RETURNING failures, locked_until`, username, micros(now), micros(failureWindowStart(now))).Scan(&l.Failures, &locked)
	if err != nil {
		return l, s.wrapErr(err, "record login failure")
	}
	l.LockedUntil = timePtr(locked)
	if l.Failures < max {
		return l, nil
	}
	until := now.Add(lockFor)
	if _, err := s.w.ExecContext(ctx, `UPDATE login_failures SET failures = 0, locked_until = $2, updated_at = $3
		WHERE username = $1`, username, micros(until), micros(now)); err != nil {
		return l, s.wrapErr(err, "lock login")
	}
	return webstore.LoginThrottle{Failures: 0, LockedUntil: &until}, nil
}

// ClearLoginFailures resets the count of username, keeping any lock.
func (s *Store) ClearLoginFailures(ctx context.Context, username string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE login_failures SET failures = 0 WHERE username = $1`, username); err != nil {
		return s.wrapErr(err, "clear login failures")
	}
	return nil
}

// UseTOTPStep moves the customer's last used step forward to step, in one
// conditional upsert: no row changes when step is not newer, which is how a
// replay (or a race lost to another instance) shows.
func (s *Store) UseTOTPStep(ctx context.Context, customerID string, step int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO totp_steps (customer_id, last_step) VALUES ($1, $2)
		ON CONFLICT (customer_id) DO UPDATE SET last_step = excluded.last_step
		WHERE totp_steps.last_step < excluded.last_step`, customerID, step)
	if err != nil {
		return false, s.wrapErr(err, "use totp step")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.wrapErr(err, "use totp step")
	}
	return n == 1, nil
}

// RecordAudit stores an audit event.
func (s *Store) RecordAudit(ctx context.Context, e webstore.AuditEvent) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit_events (id, at, kind, customer_id, consent_id, client_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.ID, micros(e.At), e.Kind, e.CustomerID, e.ConsentID, e.ClientID, e.Detail)
	if err != nil {
		return s.wrapErr(err, "record audit event")
	}
	return nil
}

// AuditEvents lists a customer's audit events, oldest first.
func (s *Store) AuditEvents(ctx context.Context, customerID string) ([]webstore.AuditEvent, error) {
	es, err := queryAll(ctx, s.r, func(sc scanner) (webstore.AuditEvent, error) {
		var (
			e  webstore.AuditEvent
			at int64
		)
		err := sc.Scan(&e.ID, &at, &e.Kind, &e.CustomerID, &e.ConsentID, &e.ClientID, &e.Detail)
		e.At = fromMicros(at)
		return e, err
	}, `SELECT id, at, kind, customer_id, consent_id, client_id, detail FROM audit_events
		WHERE customer_id = $1 ORDER BY at, id`, customerID)
	if err != nil {
		return nil, s.wrapErr(err, "audit events")
	}
	return es, nil
}

// LastAPICall returns the time of the newest API call under grantID.
func (s *Store) LastAPICall(ctx context.Context, grantID string) (*time.Time, error) {
	var at sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(at) FROM api_calls WHERE grant_id = $1`, grantID).Scan(&at); err != nil {
		return nil, s.wrapErr(err, "last api call")
	}
	return timePtr(at), nil
}
