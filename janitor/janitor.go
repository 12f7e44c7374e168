// Package janitor ends consents whose ExpirationDateTime has passed: an
// authorised consent becomes Expired and its grant and tokens are revoked;
// one never authorised becomes Rejected (ob.Consent.Expire). It also deletes
// idempotency keys past their 24 hours, which nothing reads any more, and
// the short-lived security records nothing can use any more (Purge: page
// and authorization sessions, codes, pushed requests and tokens past their
// expiry, idle login-failure rows, event notifications the TPP has had). It
// runs in the background of `obank serve` (Run) and once as `obank
// janitor` (Once, PurgeKeys and Purge).
//
// Several instances may run at once against one PostgreSQL database: the
// store claims each batch with FOR UPDATE SKIP LOCKED, so instances take
// disjoint consents and never expire one twice. Expiry does not depend on
// the janitor for safety: tokens and grants already stop working at
// ExpirationDateTime; the janitor makes the consent's status and the
// revocation records say so.
package janitor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/obank/obank/ob"
)

// BatchSize is how many consents one store transaction expires: small
// enough to keep row locks short, large enough to drain a backlog quickly.
const BatchSize = 100

// DefaultInterval is how often Run sweeps when given no interval.
const DefaultInterval = time.Minute

// Once expires every consent due at now, in batches, and returns the
// consents it changed. It stops at the first error, returning what it had
// changed so far.
func Once(ctx context.Context, store ob.ConsentStore, now time.Time) ([]ob.Consent, error) {
	var all []ob.Consent
	for {
		if err := ctx.Err(); err != nil {
			return all, err
		}
		batch, err := store.ExpireConsents(ctx, now, BatchSize)
		if err != nil {
			return all, fmt.Errorf("janitor: expire consents: %w", err)
		}
		all = append(all, batch...)
		// A short batch means nothing due is left (for this instance:
		// rows another instance holds are skipped, and it expires them).
		if len(batch) < BatchSize {
			return all, nil
		}
	}
}

// KeyPurger deletes expired idempotency keys (the SQL store implements it).
type KeyPurger interface {
	DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error)
}

// PurgeKeys deletes every idempotency key expired at now, in batches of
// BatchSize*10 (each a short statement), and returns how many it deleted.
func PurgeKeys(ctx context.Context, p KeyPurger, now time.Time) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := p.DeleteExpiredIdempotencyKeys(ctx, now, BatchSize*10)
		total += n
		if err != nil {
			return total, fmt.Errorf("janitor: purge idempotency keys: %w", err)
		}
		if n < BatchSize*10 {
			return total, nil
		}
	}
}

// Purger deletes the records nothing can use any more, up to limit per
// table per call, and returns how many it deleted per table (the SQL store
// implements it; sqlstore.PurgeExpired says what goes when).
type Purger interface {
	PurgeExpired(ctx context.Context, now time.Time, limit int) (map[string]int, error)
}

// Purge deletes every record dead at now, in batches of BatchSize*10 per
// table (each a short statement), until no table fills its batch, and
// returns how many it deleted per table; tables with none are left out, so
// an empty map means nothing was deleted.
func Purge(ctx context.Context, p Purger, now time.Time) (map[string]int, error) {
	const limit = BatchSize * 10
	total := map[string]int{}
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		batch, err := p.PurgeExpired(ctx, now, limit)
		more := false
		for table, n := range batch {
			if n > 0 {
				total[table] += n
			}
			more = more || n >= limit
		}
		if err != nil {
			return total, fmt.Errorf("janitor: purge: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// Run sweeps at once and then every interval (DefaultInterval when zero or
// less) until ctx is done, reading the time from now (time.Now when nil).
// Errors are logged and retried at the next tick. It returns ctx.Err().
func Run(ctx context.Context, store ob.ConsentStore, interval time.Duration, now func() time.Time, log *slog.Logger) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		changed, err := Once(ctx, store, now())
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			log.ErrorContext(ctx, "consent expiry failed", "err", err, "expired", len(changed))
		case len(changed) > 0:
			log.InfoContext(ctx, "consents expired", "count", len(changed))
		}
		if p, ok := store.(KeyPurger); ok {
			n, err := PurgeKeys(ctx, p, now())
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				log.ErrorContext(ctx, "idempotency key purge failed", "err", err, "deleted", n)
			case n > 0:
				log.InfoContext(ctx, "expired idempotency keys deleted", "count", n)
			}
		}
		if p, ok := store.(Purger); ok {
			deleted, err := Purge(ctx, p, now())
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				log.ErrorContext(ctx, "purge failed", "err", err, "deleted", deleted)
			case len(deleted) > 0:
				log.InfoContext(ctx, "expired records deleted", "count", deleted)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
