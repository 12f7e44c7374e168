package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments/risk"
)

// Rejection reasons shown to TPPs (payment-details) and operators.
const (
	ReasonInsufficientFunds = "insufficient funds in the debtor account"
	ReasonDebtorUnavailable = "the debtor account cannot make this payment"
	ReasonCreditorCurrency  = "the creditor account at this bank is in another currency"
)

// Submit creates the payment order that consumes an authorised consent,
// exactly once per idempotency key, and for a domestic payment settles it
// at once through the ledger in the same transaction (status
// AcceptedSettlementCompleted, or Rejected with a reason). Scheduled
// payments and standing orders are InitiationCompleted and executed later
// by the scheduler.
//
// The checks that decide between an error and a payment run inside the
// transaction on the locked consent (status Authorised, not expired), so
// two orders racing for one consent cannot both consume it; the checks that
// depend only on the request (the token's consent, the Initiation and Risk
// matching the consent's) run first.
func (s *Service) Submit(ctx context.Context, req OrderRequest) (Payment, bool, error) {
	info, err := kindOf(req.Kind)
	if err != nil {
		return Payment{}, false, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if req.ConsentID == "" {
		return Payment{}, false, ob.FieldError(ob.CodeFieldMissing, "Data.ConsentId", "ConsentId is required")
	}
	if req.GrantID != req.ConsentID {
		return Payment{}, false, ob.FieldError(ob.CodeResourceConsentMismatch, "Data.ConsentId",
			"the access token was not issued for this consent")
	}
	riskJSON, err := ob.CheckRisk(req.Risk)
	if err != nil {
		return Payment{}, false, err
	}
	c, err := s.store.Consent(ctx, req.ConsentID)
	if ob.IsNotFound(err) {
		return Payment{}, false, ob.FieldError(ob.CodeResourceNotFound, "Data.ConsentId", "no such consent")
	} else if err != nil {
		return Payment{}, false, err
	}
	if c.TPPID != req.TPPID || c.Kind != req.Kind {
		return Payment{}, false, ob.FieldError(ob.CodeResourceConsentMismatch, "Data.ConsentId",
			"the consent is not a "+string(req.Kind)+" consent of this TPP")
	}
	payload, err := DecodeConsentPayload(c)
	if err != nil {
		return Payment{}, false, err
	}
	if !initiationMatches(req.Kind, payload.Initiation, req.Initiation) {
		return Payment{}, false, ob.FieldError(ob.CodeResourceConsentMismatch, "Data.Initiation",
			"the Initiation differs from the consent's")
	}
	if !sameJSON(payload.Risk, riskJSON) {
		return Payment{}, false, ob.FieldError(ob.CodeResourceConsentMismatch, "Risk", "the Risk differs from the consent's")
	}
	// A consent that is not Authorised any more may still be a retry of
	// the order that consumed it: Idempotent answers a replay before create
	// runs, and create refuses anything else under the lock. The work below
	// is only for an order that may be placed.
	var (
		order      Order
		debtorID   string
		ps         parties
		assessment risk.Assessment
		riskReason string
	)
	if c.Status == ob.ConsentAuthorised {
		if order, err = ParseOrder(req.Kind, payload.Initiation); err != nil {
			return Payment{}, false, fmt.Errorf("payments: consent %s initiation: %w", c.ID, err)
		}
		if len(c.AccountIDs) != 1 {
			return Payment{}, false, fmt.Errorf("payments: authorised consent %s has %d accounts", c.ID, len(c.AccountIDs))
		}
		debtorID = c.AccountIDs[0]
		if ps, err = s.parties(ctx, debtorID, order); err != nil {
			return Payment{}, false, err
		}
		if assessment, err = s.assess(ctx, c.TPPID, debtorID, order, now); err != nil {
			return Payment{}, false, err
		}
		switch assessment.Decision {
		case risk.Reject:
			riskReason = "rejected by fraud screening: " + assessment.Summary()
		case risk.StepUp:
			if !payload.SteppedUp {
				// The customer is not on the consent page any more: a
				// step-up that did not happen there is a rejection.
				riskReason = "rejected by fraud screening (re-authentication required): " + assessment.Summary()
			}
		}
	}

	// The order's id and its event are made before the transaction, which
	// only writes them.
	paymentID := info.orderPrefix + uuid.NewString()
	var note *ob.EventNotification
	if debtorID != "" {
		if note, err = s.event(ctx, c.TPPID, req.Kind, paymentID); err != nil {
			return Payment{}, false, err
		}
	}
	key := req.Idempotency
	key.TPPID, key.Kind, key.Now = req.TPPID, info.orderResource, now
	var created Payment
	id, replayed, err := s.store.Idempotent(ctx, key, func(ctx context.Context, tx Tx) (string, error) {
		before, err := tx.LockConsent(ctx, c.ID)
		if err != nil {
			return "", err
		}
		if before.Status != ob.ConsentAuthorised || debtorID == "" {
			return "", ob.FieldError(ob.CodeResourceInvalidConsentStatus, "Data.ConsentId",
				"the consent is "+before.Status.WireStatus()+", not Authorised")
		}
		if before.ExpirationDateTime != nil && !now.Before(*before.ExpirationDateTime) {
			return "", ob.FieldError(ob.CodeResourceInvalidConsentStatus, "Data.ConsentId", "the consent has expired")
		}
		after := before
		after.AccountIDs = slices.Clone(before.AccountIDs)
		if err := after.Consume(now); err != nil {
			return "", err
		}
		if err := tx.SaveConsent(ctx, before, after, now); err != nil {
			return "", err
		}
		p := Payment{
			ID: paymentID, Kind: req.Kind, ConsentID: c.ID, TPPID: c.TPPID,
			CustomerID: before.CustomerID, DebtorAccountID: debtorID, CreationDateTime: now,
			StatusUpdateDateTime: now, Initiation: payload.Initiation, Amount: order.Amount, Assessment: &assessment,
		}
		// The transaction may run again after a serialization failure:
		// the last run is the one committed.
		created = p
		if err := s.place(ctx, tx, &created, order, ps, riskReason, now); err != nil {
			return "", err
		}
		if note != nil {
			if err := tx.EnqueueNotification(ctx, *note); err != nil {
				return "", err
			}
		}
		return p.ID, nil
	})
	if err != nil {
		return Payment{}, false, err
	}
	p := created
	if replayed {
		// The order as it is now (a scheduled one may have run since).
		if p, err = s.store.Payment(ctx, id); err != nil {
			return Payment{}, false, fmt.Errorf("payments: read payment %s: %w", id, err)
		}
	} else {
		s.log.InfoContext(ctx, "payment order created", "payment", p.ID, "kind", p.Kind, "tpp", p.TPPID,
			"status", p.Status, "risk", assessment.Score)
	}
	return p, replayed, nil
}

// place writes a new order: a domestic payment is settled now, a scheduled
// payment and a standing order are scheduled and shown in AIS.
func (s *Service) place(ctx context.Context, tx Tx, p *Payment, o Order, parties parties, riskReason string, now time.Time) error {
	switch p.Kind {
	case ob.KindDomesticPayment:
		x := Execution{PaymentID: p.ID, N: 0, EntryID: ExecutionEntryID(p.ID, 0), At: now, Amount: o.Amount}
		if due, later := s.settlement.Due(o.Instrument, now); later && riskReason == "" && parties.creditor == nil {
			// The scheme moves the money later (see Settlement): the
			// customer pays now, into clearing, and the scheduler pays
			// settlement when due. Refused now, it is rejected now.
			if err := s.earmark(ctx, tx, &x, o, parties); err != nil {
				return err
			}
			if x.Status != StatusRejected {
				p.Status, p.NextRunAt = StatusAcceptedSettlementInProcess, &due
				return tx.InsertPayment(ctx, *p)
			}
		} else if riskReason != "" {
			x.Status, x.Reason = StatusRejected, riskReason
		} else if err := s.settle(ctx, tx, &x, o, parties); err != nil {
			return err
		}
		p.Status, p.StatusReason, p.RunsDone = x.Status, x.Reason, 1
		if err := tx.InsertPayment(ctx, *p); err != nil {
			return err
		}
		return tx.AddExecution(ctx, x)
	case ob.KindDomesticScheduledPayment:
		if riskReason != "" {
			p.Status, p.StatusReason = StatusInitiationFailed, riskReason
			return tx.InsertPayment(ctx, *p)
		}
		at := o.At.UTC()
		p.Status, p.NextRunAt = StatusInitiationCompleted, &at
		if err := tx.InsertPayment(ctx, *p); err != nil {
			return err
		}
		return tx.PutScheduledPayment(ctx, ob.ScheduledPayment{
			ID: p.ID, AccountID: p.DebtorAccountID, ScheduledPaymentDateTime: at, ScheduledType: "Execution",
			Reference: o.Reference, InstructedAmount: o.Amount, CreditorAccount: identification(o.CreditorAccount),
		})
	case ob.KindDomesticStandingOrder:
		if riskReason != "" {
			p.Status, p.StatusReason = StatusInitiationFailed, riskReason
			return tx.InsertPayment(ctx, *p)
		}
		in, err := decodeStandingOrder(p.Initiation)
		if err != nil {
			return err
		}
		first, ok, err := in.Plan(s.cal, 0)
		if err != nil || !ok {
			return fmt.Errorf("payments: standing order %s has no first payment: %v", p.ID, err)
		}
		at := first.At.UTC()
		p.Status, p.NextRunAt = StatusInitiationCompleted, &at
		if err := tx.InsertPayment(ctx, *p); err != nil {
			return err
		}
		return tx.PutStandingOrder(ctx, s.standingOrderView(*p, in, nil, &first))
	}
	return fmt.Errorf("payments: cannot place a %s", p.Kind)
}

// parties are the accounts a payment moves money between, looked up before
// the write transaction (they do not change under it: an account closed
// meanwhile is refused by the ledger).
type parties struct {
	debtor ob.Account
	// creditor is the creditor's account when it is at this bank.
	creditor *ob.Account
}

func (s *Service) parties(ctx context.Context, debtorID string, o Order) (parties, error) {
	var p parties
	var err error
	p.debtor, p.creditor, err = s.store.PaymentAccounts(ctx, debtorID, NormaliseScheme(o.CreditorAccount.SchemeName),
		o.CreditorAccount.Identification)
	if err != nil {
		return p, fmt.Errorf("payments: accounts of a payment from %s: %w", debtorID, err)
	}
	return p, nil
}

// settle posts one execution's money and sets its outcome. A payment to an
// account of this bank is an internal transfer; any other goes out through
// the settlement account, as a Faster Payments participant's does. A
// refusal (funds, an account that cannot pay) is an outcome, not an error.
func (s *Service) settle(ctx context.Context, tx Tx, x *Execution, o Order, ps parties) error {
	return s.pay(ctx, tx, x, o, ps, ledger.SettlementAccount(x.Amount.Currency), ledger.EntryOutbound)
}

// earmark takes the money of a payment to another bank whose scheme settles
// later from the customer into clearing, as settle does into settlement;
// settleCleared pays it on. x.Status is AcceptedSettlementCompleted when the
// money was taken (the customer's part is done), Rejected when refused.
func (s *Service) earmark(ctx context.Context, tx Tx, x *Execution, o Order, ps parties) error {
	return s.pay(ctx, tx, x, o, ps, ledger.ClearingAccount(x.Amount.Currency), ledger.EntryOutboundAccepted)
}

// settledEntryID is the ledger entry that pays an earmarked payment's money
// from clearing to settlement.
func settledEntryID(paymentID string) string { return paymentID + ":settled" }

// settleCleared pays the money earmark took for a payment from clearing to
// settlement, once (settledEntryID is unique).
func settleCleared(ctx context.Context, tx Tx, paymentID string, o Order, at time.Time) error {
	ccy := o.Amount.Currency
	_, err := tx.Post(ctx, ledger.Transfer(settledEntryID(paymentID), ledger.EntryOutboundSettled, o.Reference,
		ledger.ClearingAccount(ccy), ledger.SettlementAccount(ccy), o.Amount, at))
	return err
}

// pay posts one execution's money, to a customer of this bank or, for any
// other creditor, to the bank's account outside (settlement or clearing)
// with an entry of kind outKind, and sets the execution's outcome.
func (s *Service) pay(ctx context.Context, tx Tx, x *Execution, o Order, ps parties, outside, outKind string) error {
	debtorTx := &ob.Transaction{
		Reference:       o.Reference,
		Information:     truncate("Payment to "+o.CreditorAccount.Name, 500),
		CreditorAccount: identification(o.CreditorAccount),
	}
	e := ledger.Entry{ID: x.EntryID, Reference: o.Reference, At: x.At}
	switch {
	case ps.creditor != nil && ps.creditor.ID == ps.debtor.ID:
		x.Status, x.Reason = StatusRejected, "the creditor account is the debtor account"
		return nil
	case ps.creditor != nil && ps.creditor.Currency != x.Amount.Currency:
		x.Status, x.Reason = StatusRejected, ReasonCreditorCurrency
		return nil
	case ps.creditor != nil:
		e.Kind = ledger.EntryInternal
		e.Postings = []ledger.Posting{
			{AccountID: ps.debtor.ID, Amount: x.Amount.Neg(), Tx: debtorTx},
			{AccountID: ps.creditor.ID, Amount: x.Amount, Tx: &ob.Transaction{
				Reference:     o.Reference,
				Information:   truncate("Payment from "+debtorName(ps.debtor), 500),
				DebtorAccount: firstIdentification(ps.debtor),
			}},
		}
	default:
		e.Kind = outKind
		e.Postings = []ledger.Posting{
			{AccountID: ps.debtor.ID, Amount: x.Amount.Neg(), Tx: debtorTx},
			{AccountID: outside, Amount: x.Amount},
		}
	}
	if ps.debtor.Status != "Enabled" {
		x.Status, x.Reason = StatusRejected, ReasonDebtorUnavailable
		return nil
	}
	out, err := tx.Post(ctx, e)
	switch code := ob.ErrorCode(err); {
	case err == nil && out.Refused != nil:
		x.Status, x.Reason = StatusRejected, ReasonInsufficientFunds
	case err == nil:
		x.Status = StatusAcceptedSettlementCompleted
	case code == ledger.CodeUnknownAccount || code == ledger.CodeCurrencyMismatch:
		// A debtor account outside the ledger or in another currency than
		// the payment: the customer chose it, the bank cannot pay from it.
		x.Status, x.Reason = StatusRejected, ReasonDebtorUnavailable
	default:
		return err
	}
	return nil
}

// Payment returns a TPP's payment order of a kind: 400
// UK.OBIE.Resource.NotFound for an unknown id or an order of another kind,
// 403 (obank.Forbidden) for another TPP's.
func (s *Service) Payment(ctx context.Context, tppID string, kind ob.ConsentKind, id string) (Payment, error) {
	p, err := s.store.Payment(ctx, id)
	if ob.IsNotFound(err) {
		return Payment{}, ob.Errorf(ob.CodeResourceNotFound, "no such payment")
	} else if err != nil {
		return Payment{}, err
	}
	if p.Kind != kind {
		return Payment{}, ob.Errorf(ob.CodeResourceNotFound, "no such payment")
	}
	if p.TPPID != tppID {
		return Payment{}, ob.Errorf(ob.CodeForbidden, "the payment belongs to another TPP")
	}
	return p, nil
}

// Executions returns a payment order's executions (payment-details).
func (s *Service) Executions(ctx context.Context, p Payment) ([]Execution, error) {
	return s.store.Executions(ctx, p.ID)
}

// event builds the resource-update event of an order whose status changes
// (nil when the TPP did not subscribe, or no Events is configured).
func (s *Service) event(ctx context.Context, tppID string, kind ob.ConsentKind, paymentID string) (*ob.EventNotification, error) {
	if s.events == nil {
		return nil, nil
	}
	info, err := kindOf(kind)
	if err != nil {
		return nil, err
	}
	link := strings.TrimSuffix(s.linkBase, "/") + "/open-banking/v3.1/pisp" + info.orderPath + paymentID
	return s.events.ResourceUpdateNotification(ctx, tppID, paymentID, info.orderResource, link)
}

// assess scores an order from the debtor account's history and the TPP's
// recent behaviour.
func (s *Service) assess(ctx context.Context, tppID, debtorID string, o Order, now time.Time) (risk.Assessment, error) {
	h, err := s.history(ctx, debtorID, now)
	if err != nil {
		return risk.Assessment{}, err
	}
	submitted, rejected, err := s.tppStats(ctx, tppID, now)
	if err != nil {
		return risk.Assessment{}, err
	}
	at := now
	if !o.At.IsZero() {
		at = o.At
	}
	return s.risk.Assess(risk.Payment{
		Amount:                 o.Amount,
		CreditorScheme:         NormaliseScheme(o.CreditorAccount.SchemeName),
		CreditorIdentification: o.CreditorAccount.Identification,
		At:                     at,
	}, h, risk.TPP{Requests: submitted, Rejected: rejected}), nil
}

// historyWindow is how far back the customer's payments are read for risk
// scoring, and historyMax how many at most.
const (
	historyWindow = 90 * 24 * time.Hour
	historyMax    = 200
)

// history reads the debtor account's recent debits and saved payees.
func (s *Service) history(ctx context.Context, accountID string, now time.Time) (risk.History, error) {
	past, err := s.store.RiskHistory(ctx, accountID, now.Add(-historyWindow), historyMax)
	if err != nil {
		return risk.History{}, fmt.Errorf("payments: risk history: %w", err)
	}
	h := risk.History{KnownPayees: make(map[string]bool, len(past.SavedPayees)),
		Payments: make([]risk.PastPayment, 0, len(past.Debits))}
	for _, d := range past.Debits {
		pp := risk.PastPayment{Amount: d.Amount.Abs(), At: d.At}
		if d.CreditorIdentification != "" {
			pp.Payee = risk.PayeeKey(d.CreditorScheme, d.CreditorIdentification)
		}
		h.Payments = append(h.Payments, pp)
	}
	for _, a := range past.SavedPayees {
		if a.Identification != "" {
			h.KnownPayees[risk.PayeeKey(a.SchemeName, a.Identification)] = true
		}
	}
	return h, nil
}

func identification(a Account) *ob.AccountIdentification {
	return &ob.AccountIdentification{SchemeName: NormaliseScheme(a.SchemeName), Identification: a.Identification,
		Name: a.Name, SecondaryIdentification: a.SecondaryIdentification}
}

func firstIdentification(a ob.Account) *ob.AccountIdentification {
	for _, id := range a.Identifications {
		if id.SchemeName == ob.SchemeSortCodeAccountNumber || id.SchemeName == ob.SchemeIBAN {
			id := id
			return &id
		}
	}
	return nil
}

func debtorName(a ob.Account) string {
	if id := firstIdentification(a); id != nil && id.Name != "" {
		return id.Name
	}
	return "a customer of this bank"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// initiationMatches reports whether the order's Initiation is the
// consent's (stored as JSON of the kind's type), per Equal.
func initiationMatches(kind ob.ConsentKind, stored []byte, order any) bool {
	switch kind {
	case ob.KindDomesticPayment:
		var a Initiation
		b, ok := order.(Initiation)
		return ok && json.Unmarshal(stored, &a) == nil && Equal(a, b)
	case ob.KindDomesticScheduledPayment:
		var a ScheduledInitiation
		b, ok := order.(ScheduledInitiation)
		return ok && json.Unmarshal(stored, &a) == nil && EqualScheduled(a, b)
	case ob.KindDomesticStandingOrder:
		var a StandingOrderInitiation
		b, ok := order.(StandingOrderInitiation)
		return ok && json.Unmarshal(stored, &a) == nil && EqualStandingOrder(a, b)
	}
	return false
}

func decodeStandingOrder(initiation []byte) (StandingOrderInitiation, error) {
	var in StandingOrderInitiation
	if err := json.Unmarshal(initiation, &in); err != nil {
		return in, fmt.Errorf("payments: standing order initiation: %w", err)
	}
	return in, nil
}

// standingOrderView is the AIS standing order of an order: last is the
// payment just made (nil before the first), next the one due (nil when the
// order has ended, which makes it Inactive).
func (s *Service) standingOrderView(p Payment, in StandingOrderInitiation, last, next *Planned) ob.StandingOrder {
	so := ob.StandingOrder{
		ID: p.ID, AccountID: p.DebtorAccountID, Frequency: in.Frequency, Reference: in.Reference,
		NumberOfPayments: in.NumberOfPayments, Status: "Active",
		CreditorAccount: identification(in.CreditorAccount),
	}
	first := in.FirstPaymentDateTime.UTC()
	so.FirstPaymentDateTime = &first
	if m, err := in.FirstPaymentAmount.Money(); err == nil {
		so.FirstPaymentAmount = &m
	}
	if !in.FinalPaymentDateTime.IsZero() {
		t := in.FinalPaymentDateTime.UTC()
		so.FinalPaymentDateTime = &t
	}
	if in.FinalPaymentAmount != nil {
		if m, err := in.FinalPaymentAmount.Money(); err == nil {
			so.FinalPaymentAmount = &m
		}
	}
	if last != nil {
		t, m := last.At.UTC(), last.Amount
		so.LastPaymentDateTime, so.LastPaymentAmount = &t, &m
	}
	if next != nil {
		t, m := next.At.UTC(), next.Amount
		so.NextPaymentDateTime, so.NextPaymentAmount = &t, &m
	} else {
		so.Status = "Inactive"
	}
	return so
}

// tppStatsWindow is the TPP behaviour window of risk scoring, and
// tppStatsTTL how long one instance reuses the counts it read: the rule
// judges a rate over a day, which a few seconds' staleness does not change,
// while counting a busy TPP's day of payments on every payment would cost
// more than the rest of the payment.
const (
	tppStatsWindow = 24 * time.Hour
	tppStatsTTL    = 10 * time.Second
)

type tppCounts struct {
	read                time.Time
	submitted, rejected int
}

// tppStats returns the TPP's payment orders and refusals of the last day.
func (s *Service) tppStats(ctx context.Context, tppID string, now time.Time) (submitted, rejected int, err error) {
	s.statsMu.Lock()
	c, ok := s.stats[tppID]
	s.statsMu.Unlock()
	if ok && now.Sub(c.read) < tppStatsTTL && !now.Before(c.read) {
		return c.submitted, c.rejected, nil
	}
	submitted, rejected, err = s.store.TPPPaymentStats(ctx, tppID, now.Add(-tppStatsWindow))
	if err != nil {
		return 0, 0, err
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.stats == nil || len(s.stats) > 10000 {
		s.stats = map[string]tppCounts{} // bounded without an LRU: TPPs number in the hundreds
	}
	s.stats[tppID] = tppCounts{read: now, submitted: submitted, rejected: rejected}
	return submitted, rejected, nil
}
