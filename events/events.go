// Package events delivers OBIE event notifications to TPPs ([EV], [EN]):
// the event subscriptions a TPP manages, the persistent outbox the bank's
// hooks write to (Publisher), the worker that pushes signed Security Event
// Tokens to the TPPs' callback URLs with retries (Deliverer), and aggregated
// polling, where a TPP fetches and acknowledges the SETs itself (Service).
//
// The flow:
//
//	consent revoked ─► Publisher ─► outbox row (claims, jti) ─┬─► Deliverer ─► POST {CallbackUrl} (signed SET)
//	                                                          └─► POST /events (polling, signed SET)
//
// An event is recorded only for a TPP whose subscription covers its type.
// With a CallbackUrl it is pushed (at least once: the jti lets the TPP drop
// duplicates); once pushed it is not served by polling again. Without one,
// or after the push gave up, it waits for the TPP to poll and acknowledge it.
//
// Callback URLs are TPP-supplied addresses the bank connects to, so they are
// checked against server-side request forgery twice: when the subscription
// is written (the host must resolve only to public addresses) and when the
// connection is made (the dialer refuses non-public addresses, whatever DNS
// said a moment before).
package events

import (
	"context"
	"slices"
	"time"

	"github.com/obank/obank/ob"
)

// Event types, as a subscription's EventTypes names them ([NE]
// OBEventType1Code).
const (
	TypeResourceUpdate                          = "UK.OBIE.Resource-Update"
	TypeConsentAuthorizationRevoked             = "UK.OBIE.Consent-Authorization-Revoked"
	TypeConsentAccessRevoked                    = "UK.OBIE.Consent-Access-Revoked"
	TypeAccountAccessConsentLinkedAccountUpdate = "UK.OBIE.Account-Access-Consent-Linked-Account-Update"
)

// KnownTypes lists the event types a subscription may name. obank emits all
// but Consent-Access-Revoked, which the v3.1 notification spec gives no
// event key; TPPs may still subscribe to it.
var KnownTypes = []string{
	TypeResourceUpdate, TypeConsentAuthorizationRevoked, TypeConsentAccessRevoked,
	TypeAccountAccessConsentLinkedAccountUpdate,
}

// eventURN is the SET "events" key of each emitted type ([EN]).
var eventURN = map[string]string{
	TypeResourceUpdate:                          "urn:uk:org:openbanking:events:resource-update",
	TypeConsentAuthorizationRevoked:             "urn:uk:org:openbanking:events:consent-authorization-revoked",
	TypeAccountAccessConsentLinkedAccountUpdate: "urn:uk:org:openbanking:events:account-access-consent-linked-account-update",
}

// EventURN returns the SET "events" key of an event type ("" if obank
// never emits the type).
func EventURN(eventType string) string { return eventURN[eventType] }

// CodeUnsupportedEventType answers a subscription naming an event type
// obank does not know. [NE] defines it; the v3.1 YAML's enumeration omits
// it, but it is the only code that says what is wrong.
const CodeUnsupportedEventType = "UK.OBIE.Unsupported.EventType"

// Subscription is a TPP's event subscription. A TPP has at most one.
type Subscription struct {
	ID    string // EventSubscriptionId
	TPPID string // the OAuth client that owns it
	// CallbackURL is where SETs are pushed; empty means polling only.
	CallbackURL string
	Version     string
	// EventTypes restricts the subscription; nil means every type.
	EventTypes []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Wants reports whether the subscription covers eventType.
func (s Subscription) Wants(eventType string) bool {
	return len(s.EventTypes) == 0 || slices.Contains(s.EventTypes, eventType)
}

// Status is where an outbox notification is in its life.
//
//	stateDiagram-v2
//	    [*] --> Pending: published, TPP has a callback
//	    [*] --> Polling: published, polling only
//	    Pending --> Delivered: TPP answered 2xx
//	    Pending --> Failed: MaxAttempts reached (kept for polling)
//	    Pending --> Acked: acknowledged by polling first
//	    Polling --> Acked
//	    Failed --> Acked
//	    Pending --> Rejected: setErrs from polling
//	    Polling --> Rejected
//	    Failed --> Rejected
//
// Delivered, Acked and Rejected are terminal and never served again.
//
// Status and Notification live in package ob, so that domain packages
// (payments) can write an event in the transaction of the change it
// reports without importing this transport package.
type Status = ob.EventStatus

// Notification statuses.
const (
	StatusPending   Status = "pending"
	StatusPolling   Status = "polling"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
	StatusAcked     Status = "acked"
	StatusRejected  Status = "rejected"
)

// Notification is one outbox row (ob.EventNotification).
type Notification = ob.EventNotification

// SETError is a TPP's negative acknowledgement of one SET (setErrs).
type SETError struct {
	Err         string
	Description string
}

// Store keeps subscriptions and the outbox. The sqlstore implements it on
// SQLite and PostgreSQL; obtest.RunEventStoreTests is its contract. Methods
// return ob.ErrNotFound and ob.ErrConflict where documented; anything else
// is internal.
type Store interface {
	// CreateSubscription stores a subscription; ob.ErrConflict when the TPP
	// already has one (or the id exists).
	CreateSubscription(ctx context.Context, s Subscription) error
	// Subscription returns one subscription; ob.ErrNotFound if unknown.
	Subscription(ctx context.Context, id string) (Subscription, error)
	// SubscriptionsByTPP lists a TPP's subscriptions (zero or one).
	SubscriptionsByTPP(ctx context.Context, tppID string) ([]Subscription, error)
	// UpdateSubscription replaces CallbackURL, Version, EventTypes and
	// UpdatedAt; ob.ErrNotFound if unknown.
	UpdateSubscription(ctx context.Context, s Subscription) error
	// DeleteSubscription removes one; ob.ErrNotFound if unknown.
	DeleteSubscription(ctx context.Context, id string) error

	// EnqueueNotification writes an outbox row; ob.ErrConflict if the jti
	// exists.
	EnqueueNotification(ctx context.Context, n Notification) error
	// Notification returns one outbox row; ob.ErrNotFound if unknown.
	Notification(ctx context.Context, jti string) (Notification, error)
	// ClaimNotifications leases at most limit pending rows due at now
	// (NextAttemptAt <= now, lease free or expired) until now+lease and
	// returns them, oldest due first. Concurrent claimers, in this process
	// or others, never get the same row while its lease runs (FOR UPDATE
	// SKIP LOCKED on PostgreSQL; SQLite has a single writer).
	ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Notification, error)
	// MarkDelivered records a successful push of a pending row at at. It
	// reports false (and changes nothing) when the row is no longer pending
	// (acknowledged by polling meanwhile).
	MarkDelivered(ctx context.Context, jti string, at time.Time) (bool, error)
	// MarkAttempt records a failed push of a pending row: attempts becomes
	// attempts, the lease is released, and the row waits until next, or
	// becomes Failed when dead. It reports false when the row is no longer
	// pending.
	MarkAttempt(ctx context.Context, jti string, attempts int, next time.Time, dead bool, lastErr string) (bool, error)
	// PendingForPolling returns up to limit of the TPP's rows that polling
	// serves (Pending, Polling, Failed), oldest first, and whether more
	// remain beyond them. With limit 0 it only reports whether any remain.
	PendingForPolling(ctx context.Context, tppID string, limit int) ([]Notification, bool, error)
	// AckNotifications marks the TPP's listed rows Acked at at; jtis that
	// are unknown, another TPP's, or already terminal are ignored.
	AckNotifications(ctx context.Context, tppID string, jtis []string, at time.Time) error
	// RejectNotifications records the TPP's negative acknowledgements and
	// marks those rows Rejected; the same jtis are ignored as for Ack.
	RejectNotifications(ctx context.Context, tppID string, errs map[string]SETError, at time.Time) error
}

// Signer signs a SET's claims as a compact JWS. authz.KeyManager is one:
// SETs are signed PS256 with the bank's published signing key, so a TPP
// verifies them against the bank's JWKS.
type Signer interface {
	SignJWT(ctx context.Context, payload []byte, headers map[string]any) (string, error)
}

// setHeaders are the protected headers of every SET besides alg and kid.
var setHeaders = map[string]any{"typ": "JWT"}

// sign signs a notification's claims.
func sign(ctx context.Context, s Signer, n Notification) (string, error) {
	return s.SignJWT(ctx, n.Claims, setHeaders)
}
