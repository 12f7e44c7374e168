package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/oauth"
)

// Request object limits (RFC 9101, FAPI 1 Advanced §5.2.2, FAPI 2).
const (
	// maxRequestObjectSize bounds what is parsed at all.
	maxRequestObjectSize = 64 << 10
	// requestObjectMaxLifetime is the FAPI bound on exp - nbf.
	requestObjectMaxLifetime = 60 * time.Minute
	// requestObjectSkew tolerates clocks slightly apart on nbf and exp.
	requestObjectSkew = 10 * time.Second
)

// requestObjectClaims is the payload of a request object: the JWT claims
// and the authorization request parameters it carries (RFC 9101 §4).
type requestObjectClaims struct {
	Iss      *string  `json:"iss"`
	Aud      audience `json:"aud"`
	Exp      *float64 `json:"exp"`
	Nbf      *float64 `json:"nbf"`
	ClientID *string  `json:"client_id"`

	ResponseType        string          `json:"response_type"`
	ResponseMode        string          `json:"response_mode"`
	RedirectURI         string          `json:"redirect_uri"`
	Scope               string          `json:"scope"`
	State               string          `json:"state"`
	Nonce               string          `json:"nonce"`
	CodeChallenge       string          `json:"code_challenge"`
	CodeChallengeMethod string          `json:"code_challenge_method"`
	Claims              json.RawMessage `json:"claims"`
	ACRValues           string          `json:"acr_values"`
	MaxAge              json.RawMessage `json:"max_age"`
	// A request object may not nest another one (RFC 9101 §4).
	Request    *json.RawMessage `json:"request"`
	RequestURI *json.RawMessage `json:"request_uri"`
}

// audience is the JWT aud claim: a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

func (a audience) contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

// requestObjectAlg returns the one signature algorithm a client's request
// objects may use: the one it registered (PS256 or ES256, the two FAPI
// allows), PS256 when it registered none. alg none, the HMAC family (a
// public key abused as shared secret) and RS256 (PKCS#1 v1.5, not FAPI)
// never pass.
func requestObjectAlg(c oauth.Client) (jwa.SignatureAlgorithm, bool) {
	switch c.RequestObjectSigningAlg {
	case "", jwa.PS256().String():
		return jwa.PS256(), true
	case jwa.ES256().String():
		return jwa.ES256(), true
	}
	return jwa.EmptySignatureAlgorithm(), false
}

// errInvalidRequestObject is the base of every request object refusal.
var errInvalidRequestObject = oauth.ErrInvalidRequestObject

// verifyRequestObject verifies a signed request object of client c (RFC
// 9101, FAPI): the signature, by the algorithm requestObjectAlg allows, with
// a key of keys (the client's JWKS; the kid header picks it, and may be
// left out only when the set holds a single signing key); iss (when
// present) and client_id equal to the client's id; aud containing issuer;
// exp in the future and nbf in the past (requestObjectSkew either way) with
// exp - nbf <= 60 minutes; no nested request or request_uri.
//
// It returns the parameters the object carries, and on failure an
// invalid_request_object error. Once the signature is verified, the
// parameters are returned together with any later error, so the caller can
// send that error to the object's redirect_uri when it is registered;
// before that, they are empty and nothing in the object may be trusted.
func verifyRequestObject(raw string, c oauth.Client, keys jwk.Set, issuer string, now time.Time) (authParams, error) {
	if len(raw) > maxRequestObjectSize {
		return authParams{}, errInvalidRequestObject.WithDescription("request object too large")
	}
	switch strings.Count(raw, ".") {
	case 2:
	case 4:
		return authParams{}, errInvalidRequestObject.WithDescription("encrypted request objects are not supported")
	default:
		return authParams{}, errInvalidRequestObject.WithDescription("request object is not a compact JWS")
	}
	msg, err := jws.Parse([]byte(raw), jws.WithCompact())
	if err != nil {
		return authParams{}, errInvalidRequestObject.WithDescription("request object is malformed").WithCause(err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return authParams{}, errInvalidRequestObject.WithDescription("request object is malformed")
	}
	hdr := sigs[0].ProtectedHeaders()
	want, ok := requestObjectAlg(c)
	if !ok {
		return authParams{}, errInvalidRequestObject.WithDescription("client registered an unsupported request_object_signing_alg")
	}
	// Decide on the header's alg before any key is touched.
	if alg, ok := hdr.Algorithm(); !ok || alg.String() != want.String() {
		got := "(none)"
		if ok {
			got = alg.String()
		}
		return authParams{}, errInvalidRequestObject.WithDescription("request object must be signed with %s, not %s", want, got)
	}
	if typ, ok := hdr.Type(); ok && !strings.EqualFold(typ, "oauth-authz-req+jwt") && !strings.EqualFold(typ, "JWT") {
		return authParams{}, errInvalidRequestObject.WithDescription("request object typ %q not accepted", typ)
	}
	if _, ok := hdr.Critical(); ok {
		// No extension is understood, so RFC 7515 §4.1.11 requires refusal.
		return authParams{}, errInvalidRequestObject.WithDescription("request object has a crit header")
	}
	kid, _ := hdr.KeyID()
	key, err := requestObjectKey(keys, kid, want)
	if err != nil {
		return authParams{}, errInvalidRequestObject.WithDescription("no key of the client verifies the request object").WithCause(err)
	}
	payload, err := jws.Verify([]byte(raw), jws.WithKey(want, key), jws.WithCompact())
	if err != nil {
		return authParams{}, errInvalidRequestObject.WithDescription("request object signature is invalid").WithCause(err)
	}

	var cl requestObjectClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&cl); err != nil {
		return authParams{}, errInvalidRequestObject.WithDescription("request object claims are malformed").WithCause(err)
	}
	p := authParams{
		ClientID:            c.ID,
		ResponseType:        cl.ResponseType,
		ResponseMode:        cl.ResponseMode,
		RedirectURI:         cl.RedirectURI,
		Scope:               cl.Scope,
		State:               cl.State,
		Nonce:               cl.Nonce,
		CodeChallenge:       cl.CodeChallenge,
		CodeChallengeMethod: cl.CodeChallengeMethod,
		Claims:              cl.Claims,
		ACRValues:           cl.ACRValues,
		fromRequestObject:   true,
	}
	if len(cl.MaxAge) > 0 && string(cl.MaxAge) != "null" {
		var n json.Number
		if err := json.Unmarshal(cl.MaxAge, &n); err != nil {
			return p, errInvalidRequestObject.WithDescription("max_age must be a number")
		}
		p.MaxAge = n.String()
	}
	if err := checkRequestObjectClaims(cl, c, issuer, now); err != nil {
		return p, err
	}
	return p, nil
}

// checkRequestObjectClaims checks the JWT claims of a verified request
// object (see verifyRequestObject).
func checkRequestObjectClaims(cl requestObjectClaims, c oauth.Client, issuer string, now time.Time) error {
	if cl.Iss != nil && *cl.Iss != c.ID {
		return errInvalidRequestObject.WithDescription("request object iss must be the client_id")
	}
	if cl.ClientID == nil || *cl.ClientID != c.ID {
		return errInvalidRequestObject.WithDescription("request object client_id must be the client_id of the request")
	}
	if !cl.Aud.contains(issuer) {
		return errInvalidRequestObject.WithDescription("request object aud must be the issuer %s", issuer)
	}
	if cl.Exp == nil {
		return errInvalidRequestObject.WithDescription("request object has no exp")
	}
	if cl.Nbf == nil {
		return errInvalidRequestObject.WithDescription("request object has no nbf")
	}
	exp, nbf := unixTime(*cl.Exp), unixTime(*cl.Nbf)
	if !now.Before(exp.Add(requestObjectSkew)) {
		return errInvalidRequestObject.WithDescription("request object has expired")
	}
	if now.Add(requestObjectSkew).Before(nbf) {
		return errInvalidRequestObject.WithDescription("request object is not yet valid (nbf)")
	}
	if exp.Sub(nbf) > requestObjectMaxLifetime {
		return errInvalidRequestObject.WithDescription("request object lifetime (exp - nbf) exceeds 60 minutes")
	}
	if cl.Request != nil || cl.RequestURI != nil {
		return errInvalidRequestObject.WithDescription("request object may not contain request or request_uri")
	}
	return nil
}

// unixTime converts a JWT NumericDate, which may carry a fraction.
func unixTime(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

// requestObjectKey picks the public key of the client that must have
// signed a request object with alg: the one named by kid, or, without a
// kid, the only signing key of the set.
func requestObjectKey(keys jwk.Set, kid string, alg jwa.SignatureAlgorithm) (jwk.Key, error) {
	if keys == nil || keys.Len() == 0 {
		return nil, errors.New("client has no keys")
	}
	var key jwk.Key
	if kid != "" {
		k, ok := keys.LookupKeyID(kid)
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		key = k
	} else {
		for i := range keys.Len() {
			k, _ := keys.Key(i)
			if use, ok := k.KeyUsage(); ok && use != jwk.ForSignature.String() {
				continue
			}
			if key != nil {
				return nil, errors.New("no kid and the client has several signing keys")
			}
			key = k
		}
		if key == nil {
			return nil, errors.New("client has no signing key")
		}
	}
	if use, ok := key.KeyUsage(); ok && use != jwk.ForSignature.String() {
		return nil, fmt.Errorf("key %q has use %q", kid, use)
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != alg.String() {
		return nil, fmt.Errorf("key %q is for %s, not %s", kid, ka, alg)
	}
	// Verify with the public half only, whatever the set holds.
	return jwk.PublicKeyOf(key)
}
