package ob

import "time"

// EventStatus is where an event notification is in its delivery (package
// events defines the values and the state diagram).
type EventStatus string

// EventNotification is one row of the event outbox: one event for one TPP.
// Claims is the SET claim set (JSON), fixed at publication, so every push
// and every poll of the event carries the same jti, iat and content; only
// the signature is made afresh. Package events builds, delivers and serves
// these (events.Notification); it is defined here so that a domain change
// and the event reporting it can be written in one transaction by packages
// that do not import the transport.
type EventNotification struct {
	JTI       string
	TPPID     string
	EventType string
	Claims    []byte
	// CallbackURL is the subscription's at publication; empty for
	// polling-only events.
	CallbackURL   string
	Status        EventStatus
	Attempts      int // push attempts made
	NextAttemptAt time.Time
	// LockedUntil is the lease of the deliverer that claimed the row; the
	// row is claimable again once it passes (a deliverer that died).
	LockedUntil *time.Time
	LastError   string
	// SetErr and SetErrDescription are the TPP's negative acknowledgement.
	SetErr            string
	SetErrDescription string
	CreatedAt         time.Time
	DeliveredAt       *time.Time
	AckedAt           *time.Time
}
