package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// This file is oauth.Store: the authorization server's clients, JWT ids,
// sessions, codes, pushed requests, token families and signing keys.
//
// Every single-use record (a code, a pushed request, a session's completion,
// a JWT id, a refresh token's rotation) is consumed by one conditional write
// whose WHERE clause only matches an unused row, and success is judged by
// whether that write touched a row. Two racing requests therefore cannot
// both win: on PostgreSQL the second UPDATE waits for the first's row lock
// and then re-checks its WHERE clause against the committed row; on SQLite
// the single writer connection runs them one after the other. No
// read-then-write happens in application code.

var _ oauth.Store = (*Store)(nil)

// nullBytes stores a byte slice; empty becomes NULL (read back as nil).
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// notFoundOrConflict tells apart, after a conditional write touched no row,
// a record that does not exist (ob.ErrNotFound) from one that exists but was
// already used (ob.ErrConflict). Single-use records are never deleted, so
// the answer cannot change between the write and this read.
func notFoundOrConflict(ctx context.Context, q querier, table, keyCol string, key any) error {
	var exists bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE `+keyCol+` = $1)`, key).Scan(&exists)
	switch {
	case err != nil:
		return err
	case exists:
		return ob.ErrConflict
	default:
		return ob.ErrNotFound
	}
}

// Clients.

const clientCols = `id, software_id, org_id, org_name, name, roles, redirect_uris, scopes,
	grant_types, response_types, application_type, token_endpoint_auth_method,
	token_endpoint_auth_signing_alg, tls_client_auth_subject_dn, jwks, jwks_uri,
	id_token_signed_response_alg, id_token_encrypted_response_alg, id_token_encrypted_response_enc,
	request_object_signing_alg, logo_uri, client_uri, policy_uri, tos_uri, software_statement,
	metadata, created_at, updated_at`

// clientArgs returns the values of clientCols for c, in order.
func clientArgs(c *oauth.Client) ([]any, error) {
	var e jsonEnc
	args := []any{c.ID, c.SoftwareID, c.OrgID, c.OrgName, c.Name, e.col(c.Roles), e.col(c.RedirectURIs),
		e.col(c.Scopes), e.col(c.GrantTypes), e.col(c.ResponseTypes), c.ApplicationType,
		c.TokenEndpointAuthMethod, c.TokenEndpointAuthSigningAlg, c.TLSClientAuthSubjectDN,
		nullBytes(c.JWKS), c.JWKSURI, c.IDTokenSignedResponseAlg, c.IDTokenEncryptedResponseAlg,
		c.IDTokenEncryptedResponseEnc, c.RequestObjectSigningAlg, c.LogoURI, c.ClientURI, c.PolicyURI,
		c.TosURI, c.SoftwareStatement, nullBytes(c.Metadata), micros(c.CreatedAt), micros(c.UpdatedAt)}
	return args, e.err
}

func scanClient(row scanner) (oauth.Client, error) {
	var (
		c                                              oauth.Client
		roles, redirectURIs, scopes, grants, respTypes sql.NullString
		created, updated                               int64
	)
	err := row.Scan(&c.ID, &c.SoftwareID, &c.OrgID, &c.OrgName, &c.Name, &roles, &redirectURIs, &scopes,
		&grants, &respTypes, &c.ApplicationType, &c.TokenEndpointAuthMethod, &c.TokenEndpointAuthSigningAlg,
		&c.TLSClientAuthSubjectDN, &c.JWKS, &c.JWKSURI, &c.IDTokenSignedResponseAlg,
		&c.IDTokenEncryptedResponseAlg, &c.IDTokenEncryptedResponseEnc, &c.RequestObjectSigningAlg,
		&c.LogoURI, &c.ClientURI, &c.PolicyURI, &c.TosURI, &c.SoftwareStatement, &c.Metadata,
		&created, &updated)
	if err != nil {
		return oauth.Client{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	for _, d := range []struct {
		col sql.NullString
		dst *[]string
	}{{roles, &c.Roles}, {redirectURIs, &c.RedirectURIs}, {scopes, &c.Scopes}, {grants, &c.GrantTypes},
		{respTypes, &c.ResponseTypes}} {
		if err := decodeCol(d.col, d.dst); err != nil {
			return oauth.Client{}, err
		}
	}
	return c, nil
}

// CreateClient registers a client; ob.ErrConflict when the id exists, even
// as a deleted client: a client id is never reused.
func (s *Store) CreateClient(ctx context.Context, c oauth.Client) error {
	args, err := clientArgs(&c)
	if err != nil {
		return fmt.Errorf("sqlstore: create client %q: %w", c.ID, err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO oauth_clients (`+clientCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
		$20, $21, $22, $23, $24, $25, $26, $27, $28)`, args...)
	if err != nil {
		return s.wrapErr(err, "create client %q", c.ID)
	}
	return nil
}

// Client returns a registered client; ob.ErrNotFound for an unknown or
// deleted one.
func (s *Store) Client(ctx context.Context, id string) (oauth.Client, error) {
	c, err := scanClient(s.r.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oauth_clients
		WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err != nil {
		return oauth.Client{}, s.wrapErr(err, "client %q", id)
	}
	return c, nil
}

// UpdateClient replaces a client's metadata, keeping its CreatedAt;
// ob.ErrNotFound for an unknown or deleted one.
func (s *Store) UpdateClient(ctx context.Context, c oauth.Client) error {
	args, err := clientArgs(&c)
	if err != nil {
		return fmt.Errorf("sqlstore: update client %q: %w", c.ID, err)
	}
	// CreatedAt stays as registered: drop its argument (the 27th of
	// clientCols) so updated_at becomes $27.
	args = append(args[:26:26], args[27])
	res, err := s.w.ExecContext(ctx, `UPDATE oauth_clients SET software_id = $2, org_id = $3,
		org_name = $4, name = $5, roles = $6, redirect_uris = $7, scopes = $8, grant_types = $9,
		response_types = $10, application_type = $11, token_endpoint_auth_method = $12,
		token_endpoint_auth_signing_alg = $13, tls_client_auth_subject_dn = $14, jwks = $15,
		jwks_uri = $16, id_token_signed_response_alg = $17, id_token_encrypted_response_alg = $18,
		id_token_encrypted_response_enc = $19, request_object_signing_alg = $20, logo_uri = $21,
		client_uri = $22, policy_uri = $23, tos_uri = $24, software_statement = $25, metadata = $26,
		updated_at = $27
		WHERE id = $1 AND deleted_at IS NULL`, args...)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return s.wrapErr(err, "update client %q", c.ID)
	}
	return nil
}

// mustAffect returns ob.ErrNotFound when a write touched no row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ob.ErrNotFound
	}
	return nil
}

// DeleteClient marks the client deleted at at and, in the same transaction,
// revokes every access and refresh token issued to it; ob.ErrNotFound for an
// unknown or already deleted client. Tokens revoked before keep their time.
func (s *Store) DeleteClient(ctx context.Context, id string, at time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: delete client %q: begin: %w", id, err)
	}
	defer tx.Rollback()
	us := micros(at)
	res, err := tx.ExecContext(ctx, `UPDATE oauth_clients SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`, id, us)
	if err == nil {
		err = mustAffect(res)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = $2
			WHERE client_id = $1 AND revoked_at IS NULL`, id, us)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET revoked_at = $2
			WHERE client_id = $1 AND revoked_at IS NULL`, id, us)
	}
	if err != nil {
		return s.wrapErr(err, "delete client %q", id)
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "delete client %q: commit", id)
	}
	return nil
}

// JWT ids.

// UseJTI records jti as used in scope until expiresAt; ob.ErrConflict when
// it is recorded there and not expired at now. An entry is expired at now
// when expiresAt <= now ("not again before expiresAt"); such an entry is
// replaced, so a JWT id may come back once its earlier use has lapsed.
//
// Each call also deletes the one oldest expired entry, if any. That keeps the
// table no larger than the most entries ever live at once plus one (every
// call adds at most one row and removes one expired row when there is one)
// at the cost of one index probe, without a background job. Deleting a
// single row per statement also means two concurrent purges on PostgreSQL
// never hold locks the other waits for, so they cannot deadlock.
func (s *Store) UseJTI(ctx context.Context, scope, jti string, expiresAt, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM oauth_jtis WHERE (scope, jti) IN
		(SELECT scope, jti FROM oauth_jtis WHERE expires_at <= $1 ORDER BY expires_at LIMIT 1)`, micros(now))
	if err != nil {
		return fmt.Errorf("sqlstore: use jti: purge: %w", err)
	}
	// The insert and the replay check are one statement: a live entry makes
	// the DO UPDATE's WHERE false, so nothing is written and no row counts.
	res, err := s.w.ExecContext(ctx, `INSERT INTO oauth_jtis (scope, jti, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (scope, jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE oauth_jtis.expires_at <= $4`, scope, jti, micros(expiresAt), micros(now))
	if err != nil {
		return s.wrapErr(err, "use jti in scope %q", scope)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: use jti in scope %q: %w", scope, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: use jti in scope %q: replay: %w", scope, ob.ErrConflict)
	}
	return nil
}

// Authorization sessions.

// CreateAuthSession stores a session; ob.ErrConflict when the id exists.
func (s *Store) CreateAuthSession(ctx context.Context, a oauth.AuthSession) error {
	var e jsonEnc
	req := e.col(toAuthRequestJSON(a.Request))
	if e.err != nil {
		return fmt.Errorf("sqlstore: create auth session: %w", e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_auth_sessions (id, client_id, request, created_at,
		expires_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.ID, a.Request.ClientID, req, micros(a.CreatedAt), micros(a.ExpiresAt), nullMicros(a.CompletedAt))
	if err != nil {
		// Session ids travel in the browser; they stay out of messages.
		return s.wrapErr(err, "create auth session")
	}
	return nil
}

// AuthSession returns a session; ob.ErrNotFound for an unknown id.
func (s *Store) AuthSession(ctx context.Context, id string) (oauth.AuthSession, error) {
	var (
		a                oauth.AuthSession
		req              authRequestJSON
		reqCol           sql.NullString
		created, expires int64
		completed        sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT id, request, created_at, expires_at, completed_at
		FROM oauth_auth_sessions WHERE id = $1`, id).Scan(&a.ID, &reqCol, &created, &expires, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err == nil {
		err = decodeCol(reqCol, &req)
	}
	if err != nil {
		return oauth.AuthSession{}, s.wrapErr(err, "auth session")
	}
	a.Request = req.domain()
	a.CreatedAt, a.ExpiresAt, a.CompletedAt = fromMicros(created), fromMicros(expires), timePtr(completed)
	return a, nil
}

// CompleteAuthSession marks the session completed at at; ob.ErrConflict when
// it was completed before, ob.ErrNotFound for an unknown id.
func (s *Store) CompleteAuthSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE oauth_auth_sessions SET completed_at = $2
		WHERE id = $1 AND completed_at IS NULL`, id, micros(at))
	if err == nil {
		err = mustAffect(res)
	}
	if ob.IsNotFound(err) {
		err = notFoundOrConflict(ctx, s.w, "oauth_auth_sessions", "id", id)
	}
	if err != nil {
		return s.wrapErr(err, "complete auth session")
	}
	return nil
}

// Authorization codes.

const codeCols = `hash, session_id, client_id, request, customer_id, acr, auth_time, issued_at,
	expires_at, family_id, redeemed_at`

func scanCode(row scanner) (oauth.Code, error) {
	var (
		c                         oauth.Code
		req                       authRequestJSON
		reqCol                    sql.NullString
		authTime, issued, expires int64
		redeemed                  sql.NullInt64
	)
	err := row.Scan(&c.Hash, &c.SessionID, &c.ClientID, &reqCol, &c.CustomerID, &c.ACR, &authTime, &issued,
		&expires, &c.FamilyID, &redeemed)
	if err == nil {
		err = decodeCol(reqCol, &req)
	}
	if err != nil {
		return oauth.Code{}, err
	}
	c.Request = req.domain()
	c.AuthTime, c.IssuedAt, c.ExpiresAt = fromMicros(authTime), fromMicros(issued), fromMicros(expires)
	c.RedeemedAt = timePtr(redeemed)
	return c, nil
}

// CreateCode stores an authorization code; ob.ErrConflict on a hash clash.
func (s *Store) CreateCode(ctx context.Context, c oauth.Code) error {
	var e jsonEnc
	req := e.col(toAuthRequestJSON(c.Request))
	if e.err != nil {
		return fmt.Errorf("sqlstore: create code: %w", e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_codes (`+codeCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Hash, c.SessionID, c.ClientID, req, c.CustomerID, c.ACR, micros(c.AuthTime), micros(c.IssuedAt),
		micros(c.ExpiresAt), c.FamilyID, nullMicros(c.RedeemedAt))
	if err != nil {
		return s.wrapErr(err, "create code")
	}
	return nil
}

// RedeemCode marks the code redeemed at at and returns it. A code redeemed
// before is returned as stored (RedeemedAt of the first redemption) with
// ob.ErrConflict, so the caller can revoke the family; ob.ErrNotFound for an
// unknown hash. Expiry is the caller's to judge.
func (s *Store) RedeemCode(ctx context.Context, hash string, at time.Time) (oauth.Code, error) {
	c, err := useOnce(ctx, s, scanCode,
		`UPDATE oauth_codes SET redeemed_at = $2 WHERE hash = $1 AND redeemed_at IS NULL RETURNING `+codeCols,
		`SELECT `+codeCols+` FROM oauth_codes WHERE hash = $1`, hash, micros(at))
	if err != nil {
		return c, s.wrapErr(err, "redeem code")
	}
	return c, nil
}

// useOnce consumes a single-use record with update, a conditional UPDATE ...
// RETURNING that matches only an unused row, keyed by $1, and returns the
// row as updated. When it matches nothing, it reads the row with sel: a row
// found was used before (the stored row and ob.ErrConflict), none is
// ob.ErrNotFound. One statement decides, so no transaction is needed; the
// follow-up read goes to the writer so it sees the write that won.
func useOnce[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), update, sel string,
	key string, at int64) (T, error) {
	v, err := scan(s.w.QueryRowContext(ctx, update, key, at))
	if !errors.Is(err, sql.ErrNoRows) {
		return v, err
	}
	v, err = scan(s.w.QueryRowContext(ctx, sel, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return v, ob.ErrNotFound
	case err != nil:
		return v, err
	default:
		return v, ob.ErrConflict
	}
}

// Pushed authorization requests.

const parCols = `id, client_id, request, expires_at, used_at`

func scanPushedRequest(row scanner) (oauth.PushedRequest, error) {
	var (
		p       oauth.PushedRequest
		req     authRequestJSON
		reqCol  sql.NullString
		expires int64
		used    sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.ClientID, &reqCol, &expires, &used)
	if err == nil {
		err = decodeCol(reqCol, &req)
	}
	if err != nil {
		return oauth.PushedRequest{}, err
	}
	p.Request, p.ExpiresAt, p.UsedAt = req.domain(), fromMicros(expires), timePtr(used)
	return p, nil
}

// CreatePushedRequest stores a PAR request; ob.ErrConflict when the id exists.
func (s *Store) CreatePushedRequest(ctx context.Context, p oauth.PushedRequest) error {
	var e jsonEnc
	req := e.col(toAuthRequestJSON(p.Request))
	if e.err != nil {
		return fmt.Errorf("sqlstore: create pushed request: %w", e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_pushed_requests (`+parCols+`)
		VALUES ($1, $2, $3, $4, $5)`, p.ID, p.ClientID, req, micros(p.ExpiresAt), nullMicros(p.UsedAt))
	if err != nil {
		// The id is the request_uri's secret part; it stays out of messages.
		return s.wrapErr(err, "create pushed request for client %q", p.ClientID)
	}
	return nil
}

// UsePushedRequest marks the request used at at and returns it;
// ob.ErrNotFound for an unknown id, ob.ErrConflict (with the stored request)
// when used before.
func (s *Store) UsePushedRequest(ctx context.Context, id string, at time.Time) (oauth.PushedRequest, error) {
	p, err := useOnce(ctx, s, scanPushedRequest,
		`UPDATE oauth_pushed_requests SET used_at = $2 WHERE id = $1 AND used_at IS NULL RETURNING `+parCols,
		`SELECT `+parCols+` FROM oauth_pushed_requests WHERE id = $1`, id, micros(at))
	if err != nil {
		return p, s.wrapErr(err, "use pushed request")
	}
	return p, nil
}

// Tokens.

// insertAccessToken stores an access token with its family.
func insertAccessToken(ctx context.Context, q querier, t *ob.AccessToken) error {
	var e jsonEnc
	scopes := e.col(t.Scopes)
	if e.err != nil {
		return e.err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO access_tokens (hash, grant_id, client_id, scopes,
		cert_thumbprint, family_id, created_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.Hash, nullString(t.GrantID), t.ClientID, scopes, t.CertThumbprint, nullString(t.FamilyID),
		micros(t.CreatedAt), micros(t.ExpiresAt), nullMicros(t.RevokedAt))
	return err
}

const refreshCols = `hash, family_id, client_id, grant_id, customer_id, scopes, cert_thumbprint,
	issued_at, expires_at, rotated_at, replaced_by, revoked_at`

// insertRefreshToken stores a refresh token as given, including any
// rotation or revocation it already carries.
func insertRefreshToken(ctx context.Context, q querier, t *oauth.RefreshToken) error {
	var e jsonEnc
	scopes := e.col(t.Scopes)
	if e.err != nil {
		return e.err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (`+refreshCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		t.Hash, t.FamilyID, t.ClientID, t.GrantID, t.CustomerID, scopes, t.CertThumbprint,
		micros(t.IssuedAt), nullMicros(t.ExpiresAt), nullMicros(t.RotatedAt), nullString(t.ReplacedBy),
		nullMicros(t.RevokedAt))
	return err
}

// IssueTokens stores an access token and, when refresh is not nil, a refresh
// token, in one transaction: a token pair lands whole or not at all.
// ob.ErrConflict on a hash clash. An access token whose GrantID names no
// access grant is refused by the foreign key (an internal error).
func (s *Store) IssueTokens(ctx context.Context, access ob.AccessToken, refresh *oauth.RefreshToken) error {
	if refresh == nil {
		// One statement is atomic on its own; a transaction would only add
		// round trips.
		if err := insertAccessToken(ctx, s.w, &access); err != nil {
			return s.wrapErr(err, "issue tokens: access token")
		}
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: issue tokens: begin: %w", err)
	}
	defer tx.Rollback()
	if err := insertAccessToken(ctx, tx, &access); err != nil {
		return s.wrapErr(err, "issue tokens: access token")
	}
	if err := insertRefreshToken(ctx, tx, refresh); err != nil {
		return s.wrapErr(err, "issue tokens: refresh token")
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "issue tokens: commit")
	}
	return nil
}

// AccessToken returns an access token by hash, with its family;
// ob.ErrNotFound when unknown. Expiry and revocation are the caller's to
// judge.
func (s *Store) AccessToken(ctx context.Context, hash string) (ob.AccessToken, error) {
	var (
		t                         ob.AccessToken
		grantID, scopes, familyID sql.NullString
		created, expires          int64
		revoked                   sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT hash, grant_id, client_id, scopes, cert_thumbprint, family_id,
		created_at, expires_at, revoked_at FROM access_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &grantID, &t.ClientID, &scopes, &t.CertThumbprint, &familyID, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err == nil {
		err = decodeCol(scopes, &t.Scopes)
	}
	if err != nil {
		return ob.AccessToken{}, s.wrapErr(err, "access token")
	}
	t.GrantID, t.FamilyID = grantID.String, familyID.String
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), timePtr(revoked)
	return t, nil
}

// RefreshToken returns a refresh token by hash; ob.ErrNotFound when unknown.
func (s *Store) RefreshToken(ctx context.Context, hash string) (oauth.RefreshToken, error) {
	var (
		t                         oauth.RefreshToken
		scopes, replacedBy        sql.NullString
		issued                    int64
		expires, rotated, revoked sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM oauth_refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.FamilyID, &t.ClientID, &t.GrantID, &t.CustomerID, &scopes, &t.CertThumbprint,
			&issued, &expires, &rotated, &replacedBy, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		err = ob.ErrNotFound
	}
	if err == nil {
		err = decodeCol(scopes, &t.Scopes)
	}
	if err != nil {
		return oauth.RefreshToken{}, s.wrapErr(err, "refresh token")
	}
	t.ReplacedBy = replacedBy.String
	t.IssuedAt, t.ExpiresAt = fromMicros(issued), timePtr(expires)
	t.RotatedAt, t.RevokedAt = timePtr(rotated), timePtr(revoked)
	return t, nil
}

// RotateRefreshToken, in one transaction, marks the refresh token oldHash
// rotated at at (replaced by refresh.Hash) and stores the new access and
// refresh tokens. ob.ErrConflict when oldHash was already rotated or
// revoked, ob.ErrNotFound when unknown; nothing is written then. Expiry is
// the caller's to judge.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, at time.Time, access ob.AccessToken,
	refresh oauth.RefreshToken) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: begin: %w", err)
	}
	defer tx.Rollback()
	// The conditional update is the lock: a concurrent rotation of the same
	// token waits for this transaction and then matches no row.
	res, err := tx.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET rotated_at = $2, replaced_by = $3
		WHERE hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL`, oldHash, micros(at), refresh.Hash)
	if err == nil {
		err = mustAffect(res)
	}
	if ob.IsNotFound(err) {
		err = notFoundOrConflict(ctx, tx, "oauth_refresh_tokens", "hash", oldHash)
	}
	if err != nil {
		return s.wrapErr(err, "rotate refresh token")
	}
	if err := insertAccessToken(ctx, tx, &access); err != nil {
		return s.wrapErr(err, "rotate refresh token: access token")
	}
	if err := insertRefreshToken(ctx, tx, &refresh); err != nil {
		return s.wrapErr(err, "rotate refresh token: refresh token")
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "rotate refresh token: commit")
	}
	return nil
}

// RevokeFamily revokes every access and refresh token of the family at at,
// in one transaction. Tokens revoked before keep their time. An empty family
// id is refused: client-credentials tokens have none, and revoking "every
// token without a family" is never what a caller means.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	if familyID == "" {
		return errors.New("sqlstore: revoke family: empty family id")
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke family %q: begin: %w", familyID, err)
	}
	defer tx.Rollback()
	us := micros(at)
	_, err = tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = $2
		WHERE family_id = $1 AND revoked_at IS NULL`, familyID, us)
	if err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET revoked_at = $2
			WHERE family_id = $1 AND revoked_at IS NULL`, familyID, us)
	}
	if err != nil {
		return s.wrapErr(err, "revoke family %q", familyID)
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "revoke family %q: commit", familyID)
	}
	return nil
}

// RevokeAccessToken revokes one access token at at; an unknown hash is not
// an error (RFC 7009 §2.2), and a token revoked before keeps its time.
func (s *Store) RevokeAccessToken(ctx context.Context, hash string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = $2
		WHERE hash = $1 AND revoked_at IS NULL`, hash, micros(at))
	if err != nil {
		return s.wrapErr(err, "revoke access token")
	}
	return nil
}

// Signing keys.

// SigningKeys returns the keys still published at now (PublishUntil unset or
// after now), newest first (by CreatedAt, then KID, descending).
func (s *Store) SigningKeys(ctx context.Context, now time.Time) ([]oauth.SigningKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kid, alg, sealed_key, cert_chain, created_at, retired_at,
		publish_until FROM oauth_signing_keys WHERE publish_until IS NULL OR publish_until > $1
		ORDER BY created_at DESC, kid DESC`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	defer rows.Close()
	var keys []oauth.SigningKey
	for rows.Next() {
		var (
			k                     oauth.SigningKey
			chain                 sql.NullString
			created               int64
			retired, publishUntil sql.NullInt64
		)
		if err := rows.Scan(&k.KID, &k.Alg, &k.SealedKey, &chain, &created, &retired, &publishUntil); err != nil {
			return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
		}
		if err := decodeCol(chain, &k.CertChain); err != nil {
			return nil, fmt.Errorf("sqlstore: signing key %q: %w", k.KID, err)
		}
		k.CreatedAt, k.RetiredAt, k.PublishUntil = fromMicros(created), timePtr(retired), timePtr(publishUntil)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	return keys, nil
}

// CreateSigningKey stores a new key; ob.ErrConflict when the kid exists.
func (s *Store) CreateSigningKey(ctx context.Context, k oauth.SigningKey) error {
	if len(k.SealedKey) == 0 {
		return fmt.Errorf("sqlstore: create signing key %q: no sealed key", k.KID)
	}
	var e jsonEnc
	chain := e.col(k.CertChain) // [][]byte encodes as base64 strings
	if e.err != nil {
		return fmt.Errorf("sqlstore: create signing key %q: %w", k.KID, e.err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_signing_keys (kid, alg, sealed_key, cert_chain,
		created_at, retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.KID, k.Alg, k.SealedKey, chain, micros(k.CreatedAt), nullMicros(k.RetiredAt), nullMicros(k.PublishUntil))
	if err != nil {
		return s.wrapErr(err, "create signing key %q", k.KID)
	}
	return nil
}

// ResealSigningKey replaces a key's sealed form old with sealed;
// ob.ErrConflict when the stored form is not old (another instance resealed
// it), ob.ErrNotFound for an unknown kid.
func (s *Store) ResealSigningKey(ctx context.Context, kid string, old, sealed []byte) error {
	if len(sealed) == 0 {
		return fmt.Errorf("sqlstore: reseal signing key %q: no sealed key", kid)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE oauth_signing_keys SET sealed_key = $3 WHERE kid = $1 AND sealed_key = $2`,
		kid, old, sealed)
	if err != nil {
		return s.wrapErr(err, "reseal signing key %q", kid)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrapErr(err, "reseal signing key %q", kid)
	} else if n == 1 {
		return nil
	}
	var exists int
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_signing_keys WHERE kid = $1`, kid).Scan(&exists); err != nil {
		return s.wrapErr(err, "reseal signing key %q", kid)
	}
	if exists == 0 {
		return fmt.Errorf("sqlstore: reseal signing key %q: %w", kid, ob.ErrNotFound)
	}
	return fmt.Errorf("sqlstore: reseal signing key %q: %w", kid, ob.ErrConflict)
}

// RetireSigningKey stops the key signing at at and keeps it published until
// publishUntil; ob.ErrNotFound for an unknown kid. Retiring again keeps the
// first retirement time but moves the end of publication, so an operator can
// shorten or extend the window.
func (s *Store) RetireSigningKey(ctx context.Context, kid string, at, publishUntil time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE oauth_signing_keys SET retired_at = COALESCE(retired_at, $2),
		publish_until = $3 WHERE kid = $1`, kid, micros(at), micros(publishUntil))
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return s.wrapErr(err, "retire signing key %q", kid)
	}
	return nil
}
