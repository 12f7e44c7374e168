// Package webstore holds the records of the customer's pages (package web)
// and the storage interface they need: server-side sessions, login
// throttling, TOTP replay protection and the audit trail. It is apart from
// web so the SQL store implements it without importing net/http or
// html/template.
package webstore

import (
	"context"
	"time"
)

// Session purposes: what the customer logs in for.
const (
	// PurposeAuthorize is a TPP's authorization request (login, SCA,
	// consent, back to the TPP).
	PurposeAuthorize = "authorize"
	// PurposeDashboard is the customer's consent dashboard.
	PurposeDashboard = "dashboard"
)

// Session is a browser's session on the customer's pages. The browser holds
// a random value in a cookie; the store keys the session by its hash, so the
// table alone lets nobody take a session over.
type Session struct {
	// ID is the SHA-256 (ob.HashToken) of the cookie value.
	ID      string
	Purpose string
	// AuthSessionID is the oauth.AuthSession being decided (authorize
	// purpose only).
	AuthSessionID string
	// CSRF is the anti-forgery token every form of the session carries.
	CSRF string
	// CustomerID is set once the password was right.
	CustomerID string
	PasswordAt *time.Time
	// SCAAt is set once the second factor was right too.
	SCAAt      *time.Time
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt moves forward on every page (idle timeout).
	ExpiresAt time.Time
}

// LoginFailureWindow is how long a failed login counts towards a lock: a
// username's count starts again from one when its last failure is older.
// A guesser is held to fewer failures than a lock takes per window, and a
// username that is no longer tried (most are names that exist nowhere:
// failures for unknown usernames count too) leaves nothing behind for
// long, since the janitor deletes what no longer counts.
const LoginFailureWindow = 24 * time.Hour

// LoginThrottle is the failed-login count of a username.
type LoginThrottle struct {
	// Failures since the last success or lock, each within
	// LoginFailureWindow of the next.
	Failures int
	// LockedUntil is set while the username is locked.
	LockedUntil *time.Time
}

// Locked reports whether the username is locked at now.
func (l LoginThrottle) Locked(now time.Time) bool {
	return l.LockedUntil != nil && now.Before(*l.LockedUntil)
}

// AuditEvent is something a customer did that must be answerable later.
type AuditEvent struct {
	ID         string
	At         time.Time
	Kind       string // e.g. AuditConsentRevoked
	CustomerID string
	ConsentID  string
	ClientID   string
	Detail     string
}

// Audit event kinds.
const (
	AuditConsentAuthorised = "consent.authorised"
	AuditConsentRejected   = "consent.rejected"
	AuditConsentRevoked    = "consent.revoked-by-customer"
	// AuditConsentRiskRejected: the fraud score refused a payment the
	// customer allowed (the consent is Rejected).
	AuditConsentRiskRejected = "consent.risk-rejected"
	AuditLoginLocked         = "login.locked"
)

// Store keeps the records of the customer's pages. Methods return
// ob.ErrNotFound / ob.ErrConflict as documented; anything else is internal.
type Store interface {
	// CreateWebSession stores a new session; ErrConflict when the id exists.
	CreateWebSession(ctx context.Context, s Session) error
	// WebSession returns a session whatever its expiry (the caller judges
	// it with its clock); ErrNotFound for an unknown id.
	WebSession(ctx context.Context, id string) (Session, error)
	// UpdateWebSession saves the mutable fields of s (customer, password
	// and SCA times, last seen, expiry); ErrNotFound for an unknown id.
	UpdateWebSession(ctx context.Context, s Session) error
	// DeleteWebSession removes a session; deleting an unknown one is not
	// an error.
	DeleteWebSession(ctx context.Context, id string) error
	// PurgeWebSessions deletes sessions expired before now and returns how
	// many.
	PurgeWebSessions(ctx context.Context, now time.Time) (int, error)

	// LoginThrottle returns the state of username at now: its failures
	// (zero when none, or when the last is older than LoginFailureWindow)
	// and its lock.
	LoginThrottle(ctx context.Context, username string, now time.Time) (LoginThrottle, error)
	// RecordLoginFailure counts one failure of username at now, as the
	// first when the last failure is older than LoginFailureWindow. The
	// max-th failure since the last success or lock locks the username
	// until now+lockFor and starts the count again. It returns the state
	// after the failure. Concurrent failures are all counted.
	RecordLoginFailure(ctx context.Context, username string, now time.Time, max int, lockFor time.Duration) (LoginThrottle, error)
	// ClearLoginFailures forgets the failures of username (after a
	// success). It does not lift a lock.
	ClearLoginFailures(ctx context.Context, username string) error

	// UseTOTPStep records that customerID used the code of time step step
	// and reports whether that is allowed: false when the customer already
	// used this step or a later one (a replayed or older code). Two
	// instances racing on one code: exactly one gets true.
	UseTOTPStep(ctx context.Context, customerID string, step int64) (bool, error)

	// RecordAudit stores an audit event; ErrConflict when the id exists.
	RecordAudit(ctx context.Context, e AuditEvent) error
	// AuditEvents lists a customer's events, oldest first.
	AuditEvents(ctx context.Context, customerID string) ([]AuditEvent, error)

	// LastAPICall returns the time of the newest recorded resource-API
	// call made under grantID, nil when there is none.
	LastAPICall(ctx context.Context, grantID string) (*time.Time, error)
}
