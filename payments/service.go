package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments/risk"
)

// Service is the payment-initiation and confirmation-of-funds logic: it
// validates what TPPs ask, creates consents and payment orders exactly once,
// moves the money through the ledger in the same database transaction as the
// order's status, scores fraud risk, executes scheduled payments and
// standing orders, and answers funds checks. The HTTP handlers decode and
// encode; the customer's consent page calls Authorise; serve runs the
// scheduler (Run). Errors are *ob.Error with their OBIE code, or internal.
type Service struct {
	store  Store
	limits Limits
	risk   *risk.Engine
	cal    Calendar
	// settlement times domestic payments to other banks.
	settlement Settlement
	now        func() time.Time
	events     Events
	linkBase   string
	log        *slog.Logger

	// stats caches TPPs' recent payment counts (tppStats).
	statsMu sync.Mutex
	stats   map[string]tppCounts
}

// Events builds the resource-update events of payment orders whose status
// changed (created, executed); the service writes them in the transaction
// of the change (Tx.EnqueueNotification). events.Publisher implements it.
type Events interface {
	// ResourceUpdateNotification returns the outbox row, or nil when the
	// TPP did not subscribe to the event.
	ResourceUpdateNotification(ctx context.Context, tppID, resourceID, resourceType, link string) (*ob.EventNotification, error)
}

// Config configures a Service. Store is required.
type Config struct {
	Store Store
	// Limits is the payment policy; DefaultLimits when zero.
	Limits Limits
	// Risk scores payments; risk.DefaultConfig with HighAction StepUp when
	// nil.
	Risk *risk.Engine
	// Calendar gives the working days of standing orders; DefaultCalendar
	// when nil.
	Calendar Calendar
	// Settlement is when domestic payments to other banks settle, by
	// scheme; DefaultSettlement (on Calendar) when nil.
	Settlement *Settlement
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Events, when set, receives resource-update events, with links
	// absolute against LinkBase (the resource APIs' public URL).
	Events   Events
	LinkBase string
	Logger   *slog.Logger
}

// NewService checks cfg and returns a service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("payments: a store is required")
	}
	s := &Service{store: cfg.Store, limits: cfg.Limits, risk: cfg.Risk, cal: cfg.Calendar, now: cfg.Now,
		events: cfg.Events, linkBase: cfg.LinkBase, log: cfg.Logger}
	if s.limits.MaxAmount == "" && len(s.limits.Currencies) == 0 {
		s.limits = DefaultLimits()
	}
	if s.risk == nil {
		// By default a HIGH score asks the customer to re-authenticate on
		// the consent page rather than refusing outright.
		rc := risk.DefaultConfig()
		rc.HighAction = risk.StepUp
		e, err := risk.New(rc)
		if err != nil {
			return nil, err
		}
		s.risk = e
	}
	if s.cal == nil {
		s.cal = DefaultCalendar
	}
	if cfg.Settlement != nil {
		s.settlement = *cfg.Settlement
	} else {
		st, err := DefaultSettlement()
		if err != nil {
			return nil, err
		}
		st.Calendar = s.cal
		s.settlement = st
	}
	if err := s.settlement.Validate(); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// The resource kinds of idempotency keys and events.
const (
	ResourceDomesticPaymentConsent          = "domestic-payment-consent"
	ResourceDomesticScheduledPaymentConsent = "domestic-scheduled-payment-consent"
	ResourceDomesticStandingOrderConsent    = "domestic-standing-order-consent"
	ResourceDomesticPayment                 = "domestic-payment"
	ResourceDomesticScheduledPayment        = "domestic-scheduled-payment"
	ResourceDomesticStandingOrder           = "domestic-standing-order"
)

// kindInfo is what differs between the three payment types.
type kindInfo struct {
	consentResource, orderResource string
	consentPrefix, orderPrefix     string
	// orderPath is the order's path under /open-banking/v3.1/pisp.
	orderPath string
}

var kinds = map[ob.ConsentKind]kindInfo{
	ob.KindDomesticPayment: {ResourceDomesticPaymentConsent, ResourceDomesticPayment,
		"pdc-", "pdp-", "/domestic-payments/"},
	ob.KindDomesticScheduledPayment: {ResourceDomesticScheduledPaymentConsent, ResourceDomesticScheduledPayment,
		"psc-", "psp-", "/domestic-scheduled-payments/"},
	ob.KindDomesticStandingOrder: {ResourceDomesticStandingOrderConsent, ResourceDomesticStandingOrder,
		"poc-", "pso-", "/domestic-standing-orders/"},
}

func kindOf(k ob.ConsentKind) (kindInfo, error) {
	info, ok := kinds[k]
	if !ok {
		return kindInfo{}, fmt.Errorf("payments: %q is not a payment kind", k)
	}
	return info, nil
}

// ConsentRequest is a TPP's POST of a payment consent, decoded.
type ConsentRequest struct {
	Kind  ob.ConsentKind
	TPPID string
	// Idempotency is the request's x-idempotency-key (Kind and TPPID are
	// filled by the service).
	Idempotency IdempotencyKey
	// Initiation is an Initiation, ScheduledInitiation or
	// StandingOrderInitiation, per Kind.
	Initiation any
	// Risk is the request's Risk object (required, a JSON object).
	Risk json.RawMessage
	// Permission is Data.Permission of scheduled and standing-order
	// consents (must be "Create").
	Permission         string
	ReadRefundAccount  string
	AuthorisationType  string
	CompletionDateTime *time.Time
}

// OrderRequest is a TPP's POST of a payment order, decoded.
type OrderRequest struct {
	Kind  ob.ConsentKind
	TPPID string
	// GrantID is the consent the access token is bound to (authorization
	// code grant); it must be ConsentID.
	GrantID     string
	ConsentID   string
	Idempotency IdempotencyKey
	Initiation  any
	Risk        json.RawMessage
}

// ErrStepUpRequired is Authorise's answer when the fraud score asks the
// customer to re-authenticate before the consent can be authorised.
var ErrStepUpRequired = &ob.Error{Code: ob.CodeReauthenticate, Message: "the customer must re-authenticate to authorise this payment"}

// CodeRiskRejected is the kind of error Authorise returns when the fraud
// score rejects a consent (the consent is then Rejected).
const CodeRiskRejected = "obank.Payments.RiskRejected"

// AuthoriseRequest is the customer's approval on the consent page.
type AuthoriseRequest struct {
	ConsentID  string
	CustomerID string
	// AccountID is the debtor account the customer chose (payments) or the
	// account the funds-confirmation consent names.
	AccountID string
	// SteppedUp reports that the customer re-authenticated (entered a new
	// one-time code) on the page after ErrStepUpRequired.
	SteppedUp bool
}

// FundsConsentRequest is a CBPII's POST of a funds-confirmation consent.
type FundsConsentRequest struct {
	TPPID              string
	DebtorAccount      Account
	ExpirationDateTime *time.Time
}

// FundsCheck is a CBPII's POST /funds-confirmations.
type FundsCheck struct {
	TPPID     string
	GrantID   string // the consent the token is bound to
	ConsentID string
	Reference string
	Amount    Amount
}
