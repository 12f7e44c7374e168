// Package jws implements the OBIE detached JSON Web Signature carried in the
// x-jws-signature header of payment-initiation requests and responses
// (Read/Write API v3.1 "Message Signing"; SUMMARY §2).
//
// The signature is an RFC 7515 Appendix F detached JWS, "header..signature",
// PS256 only, whose protected header holds exactly:
//
//	alg   PS256
//	kid   a key of the signer's registered JWKS
//	typ   optional, JOSE
//	cty   optional, json or application/json
//	http://openbanking.org.uk/iat  NumericDate, not in the future
//	http://openbanking.org.uk/iss  {org_id}/{software_id} (TPP), {org_id}
//	                               (ASPSP), or the signing certificate's
//	                               subject DN
//	http://openbanking.org.uk/tan  a trusted anchor domain
//	crit  exactly the three names above
//
// Legacy signatures (v3.1.0-3.1.3) also carry "b64": false with "b64" in
// crit (RFC 7797, unencoded payload). v3.1.4 removed it; VerifyDetached still
// accepts such a signature, because TPPs built against the older versions
// are in the field and the variant is no weaker: the payload is signed
// byte for byte either way. It refuses "b64": true and a "b64" missing from
// crit (or listed in crit but absent), and Claims.Legacy reports the variant.
//
// Errors are *ob.Error with Path "x-jws-signature" and a
// UK.OBIE.Signature.* code: Missing (no signature), Malformed (not a
// detached compact JWS with a JSON object header), MissingClaim (a required
// header claim absent), InvalidClaim (a claim present with a bad value: crit
// not exactly the OBIE set, an unexpected header, iat in the future or too
// old, iss not the caller, tan not trusted, typ/cty wrong), Invalid (alg not
// PS256, kid not in the signer's JWKS, or the signature does not verify over
// the body).
package jws

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// Header is the HTTP header that carries the detached signature.
const Header = "x-jws-signature"

// The OBIE private header claims, all critical.
const (
	ClaimIAT = "http://openbanking.org.uk/iat"
	ClaimISS = "http://openbanking.org.uk/iss"
	ClaimTAN = "http://openbanking.org.uk/tan"
)

// Trust anchors.
const (
	// TrustAnchorOB is the Open Banking Directory's anchor.
	TrustAnchorOB = "openbanking.org.uk"
	// TrustAnchorSandbox is the anchor of obank's sandbox directory: the
	// tan its TPPs (client.SignRequest) and the bank in demo mode use.
	TrustAnchorSandbox = "sandbox.obank.local"
)

// DefaultTrustAnchors are accepted when Expect.TrustAnchors is empty.
var DefaultTrustAnchors = []string{TrustAnchorOB, TrustAnchorSandbox}

// Defaults of Expect.
const (
	// DefaultMaxAge: a TPP retrying a POST with the same idempotency key
	// (valid 24 h) may resend the very same signed request, so a signature
	// stays acceptable for the idempotency window. The spec sets no limit.
	DefaultMaxAge = 24 * time.Hour
	// DefaultMaxSkew is how far in the future iat may be, for clock skew.
	DefaultMaxSkew = 30 * time.Second
)

// crit is the OBIE crit set, in the spec's order.
var crit = []string{ClaimIAT, ClaimISS, ClaimTAN}

// Expect is what VerifyDetached requires of a signature beyond its form.
type Expect struct {
	// Issuers are the accepted iss values: "{org_id}/{software_id}" of the
	// calling TPP (ExpectClient). The subject DN (RFC 4514) of the leaf
	// certificate in the x5c of the key that verified the signature is
	// accepted too, as the spec allows for non-directory keys.
	Issuers []string
	// TrustAnchors are the accepted tan values; DefaultTrustAnchors when
	// empty.
	TrustAnchors []string
	// MaxAge is the oldest acceptable iat; DefaultMaxAge when zero.
	MaxAge time.Duration
	// MaxSkew is how far in the future iat may be; DefaultMaxSkew when
	// zero, none when negative.
	MaxSkew time.Duration
}

// ExpectClient returns the expectation for a request of the registered
// client c: iss = "{org_id}/{software_id}".
func ExpectClient(c oauth.Client) Expect {
	return Expect{Issuers: []string{c.OrgID + "/" + c.SoftwareID}}
}

// ClientKeys parses the client's registered (inline) JWKS. A client that
// registered a jwks_uri instead needs its set fetched by the caller.
func ClientKeys(c oauth.Client) (jwk.Set, error) {
	if len(c.JWKS) == 0 {
		return nil, fmt.Errorf("jws: client %s has no inline JWKS", c.ID)
	}
	set, err := jwk.Parse(c.JWKS)
	if err != nil {
		return nil, fmt.Errorf("jws: client %s JWKS: %w", c.ID, err)
	}
	return set, nil
}

// Claims are the verified header claims of a signature.
type Claims struct {
	KID         string
	Issuer      string
	TrustAnchor string
	IssuedAt    time.Time
	// Legacy reports the v3.1.0-3.1.3 form with b64=false.
	Legacy bool
}

func sigErr(code, format string, args ...any) *ob.Error {
	return &ob.Error{Code: code, Path: Header, Message: fmt.Sprintf(format, args...)}
}

// allowed are the header names a signature may carry ("b64" only in the
// legacy form, checked separately).
var allowed = []string{"alg", "kid", "typ", "cty", "crit", "b64", ClaimIAT, ClaimISS, ClaimTAN}

// VerifyDetached verifies sig, a detached OBIE JWS, over body with the
// signer's keys and returns its claims, or an *ob.Error with the
// UK.OBIE.Signature.* code of the first failure (see the package comment).
func VerifyDetached(sig string, body []byte, keys jwk.Set, want Expect, now time.Time) (*Claims, error) {
	if strings.TrimSpace(sig) == "" {
		return nil, sigErr(ob.CodeSignatureMissing, "the request must be signed")
	}
	parts := strings.Split(sig, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] != "" {
		return nil, sigErr(ob.CodeSignatureMalformed, "not a detached JWS (header..signature)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, sigErr(ob.CodeSignatureMalformed, "the protected header is not base64url")
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, sigErr(ob.CodeSignatureMalformed, "the signature is not base64url")
	}
	var hdr map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&hdr); err != nil || hdr == nil || dec.More() {
		return nil, sigErr(ob.CodeSignatureMalformed, "the protected header is not a JSON object")
	}

	// Presence of the required claims.
	for _, name := range []string{"alg", "kid", "crit", ClaimIAT, ClaimISS, ClaimTAN} {
		if _, ok := hdr[name]; !ok {
			return nil, sigErr(ob.CodeSignatureMissingClaim, "the header has no %s", name)
		}
	}
	var alg string
	if json.Unmarshal(hdr["alg"], &alg) != nil || alg != jwa.PS256().String() {
		return nil, sigErr(ob.CodeSignatureInvalid, "alg must be PS256")
	}
	for name := range hdr {
		if !slices.Contains(allowed, name) {
			return nil, sigErr(ob.CodeSignatureInvalidClaim, "unexpected header claim %q", name)
		}
	}
	var gotCrit []string
	if json.Unmarshal(hdr["crit"], &gotCrit) != nil {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "crit must be an array of strings")
	}
	legacy := false
	if b, ok := hdr["b64"]; ok {
		var b64 bool
		if json.Unmarshal(b, &b64) != nil || b64 {
			return nil, sigErr(ob.CodeSignatureInvalidClaim, "b64, when present, must be false")
		}
		legacy = true
	}
	wantCrit := crit
	if legacy {
		wantCrit = append(slices.Clone(crit), "b64")
	}
	if !sameSet(gotCrit, wantCrit) {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "crit must be exactly %s", strings.Join(wantCrit, ", "))
	}
	var kid string
	if json.Unmarshal(hdr["kid"], &kid) != nil || kid == "" {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "kid must be a non-empty string")
	}

	// The key and the signature.
	key, ok := keys.LookupKeyID(kid)
	if !ok {
		return nil, sigErr(ob.CodeSignatureInvalid, "kid %q is not a registered signing key", kid)
	}
	if u, ok := key.KeyUsage(); ok && u != "" && u != "sig" {
		return nil, sigErr(ob.CodeSignatureInvalid, "kid %q is not a signing key", kid)
	}
	var pub rsa.PublicKey
	if err := jwk.Export(key, &pub); err != nil {
		return nil, sigErr(ob.CodeSignatureInvalid, "kid %q is not an RSA key", kid)
	}
	opts := []jws.VerifyOption{
		jws.WithKey(jwa.PS256(), &pub),
		jws.WithDetachedPayload(body),
		jws.WithCritValidation(true),
		jws.WithCritExtension(crit...),
	}
	if _, err := jws.Verify([]byte(sig), opts...); err != nil {
		e := sigErr(ob.CodeSignatureInvalid, "the signature does not verify over the body")
		e.Err = err
		return nil, e
	}

	// Claim values, now that they are known to come from the key holder.
	c := &Claims{KID: kid, Legacy: legacy}
	var iat float64
	if json.Unmarshal(hdr[ClaimIAT], &iat) != nil || math.IsNaN(iat) || math.IsInf(iat, 0) {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "%s must be a NumericDate", ClaimIAT)
	}
	sec, frac := math.Modf(iat)
	c.IssuedAt = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	skew, maxAge := want.MaxSkew, want.MaxAge
	if skew == 0 {
		skew = DefaultMaxSkew
	} else if skew < 0 {
		skew = 0
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if c.IssuedAt.After(now.Add(skew)) {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "%s is in the future", ClaimIAT)
	}
	if c.IssuedAt.Before(now.Add(-maxAge)) {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "%s is older than %s", ClaimIAT, maxAge)
	}
	if json.Unmarshal(hdr[ClaimISS], &c.Issuer) != nil || !issuerOK(c.Issuer, want.Issuers, key) {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "%s does not identify the caller", ClaimISS)
	}
	anchors := want.TrustAnchors
	if len(anchors) == 0 {
		anchors = DefaultTrustAnchors
	}
	if json.Unmarshal(hdr[ClaimTAN], &c.TrustAnchor) != nil || !slices.Contains(anchors, c.TrustAnchor) {
		return nil, sigErr(ob.CodeSignatureInvalidClaim, "%s is not a trusted anchor", ClaimTAN)
	}
	if v, ok := hdr["typ"]; ok {
		var typ string
		if json.Unmarshal(v, &typ) != nil || typ != "JOSE" {
			return nil, sigErr(ob.CodeSignatureInvalidClaim, "typ must be JOSE")
		}
	}
	if v, ok := hdr["cty"]; ok {
		var cty string
		if json.Unmarshal(v, &cty) != nil || (cty != "json" && cty != "application/json") {
			return nil, sigErr(ob.CodeSignatureInvalidClaim, "cty must be json or application/json")
		}
	}
	return c, nil
}

// issuerOK reports whether iss is one of want or the subject DN of the
// key's certificate.
func issuerOK(iss string, want []string, key jwk.Key) bool {
	if iss == "" {
		return false
	}
	if slices.Contains(want, iss) {
		return true
	}
	chain, ok := key.X509CertChain()
	if !ok || chain == nil || chain.Len() == 0 {
		return false
	}
	der, ok := chain.Get(0)
	if !ok {
		return false
	}
	leaf, err := parseCert(der)
	if err != nil {
		return false
	}
	return leaf.Subject.String() == iss
}

// sameSet reports whether a and b hold the same strings, each once.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		if seen[s] || !slices.Contains(b, s) {
			return false
		}
		seen[s] = true
	}
	return true
}
