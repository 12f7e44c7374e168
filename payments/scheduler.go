package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// RunDue executes the scheduled payments and standing-order payments due
// now, at most limit orders, and returns how many it ran.
//
// Exactly once: each order is executed inside a transaction that holds its
// row (RunDue of the store), posts the execution's ledger entry, whose id
// (ExecutionEntryID) is unique, records the execution and advances the
// order, all committed together. Two instances can therefore neither run
// one execution twice nor skip one; a crash before the commit leaves the
// order due for the next run.
func (s *Service) RunDue(ctx context.Context, limit int) (int, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	ids, err := s.store.RunDue(ctx, now, limit, func(ctx context.Context, tx Tx, p Payment) error {
		return s.execute(ctx, tx, p, now)
	})
	return len(ids), err
}

// execute makes the execution of p that is due.
func (s *Service) execute(ctx context.Context, tx Tx, p Payment, now time.Time) error {
	n := p.RunsDone
	order, err := ParseOrder(p.Kind, p.Initiation)
	if err != nil {
		return fmt.Errorf("payments: payment %s initiation: %w", p.ID, err)
	}
	ps, err := s.parties(ctx, p.DebtorAccountID, order)
	if err != nil {
		return err
	}
	x := Execution{PaymentID: p.ID, N: n, EntryID: ExecutionEntryID(p.ID, n), At: now}
	switch p.Kind {
	case ob.KindDomesticPayment:
		// A payment whose scheme settles later (Settlement): the one
		// execution, and the order's outcome with it. Its money left the
		// customer for clearing at acceptance (earmark) and goes on to
		// settlement now. One accepted before the bank took the money at
		// acceptance has no acceptance entry: it is paid from the customer
		// now, funds checked, as it was accepted to be, and as a payment to
		// another bank even if the creditor's account has come to this bank
		// since.
		x.Amount = order.Amount
		earmarked, err := tx.HasEntry(ctx, x.EntryID)
		switch {
		case err != nil:
			return err
		case earmarked:
			if err := settleCleared(ctx, tx, p.ID, order, now); err != nil {
				return err
			}
			x.Status = StatusAcceptedSettlementCompleted
		default:
			ps.creditor = nil
			if err := s.settle(ctx, tx, &x, order, ps); err != nil {
				return err
			}
		}
		p.NextRunAt = nil
		p.Status, p.StatusReason = x.Status, x.Reason
	case ob.KindDomesticScheduledPayment:
		x.Amount = order.Amount
		if err := s.settle(ctx, tx, &x, order, ps); err != nil {
			return err
		}
		p.NextRunAt = nil
		if err := tx.DeleteScheduledPayment(ctx, p.DebtorAccountID, p.ID); err != nil {
			return err
		}
	case ob.KindDomesticStandingOrder:
		in, err := decodeStandingOrder(p.Initiation)
		if err != nil {
			return err
		}
		planned, ok, err := in.Plan(s.cal, n)
		if err != nil {
			return err
		}
		if !ok {
			// Nothing left to pay (cannot normally happen: NextRunAt is
			// cleared with the last payment).
			p.NextRunAt = nil
			return tx.UpdatePayment(ctx, p)
		}
		x.Amount = planned.Amount
		order.Amount = planned.Amount
		if err := s.settle(ctx, tx, &x, order, ps); err != nil {
			return err
		}
		next, more, err := in.Plan(s.cal, n+1)
		if err != nil {
			return err
		}
		var nextPtr *Planned
		if more {
			at := next.At.UTC()
			p.NextRunAt, nextPtr = &at, &next
		} else {
			p.NextRunAt = nil
		}
		if err := tx.PutStandingOrder(ctx, s.standingOrderView(p, in, &planned, nextPtr)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("payments: payment %s of kind %s is not scheduled", p.ID, p.Kind)
	}
	p.RunsDone = n + 1
	p.StatusUpdateDateTime = now
	if err := tx.AddExecution(ctx, x); err != nil {
		return err
	}
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	note, err := s.event(ctx, p.TPPID, p.Kind, p.ID)
	if err != nil {
		return err
	}
	if note != nil {
		if err := tx.EnqueueNotification(ctx, *note); err != nil {
			return err
		}
	}
	s.log.InfoContext(ctx, "due payment executed", "payment", p.ID, "n", n, "status", x.Status, "reason", x.Reason)
	return nil
}

// DefaultRunInterval is how often serve looks for due orders.
const DefaultRunInterval = 10 * time.Second

// Run executes due orders every interval until ctx ends. Errors are logged
// and retried at the next tick.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultRunInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.RunDue(ctx, 100)
			if err != nil && !errors.Is(err, context.Canceled) {
				s.log.ErrorContext(ctx, "running due payments", "err", err)
			}
			if err != nil || n < 100 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
