package payments_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
	"github.com/obank/obank/postgres/pgtest"
)

// permissive never scores HIGH: these tests are about money under
// contention, not fraud screening (velocity rules would otherwise reject
// most of a burst of payments, which is their job).
func permissive() *risk.Config {
	cfg := risk.DefaultConfig()
	cfg.MediumAt, cfg.HighAt = 1, 1
	return &cfg
}

// TestConcurrentPaymentsPostgres races 200 payments from one account to
// another on PostgreSQL: more than the account can pay. Every payment must
// get exactly one outcome, the accepted ones must be exactly what left the
// account, the balance must not pass the limit, and the ledger must verify.
func TestConcurrentPaymentsPostgres(t *testing.T) {
	s := pgtest.OpenTestStore(t) // skips without OBANK_TEST_POSTGRES_DSN
	raceSamePayee(t, s, 200)
}

// TestConcurrentPaymentsSQLite is the same race on the embedded store,
// where the single writer serialises it.
func TestConcurrentPaymentsSQLite(t *testing.T) {
	raceSamePayee(t, openSQLite(t), 60)
}

func raceSamePayee(t *testing.T, s *sqlstore.Store, n int) {
	f := newFixtureOn(t, s, permissive())
	ctx := context.Background()
	const amountMinor = 1000 // 10.00 GBP
	a, err := s.LedgerAccount(ctx, obtest.Acc1)
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(0)
	if a.Limit != nil {
		limit = *a.Limit
	}
	canPay := (a.Balance.Minor + limit) / amountMinor
	if int64(n) <= canPay {
		// Make the race oversubscribed: n payments must exceed the funds.
		n = int(canPay) + 20
	}
	payeeBefore := f.balance(obtest.Acc2)

	type job struct {
		c  ob.Consent
		in payments.Initiation
	}
	jobs := make([]job, n)
	for i := range jobs {
		in := domestic("10.00", acc2SortCode)
		in.InstructionIdentification = fmt.Sprintf("race-%d", i)
		jobs[i] = job{f.authorised(ob.KindDomesticPayment, in, ""), in}
	}
	results := make([]payments.Payment, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			key := payments.IdempotencyKey{Key: fmt.Sprintf("race-key-%d", i), RequestHash: sqlstore.HashBody([]byte(j.in.InstructionIdentification))}
			results[i], _, errs[i] = f.submit(ob.KindDomesticPayment, j.c, j.in, key)
		}()
	}
	close(start)
	wg.Wait()

	accepted := 0
	for i := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("payment %d: %v", i, errs[i])
		case results[i].Status == payments.StatusAcceptedSettlementCompleted:
			accepted++
		case results[i].Status == payments.StatusRejected && results[i].StatusReason == payments.ReasonInsufficientFunds:
		default:
			t.Errorf("payment %d: status %s (%s)", i, results[i].Status, results[i].StatusReason)
		}
		// Exactly one outcome: the stored order and its one execution agree
		// with the answer.
		xs, err := s.Executions(ctx, results[i].ID)
		if err != nil || len(xs) != 1 || xs[0].Status != results[i].Status {
			t.Errorf("payment %d executions = %+v, %v", i, xs, err)
		}
	}
	if int64(accepted) != canPay {
		t.Errorf("%d payments accepted, the account could pay exactly %d", accepted, canPay)
	}
	after, err := s.LedgerAccount(ctx, obtest.Acc1)
	if err != nil {
		t.Fatal(err)
	}
	if want := a.Balance.Minor - int64(accepted)*amountMinor; after.Balance.Minor != want {
		t.Errorf("payer balance %d, want %d", after.Balance.Minor, want)
	}
	if after.Balance.Minor < -limit {
		t.Errorf("payer balance %d is below its limit -%d", after.Balance.Minor, limit)
	}
	if got := f.balance(obtest.Acc2); got != payeeBefore+int64(accepted)*amountMinor {
		t.Errorf("payee balance %d, want %d", got, payeeBefore+int64(accepted)*amountMinor)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Errorf("ledger after the race: %v, %v", rep, err)
	}
}
