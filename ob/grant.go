package ob

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// AccessGrant is what a TPP may read on a customer's behalf: the authorised
// account-access consent, reduced to what the resource server needs. Every
// AIS call is decided by the grant found through the bearer token, never by
// anything the TPP sends beyond it.
type AccessGrant struct {
	ID          string // the ConsentId
	TPPID       string // the OAuth client id of the TPP that owns the consent
	CustomerID  string // the PSU who authorised it
	Permissions Permissions
	AccountIDs  []string // the accounts the customer selected
	// TransactionFrom and TransactionTo bound the booking times the TPP may
	// read (OBReadConsent1 TransactionFromDateTime/ToDateTime); nil = open.
	TransactionFrom *time.Time
	TransactionTo   *time.Time
	ExpiresAt       *time.Time // ExpirationDateTime; nil = no expiry
	CreatedAt       time.Time
	RevokedAt       *time.Time
}

// Active reports whether the grant can be used at now.
func (g AccessGrant) Active(now time.Time) bool {
	if g.RevokedAt != nil {
		return false
	}
	return g.ExpiresAt == nil || now.Before(*g.ExpiresAt)
}

// CoversAccount reports whether the customer selected accountID for this grant.
func (g AccessGrant) CoversAccount(accountID string) bool {
	return slices.Contains(g.AccountIDs, accountID)
}

// AccessToken is an issued bearer token. Only its hash is stored, so a copy
// of the database does not hand out working tokens.
type AccessToken struct {
	Hash     string // HashToken of the bearer value
	GrantID  string // the consent it is bound to; empty for client-credentials tokens
	ClientID string
	Scopes   []string
	// CertThumbprint is the RFC 8705 x5t#S256 of the client certificate the
	// token is bound to; empty when unbound.
	CertThumbprint string
	// FamilyID groups the tokens issued from one authorization code and its
	// refresh chain, so a replay can revoke them together; empty for
	// client-credentials tokens.
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Active reports whether the token can be used at now.
func (t AccessToken) Active(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// HashToken returns the hex SHA-256 of a bearer token, the key under which
// tokens are stored and looked up. Tokens are 256-bit random values, so an
// unsalted fast hash is enough: there is nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// APICall is one resource-API request, recorded for analytics, rate limits
// and the consent's "last accessed" time.
type APICall struct {
	InteractionID     string
	ClientID          string
	GrantID           string
	Method            string
	Route             string // the route template, never the raw path
	Status            int
	LatencyMicros     int64
	FAPIAuthDate      string // x-fapi-auth-date as sent
	CustomerIPAddress string // x-fapi-customer-ip-address as sent
	CustomerUserAgent string // x-customer-user-agent as sent
	At                time.Time
}
