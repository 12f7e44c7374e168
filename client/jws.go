package client

import (
	"context"
	"errors"
	"time"

	"github.com/obank/obank/jws"
	"github.com/obank/obank/sandbox"
)

// SignRequest returns the x-jws-signature of a TPP request body: the OBIE
// detached JWS (PS256, kid = the TPP's signing key, iat = now,
// iss = "{org_id}/{software_id}", tan = the sandbox trust anchor), which
// obank verifies against the JWKS the TPP registered.
func SignRequest(tpp *sandbox.TPPBundle, body []byte, now time.Time) (string, error) {
	if tpp == nil || tpp.SigningKey == nil || tpp.SigningKeyID == "" {
		return "", errors.New("client: sign request: the TPP bundle has no signing key")
	}
	return jws.SignDetached(context.Background(), body,
		jws.KeySigner{Key: tpp.SigningKey, KID: tpp.SigningKeyID},
		jws.SignOptions{Issuer: tpp.OrgID + "/" + tpp.SoftwareID, TrustAnchor: jws.TrustAnchorSandbox, Now: now})
}
