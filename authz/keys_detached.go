package authz

import (
	"context"

	"github.com/obank/obank/jws"
)

var _ jws.Signer = (*KeyManager)(nil)

// SignDetached signs body as a detached JWS ("header..signature") with the
// current key, PS256, adding kid to the given protected headers. It is the
// jws.Signer the resource server uses for its x-jws-signature responses
// (jws.SignDetached supplies the OBIE iat/iss/tan/crit headers).
func (m *KeyManager) SignDetached(ctx context.Context, body []byte, headers map[string]any) (string, error) {
	k, _, err := m.state(ctx)
	if err != nil {
		return "", err
	}
	return jws.SignDetachedWithKey(body, k.priv, k.rec.KID, headers)
}
