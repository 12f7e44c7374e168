package payments

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments/risk"
)

// Status is the status of a payment order, in the enumeration of its type:
// domestic payments use the settlement statuses, scheduled payments and
// standing orders the initiation ones (their executions carry settlement
// statuses, see Execution).
type Status string

// Statuses of OBWriteDomesticResponse5 (domestic payments).
const (
	StatusPending                           Status = "Pending"
	StatusRejected                          Status = "Rejected"
	StatusAcceptedSettlementInProcess       Status = "AcceptedSettlementInProcess"
	StatusAcceptedSettlementCompleted       Status = "AcceptedSettlementCompleted"
	StatusAcceptedWithoutPosting            Status = "AcceptedWithoutPosting"
	StatusAcceptedCreditSettlementCompleted Status = "AcceptedCreditSettlementCompleted"
)

// Statuses of OBWriteDomesticScheduledResponse5 and
// OBWriteDomesticStandingOrderResponse6.
const (
	StatusInitiationPending   Status = "InitiationPending"
	StatusInitiationFailed    Status = "InitiationFailed"
	StatusInitiationCompleted Status = "InitiationCompleted"
	StatusCancelled           Status = "Cancelled"
)

// Payment is a payment order: a domestic payment, a domestic scheduled
// payment or a domestic standing order, created by consuming its consent.
type Payment struct {
	ID string
	// Kind is the kind of the consent it consumed (ob.KindDomesticPayment,
	// ob.KindDomesticScheduledPayment, ob.KindDomesticStandingOrder).
	Kind      ob.ConsentKind
	ConsentID string
	TPPID     string
	// CustomerID and DebtorAccountID come from the consent's authorisation.
	CustomerID      string
	DebtorAccountID string

	Status Status
	// StatusReason says why a payment was rejected (insufficient funds, a
	// risk decision); empty otherwise. It is shown to the TPP in
	// payment-details and to operators, never internal error text.
	StatusReason         string
	CreationDateTime     time.Time
	StatusUpdateDateTime time.Time

	// Initiation is the order's Initiation as JSON of the typed struct of
	// its kind (Initiation, ScheduledInitiation, StandingOrderInitiation):
	// the consent's, which the order matched.
	Initiation json.RawMessage
	// Amount is the instructed amount (the first payment's for a standing
	// order).
	Amount ob.Money
	// Assessment is the fraud score at submission.
	Assessment *risk.Assessment

	// NextRunAt is when the scheduler must execute the order next (a
	// scheduled payment's execution date, a standing order's next payment);
	// nil when nothing is due any more, and always nil for an immediate
	// payment.
	NextRunAt *time.Time
	// RunsDone counts the executions made (a standing order's payments so
	// far), refused ones included.
	RunsDone int
}

// Execution is one attempt to move the money of a payment order: the
// immediate settlement of a domestic payment, the execution of a scheduled
// payment, one payment of a standing order. Its EntryID is the ledger
// entry's id, which is unique: the same execution can never post twice.
type Execution struct {
	PaymentID string
	// N is the execution's number within its order, from 0.
	N       int
	EntryID string // the ledger entry (also the PaymentTransactionId)
	At      time.Time
	Amount  ob.Money
	// Status is AcceptedSettlementCompleted or Rejected.
	Status Status
	Reason string // why it was rejected
}

// ExecutionEntryID is the ledger entry id of execution n of a payment.
func ExecutionEntryID(paymentID string, n int) string {
	return fmt.Sprintf("%s:%d", paymentID, n)
}

// ConsentPayload is what a payment consent keeps in ob.Consent.Payload: the
// typed Initiation of its kind, the rest of the TPP's request that the
// order must match or that the bank shows back, and what the bank decided
// when the customer authorised it.
type ConsentPayload struct {
	// Initiation is JSON of Initiation, ScheduledInitiation or
	// StandingOrderInitiation, per the consent's kind.
	Initiation json.RawMessage `json:"Initiation"`
	// Risk is the TPP's OBRisk1 object as sent; the order's must be equal
	// as JSON values.
	Risk json.RawMessage `json:"Risk"`
	// Permission is the Data.Permission of a scheduled payment or
	// standing-order consent ("Create").
	Permission string `json:"Permission,omitempty"`
	// ReadRefundAccount is "Yes" or "No" when sent.
	ReadRefundAccount string `json:"ReadRefundAccount,omitempty"`
	// AuthorisationType and CompletionDateTime are Data.Authorisation.
	AuthorisationType  string     `json:"AuthorisationType,omitempty"`
	CompletionDateTime *time.Time `json:"CompletionDateTime,omitempty"`
	// Assessment is the fraud score taken when the customer authorised the
	// consent, and SteppedUp records that the customer re-authenticated
	// because of it.
	Assessment *risk.Assessment `json:"Assessment,omitempty"`
	SteppedUp  bool             `json:"SteppedUp,omitempty"`
}

// FundsConsentPayload is what a funds-confirmation consent keeps in
// ob.Consent.Payload: the account the CBPII asks about.
type FundsConsentPayload struct {
	DebtorAccount Account `json:"DebtorAccount"`
}

// DecodeConsentPayload reads a payment consent's payload.
func DecodeConsentPayload(c ob.Consent) (ConsentPayload, error) {
	var p ConsentPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return p, fmt.Errorf("payments: consent %s payload: %w", c.ID, err)
	}
	return p, nil
}

// DecodeFundsConsentPayload reads a funds-confirmation consent's payload.
func DecodeFundsConsentPayload(c ob.Consent) (FundsConsentPayload, error) {
	var p FundsConsentPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return p, fmt.Errorf("payments: consent %s payload: %w", c.ID, err)
	}
	return p, nil
}

// Order is the common view of the three Initiation types that the service
// needs: the money, the parties and the schedule.
type Order struct {
	Amount          ob.Money
	DebtorAccount   *Account
	CreditorAccount Account
	Reference       string
	// At is the requested execution time of a scheduled payment or the
	// first payment of a standing order; zero for an immediate payment.
	At time.Time
	// Instrument is the Initiation's LocalInstrument ("" when it names
	// none), which decides when a domestic payment settles (Settlement).
	Instrument string
}

// ParseOrder decodes an Initiation of the consent kind and returns its
// order view.
func ParseOrder(kind ob.ConsentKind, initiation []byte) (Order, error) {
	switch kind {
	case ob.KindDomesticPayment:
		var in Initiation
		if err := json.Unmarshal(initiation, &in); err != nil {
			return Order{}, err
		}
		m, err := in.InstructedAmount.Money()
		return Order{Amount: m, DebtorAccount: in.DebtorAccount, CreditorAccount: in.CreditorAccount,
			Reference: reference(in.RemittanceInformation), Instrument: in.LocalInstrument}, err
	case ob.KindDomesticScheduledPayment:
		var in ScheduledInitiation
		if err := json.Unmarshal(initiation, &in); err != nil {
			return Order{}, err
		}
		m, err := in.InstructedAmount.Money()
		return Order{Amount: m, DebtorAccount: in.DebtorAccount, CreditorAccount: in.CreditorAccount,
			Reference: reference(in.RemittanceInformation), At: in.RequestedExecutionDateTime,
			Instrument: in.LocalInstrument}, err
	case ob.KindDomesticStandingOrder:
		var in StandingOrderInitiation
		if err := json.Unmarshal(initiation, &in); err != nil {
			return Order{}, err
		}
		m, err := in.FirstPaymentAmount.Money()
		return Order{Amount: m, DebtorAccount: in.DebtorAccount, CreditorAccount: in.CreditorAccount,
			Reference: in.Reference, At: in.FirstPaymentDateTime}, err
	}
	return Order{}, fmt.Errorf("payments: %q is not a payment consent kind", kind)
}

func reference(r *RemittanceInformation) string {
	if r == nil {
		return ""
	}
	if r.Reference != "" {
		return r.Reference
	}
	return r.Unstructured
}
