package sqlstore

import (
	"context"
	"time"

	"github.com/obank/obank/web/webstore"
)

// This file is the janitor's purge of the short-lived security records
// that nothing can use any more. Each table has one rule: the condition that
// makes a row dead, against a cutoff of now minus the table's retention (a
// row goes once its end is before the cutoff). The retentions keep a row a
// while after it stopped working: for replay detection (codes, refresh
// tokens), for instances whose clocks disagree, and for whoever
// investigates. Nothing else is touched: consents, payments, the ledger,
// the AIS data, the audit trail and the API-call log are records.
//
// Every column a rule compares with the cutoff is indexed (web_sessions in
// migration 0004, the others in 0011), so a purge that finds nothing reads
// an index, not a table.

// Retention of ended rows, counted from the time each rule names.
const (
	// OAuthRetention is how long authorization sessions, authorization
	// codes, pushed requests, access tokens and refresh tokens are kept
	// after their expires_at.
	//
	// Codes and refresh tokens are kept past their end so that a replay
	// is still recognised: a redeemed code presented again makes the token
	// endpoint revoke the code's family (RFC 6749 §4.1.2), and so does a
	// rotated refresh token. Within the code's life (60 s by default) and for a day
	// after it, the replay still finds the row; afterwards it finds none
	// and is refused as an unknown code or token (invalid_grant) without
	// the revocation. A family's last access token can outlive its refresh
	// token by at most the access-token TTL (1 h by default), so the day
	// also keeps every live token of a family revocable by a refresh
	// replay. An expired access token is refused anyway; deleting it only
	// changes "expired" into "unknown".
	OAuthRetention = 24 * time.Hour

	// LoginFailureRetention is how long a login_failures row is kept after
	// its last change and after its lock ended: as long as its failures
	// count (webstore.LoginFailureWindow), and no shorter, or a purge
	// would forget failures that still count.
	LoginFailureRetention = webstore.LoginFailureWindow

	// EventRetention is how long an event notification is kept after it
	// was delivered, acknowledged or rejected by the TPP (terminal states:
	// never served or pushed again), as a record of what the TPP was told.
	EventRetention = 7 * 24 * time.Hour
)

// purgeRule says when a row of one table is dead.
type purgeRule struct {
	table string
	// key is the primary key column.
	key string
	// dead is the condition on the row, with $1 the cutoff in unix
	// microseconds.
	dead string
	// retention is subtracted from now to give the cutoff.
	retention time.Duration
}

// webSessionsRule: a page session past its idle timeout is refused by the
// pages (they judge expiry with their clock) and never extended again.
var webSessionsRule = purgeRule{table: "web_sessions", key: "id", dead: `expires_at < $1`}

// purgeRules are the tables PurgeExpired sweeps, in order.
var purgeRules = []purgeRule{
	webSessionsRule,
	// An authorization session past expires_at can no longer be decided:
	// authz answers a late decision with access_denied to the TPP. Kept
	// for OAuthRetention, so that for a day the answer stays that rather
	// than an error page for an unknown session.
	{table: "oauth_auth_sessions", key: "id", dead: `expires_at < $1`, retention: OAuthRetention},
	// Redeemed or not: see OAuthRetention for replays. A code that is gone
	// is refused by RedeemCode with ob.ErrNotFound, which the token
	// endpoint answers with invalid_grant.
	{table: "oauth_codes", key: "hash", dead: `expires_at < $1`, retention: OAuthRetention},
	// A request_uri that is gone is refused as unknown (invalid_request_uri)
	// as an expired or used one is.
	{table: "oauth_pushed_requests", key: "id", dead: `expires_at < $1`, retention: OAuthRetention},
	// No table references access_tokens (it references access_grants), so
	// deleting one breaks no foreign key.
	{table: "access_tokens", key: "hash", dead: `expires_at < $1`, retention: OAuthRetention},
	// Rotated and revoked tokens are kept as long as live ones (rotation
	// passes the old token's expiry on, so a family's tokens end together),
	// so reuse detection keeps working; a token without an expiry (NULL,
	// never less than anything) is never purged.
	{table: "oauth_refresh_tokens", key: "hash", dead: `expires_at < $1`, retention: OAuthRetention},
	// A row last changed before the failure window counts no failures
	// (webstore.LoginFailureWindow), and once its lock has ended too it
	// answers LoginThrottle and RecordLoginFailure exactly as a missing
	// row does (not locked; the next failure counts 1), so deleting it
	// cannot change any lockout decision, whatever MaxLoginFailures and
	// LockDuration are. Failures for usernames that exist nowhere count
	// too, so without this a guesser could fill the table.
	{table: "login_failures", key: "username",
		dead:      `updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)`,
		retention: LoginFailureRetention},
	// Delivered, acked and rejected are terminal (acked_at is the time of
	// both the acknowledgement and the rejection, delivered_at of the
	// push; a row has only one of them). Pending, polling and failed rows
	// are still owed to the TPP and never purged. The expression matches
	// the index of migration 0011.
	{table: "event_outbox", key: "jti",
		dead:      `status IN ('delivered', 'acked', 'rejected') AND COALESCE(acked_at, delivered_at) < $1`,
		retention: EventRetention},
}

// PurgeExpired deletes, from each table of purgeRules, up to limit rows
// that are dead at now (1000 when limit is 0 or less) and returns how many
// it deleted per table, keyed by table name, every table present. A table
// that reports limit may have more; call again. One that reports less has
// none left but those another purge is deleting meanwhile. Each table is
// one short statement on its own, not a transaction; on an error it returns
// the counts of the tables done so far.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time, limit int) (map[string]int, error) {
	counts := make(map[string]int, len(purgeRules))
	for _, r := range purgeRules {
		n, err := s.purge(ctx, r, now, limit)
		if err != nil {
			return counts, err
		}
		counts[r.table] = n
	}
	return counts, nil
}

// purge deletes up to limit rows of r's table dead at now and returns how
// many. On PostgreSQL the subquery locks the rows it picks, skipping locked
// ones: a row being changed by a concurrent write (a failure counted on a
// login_failures row, a session extended) is either skipped or, once that
// write committed, judged again as it now is, so a row that came back to
// life is kept; and janitors of several instances take disjoint rows
// instead of waiting on, or deadlocking with, each other. SQLite's single
// writer runs the statement alone.
func (s *Store) purge(ctx context.Context, r purgeRule, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM `+r.table+` WHERE `+r.key+` IN
		(SELECT `+r.key+` FROM `+r.table+` WHERE `+r.dead+` LIMIT $2`+s.forUpdate(true)+`)`,
		micros(now.Add(-r.retention)), limit)
	if err != nil {
		return 0, s.wrapErr(err, "purge %s", r.table)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrapErr(err, "purge %s", r.table)
	}
	return int(n), nil
}
