package oauth

import (
	"context"
	"time"

	"github.com/obank/obank/ob"
)

// Store keeps everything the authorization server needs across requests and
// instances: two obank processes on one PostgreSQL serve one TPP
// interchangeably because nothing lives only in memory (the client cache
// in authz is a read-through cache, invalidated on change).
//
// Errors: ob.ErrNotFound (ob.IsNotFound) and ob.ErrConflict
// (ob.ErrorCode(err) == ob.CodeConflict) as documented; anything else is
// internal.
type Store interface {
	// CreateClient registers a client; ErrConflict when the id exists.
	CreateClient(ctx context.Context, c Client) error
	// Client returns a registered client; ErrNotFound for an unknown or
	// deleted one.
	Client(ctx context.Context, id string) (Client, error)
	// UpdateClient replaces a client's metadata (keeping CreatedAt);
	// ErrNotFound for an unknown or deleted one.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient deletes a client and revokes every access and refresh
	// token issued to it; ErrNotFound for an unknown or deleted one.
	DeleteClient(ctx context.Context, id string, at time.Time) error

	// UseJTI records that the JWT id jti was used in scope (e.g. the client
	// id for client assertions, "register:"+software id for registration
	// requests) and may not be used again before expiresAt. It returns
	// ErrConflict for a replay. Entries expired at now may be purged.
	UseJTI(ctx context.Context, scope, jti string, expiresAt, now time.Time) error

	// CreateAuthSession stores a session; ErrConflict when the id exists.
	CreateAuthSession(ctx context.Context, s AuthSession) error
	// AuthSession returns a session; ErrNotFound for an unknown id.
	AuthSession(ctx context.Context, id string) (AuthSession, error)
	// CompleteAuthSession marks a session completed at at; ErrConflict when
	// it was completed before (a journey ends once), ErrNotFound for an
	// unknown id.
	CompleteAuthSession(ctx context.Context, id string, at time.Time) error

	// CreateCode stores an authorization code; ErrConflict on a hash clash.
	CreateCode(ctx context.Context, c Code) error
	// RedeemCode marks the code redeemed at at and returns it. If it was
	// redeemed before, it returns the code (RedeemedAt set to the first
	// redemption) and ErrConflict, so the caller can revoke what the first
	// redemption issued. ErrNotFound for an unknown hash.
	RedeemCode(ctx context.Context, hash string, at time.Time) (Code, error)

	// CreatePushedRequest stores a PAR request; ErrConflict when the id exists.
	CreatePushedRequest(ctx context.Context, p PushedRequest) error
	// UsePushedRequest marks the request used at at and returns it;
	// ErrNotFound for an unknown id, ErrConflict when used before.
	UsePushedRequest(ctx context.Context, id string, at time.Time) (PushedRequest, error)

	// IssueTokens stores an access token and, when refresh is not nil, a
	// refresh token, in one transaction.
	IssueTokens(ctx context.Context, access ob.AccessToken, refresh *RefreshToken) error
	// AccessToken returns an access token by hash; ErrNotFound when unknown.
	AccessToken(ctx context.Context, hash string) (ob.AccessToken, error)
	// RefreshToken returns a refresh token by hash; ErrNotFound when unknown.
	RefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken, in one transaction, marks the refresh token
	// oldHash rotated at at (ReplacedBy = refresh.Hash) and stores the new
	// access and refresh tokens. ErrConflict when oldHash was already
	// rotated or revoked (the caller then decides between a grace-window
	// retry and a replay); ErrNotFound when unknown.
	RotateRefreshToken(ctx context.Context, oldHash string, at time.Time, access ob.AccessToken, refresh RefreshToken) error
	// RevokeFamily revokes every access and refresh token of a family.
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// RevokeAccessToken revokes one access token (RFC 7009); unknown hashes
	// are not an error (RFC 7009 §2.2).
	RevokeAccessToken(ctx context.Context, hash string, at time.Time) error

	// SigningKeys returns every signing key still published (not past
	// PublishUntil at now), newest first.
	SigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
	// CreateSigningKey stores a new key; ErrConflict when the kid exists.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// RetireSigningKey stops a key signing at at and keeps it published
	// until publishUntil; ErrNotFound for an unknown kid.
	RetireSigningKey(ctx context.Context, kid string, at, publishUntil time.Time) error
	// ResealSigningKey replaces a key's sealed form old with sealed (the
	// same key under a new master secret); ob.ErrConflict when the stored
	// form is not old any more, ob.ErrNotFound for an unknown kid.
	ResealSigningKey(ctx context.Context, kid string, old, sealed []byte) error
}
