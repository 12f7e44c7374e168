package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Token endpoint authentication methods obank accepts: the two FAPI allows.
const (
	AuthTLSClientAuth = "tls_client_auth"
	AuthPrivateKeyJWT = "private_key_jwt"
)

// Grant types.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Scopes.
const (
	ScopeOpenID             = "openid"
	ScopeAccounts           = "accounts"
	ScopePayments           = "payments"
	ScopeFundsConfirmations = "fundsconfirmations"
)

// Software roles in a software statement, and the scopes each allows.
const (
	RoleAISP  = "AISP"
	RolePISP  = "PISP"
	RoleCBPII = "CBPII"
)

// ScopesForRoles returns the resource scopes a TPP holding roles may ask
// for, plus openid.
func ScopesForRoles(roles []string) []string {
	s := []string{ScopeOpenID}
	for _, r := range roles {
		switch r {
		case RoleAISP:
			s = append(s, ScopeAccounts)
		case RolePISP:
			s = append(s, ScopePayments)
		case RoleCBPII:
			s = append(s, ScopeFundsConfirmations)
		}
	}
	return s
}

// ACR values (OBIE security profile convention).
const (
	ACRSCA = "urn:openbanking:psd2:sca"
	ACRCA  = "urn:openbanking:psd2:ca"
)

// Client is a registered TPP application.
type Client struct {
	ID                          string
	SoftwareID                  string
	OrgID                       string
	OrgName                     string
	Name                        string
	Roles                       []string
	RedirectURIs                []string
	Scopes                      []string
	GrantTypes                  []string
	ResponseTypes               []string
	ApplicationType             string
	TokenEndpointAuthMethod     string
	TokenEndpointAuthSigningAlg string
	// TLSClientAuthSubjectDN is the certificate subject tls_client_auth
	// matches, in RFC 4514 form.
	TLSClientAuthSubjectDN string
	// JWKS is the client's public JWK set as JSON (inline in the SSA or the
	// registration); JWKSURI its URL when it publishes one instead.
	JWKS                        []byte
	JWKSURI                     string
	IDTokenSignedResponseAlg    string
	IDTokenEncryptedResponseAlg string
	IDTokenEncryptedResponseEnc string
	RequestObjectSigningAlg     string
	LogoURI                     string
	ClientURI                   string
	PolicyURI                   string
	TosURI                      string
	// SoftwareStatement is the SSA the client registered with.
	SoftwareStatement string
	// Metadata is the registration response body (RFC 7591 §3.2.1), served
	// again by GET /register/{ClientId}.
	Metadata  []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// HasScope reports whether the client registered scope.
func (c Client) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// HasGrantType reports whether the client registered grant type g.
func (c Client) HasGrantType(g string) bool { return slices.Contains(c.GrantTypes, g) }

// HasRedirectURI reports whether uri exactly matches a registered redirect
// URI (FAPI: exact string match, no normalisation).
func (c Client) HasRedirectURI(uri string) bool { return slices.Contains(c.RedirectURIs, uri) }

// AuthRequest is a validated authorization request: what the authorize
// endpoint accepted, from a signed request object (FAPI 1 hybrid) or a
// pushed request (PAR).
type AuthRequest struct {
	ClientID     string
	RedirectURI  string
	ResponseType string // "code id_token" or "code"
	ResponseMode string // "fragment" (hybrid default), "query"
	Scopes       []string
	State        string
	Nonce        string
	// IntentID is the openbanking_intent_id: the consent being authorised.
	IntentID            string
	ACRValues           []string
	CodeChallenge       string
	CodeChallengeMethod string
	MaxAge              *int
}

// Hybrid reports whether the response carries an id_token beside the code.
func (a AuthRequest) Hybrid() bool { return a.ResponseType == "code id_token" }

// AuthSession is an authorization request waiting for the customer: the
// authorize endpoint stores it and hands the browser to the customer's
// journey (login, SCA, consent), which ends it with an Outcome. It lives in
// the store, so any instance can finish what another began.
type AuthSession struct {
	ID        string
	Request   AuthRequest
	CreatedAt time.Time
	ExpiresAt time.Time
	// CompletedAt is set once the journey ended; a session ends once.
	CompletedAt *time.Time
}

// Outcome is how the customer's journey ended.
type Outcome struct {
	Approved   bool
	CustomerID string
	// ACR is the authentication context reached (ACRSCA after strong
	// customer authentication).
	ACR      string
	AuthTime time.Time
	// Reason is why it was not approved, for the error description.
	Reason string
}

// Code is an issued authorization code. Only its hash is stored.
type Code struct {
	Hash       string
	SessionID  string
	ClientID   string
	Request    AuthRequest
	CustomerID string
	ACR        string
	AuthTime   time.Time
	IssuedAt   time.Time
	ExpiresAt  time.Time
	// FamilyID groups every token issued from this code and its refresh
	// chain, so a replayed code or refresh token revokes them all.
	FamilyID string
	// RedeemedAt is set by the first exchange; a second one is a replay.
	RedeemedAt *time.Time
}

// PushedRequest is a PAR request (RFC 9126) waiting to be used once at the
// authorize endpoint through its request_uri.
type PushedRequest struct {
	// ID is the random part of the request_uri
	// (urn:ietf:params:oauth:request_uri:<ID>).
	ID        string
	ClientID  string
	Request   AuthRequest
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// RefreshToken is an issued refresh token; only its hash is stored.
type RefreshToken struct {
	Hash           string
	FamilyID       string
	ClientID       string
	GrantID        string // the consent (intent) it is bound to
	CustomerID     string
	Scopes         []string
	CertThumbprint string
	IssuedAt       time.Time
	ExpiresAt      *time.Time // nil: lives as long as the consent
	// RotatedAt is set when the token was exchanged for a new pair;
	// ReplacedBy is the hash of the refresh token that replaced it.
	RotatedAt  *time.Time
	ReplacedBy string
	RevokedAt  *time.Time
}

// SigningKey is one of the server's signing keys. The private key is sealed
// (encrypted at rest) by the key manager; the store never sees it in clear.
type SigningKey struct {
	KID       string
	Alg       string // PS256
	SealedKey []byte // keystore-sealed PKCS#8
	CertChain [][]byte
	CreatedAt time.Time
	// RetiredAt: no longer signs; still published until PublishUntil so
	// tokens it signed can be verified.
	RetiredAt    *time.Time
	PublishUntil *time.Time
}

// VerifyPKCE checks an RFC 7636 S256 code verifier against its challenge in
// constant time. Only S256 exists here: plain is refused at the authorize
// endpoint.
func VerifyPKCE(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range verifier {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// ParseScope splits a space-separated scope parameter.
func ParseScope(s string) []string { return strings.Fields(s) }
