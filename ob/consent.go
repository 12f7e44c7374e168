package ob

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ConsentStatus is where a consent is in its life.
//
//	stateDiagram-v2
//	    [*] --> AwaitingAuthorisation: TPP creates it
//	    AwaitingAuthorisation --> Authorised: customer allows
//	    AwaitingAuthorisation --> Rejected: customer denies, or it expires unauthorised
//	    Authorised --> Revoked: revoked (CBPII, and by the bank)
//	    Authorised --> Consumed: payment made (PIS)
//	    Authorised --> Expired: ExpirationDateTime passed
//
// Rejected, Revoked, Consumed and Expired are terminal. A TPP's DELETE is a
// soft delete (DeletedAt), not a status: later reads answer 400. A customer
// revoking access at the bank's dashboard revokes the tokens and leaves the
// status as it is, as the OBIE standard prescribes for account-access
// consents.
type ConsentStatus string

// Consent statuses. Expired is the bank's own: OBIE v3.1 has no such value,
// so each API renders it in its own enumeration (see WireStatus).
const (
	ConsentAwaitingAuthorisation ConsentStatus = "AwaitingAuthorisation"
	ConsentAuthorised            ConsentStatus = "Authorised"
	ConsentRejected              ConsentStatus = "Rejected"
	ConsentRevoked               ConsentStatus = "Revoked"
	ConsentConsumed              ConsentStatus = "Consumed"
	ConsentExpired               ConsentStatus = "Expired"
)

// consentTransitions is the one transition table every consent type uses.
var consentTransitions = map[ConsentStatus][]ConsentStatus{
	ConsentAwaitingAuthorisation: {ConsentAuthorised, ConsentRejected},
	ConsentAuthorised:            {ConsentRevoked, ConsentConsumed, ConsentExpired},
}

// CanMoveTo reports whether the transition s → to is legal.
func (s ConsentStatus) CanMoveTo(to ConsentStatus) bool {
	return slices.Contains(consentTransitions[s], to)
}

// Terminal reports whether no transition leaves s.
func (s ConsentStatus) Terminal() bool { return len(consentTransitions[s]) == 0 }

// WireStatus renders s in the v3.1 enumerations, which have no Expired: an
// expired authorised consent reads Revoked (it can no longer be used and
// will not be again), and Consumed only exists for payment consents.
func (s ConsentStatus) WireStatus() string {
	if s == ConsentExpired {
		return string(ConsentRevoked)
	}
	return string(s)
}

// ConsentKind is the API a consent belongs to.
type ConsentKind string

// Consent kinds.
const (
	KindAccountAccess            ConsentKind = "account-access"
	KindDomesticPayment          ConsentKind = "domestic-payment"
	KindDomesticScheduledPayment ConsentKind = "domestic-scheduled-payment"
	KindDomesticStandingOrder    ConsentKind = "domestic-standing-order"
	KindFundsConfirmation        ConsentKind = "funds-confirmation"
)

// Payment reports whether k is a payment-initiation consent (scope
// payments): single use, consumed by its payment order, never revoked.
func (k ConsentKind) Payment() bool {
	switch k {
	case KindDomesticPayment, KindDomesticScheduledPayment, KindDomesticStandingOrder:
		return true
	}
	return false
}

// Consent is an intent a TPP created for a customer to authorise. Its ID is
// the ConsentId (the OAuth openbanking_intent_id). On authorisation the bank
// records the customer and the accounts they chose, and creates the
// AccessGrant (same ID) that tokens are bound to.
type Consent struct {
	ID                   string
	Kind                 ConsentKind
	TPPID                string // the OAuth client that created it
	Status               ConsentStatus
	CreationDateTime     time.Time
	StatusUpdateDateTime time.Time
	Permissions          Permissions
	ExpirationDateTime   *time.Time
	TransactionFrom      *time.Time
	TransactionTo        *time.Time
	// Set on authorisation.
	CustomerID string
	AccountIDs []string
	// DeletedAt is set by the TPP's DELETE (soft delete).
	DeletedAt *time.Time
	// Payload is the kind-specific request body the TPP sent (payment
	// initiation, funds-confirmation debtor account), kept as JSON so the
	// bank can show and later match it. Empty for account access.
	Payload []byte
}

// transition moves c to status `to` at now, or returns
// UK.OBIE.Resource.InvalidConsentStatus.
func (c *Consent) transition(to ConsentStatus, now time.Time) error {
	if !c.Status.CanMoveTo(to) {
		return Errorf(CodeResourceInvalidConsentStatus, "consent %s is %s and cannot become %s", c.ID, c.Status, to)
	}
	c.Status = to
	c.StatusUpdateDateTime = now
	return nil
}

// Authorise records the customer's approval of accountIDs. An expired or
// deleted consent cannot be authorised.
func (c *Consent) Authorise(customerID string, accountIDs []string, now time.Time) error {
	if c.DeletedAt != nil {
		return Errorf(CodeResourceInvalidConsentStatus, "consent %s was deleted", c.ID)
	}
	if c.ExpirationDateTime != nil && !now.Before(*c.ExpirationDateTime) {
		return Errorf(CodeResourceInvalidConsentStatus, "consent %s has expired", c.ID)
	}
	if customerID == "" {
		return fmt.Errorf("ob: authorising consent %s without a customer", c.ID)
	}
	switch {
	case c.Kind == KindAccountAccess && len(accountIDs) == 0:
		return FieldError(CodeFieldMissing, "AccountIDs", "choose at least one account")
	case (c.Kind.Payment() || c.Kind == KindFundsConfirmation) && len(accountIDs) != 1:
		// The debtor account the payment or the funds check is for.
		return FieldError(CodeFieldInvalid, "AccountIDs", "choose exactly one account")
	}
	if err := c.transition(ConsentAuthorised, now); err != nil {
		return err
	}
	c.CustomerID = customerID
	c.AccountIDs = slices.Clone(accountIDs)
	return nil
}

// Reject records the customer's refusal (or abandonment).
func (c *Consent) Reject(now time.Time) error { return c.transition(ConsentRejected, now) }

// Revoke ends an authorised consent.
func (c *Consent) Revoke(now time.Time) error { return c.transition(ConsentRevoked, now) }

// Consume marks a payment consent used by its payment.
func (c *Consent) Consume(now time.Time) error { return c.transition(ConsentConsumed, now) }

// Expire applies ExpirationDateTime: an authorised consent becomes Expired,
// one never authorised becomes Rejected (abandoned). It reports false, and
// changes nothing, when the consent is not due or already terminal.
func (c *Consent) Expire(now time.Time) bool {
	if c.ExpirationDateTime == nil || now.Before(*c.ExpirationDateTime) {
		return false
	}
	switch c.Status {
	case ConsentAuthorised:
		return c.transition(ConsentExpired, now) == nil
	case ConsentAwaitingAuthorisation:
		return c.transition(ConsentRejected, now) == nil
	}
	return false
}

// Grant returns the access grant an authorised consent gives its TPP.
func (c Consent) Grant() AccessGrant {
	return AccessGrant{
		ID: c.ID, TPPID: c.TPPID, CustomerID: c.CustomerID, Permissions: c.Permissions,
		AccountIDs: slices.Clone(c.AccountIDs), TransactionFrom: c.TransactionFrom,
		TransactionTo: c.TransactionTo, ExpiresAt: c.ExpirationDateTime, CreatedAt: c.StatusUpdateDateTime,
	}
}

// ConsentStore keeps consents. Methods that change a consent load it, apply
// the domain transition (so illegal moves are typed errors) and save it in
// one transaction; where noted, the access grant changes in the same one.
type ConsentStore interface {
	// CreateConsent stores a new consent; ErrConflict when the id exists.
	CreateConsent(ctx context.Context, c Consent) error
	// Consent returns a consent, deleted ones included (the caller answers
	// 400 for those); ErrNotFound for an unknown id.
	Consent(ctx context.Context, id string) (Consent, error)
	// UpdateConsent applies change to the stored consent inside a
	// transaction (change runs the domain transition and may return its
	// error, which is returned unchanged) and saves the result. When the
	// consent becomes Authorised the AccessGrant (c.Grant()) is created in
	// the same transaction; when it leaves Authorised (except to Consumed:
	// the TPP's token must still reach the order it made), or is deleted,
	// the grant and its tokens are revoked in the same transaction.
	UpdateConsent(ctx context.Context, id string, now time.Time, change func(c *Consent) error) (Consent, error)
	// ConsentsByCustomer lists the consents a customer authorised, newest
	// first (the customer's dashboard).
	ConsentsByCustomer(ctx context.Context, customerID string) ([]Consent, error)
	// ExpireConsents applies Expire to at most limit consents due at now
	// and returns those it changed. Several instances may run it at once:
	// each due consent is claimed by one (FOR UPDATE SKIP LOCKED on
	// PostgreSQL; SQLite has a single writer).
	ExpireConsents(ctx context.Context, now time.Time, limit int) ([]Consent, error)
}
