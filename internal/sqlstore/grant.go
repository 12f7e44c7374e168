package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// This file is ob.GrantStore and ob.CallRecorder.

// CreateAccessGrant stores a grant; ob.ErrConflict when the id exists.
func (s *Store) CreateAccessGrant(ctx context.Context, g ob.AccessGrant) error {
	var e jsonEnc
	accounts := e.col(g.AccountIDs)
	if e.err != nil {
		return fmt.Errorf("sqlstore: create access grant: %w", e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO access_grants (id, tpp_id, customer_id, permissions,
		account_ids, transaction_from, transaction_to, expires_at, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		g.ID, g.TPPID, g.CustomerID, g.Permissions.String(), accounts, nullMicros(g.TransactionFrom),
		nullMicros(g.TransactionTo), nullMicros(g.ExpiresAt), micros(g.CreatedAt), nullMicros(g.RevokedAt))
	if err != nil {
		return s.wrapErr(err, "create access grant %q", g.ID)
	}
	return nil
}

const grantCols = `g.id, g.tpp_id, g.customer_id, g.permissions, g.account_ids, g.transaction_from,
	g.transaction_to, g.expires_at, g.created_at, g.revoked_at`

// grantRow scans grantCols; every column is nullable so that it also serves
// the LEFT JOIN of a token without a grant.
type grantRow struct {
	ID, TPPID, CustomerID, Permissions, AccountIDs sql.NullString
	From, To, Expires, Created, Revoked            sql.NullInt64
}

func (r *grantRow) dest() []any {
	return []any{&r.ID, &r.TPPID, &r.CustomerID, &r.Permissions, &r.AccountIDs, &r.From, &r.To,
		&r.Expires, &r.Created, &r.Revoked}
}

// grant converts the row; nil when the row is a LEFT JOIN miss.
func (r *grantRow) grant() (*ob.AccessGrant, error) {
	if !r.ID.Valid {
		return nil, nil
	}
	g := &ob.AccessGrant{
		ID:              r.ID.String,
		TPPID:           r.TPPID.String,
		CustomerID:      r.CustomerID.String,
		Permissions:     ob.ParsePermissions(r.Permissions.String),
		TransactionFrom: timePtr(r.From),
		TransactionTo:   timePtr(r.To),
		ExpiresAt:       timePtr(r.Expires),
		CreatedAt:       fromMicros(r.Created.Int64),
		RevokedAt:       timePtr(r.Revoked),
	}
	if err := decodeCol(r.AccountIDs, &g.AccountIDs); err != nil {
		return nil, err
	}
	return g, nil
}

// AccessGrant returns the grant with the id, or ob.ErrNotFound.
func (s *Store) AccessGrant(ctx context.Context, id string) (ob.AccessGrant, error) {
	var r grantRow
	err := s.r.QueryRowContext(ctx, `SELECT `+grantCols+` FROM access_grants g WHERE g.id = $1`, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err != nil {
		return ob.AccessGrant{}, s.wrapErr(err, "access grant %q", id)
	}
	g, err := r.grant()
	if err != nil {
		return ob.AccessGrant{}, fmt.Errorf("sqlstore: access grant %q: %w", id, err)
	}
	return *g, nil
}

// CreateAccessToken stores a token; ob.ErrConflict when the hash exists. A
// GrantID naming no grant is an internal error (the foreign key refuses it).
func (s *Store) CreateAccessToken(ctx context.Context, t ob.AccessToken) error {
	var e jsonEnc
	scopes := e.col(t.Scopes)
	if e.err != nil {
		return fmt.Errorf("sqlstore: create access token: %w", e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO access_tokens (hash, grant_id, client_id, scopes,
		cert_thumbprint, created_at, expires_at, revoked_at, family_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.Hash, nullString(t.GrantID), t.ClientID, scopes, t.CertThumbprint, micros(t.CreatedAt),
		micros(t.ExpiresAt), nullMicros(t.RevokedAt), nullString(t.FamilyID))
	if err != nil {
		// The hash stays out of the message: it is a credential's lookup key.
		return s.wrapErr(err, "create access token")
	}
	return nil
}

const tokenGrantSQL = `SELECT t.hash, t.grant_id, t.client_id, t.scopes, t.cert_thumbprint,
	t.created_at, t.expires_at, t.revoked_at, t.family_id, ` + grantCols + `
	FROM access_tokens t LEFT JOIN access_grants g ON g.id = t.grant_id
	WHERE t.hash = $1`

// TokenGrant returns the token with the hash and its grant, if it has one,
// with a single query; ob.ErrNotFound for an unknown hash.
func (s *Store) TokenGrant(ctx context.Context, tokenHash string) (ob.AccessToken, *ob.AccessGrant, error) {
	var (
		t                ob.AccessToken
		grantID, scopes  sql.NullString
		familyID         sql.NullString
		created, expires int64
		revoked          sql.NullInt64
		g                grantRow
	)
	dest := append([]any{&t.Hash, &grantID, &t.ClientID, &scopes, &t.CertThumbprint, &created, &expires, &revoked,
		&familyID}, g.dest()...)
	// Every authenticated request runs this: prepare it once.
	st, err := s.stmts.stmt(ctx, s.r, tokenGrantSQL)
	if err == nil {
		err = st.QueryRowContext(ctx, tokenHash).Scan(dest...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err != nil {
		return ob.AccessToken{}, nil, s.wrapErr(err, "token grant")
	}
	t.GrantID, t.FamilyID = grantID.String, familyID.String
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), timePtr(revoked)
	if err := decodeCol(scopes, &t.Scopes); err != nil {
		return ob.AccessToken{}, nil, fmt.Errorf("sqlstore: token grant: %w", err)
	}
	grant, err := g.grant()
	if err != nil {
		return ob.AccessToken{}, nil, fmt.Errorf("sqlstore: token grant: %w", err)
	}
	return t, grant, nil
}

// RevokeGrant marks the grant and its tokens revoked at the given time;
// ob.ErrNotFound for an unknown id. Revoking again keeps the first time:
// revocation is a fact that happened once.
func (s *Store) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	return s.RevokeGrantNotifying(ctx, id, at, nil)
}

// RevokeGrantNotifying is RevokeGrant that also writes the events reporting
// the revocation to the outbox in the same transaction: the TPP hears of
// the revocation if and only if it happened.
func (s *Store) RevokeGrantNotifying(ctx context.Context, id string, at time.Time, notes []ob.EventNotification) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke grant: begin: %w", err)
	}
	defer tx.Rollback()
	if err := revokeGrant(ctx, tx, id, micros(at)); err != nil {
		return s.wrapErr(err, "revoke grant %q", id)
	}
	for _, n := range notes {
		if err := s.enqueueNotification(ctx, tx, n); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "revoke grant %q: commit", id)
	}
	return nil
}

func revokeGrant(ctx context.Context, tx querier, id string, at int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE access_grants SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, at)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ob.ErrNotFound
	}
	_, err = tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1`, id, at)
	if err != nil {
		return err
	}
	// Refresh tokens too: a revoked consent must not mint new access tokens.
	_, err = tx.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1`, id, at)
	return err
}

// RecordAPICalls stores a batch of resource-API calls in one transaction.
func (s *Store) RecordAPICalls(ctx context.Context, calls []ob.APICall) error {
	if len(calls) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: record api calls: begin: %w", err)
	}
	defer tx.Rollback()
	ins := newInserter(tx, s.dialect, "api_calls", []string{"interaction_id", "client_id", "grant_id",
		"method", "route", "status", "latency_micros", "fapi_auth_date", "customer_ip_address",
		"customer_user_agent", "at"})
	defer ins.close()
	for _, c := range calls {
		err := ins.add(ctx, c.InteractionID, c.ClientID, c.GrantID, c.Method, c.Route, c.Status,
			c.LatencyMicros, c.FAPIAuthDate, c.CustomerIPAddress, c.CustomerUserAgent, micros(c.At))
		if err != nil {
			return s.wrapErr(err, "record api calls")
		}
	}
	if err := ins.flush(ctx); err != nil {
		return s.wrapErr(err, "record api calls")
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "record api calls: commit")
	}
	return nil
}
