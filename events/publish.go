package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ob"
)

// Publisher records events in the outbox. The bank's hooks call it after
// the change they report has been committed: a consent revoked, a linked
// account closed, a resource updated. Each call writes at most one row, for
// the resource's TPP, and only if that TPP's subscription covers the event
// type; the row survives restarts until it is delivered or acknowledged.
//
// The row is written after, not with, the change (the stores are separate
// interfaces), so a crash between the two loses that one event; the bank's
// state stays right and the TPP learns of it at its next call.
type Publisher struct {
	Store Store
	// Issuer is the SETs' iss: the bank's OAuth issuer.
	Issuer string
	// BaseURL is the public base URL of the resource APIs (the mTLS
	// listener); resource links in SETs are absolute against it.
	BaseURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Reasons of an account-access-consent-linked-account-update event ([EN]).
const (
	ReasonAccountClosure = "UK.OBIE.AccountClosure"
	ReasonCASS           = "UK.OBIE.CASS"
)

// consentResource is the resource type and path of each consent kind.
var consentResource = map[ob.ConsentKind]struct{ rty, path string }{
	ob.KindAccountAccess:            {"account-access-consent", "/open-banking/v3.1/aisp/account-access-consents/"},
	ob.KindDomesticPayment:          {"domestic-payment-consent", "/open-banking/v3.1/pisp/domestic-payment-consents/"},
	ob.KindDomesticScheduledPayment: {"domestic-scheduled-payment-consent", "/open-banking/v3.1/pisp/domestic-scheduled-payment-consents/"},
	ob.KindDomesticStandingOrder:    {"domestic-standing-order-consent", "/open-banking/v3.1/pisp/domestic-standing-order-consents/"},
	ob.KindFundsConfirmation:        {"funds-confirmation-consent", "/open-banking/v3.1/cbpii/funds-confirmation-consents/"},
}

// ConsentAuthorizationRevoked reports that the customer (or the bank)
// revoked a consent's authorisation, writing its events at once (see
// ConsentAuthorizationRevokedEvents for writing them with the change).
func (p *Publisher) ConsentAuthorizationRevoked(ctx context.Context, c ob.Consent) error {
	notes, err := p.ConsentAuthorizationRevokedEvents(ctx, c)
	if err != nil {
		return err
	}
	for _, n := range notes {
		if err := p.Store.EnqueueNotification(ctx, n); err != nil {
			return fmt.Errorf("events: publish %s: %w", n.EventType, err)
		}
	}
	return nil
}

// ConsentAuthorizationRevokedEvents returns, without writing them, the
// outbox rows reporting that consent c's authorisation was revoked at the
// bank: consent-authorization-revoked, and for a funds-confirmation consent,
// whose status changes to Revoked, a resource-update as the CBPII
// specification has it. None for a TPP that did not subscribe. The caller
// writes them in the transaction of the revocation.
func (p *Publisher) ConsentAuthorizationRevokedEvents(ctx context.Context, c ob.Consent) ([]Notification, error) {
	rty, link, err := p.consentLink(c)
	if err != nil {
		return nil, err
	}
	var notes []Notification
	types := []string{TypeConsentAuthorizationRevoked}
	if c.Kind == ob.KindFundsConfirmation {
		types = append(types, TypeResourceUpdate)
	}
	for _, t := range types {
		n, err := p.notification(ctx, c.TPPID, t, c.ID, rty, link, "")
		if err != nil {
			return nil, err
		}
		if n != nil {
			notes = append(notes, *n)
		}
	}
	return notes, nil
}

// ConsentRevoked implements httpapi.ConsentEvents, which the consent
// handlers call after a change they made. A consent the TPP deleted itself
// (DeletedAt set) raises no event: the TPP made the change and knows it;
// OBIE's consent-authorization-revoked is for revocations at the bank.
// Anything else is ConsentAuthorizationRevoked.
func (p *Publisher) ConsentRevoked(ctx context.Context, c ob.Consent) error {
	if c.DeletedAt != nil {
		return nil
	}
	return p.ConsentAuthorizationRevoked(ctx, c)
}

// AccountAccessConsentLinkedAccountUpdate reports that an account linked
// to an account-access consent changed; reason is ReasonAccountClosure or
// ReasonCASS.
func (p *Publisher) AccountAccessConsentLinkedAccountUpdate(ctx context.Context, c ob.Consent, reason string) error {
	n, err := p.linkedAccountUpdate(ctx, c, reason)
	if err != nil || n == nil {
		return err
	}
	if err := p.Store.EnqueueNotification(ctx, *n); err != nil {
		return fmt.Errorf("events: publish %s: %w", n.EventType, err)
	}
	return nil
}

// linkedAccountUpdate builds the outbox row of a linked-account-update
// event, or nil when the TPP did not subscribe to it.
func (p *Publisher) linkedAccountUpdate(ctx context.Context, c ob.Consent, reason string) (*Notification, error) {
	if reason != ReasonAccountClosure && reason != ReasonCASS {
		return nil, fmt.Errorf("events: linked-account-update reason %q is not %s or %s", reason, ReasonAccountClosure, ReasonCASS)
	}
	if c.Kind != ob.KindAccountAccess {
		return nil, fmt.Errorf("events: linked-account-update for a %s consent", c.Kind)
	}
	rty, link, err := p.consentLink(c)
	if err != nil {
		return nil, err
	}
	return p.notification(ctx, c.TPPID, TypeAccountAccessConsentLinkedAccountUpdate, c.ID, rty, link, reason)
}

// ResourceUpdate reports that a TPP's resource (a payment's status, say)
// changed. resourceType is the OBIE resource name ("domestic-payment") and
// link its absolute URI, also used as the SET's sub.
func (p *Publisher) ResourceUpdate(ctx context.Context, tppID, resourceID, resourceType, link string) error {
	if tppID == "" || resourceID == "" || resourceType == "" || link == "" {
		return fmt.Errorf("events: resource update needs a TPP, an id, a type and a link")
	}
	return p.publish(ctx, tppID, TypeResourceUpdate, resourceID, resourceType, link, "")
}

func (p *Publisher) consentLink(c ob.Consent) (rty, link string, err error) {
	r, ok := consentResource[c.Kind]
	if !ok {
		return "", "", fmt.Errorf("events: no resource type for consent kind %q", c.Kind)
	}
	if c.TPPID == "" || c.ID == "" {
		return "", "", fmt.Errorf("events: consent without an id or a TPP")
	}
	return r.rty, strings.TrimSuffix(p.BaseURL, "/") + r.path + c.ID, nil
}

// The SET claim set ([EN] OBEventNotification1, with the events this bank
// emits).
type setClaims struct {
	Iss    string              `json:"iss"`
	Iat    int64               `json:"iat"`
	Jti    string              `json:"jti"`
	Aud    string              `json:"aud"`
	Sub    string              `json:"sub"`
	Txn    string              `json:"txn"`
	Toe    int64               `json:"toe"`
	Events map[string]setEvent `json:"events"`
}

type setEvent struct {
	Subject setSubject `json:"subject"`
	Reason  string     `json:"reason,omitempty"`
}

type setSubject struct {
	SubjectType string    `json:"subject_type"`
	RID         string    `json:"http://openbanking.org.uk/rid"`
	RTY         string    `json:"http://openbanking.org.uk/rty"`
	RLK         []setLink `json:"http://openbanking.org.uk/rlk"`
}

type setLink struct {
	Version string `json:"version"`
	Link    string `json:"link"`
}

// subjectType is the one subject_type OBIE defines.
const subjectType = "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty"

// resourceVersion is the API version of the links obank serves.
const resourceVersion = "v3.1"

// publish writes the event for tppID if its subscription wants it.
func (p *Publisher) publish(ctx context.Context, tppID, eventType, rid, rty, link, reason string) error {
	n, err := p.notification(ctx, tppID, eventType, rid, rty, link, reason)
	if err != nil || n == nil {
		return err
	}
	if err := p.Store.EnqueueNotification(ctx, *n); err != nil {
		return fmt.Errorf("events: publish %s: %w", eventType, err)
	}
	return nil
}

// ResourceUpdateNotification returns the outbox row of a resource-update
// event (see ResourceUpdate), or nil when the TPP did not subscribe to it,
// without writing it: the caller writes it in the same database
// transaction as the change it reports (a transactional outbox), so a
// crash can lose neither without the other.
func (p *Publisher) ResourceUpdateNotification(ctx context.Context, tppID, resourceID, resourceType, link string) (*Notification, error) {
	if tppID == "" || resourceID == "" || resourceType == "" || link == "" {
		return nil, fmt.Errorf("events: resource update needs a TPP, an id, a type and a link")
	}
	return p.notification(ctx, tppID, TypeResourceUpdate, resourceID, resourceType, link, "")
}

// notification builds the outbox row of an event for tppID, or nil when its
// subscription does not want the event.
func (p *Publisher) notification(ctx context.Context, tppID, eventType, rid, rty, link, reason string) (*Notification, error) {
	subs, err := p.Store.SubscriptionsByTPP(ctx, tppID)
	if err != nil {
		return nil, fmt.Errorf("events: publish %s: %w", eventType, err)
	}
	var sub *Subscription
	for i := range subs {
		if subs[i].Wants(eventType) {
			sub = &subs[i]
			break
		}
	}
	if sub == nil {
		return nil, nil // the TPP did not subscribe to this event
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	at := now().UTC()
	jti := uuid.NewString()
	claims := setClaims{
		Iss: p.Issuer, Iat: at.Unix(), Jti: jti, Aud: tppID, Sub: link, Txn: uuid.NewString(), Toe: at.Unix(),
		Events: map[string]setEvent{eventURN[eventType]: {
			Subject: setSubject{SubjectType: subjectType, RID: rid, RTY: rty,
				RLK: []setLink{{Version: resourceVersion, Link: link}}},
			Reason: reason,
		}},
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("events: encode SET: %w", err)
	}
	n := Notification{
		JTI: jti, TPPID: tppID, EventType: eventType, Claims: body, CallbackURL: sub.CallbackURL,
		Status: StatusPolling, NextAttemptAt: at, CreatedAt: at,
	}
	if sub.CallbackURL != "" {
		n.Status = StatusPending
	}
	return &n, nil
}
