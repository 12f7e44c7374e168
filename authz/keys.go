package authz

import (
	"context"
	"errors"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// (Stub: replaced by keys.go.)

// KeyManager holds the server's PS256 signing keys: generated on first
// start, sealed at rest, shared by all instances through the store, rotated
// with the old public key kept published until what it signed expires.
type KeyManager struct{}

// SignJWT signs payload (JSON claims) as a compact JWS with the current
// key, PS256, adding kid and the given extra protected headers (e.g. typ).
func (m *KeyManager) SignJWT(ctx context.Context, payload []byte, headers map[string]any) (string, error) {
	return "", errors.New("todo")
}

// PublicSet returns the public keys to publish at /jwks, each with its
// certificate chain in x5c.
func (m *KeyManager) PublicSet(ctx context.Context) (jwk.Set, error) {
	return nil, errors.New("todo")
}
