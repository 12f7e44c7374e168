package obtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// PurgeStore is what the purge suite needs: the stores whose short-lived
// records the janitor purges, and the purge.
type PurgeStore interface {
	OAuthStore
	webstore.Store
	events.Store
	PurgeExpired(ctx context.Context, now time.Time, limit int) (map[string]int, error)
}

// RunPurgeTests runs the contract suite of PurgeExpired. open must return a
// fresh, empty store for each call.
//
// It puts, in every table the purge sweeps, rows just past their cutoff
// (dead) and rows exactly at it or younger (live), plus rows that must stay
// however old (pending events, locks in force, refresh tokens
// without an expiry), and holds the purge to deleting exactly the dead ones,
// at most limit per table per call, also when several purges (janitors of
// several instances) run at once.
func RunPurgeTests(t *testing.T, open func(t *testing.T) PurgeStore) {
	t.Run("DeadAndLive", func(t *testing.T) { testPurgeDeadAndLive(t, open(t)) })
	t.Run("Limit", func(t *testing.T) { testPurgeLimit(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testPurgeConcurrent(t, open(t)) })
}

// purgeNow is when the suite purges: long after FixtureTime, so rows made
// then are as old as rows get.
func purgeNow() time.Time { return FixtureTime().Add(400 * 24 * time.Hour) }

// purgeTables are the tables PurgeExpired reports, each with n.
func purgeTables(n int) map[string]int {
	return map[string]int{
		"web_sessions": n, "oauth_auth_sessions": n, "oauth_codes": n, "oauth_pushed_requests": n,
		"access_tokens": n, "oauth_refresh_tokens": n, "login_failures": n, "event_outbox": n,
	}
}

func mustPurge(t *testing.T, s PurgeStore, now time.Time, limit int, want map[string]int) {
	t.Helper()
	got, err := s.PurgeExpired(context.Background(), now, limit)
	if err != nil {
		t.Fatalf("PurgeExpired: %v", err)
	}
	diff(t, fmt.Sprintf("PurgeExpired(limit %d) counts", limit), want, got)
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func purgeWebSession(id string, expires time.Time) webstore.Session {
	return webstore.Session{ID: id, Purpose: webstore.PurposeDashboard, CSRF: "csrf-" + id,
		CreatedAt: expires.Add(-time.Hour), LastSeenAt: expires.Add(-10 * time.Minute), ExpiresAt: expires}
}

func purgeAuthSession(id string, expires time.Time) oauth.AuthSession {
	return oauth.AuthSession{ID: id, Request: authRequest("client-1"), CreatedAt: expires.Add(-10 * time.Minute),
		ExpiresAt: expires}
}

func purgeCode(name string, expires time.Time) oauth.Code {
	c := code(name)
	c.AuthTime, c.IssuedAt, c.ExpiresAt = expires.Add(-2*time.Minute), expires.Add(-time.Minute), expires
	return c
}

func purgePushedRequest(id string, expires time.Time) oauth.PushedRequest {
	return oauth.PushedRequest{ID: id, ClientID: "client-1", Request: authRequest("client-1"), ExpiresAt: expires}
}

func testPurgeDeadAndLive(t *testing.T, s PurgeStore) {
	ctx := context.Background()
	now := purgeNow()
	oauthCut := now.Add(-sqlstore.OAuthRetention)
	loginCut := now.Add(-sqlstore.LoginFailureRetention)
	eventCut := now.Add(-sqlstore.EventRetention)
	// before is just past a cutoff: the youngest a dead row can be.
	before := func(cut time.Time) time.Time { return cut.Add(-time.Microsecond) }

	// Page sessions: dead once expired before now.
	for _, ws := range []webstore.Session{
		purgeWebSession("ws-dead", before(now)),
		purgeWebSession("ws-edge", now),
		purgeWebSession("ws-live", now.Add(10*time.Minute)),
	} {
		must(t, "CreateWebSession", s.CreateWebSession(ctx, ws))
	}

	// Authorization sessions, completed or not.
	for _, a := range []oauth.AuthSession{
		purgeAuthSession("as-dead", before(oauthCut)),
		purgeAuthSession("as-dead-completed", before(oauthCut)),
		purgeAuthSession("as-edge", oauthCut),
	} {
		must(t, "CreateAuthSession", s.CreateAuthSession(ctx, a))
	}
	must(t, "CompleteAuthSession", s.CompleteAuthSession(ctx, "as-dead-completed", before(oauthCut).Add(-time.Minute)))

	// Codes, redeemed or not. The redeemed ones at the edge and an hour
	// past expiry must still be recognised as replays (RFC 6749 §4.1.2),
	// whatever the retention.
	deadRedeemed, deadUnused := purgeCode("dead-redeemed", before(oauthCut)), purgeCode("dead-unused", before(oauthCut))
	edgeRedeemed, hourRedeemed := purgeCode("edge-redeemed", oauthCut), purgeCode("hour-redeemed", now.Add(-time.Hour))
	for _, c := range []oauth.Code{deadRedeemed, deadUnused, edgeRedeemed, hourRedeemed} {
		must(t, "CreateCode", s.CreateCode(ctx, c))
	}
	for _, c := range []oauth.Code{deadRedeemed, edgeRedeemed, hourRedeemed} {
		_, err := s.RedeemCode(ctx, c.Hash, c.IssuedAt.Add(time.Second))
		must(t, "RedeemCode", err)
	}

	// Pushed requests, used or not.
	for _, p := range []oauth.PushedRequest{
		purgePushedRequest("par-dead-used", before(oauthCut)),
		purgePushedRequest("par-edge", oauthCut),
	} {
		must(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, p))
	}
	_, err := s.UsePushedRequest(ctx, "par-dead-used", before(oauthCut).Add(-time.Minute))
	must(t, "UsePushedRequest", err)

	// Tokens: a dead client-credentials token; a dead family (its refresh
	// token rotated) bound to a grant, which stays; a family at the edge
	// (its refresh token revoked); a rotated refresh token an hour past
	// expiry, whose replay must still revoke the family's last access token
	// (which can outlive it by the access-token TTL, 1 h by default),
	// whatever the retention; and a refresh token without an expiry, kept
	// for ever however old.
	mustGrant(t, s, "grant-purge", "client-1")
	ccDead := clientCredentials("dead", "client-1")
	ccDead.ExpiresAt = before(oauthCut)
	mustIssue(t, s, ccDead, nil)
	aDead, rDead := tokenPair("dead", "client-1", "grant-purge", "fam-dead")
	aDead.ExpiresAt, rDead.ExpiresAt = before(oauthCut), ptr(before(oauthCut))
	rDead.RotatedAt, rDead.ReplacedBy = ptr(FixtureTime().Add(time.Hour)), ob.HashToken("refresh-next")
	mustIssue(t, s, aDead, &rDead)
	aEdge, rEdge := tokenPair("edge", "client-1", "grant-purge", "fam-edge")
	aEdge.ExpiresAt, rEdge.ExpiresAt, rEdge.RevokedAt = oauthCut, ptr(oauthCut), ptr(FixtureTime().Add(time.Hour))
	mustIssue(t, s, aEdge, &rEdge)
	aHour, rHour := tokenPair("hour", "client-1", "grant-purge", "fam-hour")
	aHour.ExpiresAt, rHour.ExpiresAt = now.Add(-time.Hour), ptr(now.Add(-time.Hour))
	rHour.RotatedAt, rHour.ReplacedBy = ptr(now.Add(-2*time.Hour)), ob.HashToken("refresh-hour-next")
	mustIssue(t, s, aHour, &rHour)
	aLive, rForever := tokenPair("forever", "client-1", "grant-purge", "fam-forever")
	aLive.ExpiresAt = now.Add(time.Hour)
	mustIssue(t, s, aLive, &rForever)

	// Login failures. Dead: no change and no lock since before the
	// cutoff, whether the failures were cleared or no longer count (the
	// cutoff is the failure window's start). Live: a count changed at the
	// cutoff, a lock not ended, a lock ending exactly at the cutoff, a
	// success at it.
	old := before(loginCut)
	record := func(user string, at time.Time, max int, lockFor time.Duration) {
		t.Helper()
		_, err := s.RecordLoginFailure(ctx, user, at, max, lockFor)
		must(t, "RecordLoginFailure("+user+")", err)
	}
	record("cleared-dead", old, 5, 15*time.Minute)
	must(t, "ClearLoginFailures", s.ClearLoginFailures(ctx, "cleared-dead"))
	record("unlocked-dead", old.Add(-time.Hour), 1, time.Hour) // locked until old
	record("stale-dead", FixtureTime(), 5, 15*time.Minute)
	record("stale-dead", old, 5, 15*time.Minute) // two failures, the last before the cutoff
	record("counting", loginCut, 5, 15*time.Minute)
	record("locked", old, 1, 48*time.Hour)
	record("lock-edge", old.Add(-time.Hour), 1, time.Hour+time.Microsecond) // locked until loginCut
	record("cleared-edge", loginCut, 5, 15*time.Minute)
	must(t, "ClearLoginFailures", s.ClearLoginFailures(ctx, "cleared-edge"))

	// Events: outstanding ones (pending, polling, failed) stay however old;
	// delivered, acknowledged and rejected ones go after EventRetention.
	tpp := "tpp-purge"
	mustEnqueue(t, s,
		notification("ev-pending", tpp, events.StatusPending, FixtureTime()),
		notification("ev-polling", tpp, events.StatusPolling, FixtureTime()),
		notification("ev-failed", tpp, events.StatusPending, FixtureTime()),
		notification("ev-delivered-dead", tpp, events.StatusPending, FixtureTime()),
		notification("ev-delivered-edge", tpp, events.StatusPending, FixtureTime()),
		notification("ev-acked-dead", tpp, events.StatusPolling, FixtureTime()),
		notification("ev-acked-edge", tpp, events.StatusPolling, FixtureTime()),
		notification("ev-rejected-dead", tpp, events.StatusPolling, FixtureTime()))
	if ok, err := s.MarkAttempt(ctx, "ev-failed", 5, FixtureTime(), true, "gave up"); !ok || err != nil {
		t.Fatalf("MarkAttempt(dead) = %v, %v", ok, err)
	}
	for jti, at := range map[string]time.Time{"ev-delivered-dead": before(eventCut), "ev-delivered-edge": eventCut} {
		if ok, err := s.MarkDelivered(ctx, jti, at); !ok || err != nil {
			t.Fatalf("MarkDelivered(%s) = %v, %v", jti, ok, err)
		}
	}
	must(t, "AckNotifications", s.AckNotifications(ctx, tpp, []string{"ev-acked-dead"}, before(eventCut)))
	must(t, "AckNotifications", s.AckNotifications(ctx, tpp, []string{"ev-acked-edge"}, eventCut))
	must(t, "RejectNotifications", s.RejectNotifications(ctx, tpp,
		map[string]events.SETError{"ev-rejected-dead": {Err: "jwtIss", Description: "unknown issuer"}}, before(eventCut)))

	// A record that is no purge's business, however old.
	audit := webstore.AuditEvent{ID: "audit-old", At: FixtureTime(), Kind: webstore.AuditLoginLocked, CustomerID: Alice}
	must(t, "RecordAudit", s.RecordAudit(ctx, audit))

	mustPurge(t, s, now, 100, map[string]int{
		"web_sessions": 1, "oauth_auth_sessions": 2, "oauth_codes": 2, "oauth_pushed_requests": 1,
		"access_tokens": 2, "oauth_refresh_tokens": 1, "login_failures": 3, "event_outbox": 3,
	})
	mustPurge(t, s, now, 100, purgeTables(0))

	gone := func(what string, err error) {
		t.Helper()
		wantCode(t, what+" after purge", err, ob.CodeResourceNotFound)
	}
	kept := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s after purge: %v, want it kept", what, err)
		}
	}

	_, err = s.WebSession(ctx, "ws-dead")
	gone("WebSession(ws-dead)", err)
	for _, id := range []string{"ws-edge", "ws-live"} {
		_, err := s.WebSession(ctx, id)
		kept("WebSession("+id+")", err)
	}

	for _, id := range []string{"as-dead", "as-dead-completed"} {
		_, err := s.AuthSession(ctx, id)
		gone("AuthSession("+id+")", err)
	}
	_, err = s.AuthSession(ctx, "as-edge")
	kept("AuthSession(as-edge)", err)

	// A purged code is unknown, which the token endpoint refuses
	// (invalid_grant) like an expired one; the replay of a redeemed code
	// not yet purged is still recognised, so its family can be revoked.
	for _, c := range []oauth.Code{deadRedeemed, deadUnused} {
		_, err := s.RedeemCode(ctx, c.Hash, now)
		gone("RedeemCode("+c.SessionID+")", err)
	}
	for _, c := range []oauth.Code{edgeRedeemed, hourRedeemed} {
		_, err := s.RedeemCode(ctx, c.Hash, now)
		wantCode(t, "RedeemCode("+c.SessionID+") after purge", err, ob.CodeConflict)
	}

	_, err = s.UsePushedRequest(ctx, "par-dead-used", now)
	gone("UsePushedRequest(par-dead-used)", err)
	_, err = s.UsePushedRequest(ctx, "par-edge", now)
	kept("UsePushedRequest(par-edge)", err)

	for name, hash := range map[string]string{"cc-dead": ccDead.Hash, "access-dead": aDead.Hash} {
		_, err := s.AccessToken(ctx, hash)
		gone("AccessToken("+name+")", err)
	}
	for name, hash := range map[string]string{"access-edge": aEdge.Hash, "access-forever": aLive.Hash} {
		_, err := s.AccessToken(ctx, hash)
		kept("AccessToken("+name+")", err)
	}
	_, err = s.RefreshToken(ctx, rDead.Hash)
	gone("RefreshToken(refresh-dead)", err)
	for name, hash := range map[string]string{"refresh-edge": rEdge.Hash, "refresh-hour": rHour.Hash, "refresh-forever": rForever.Hash} {
		_, err := s.RefreshToken(ctx, hash)
		kept("RefreshToken("+name+")", err)
	}
	_, err = s.AccessGrant(ctx, "grant-purge")
	kept("AccessGrant(grant-purge)", err)

	// A purged login_failures row reads as none; the cleared ones read as
	// none whether purged or not (that is why they may go), so the counts
	// above are what tells them apart.
	throttle := func(user string) webstore.LoginThrottle {
		t.Helper()
		l, err := s.LoginThrottle(ctx, user, now)
		must(t, "LoginThrottle("+user+")", err)
		return l
	}
	if l := throttle("unlocked-dead"); l.LockedUntil != nil {
		t.Errorf("LoginThrottle(unlocked-dead) after purge = %+v, want no row", l)
	}
	if l := throttle("stale-dead"); l.Failures != 0 || l.LockedUntil != nil {
		t.Errorf("LoginThrottle(stale-dead) after purge = %+v, want no row", l)
	}
	if l := throttle("counting"); l.Failures != 1 {
		t.Errorf("LoginThrottle(counting) after purge = %+v, want its failure kept", l)
	}
	if l := throttle("locked"); !l.Locked(now) {
		t.Errorf("LoginThrottle(locked) after purge = %+v, want locked at %v", l, now)
	}
	if l := throttle("lock-edge"); l.LockedUntil == nil || !l.LockedUntil.Equal(loginCut) {
		t.Errorf("LoginThrottle(lock-edge) after purge = %+v, want locked until %v", l, loginCut)
	}

	for _, jti := range []string{"ev-delivered-dead", "ev-acked-dead", "ev-rejected-dead"} {
		_, err := s.Notification(ctx, jti)
		gone("Notification("+jti+")", err)
	}
	for jti, status := range map[string]events.Status{
		"ev-pending": events.StatusPending, "ev-polling": events.StatusPolling, "ev-failed": events.StatusFailed,
		"ev-delivered-edge": events.StatusDelivered, "ev-acked-edge": events.StatusAcked,
	} {
		n, err := s.Notification(ctx, jti)
		if err != nil || n.Status != status {
			t.Errorf("Notification(%s) after purge = %s, %v; want it kept, %s", jti, n.Status, err, status)
		}
	}

	got, err := s.AuditEvents(ctx, Alice)
	must(t, "AuditEvents", err)
	diff(t, "AuditEvents after purge", []webstore.AuditEvent{audit}, got)
}

// testPurgeLimit: with three dead rows in every table, a limit of 2 takes
// two from each, then the last one, then none.
func testPurgeLimit(t *testing.T, s PurgeStore) {
	ctx := context.Background()
	now := purgeNow()
	oauthDead := now.Add(-sqlstore.OAuthRetention - time.Hour)
	tpp := "tpp-purge"
	for i := range 3 {
		id := fmt.Sprintf("%d", i)
		must(t, "CreateWebSession", s.CreateWebSession(ctx, purgeWebSession("ws-"+id, now.Add(-time.Hour))))
		must(t, "CreateAuthSession", s.CreateAuthSession(ctx, purgeAuthSession("as-"+id, oauthDead)))
		must(t, "CreateCode", s.CreateCode(ctx, purgeCode(id, oauthDead)))
		must(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, purgePushedRequest("par-"+id, oauthDead)))
		a, r := tokenPair(id, "client-1", "", "fam-"+id)
		a.ExpiresAt, r.ExpiresAt = oauthDead, &oauthDead
		mustIssue(t, s, a, &r)
		user := "user-" + id
		_, err := s.RecordLoginFailure(ctx, user, now.Add(-sqlstore.LoginFailureRetention-time.Hour), 5, time.Minute)
		must(t, "RecordLoginFailure", err)
		must(t, "ClearLoginFailures", s.ClearLoginFailures(ctx, user))
		mustEnqueue(t, s, notification("ev-"+id, tpp, events.StatusPolling, FixtureTime()))
		must(t, "AckNotifications", s.AckNotifications(ctx, tpp, []string{"ev-" + id},
			now.Add(-sqlstore.EventRetention-time.Hour)))
	}
	mustPurge(t, s, now, 2, purgeTables(2))
	mustPurge(t, s, now, 2, purgeTables(1))
	mustPurge(t, s, now, 2, purgeTables(0))
}

// testPurgeConcurrent runs several purge loops at once, each calling again
// until its batch comes back short, as janitors on several instances do:
// none fails (on PostgreSQL they neither wait on nor deadlock with each
// other), every dead row is deleted exactly once, and the live ones stay.
func testPurgeConcurrent(t *testing.T, s PurgeStore) {
	ctx := context.Background()
	now := purgeNow()
	const dead, loops, limit = 400, 4, 15
	for i := range dead {
		must(t, "CreateWebSession", s.CreateWebSession(ctx, purgeWebSession(fmt.Sprintf("ws-dead-%03d", i), now.Add(-time.Hour))))
	}
	must(t, "CreateWebSession", s.CreateWebSession(ctx, purgeWebSession("ws-live", now)))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range loops {
		wg.Go(func() {
			for {
				counts, err := s.PurgeExpired(ctx, now, limit)
				if err != nil {
					t.Errorf("PurgeExpired: %v", err)
					return
				}
				mu.Lock()
				total += counts["web_sessions"]
				mu.Unlock()
				if counts["web_sessions"] < limit {
					return
				}
			}
		})
	}
	wg.Wait()
	if total != dead {
		t.Errorf("concurrent purges deleted %d web sessions in all, want %d", total, dead)
	}
	mustPurge(t, s, now, limit, purgeTables(0))
	if _, err := s.WebSession(ctx, "ws-live"); err != nil {
		t.Errorf("WebSession(ws-live) after purge: %v, want it kept", err)
	}
}
