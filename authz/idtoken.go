package authz

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/oauth"
)

// idTokenParams is what an id_token says. The authorize endpoint (hybrid
// response) and the token endpoint (authorization_code and refresh_token
// grants) fill it; empty fields are left out of the token.
type idTokenParams struct {
	// Client is the audience; its id_token encryption metadata decides
	// whether the token is wrapped in a JWE.
	Client oauth.Client
	// Subject is the customer's identifier (sub), stable per customer.
	Subject string
	// Nonce is the request's nonce, echoed when it had one.
	Nonce string
	// IntentID is the consent (openbanking_intent_id) the token is for.
	IntentID string
	// ACR is the authentication context reached.
	ACR string
	// AuthTime is when the customer authenticated; zero leaves auth_time out.
	AuthTime time.Time
	// Code, State and AccessToken produce c_hash, s_hash and at_hash
	// (OpenID Connect Core §3.3.2.11, FAPI 1 Advanced §5.2.2.1) when set.
	Code        string
	State       string
	AccessToken string
	// Extra claims, e.g. "http://openbanking.org.uk/refresh_token_expires_at".
	// They cannot override the claims above.
	Extra map[string]any
}

// Client id_token encryption obank supports (FAPI allows these; OBIE
// clients register exactly these two).
const (
	idTokenEncAlg = "RSA-OAEP-256"
	idTokenEncEnc = "A256GCM"
)

// idToken returns a signed id_token (PS256, the server's current key), or,
// when the client registered id_token_encrypted_response_alg/enc, that
// signed token nested in a JWE encrypted to the client's encryption key
// (cty JWT). Errors are server_error (a missing or unusable client
// encryption key is a registration problem, logged, not the caller's).
func (s *Server) idToken(ctx context.Context, p idTokenParams) (string, error) {
	claims := idTokenClaims(p, s.cfg.Issuer, s.now(), s.cfg.IDTokenTTL)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", oauth.ErrServerError.WithCause(fmt.Errorf("id_token claims: %w", err))
	}
	signed, err := s.keys.SignJWT(ctx, payload, map[string]any{"typ": "JWT"})
	if err != nil {
		return "", oauth.ErrServerError.WithCause(fmt.Errorf("sign id_token: %w", err))
	}
	if !wantsEncryptedIDToken(p.Client) {
		return signed, nil
	}
	keys, err := s.clientKeys(ctx, p.Client)
	if err != nil {
		return "", oauth.ErrServerError.WithCause(fmt.Errorf("id_token encryption keys of client %s: %w", p.Client.ID, err))
	}
	enc, err := encryptIDToken(signed, p.Client, keys)
	if err != nil {
		return "", oauth.ErrServerError.WithCause(fmt.Errorf("encrypt id_token for client %s: %w", p.Client.ID, err))
	}
	return enc, nil
}

// idTokenClaims builds the claim set of an id_token issued at now.
func idTokenClaims(p idTokenParams, issuer string, now time.Time, ttl time.Duration) map[string]any {
	c := make(map[string]any, len(p.Extra)+12)
	for k, v := range p.Extra {
		c[k] = v
	}
	c["iss"] = issuer
	c["sub"] = p.Subject
	c["aud"] = p.Client.ID
	c["iat"] = now.Unix()
	c["exp"] = now.Add(ttl).Unix()
	if !p.AuthTime.IsZero() {
		c["auth_time"] = p.AuthTime.Unix()
	}
	if p.Nonce != "" {
		c["nonce"] = p.Nonce
	}
	if p.ACR != "" {
		c["acr"] = p.ACR
	}
	if p.IntentID != "" {
		c["openbanking_intent_id"] = p.IntentID
	}
	if p.Code != "" {
		c["c_hash"] = halfHash(p.Code)
	}
	if p.State != "" {
		c["s_hash"] = halfHash(p.State)
	}
	if p.AccessToken != "" {
		c["at_hash"] = halfHash(p.AccessToken)
	}
	return c
}

// halfHash is the c_hash/s_hash/at_hash of v for a PS256-signed id_token:
// the base64url left half of its SHA-256 (OpenID Connect Core §3.3.2.11;
// the hash follows the id_token's signing algorithm, always PS256 here).
func halfHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// wantsEncryptedIDToken reports whether the client registered id_token
// encryption.
func wantsEncryptedIDToken(c oauth.Client) bool {
	return c.IDTokenEncryptedResponseAlg != "" || c.IDTokenEncryptedResponseEnc != ""
}

// errNoEncryptionKey is returned when a client that asked for encrypted
// id_tokens has no usable RSA encryption key in its JWKS.
var errNoEncryptionKey = errors.New("client JWKS has no RSA key with use=enc")

// encryptIDToken wraps a signed id_token in a compact JWE (RSA-OAEP-256,
// A256GCM, cty JWT) to the client's encryption key: the first RSA key of
// keys with use "enc" whose alg, if set, is RSA-OAEP-256.
func encryptIDToken(signed string, c oauth.Client, keys jwk.Set) (string, error) {
	if c.IDTokenEncryptedResponseAlg != idTokenEncAlg {
		return "", fmt.Errorf("unsupported id_token_encrypted_response_alg %q", c.IDTokenEncryptedResponseAlg)
	}
	// RFC 7591/OIDC Registration: enc defaults to A128CBC-HS256 when only
	// alg is registered, which FAPI does not allow; obank needs A256GCM.
	if c.IDTokenEncryptedResponseEnc != idTokenEncEnc {
		return "", fmt.Errorf("unsupported id_token_encrypted_response_enc %q", c.IDTokenEncryptedResponseEnc)
	}
	key, err := encryptionKey(keys)
	if err != nil {
		return "", err
	}
	h := jwe.NewHeaders()
	if err := h.Set("cty", "JWT"); err != nil {
		return "", err
	}
	if kid, ok := key.KeyID(); ok {
		if err := h.Set(jwe.KeyIDKey, kid); err != nil {
			return "", err
		}
	}
	out, err := jwe.Encrypt([]byte(signed),
		jwe.WithKey(jwa.RSA_OAEP_256(), key),
		jwe.WithContentEncryption(jwa.A256GCM()),
		jwe.WithProtectedHeaders(h),
		jwe.WithCompact())
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// encryptionKey picks the client's public RSA encryption key.
func encryptionKey(keys jwk.Set) (jwk.Key, error) {
	if keys == nil {
		return nil, errNoEncryptionKey
	}
	for i := range keys.Len() {
		k, _ := keys.Key(i)
		if use, ok := k.KeyUsage(); !ok || use != jwk.ForEncryption.String() {
			continue
		}
		if k.KeyType() != jwa.RSA() {
			continue
		}
		if alg, ok := k.Algorithm(); ok && alg.String() != idTokenEncAlg {
			continue
		}
		// Encrypt to the public half only, whatever the set holds.
		pub, err := jwk.PublicKeyOf(k)
		if err != nil {
			return nil, err
		}
		return pub, nil
	}
	return nil, errNoEncryptionKey
}
