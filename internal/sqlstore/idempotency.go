package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// Idempotency of PIS POSTs (x-idempotency-key, SUMMARY §1).
//
// WithIdempotency runs a resource's creation and the recording of its key in
// one write transaction. It first claims the key with
//
//	INSERT ... ON CONFLICT (tpp_id, key) DO UPDATE ... WHERE expires_at <= now RETURNING
//
// which either inserts a fresh row, takes over an expired one, or does
// nothing because a live row exists. Concurrent requests with one key are
// decided by the primary key: on PostgreSQL the second INSERT waits on the
// first's uncommitted index entry until it commits (then sees the conflict
// and reads the winner's committed row; READ COMMITTED takes a new snapshot
// per statement) or rolls back (then inserts itself); on SQLite the single
// IMMEDIATE writer serialises the transactions outright. The claimed row is
// filled with the created resource's id and response before the commit, so
// no committed row is ever incomplete, and a failed creation rolls the
// claim back with it.
//
// A replay compares the request hash and the resource kind: equal, it
// returns the stored result (the handler answers 201 with it, or with the
// resource's current state read by ResourceID); different, it is refused
// with ErrIdempotencyMismatch and nothing changes (the spec: a changed body
// must not modify the resource).

// ErrIdempotencyMismatch is the refusal of a key reused with another body
// (or on another endpoint) within its 24 hours: 400 UK.OBIE.Header.Invalid
// on x-idempotency-key. The OBIE error codes have none specific to this;
// the header is what the TPP got wrong, so the header code names it
// (UK.OBIE.Resource.ConsentMismatch is kept for an Initiation that differs
// from its consent).
var ErrIdempotencyMismatch = &ob.Error{
	Code:    ob.CodeHeaderInvalid,
	Path:    ob.HeaderIdempotencyKey,
	Message: "this x-idempotency-key was used with a different request in the last 24 hours",
}

// IdempotencyRequest identifies one idempotent POST.
type IdempotencyRequest struct {
	TPPID string
	// Key is the x-idempotency-key (validated with
	// ob.ValidateIdempotencyKey).
	Key string
	// RequestHash is the SHA-256 of the request body as received
	// (HashBody). A retry must resend the same bytes, as its x-jws-signature
	// requires anyway.
	RequestHash []byte
	// Kind names the resource kind (e.g. "domestic-payment-consent"); the
	// same key on another kind is a mismatch.
	Kind string
	// Now is the request time; the key binds until Now+TTL.
	Now time.Time
	// TTL is ob.IdempotencyTTL when zero.
	TTL time.Duration
}

// IdempotentResult is what a creation produced, stored with the key and
// returned again to a replay.
type IdempotentResult struct {
	ResourceID string
	// Status is the HTTP status answered (201 when zero).
	Status int
	// Response is the response body answered.
	Response []byte
	// CreatedAt is when the key was first used (set by the store).
	CreatedAt time.Time
}

// HashBody returns the SHA-256 of a request body.
func HashBody(body []byte) []byte {
	h := sha256.Sum256(body)
	return h[:]
}

// WithIdempotency returns the stored result of req's key when it is live
// and was used with the same request (replayed true), refuses it with
// ErrIdempotencyMismatch when it was used with another, and otherwise runs
// create inside the write transaction that records the key, committing both
// or neither. create writes the resource through tx and must not commit or
// roll it back; its error is returned as is. See the comment above for how
// concurrent duplicates resolve to exactly one creation.
func (s *Store) WithIdempotency(ctx context.Context, req IdempotencyRequest, create func(tx *sql.Tx) (IdempotentResult, error)) (res IdempotentResult, replayed bool, err error) {
	if err := req.validate(); err != nil {
		return IdempotentResult{}, false, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return IdempotentResult{}, false, s.wrapErr(err, "idempotency: begin")
	}
	defer tx.Rollback()
	res, replayed, err = s.idempotentIn(ctx, tx, req, create)
	if err != nil || replayed {
		return res, replayed, err
	}
	if err := tx.Commit(); err != nil {
		return IdempotentResult{}, false, s.wrapErr(err, "idempotency: commit")
	}
	return res, false, nil
}

// validate checks what every idempotent request needs.
func (req IdempotencyRequest) validate() error {
	if err := ob.ValidateIdempotencyKey(req.Key); err != nil {
		return err
	}
	if req.TPPID == "" || req.Kind == "" || len(req.RequestHash) == 0 || req.Now.IsZero() {
		return errors.New("sqlstore: idempotency: TPP, kind, request hash and time are required")
	}
	return nil
}

// idempotentIn is WithIdempotency's work inside tx, which the caller
// commits unless it returns an error or a replay (a replay wrote nothing):
// claim the key, or answer from it when it is live; run create; record its
// result with the key.
func (s *Store) idempotentIn(ctx context.Context, tx *sql.Tx, req IdempotencyRequest, create func(tx *sql.Tx) (IdempotentResult, error)) (IdempotentResult, bool, error) {
	stored, live, err := s.claimKey(ctx, tx, req)
	if err != nil || live {
		return stored, live, err
	}
	res, err := create(tx)
	if err != nil {
		return IdempotentResult{}, false, err
	}
	if err := s.recordKey(ctx, tx, req, &res); err != nil {
		return IdempotentResult{}, false, err
	}
	return res, false, nil
}

// claimKey claims req's key in tx: it inserts a fresh row, or takes over an
// expired one, and reports live false. When the key is live it writes
// nothing and reports live true with the stored result if the request hash
// and kind are equal, ErrIdempotencyMismatch otherwise.
func (s *Store) claimKey(ctx context.Context, tx *sql.Tx, req IdempotencyRequest) (stored IdempotentResult, live bool, err error) {
	ttl := req.TTL
	if ttl <= 0 {
		ttl = ob.IdempotencyTTL
	}
	hash := hex.EncodeToString(req.RequestHash)
	now := micros(req.Now)
	var claimed string
	err = tx.QueryRowContext(ctx, `INSERT INTO idempotency_keys (tpp_id, key, request_hash, resource_kind,
		resource_id, response, status, created_at, expires_at)
		VALUES ($1, $2, $3, $4, '', NULL, 0, $5, $6)
		ON CONFLICT (tpp_id, key) DO UPDATE SET request_hash = excluded.request_hash,
			resource_kind = excluded.resource_kind, resource_id = '', response = NULL, status = 0,
			created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= $5
		RETURNING tpp_id`,
		req.TPPID, req.Key, hash, req.Kind, now, micros(req.Now.Add(ttl))).Scan(&claimed)
	switch {
	case err == nil:
		return IdempotentResult{}, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return IdempotentResult{}, false, s.wrapErr(err, "idempotency: claim key")
	}
	// A live key: replay or refuse.
	var (
		storedHash, kind string
		created          int64
	)
	err = tx.QueryRowContext(ctx, `SELECT request_hash, resource_kind, resource_id, response, status, created_at
		FROM idempotency_keys WHERE tpp_id = $1 AND key = $2`, req.TPPID, req.Key).
		Scan(&storedHash, &kind, &stored.ResourceID, &stored.Response, &stored.Status, &created)
	if err != nil {
		return IdempotentResult{}, false, s.wrapErr(err, "idempotency: read key")
	}
	if stored.Status == 0 {
		return IdempotentResult{}, false, fmt.Errorf("sqlstore: idempotency: key %q of %s is incomplete", req.Key, req.TPPID)
	}
	if storedHash != hash || kind != req.Kind {
		return IdempotentResult{}, false, ErrIdempotencyMismatch
	}
	stored.CreatedAt = fromMicros(created)
	return stored, true, nil
}

// recordKey fills the key claimed by claimKey in tx with what create
// produced, defaulting res's Status to 201 and Response to empty, and sets
// res.CreatedAt.
func (s *Store) recordKey(ctx context.Context, tx *sql.Tx, req IdempotencyRequest, res *IdempotentResult) error {
	if res.ResourceID == "" {
		return errors.New("sqlstore: idempotency: create returned no resource id")
	}
	if res.Status == 0 {
		res.Status = 201
	}
	if res.Response == nil {
		res.Response = []byte{}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET resource_id = $3, response = $4, status = $5
		WHERE tpp_id = $1 AND key = $2`, req.TPPID, req.Key, res.ResourceID, res.Response, res.Status); err != nil {
		return s.wrapErr(err, "idempotency: record key")
	}
	res.CreatedAt = fromMicros(micros(req.Now))
	return nil
}

// DeleteExpiredIdempotencyKeys removes up to limit keys expired at now (the
// janitor's sweep; an expired key is ignored, and replaced, even before it
// is swept) and returns how many it removed. On PostgreSQL the keys are
// locked as they are chosen, skipping any another transaction holds: two
// janitors take different keys rather than wait on each other, and a key
// that a new request is taking over (claimKey) is left to it rather than
// deleted once it is live again.
func (s *Store) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	r, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (tpp_id, key) IN
		(SELECT tpp_id, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2`+s.forUpdate(true)+`)`,
		micros(now), limit)
	if err != nil {
		return 0, s.wrapErr(err, "idempotency: delete expired")
	}
	n, err := r.RowsAffected()
	return int(n), err
}
