package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Deliverer pushes pending outbox rows to the TPPs' callback URLs: it
// claims due rows under a lease, POSTs each as a signed SET
// (Content-Type: application/jwt) and records the outcome. Any 2xx is a
// delivery (the TPP should answer 202). Anything else — a status, a
// refused address, a timeout — is a failed attempt, retried after an
// exponential backoff with jitter until MaxAttempts, when the row becomes
// Failed and waits for polling instead.
//
// Delivery is at least once: a deliverer that dies after the TPP accepted a
// SET but before recording it leaves the row to be claimed again when its
// lease runs out, and the TPP receives the same jti twice.
//
// Several deliverers may run against one PostgreSQL database (one per
// instance); the claim hands each row to one of them.
type Deliverer struct {
	Store Store
	// Keys signs SETs (authz.KeyManager).
	Keys Signer
	// HTTPClient makes the pushes. Nil means NewHTTPClient with
	// AllowPrivateCallbacks; a client given here must do its own address
	// checks (NewHTTPClient's do).
	HTTPClient *http.Client
	// AllowPrivateCallbacks lets a nil HTTPClient connect to non-public
	// addresses (tests, the demo).
	AllowPrivateCallbacks bool
	// FinancialID, when set, is sent as x-fapi-financial-id, which the
	// event-notifications YAML still requires.
	FinancialID string
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
	// MaxAttempts bounds the pushes of one event (default 10).
	MaxAttempts int
	// BaseBackoff is the wait after the first failure; each further
	// failure doubles it, up to MaxBackoff (defaults 30 s and 1 h).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Batch is the number of rows claimed, and pushed concurrently, at
	// once (default 8).
	Batch int
	// Lease is how long a claim holds a row (default 2 min). It must
	// outlast a push, or another deliverer may push the row too.
	Lease time.Duration
	// Interval is how long Run sleeps when nothing is due (default 2 s).
	Interval time.Duration

	once   sync.Once
	client *http.Client
}

func (d *Deliverer) init() {
	d.once.Do(func() {
		d.client = d.HTTPClient
		if d.client == nil {
			d.client = NewHTTPClient(CallbackPolicy{AllowPrivate: d.AllowPrivateCallbacks}, nil)
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Logger == nil {
			d.Logger = slog.Default()
		}
		if d.MaxAttempts <= 0 {
			d.MaxAttempts = 10
		}
		if d.BaseBackoff <= 0 {
			d.BaseBackoff = 30 * time.Second
		}
		if d.MaxBackoff <= 0 {
			d.MaxBackoff = time.Hour
		}
		if d.MaxBackoff < d.BaseBackoff {
			d.MaxBackoff = d.BaseBackoff
		}
		if d.Batch <= 0 {
			d.Batch = 8
		}
		if d.Lease <= 0 {
			d.Lease = 2 * time.Minute
		}
		if d.Interval <= 0 {
			d.Interval = 2 * time.Second
		}
	})
}

// Run delivers until ctx ends, then returns nil. A store error is logged
// and retried at the next tick: the outbox keeps the work.
func (d *Deliverer) Run(ctx context.Context) error {
	d.init()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := d.Once(ctx)
		if err != nil && ctx.Err() == nil {
			d.Logger.ErrorContext(ctx, "event delivery", "err", err)
		}
		wait := d.Interval
		if n == d.Batch && err == nil {
			wait = 0 // a full batch: there may be more due now
		}
		t.Reset(wait)
	}
}

// Once claims the rows due now and pushes them, and returns how many it
// claimed. Failed pushes are recorded, not returned; the error is the
// store's.
func (d *Deliverer) Once(ctx context.Context) (int, error) {
	d.init()
	now := d.Now()
	rows, err := d.Store.ClaimNotifications(ctx, now, d.Lease, d.Batch)
	if err != nil {
		return 0, fmt.Errorf("events: claim: %w", err)
	}
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, n := range rows {
		wg.Go(func() { errs[i] = d.deliver(ctx, n) })
	}
	wg.Wait()
	return len(rows), errors.Join(errs...)
}

// deliver pushes one claimed row and records the outcome.
func (d *Deliverer) deliver(ctx context.Context, n Notification) error {
	interaction := uuid.NewString()
	status, pushErr := d.push(ctx, n, interaction)
	attempts := n.Attempts + 1
	log := d.Logger.With("jti", n.JTI, "tpp", n.TPPID, "event_type", n.EventType,
		"attempt", attempts, "interaction_id", interaction)
	if pushErr == nil {
		ok, err := d.Store.MarkDelivered(ctx, n.JTI, d.Now())
		if err != nil {
			return fmt.Errorf("events: record delivery of %s: %w", n.JTI, err)
		}
		if ok {
			log.InfoContext(ctx, "event delivered", "status", status)
		}
		return nil
	}
	if ctx.Err() != nil {
		// Shutting down: the lease runs out and another pass retries it,
		// without counting an attempt the TPP never saw through.
		return nil
	}
	dead := attempts >= d.MaxAttempts
	next := d.Now().Add(d.backoff(attempts))
	if _, err := d.Store.MarkAttempt(ctx, n.JTI, attempts, next, dead, truncate(pushErr.Error(), 500)); err != nil {
		return fmt.Errorf("events: record attempt on %s: %w", n.JTI, err)
	}
	if dead {
		log.WarnContext(ctx, "event delivery abandoned; kept for polling", "err", pushErr)
	} else {
		log.InfoContext(ctx, "event delivery failed; will retry", "err", pushErr, "next_attempt_at", next)
	}
	return nil
}

// push signs and POSTs one SET, returning the TPP's status.
func (d *Deliverer) push(ctx context.Context, n Notification, interaction string) (int, error) {
	if err := deliverableURL(n.CallbackURL); err != nil {
		return 0, err
	}
	set, err := sign(ctx, d.Keys, n)
	if err != nil {
		return 0, fmt.Errorf("signing the SET: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.CallbackURL, strings.NewReader(set))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/jwt")
	req.Header.Set("x-fapi-interaction-id", interaction)
	if d.FinancialID != "" {
		req.Header.Set("x-fapi-financial-id", d.FinancialID)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the body means nothing.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("TPP answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// backoff is the wait after the attempts-th failure: BaseBackoff·2^(n-1),
// capped at MaxBackoff, with "equal jitter" (a random point in its upper
// half). The jitter spreads retries of many events failing together, and
// keeps each wait at least as long as the previous one could have been.
func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.BaseBackoff
	for i := 1; i < attempts && b < d.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.MaxBackoff)
	half := b / 2
	return half + rand.N(half+1)
}

// truncate keeps s within n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return string(bytes.ToValidUTF8([]byte(s[:n]), nil))
}
