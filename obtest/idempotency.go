package obtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
)

// IdempotencyStore is the idempotency part of the SQL store, plus the
// event-subscription reads the tests use to see the "resources" their
// create functions write.
type IdempotencyStore interface {
	WithIdempotency(ctx context.Context, req sqlstore.IdempotencyRequest, create func(tx *sql.Tx) (sqlstore.IdempotentResult, error)) (sqlstore.IdempotentResult, bool, error)
	DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error)
	Subscription(ctx context.Context, id string) (events.Subscription, error)
}

// RunIdempotencyStoreTests runs the idempotency contract suite. open must
// return a fresh, empty store for each call.
func RunIdempotencyStoreTests(t *testing.T, open func(t *testing.T) IdempotencyStore) {
	t.Run("ReplayAndMismatch", func(t *testing.T) { testIdempotencyReplay(t, open(t)) })
	t.Run("Expiry", func(t *testing.T) { testIdempotencyExpiry(t, open(t)) })
	t.Run("CreateErrorRollsBack", func(t *testing.T) { testIdempotencyRollback(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testIdempotencyConcurrent(t, open(t)) })
	t.Run("InvalidKey", func(t *testing.T) { testIdempotencyInvalid(t, open(t)) })
}

// idemCreator is a create function that writes one resource (an event
// subscription row, standing in for a payment) through the transaction and
// counts its runs.
type idemCreator struct {
	runs  atomic.Int64
	delay time.Duration
	fail  error
}

func (c *idemCreator) create(ctx context.Context, prefix string) func(tx *sql.Tx) (sqlstore.IdempotentResult, error) {
	return func(tx *sql.Tx) (sqlstore.IdempotentResult, error) {
		n := c.runs.Add(1)
		id := fmt.Sprintf("%s-%d", prefix, n)
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_subscriptions (id, tpp_id, callback_url, version,
			event_types, created_at, updated_at) VALUES ($1, $1, '', '3.1', NULL, 0, 0)`, id); err != nil {
			return sqlstore.IdempotentResult{}, err
		}
		if c.delay > 0 {
			time.Sleep(c.delay)
		}
		if c.fail != nil {
			return sqlstore.IdempotentResult{}, c.fail
		}
		return sqlstore.IdempotentResult{ResourceID: id, Response: []byte(`{"Data":{"ConsentId":"` + id + `"}}`)}, nil
	}
}

func idemReq(tpp, key, body string, now time.Time) sqlstore.IdempotencyRequest {
	return sqlstore.IdempotencyRequest{TPPID: tpp, Key: key, RequestHash: sqlstore.HashBody([]byte(body)),
		Kind: "domestic-payment-consent", Now: now}
}

func testIdempotencyReplay(t *testing.T, s IdempotencyStore) {
	ctx := context.Background()
	now := FixtureTime().Truncate(time.Microsecond)
	var c idemCreator
	first, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "key-1", `{"a":1}`, now), c.create(ctx, "pdc"))
	if err != nil || replayed {
		t.Fatalf("first: %+v replayed=%v err=%v", first, replayed, err)
	}
	want := sqlstore.IdempotentResult{ResourceID: "pdc-1", Status: 201, Response: []byte(`{"Data":{"ConsentId":"pdc-1"}}`), CreatedAt: now}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first result (-want +got):\n%s", diff)
	}
	if _, err := s.Subscription(ctx, "pdc-1"); err != nil {
		t.Errorf("the resource was not committed: %v", err)
	}

	// Same key, same body, later: the stored result, no new resource.
	again, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "key-1", `{"a":1}`, now.Add(time.Hour)), c.create(ctx, "pdc"))
	if err != nil || !replayed {
		t.Fatalf("replay: replayed=%v err=%v", replayed, err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("replayed result (-want +got):\n%s", diff)
	}
	// Same key, another body: refused, nothing created.
	_, _, err = s.WithIdempotency(ctx, idemReq("tpp-a", "key-1", `{"a":2}`, now.Add(time.Hour)), c.create(ctx, "pdc"))
	wantCode(t, "same key, other body", err, ob.CodeHeaderInvalid)
	if !errors.Is(err, sqlstore.ErrIdempotencyMismatch) {
		t.Errorf("other body: %v, want ErrIdempotencyMismatch", err)
	}
	// Same key and body on another endpoint: refused.
	other := idemReq("tpp-a", "key-1", `{"a":1}`, now.Add(time.Hour))
	other.Kind = "domestic-payment"
	_, _, err = s.WithIdempotency(ctx, other, c.create(ctx, "pdc"))
	wantCode(t, "same key, other kind", err, ob.CodeHeaderInvalid)
	if n := c.runs.Load(); n != 1 {
		t.Errorf("create ran %d times, want 1", n)
	}
	// The refusals changed nothing: the original still replays.
	if got, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "key-1", `{"a":1}`, now.Add(2*time.Hour)), c.create(ctx, "pdc")); err != nil || !replayed || got.ResourceID != "pdc-1" {
		t.Errorf("replay after refusals: %+v replayed=%v err=%v", got, replayed, err)
	}

	// Another TPP's identical key is independent.
	b, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-b", "key-1", `{"a":2}`, now), c.create(ctx, "pdc"))
	if err != nil || replayed || b.ResourceID != "pdc-2" {
		t.Errorf("other TPP: %+v replayed=%v err=%v", b, replayed, err)
	}
	// Another key of the same TPP is independent.
	k2, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "key-2", `{"a":1}`, now), c.create(ctx, "pdc"))
	if err != nil || replayed || k2.ResourceID != "pdc-3" {
		t.Errorf("other key: %+v replayed=%v err=%v", k2, replayed, err)
	}
}

func testIdempotencyExpiry(t *testing.T, s IdempotencyStore) {
	ctx := context.Background()
	now := FixtureTime().Truncate(time.Microsecond)
	var c idemCreator
	if _, _, err := s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{}`, now), c.create(ctx, "p")); err != nil {
		t.Fatal(err)
	}
	// Just inside 24 h: replayed.
	got, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{}`, now.Add(ob.IdempotencyTTL-time.Microsecond)), c.create(ctx, "p"))
	if err != nil || !replayed || got.ResourceID != "p-1" {
		t.Fatalf("at 24h-1µs: %+v replayed=%v err=%v", got, replayed, err)
	}
	// A different body just inside 24 h is still refused.
	_, _, err = s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{"x":1}`, now.Add(ob.IdempotencyTTL-time.Microsecond)), c.create(ctx, "p"))
	wantCode(t, "other body at 24h-1µs", err, ob.CodeHeaderInvalid)
	// At 24 h the key is free again, even for another body.
	later := now.Add(ob.IdempotencyTTL)
	got, replayed, err = s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{"x":1}`, later), c.create(ctx, "p"))
	if err != nil || replayed || got.ResourceID != "p-2" || !got.CreatedAt.Equal(later) {
		t.Fatalf("at 24h: %+v replayed=%v err=%v", got, replayed, err)
	}
	// ...and binds to the new request from then on.
	got, replayed, err = s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{"x":1}`, later.Add(time.Minute)), c.create(ctx, "p"))
	if err != nil || !replayed || got.ResourceID != "p-2" {
		t.Errorf("after reuse: %+v replayed=%v err=%v", got, replayed, err)
	}
	// A custom TTL.
	short := idemReq("tpp-a", "short", `{}`, now)
	short.TTL = time.Minute
	if _, _, err := s.WithIdempotency(ctx, short, c.create(ctx, "p")); err != nil {
		t.Fatal(err)
	}
	short.Now = now.Add(time.Minute)
	if _, replayed, err := s.WithIdempotency(ctx, short, c.create(ctx, "p")); err != nil || replayed {
		t.Errorf("short TTL expired: replayed=%v err=%v", replayed, err)
	}

	// The sweep removes expired keys only.
	n, err := s.DeleteExpiredIdempotencyKeys(ctx, now.Add(time.Minute), 100)
	if err != nil || n != 0 {
		t.Errorf("sweep with nothing expired: %d, %v", n, err)
	}
	n, err = s.DeleteExpiredIdempotencyKeys(ctx, later.Add(ob.IdempotencyTTL), 100)
	if err != nil || n != 2 {
		t.Errorf("sweep: %d, %v; want 2", n, err)
	}
}

func testIdempotencyRollback(t *testing.T, s IdempotencyStore) {
	ctx := context.Background()
	now := FixtureTime().Truncate(time.Microsecond)
	boom := errors.New("insufficient funds")
	c := idemCreator{fail: boom}
	_, _, err := s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{}`, now), c.create(ctx, "p"))
	if !errors.Is(err, boom) {
		t.Fatalf("create error: %v, want %v", err, boom)
	}
	// The resource written before the error was rolled back with the key.
	if _, err := s.Subscription(ctx, "p-1"); !ob.IsNotFound(err) {
		t.Errorf("resource of the failed create: %v, want not found", err)
	}
	// No key was left: the retry creates, even with another body.
	c.fail = nil
	got, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "k", `{"other":true}`, now), c.create(ctx, "p"))
	if err != nil || replayed || got.ResourceID != "p-2" {
		t.Errorf("retry after failure: %+v replayed=%v err=%v", got, replayed, err)
	}
	// A create that returns no id is an error and leaves nothing either.
	_, _, err = s.WithIdempotency(ctx, idemReq("tpp-a", "k2", `{}`, now), func(*sql.Tx) (sqlstore.IdempotentResult, error) {
		return sqlstore.IdempotentResult{}, nil
	})
	if err == nil {
		t.Error("create without a resource id succeeded")
	}
	if _, replayed, err := s.WithIdempotency(ctx, idemReq("tpp-a", "k2", `{}`, now), c.create(ctx, "p")); err != nil || replayed {
		t.Errorf("after empty create: replayed=%v err=%v", replayed, err)
	}
}

func testIdempotencyConcurrent(t *testing.T, s IdempotencyStore) {
	ctx := context.Background()
	now := FixtureTime().Truncate(time.Microsecond)
	c := idemCreator{delay: 20 * time.Millisecond}
	const n = 20
	type outcome struct {
		res      sqlstore.IdempotentResult
		replayed bool
		err      error
	}
	out := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r, rp, err := s.WithIdempotency(ctx, idemReq("tpp-a", "race", `{"amount":"10.00"}`, now), c.create(ctx, "pay"))
			out[i] = outcome{r, rp, err}
		})
	}
	close(start)
	wg.Wait()
	if runs := c.runs.Load(); runs != 1 {
		t.Errorf("create ran %d times, want exactly 1", runs)
	}
	created := 0
	for i, o := range out {
		if o.err != nil {
			t.Errorf("goroutine %d: %v", i, o.err)
			continue
		}
		if !o.replayed {
			created++
		}
		if o.res.ResourceID != "pay-1" || string(o.res.Response) != `{"Data":{"ConsentId":"pay-1"}}` {
			t.Errorf("goroutine %d got %+v, want pay-1", i, o.res)
		}
	}
	if created != 1 {
		t.Errorf("%d goroutines created, want 1", created)
	}
}

func testIdempotencyInvalid(t *testing.T, s IdempotencyStore) {
	ctx := context.Background()
	now := FixtureTime()
	var c idemCreator
	_, _, err := s.WithIdempotency(ctx, idemReq("tpp-a", "", `{}`, now), c.create(ctx, "p"))
	wantCode(t, "empty key", err, ob.CodeHeaderMissing)
	_, _, err = s.WithIdempotency(ctx, idemReq("tpp-a", "01234567890123456789012345678901234567890", `{}`, now), c.create(ctx, "p"))
	wantCode(t, "41-character key", err, ob.CodeHeaderInvalid)
	_, _, err = s.WithIdempotency(ctx, idemReq("tpp-a", " lead", `{}`, now), c.create(ctx, "p"))
	wantCode(t, "leading space", err, ob.CodeHeaderInvalid)
	if n := c.runs.Load(); n != 0 {
		t.Errorf("create ran %d times for invalid keys", n)
	}
}
