package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Issuer is the "iss" of every software statement the sandbox directory
// signs. It is a fixed, human-readable name (the OB Directory uses
// "OpenBanking Ltd"); trust comes from the directory's keys, not from this
// string, so every sandbox shares it.
const Issuer = "obank sandbox directory"

// Values the sandbox writes into software statements.
const (
	SoftwareEnvironment = "sandbox"
	SoftwareMode        = "Test"
	OrgStatusActive     = "Active"
	AuthorityFCA        = "GB:FCA"
)

// MaxSSASize bounds the software statements VerifySSA will parse.
const MaxSSASize = 64 << 10

// SSASkew is the clock skew VerifySSA tolerates on iat, nbf and exp.
const SSASkew = time.Minute

// Errors from VerifySSA; test with errors.Is. All of them mean DCR must
// answer invalid_software_statement, except ErrOrgNotActive, which is
// unapproved_software_statement.
var (
	ErrSSAMalformed  = errors.New("sandbox: malformed software statement")
	ErrSSAAlgorithm  = errors.New("sandbox: software statement algorithm not allowed")
	ErrSSAUnknownKey = errors.New("sandbox: software statement signed by an unknown key")
	ErrSSASignature  = errors.New("sandbox: software statement signature invalid")
	ErrSSAExpired    = errors.New("sandbox: software statement expired")
	ErrSSANotYet     = errors.New("sandbox: software statement not yet valid")
	ErrSSAClaims     = errors.New("sandbox: software statement claims invalid")
	ErrOrgNotActive  = errors.New("sandbox: software statement organisation is not active")
)

// validOBID reports whether s matches OB's software_id pattern (also DCR's
// iss), ^[0-9a-zA-Z]{1,22}$. The sandbox applies it to org_id too, so that
// both fit in a certificate subject unescaped.
func validOBID(s string) bool {
	if len(s) == 0 || len(s) > 22 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// NumericDate is a JWT NumericDate (RFC 7519 §2): whole seconds since the
// epoch in JSON, a time.Time in Go. Fractional seconds are accepted and
// truncated.
type NumericDate struct {
	time.Time
}

// NewNumericDate truncates t to whole seconds.
func NewNumericDate(t time.Time) *NumericDate {
	return &NumericDate{Time: time.Unix(t.Unix(), 0).UTC()}
}

// MarshalJSON writes the date as an integer.
func (d NumericDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, d.Unix(), 10), nil
}

// UnmarshalJSON reads an integer or fractional number of seconds.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 || f > 1e13 {
		return fmt.Errorf("invalid NumericDate %s", b)
	}
	d.Time = time.Unix(int64(f), 0).UTC()
	return nil
}

// LooseString is a string claim that some issuers write as a JSON number
// (software_version is a string in the sandbox's SSAs, but a number such as
// 1.1 is accepted). It always marshals as a string.
type LooseString string

// UnmarshalJSON accepts a JSON string or number.
func (s *LooseString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = LooseString(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or number, got %s", b)
	}
	*s = LooseString(n.String())
	return nil
}

// SSA holds the claims of an OB Directory software statement assertion, as
// listed in the OB Directory API. The sandbox fills in all of them except
// the optional revocation endpoints, contacts and on-behalf-of.
type SSA struct {
	Issuer    string       `json:"iss"`
	IssuedAt  NumericDate  `json:"iat"`
	ExpiresAt *NumericDate `json:"exp,omitempty"`
	NotBefore *NumericDate `json:"nbf,omitempty"`
	JWTID     string       `json:"jti"`

	SoftwareID                  string          `json:"software_id"`
	SoftwareClientID            string          `json:"software_client_id,omitempty"`
	SoftwareClientName          string          `json:"software_client_name,omitempty"`
	SoftwareClientDescription   string          `json:"software_client_description,omitempty"`
	SoftwareVersion             LooseString     `json:"software_version,omitempty"`
	SoftwareEnvironment         string          `json:"software_environment,omitempty"`
	SoftwareMode                string          `json:"software_mode,omitempty"`
	SoftwareRedirectURIs        []string        `json:"software_redirect_uris,omitempty"`
	SoftwareRoles               []string        `json:"software_roles,omitempty"`
	SoftwareJWKSEndpoint        string          `json:"software_jwks_endpoint,omitempty"`
	SoftwareJWKSRevokedEndpoint string          `json:"software_jwks_revoked_endpoint,omitempty"`
	SoftwareJWKS                json.RawMessage `json:"software_jwks,omitempty"`
	SoftwareLogoURI             string          `json:"software_logo_uri,omitempty"`
	SoftwareClientURI           string          `json:"software_client_uri,omitempty"`
	SoftwarePolicyURI           string          `json:"software_policy_uri,omitempty"`
	SoftwareTOSURI              string          `json:"software_tos_uri,omitempty"`
	SoftwareOnBehalfOfOrg       string          `json:"software_on_behalf_of_org,omitempty"`

	OrgID                  string       `json:"org_id"`
	OrgName                string       `json:"org_name,omitempty"`
	OrgStatus              string       `json:"org_status,omitempty"`
	OrgContacts            []OrgContact `json:"org_contacts,omitempty"`
	OrgJWKSEndpoint        string       `json:"org_jwks_endpoint,omitempty"`
	OrgJWKSRevokedEndpoint string       `json:"org_jwks_revoked_endpoint,omitempty"`

	OrganisationCompetentAuthorityClaims *CompetentAuthorityClaims `json:"organisation_competent_authority_claims,omitempty"`
}

// OrgContact is one entry of org_contacts.
type OrgContact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	Type  string `json:"type,omitempty"`
}

// CompetentAuthorityClaims is organisation_competent_authority_claims: the
// TPP's regulator registration and what it is authorised for.
type CompetentAuthorityClaims struct {
	AuthorityID    string          `json:"authority_id"`
	RegistrationID string          `json:"registration_id"`
	Status         string          `json:"status"`
	Authorisations []Authorisation `json:"authorisations"`
}

// Authorisation is one passported authorisation: a member state and the
// roles the TPP may act in there.
type Authorisation struct {
	MemberState string   `json:"member_state"`
	Roles       []string `json:"roles"`
}

// SoftwareJWKSet parses the inline software_jwks claim. It returns nil and
// no error when the claim is absent (the SSA names an endpoint instead).
func (s *SSA) SoftwareJWKSet() (jwk.Set, error) {
	if len(s.SoftwareJWKS) == 0 {
		return nil, nil
	}
	set, err := jwk.Parse(s.SoftwareJWKS)
	if err != nil {
		return nil, fmt.Errorf("sandbox: software_jwks: %w", err)
	}
	return set, nil
}

// HasRole reports whether role is among the software roles.
func (s *SSA) HasRole(role string) bool {
	for _, r := range s.SoftwareRoles {
		if r == role {
			return true
		}
	}
	return false
}

// allowedSSAAlgorithm maps the "alg" values VerifySSA accepts, the two the
// OB Directory uses. Everything else, notably "none" and the HMAC family
// (where a public key could be abused as the shared secret), is refused
// before any key is touched.
func allowedSSAAlgorithm(alg string) (jwa.SignatureAlgorithm, bool) {
	switch alg {
	case jwa.PS256().String():
		return jwa.PS256(), true
	case jwa.ES256().String():
		return jwa.ES256(), true
	}
	return jwa.EmptySignatureAlgorithm(), false
}

// VerifySSA verifies a software statement assertion against the directory
// keys and returns its claims.
//
// The SSA must be a compact JWS with a protected header carrying alg PS256
// or ES256, a kid naming a key in directoryKeys (whose own alg, if set, must
// agree and whose use, if set, must be "sig"), an optional typ of "JWT", and
// no crit. The claims must have iss, iat (not after now+SSASkew), jti,
// software_id (OB pattern ^[0-9a-zA-Z]{1,22}$), org_id, and at least one of
// software_jwks_endpoint and software_jwks (which must hold public keys
// only). exp and nbf are optional, as OB Directory SSAs carry no exp, but
// enforced (with SSASkew) when present; callers choose their own maximum
// age from IssuedAt. org_status, when present, must be "Active".
func VerifySSA(ssa string, directoryKeys jwk.Set, now time.Time) (*SSA, error) {
	if directoryKeys == nil || directoryKeys.Len() == 0 {
		return nil, fmt.Errorf("%w: no directory keys", ErrSSAUnknownKey)
	}
	if len(ssa) > MaxSSASize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrSSAMalformed, len(ssa), MaxSSASize)
	}
	if strings.Count(ssa, ".") != 2 || strings.ContainsAny(ssa, " \t\r\n{") {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrSSAMalformed)
	}
	msg, err := jws.Parse([]byte(ssa), jws.WithCompact())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSSAMalformed, err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrSSAMalformed, len(sigs))
	}
	hdr := sigs[0].ProtectedHeaders()

	headerAlg, ok := hdr.Algorithm()
	if !ok {
		return nil, fmt.Errorf("%w: no alg", ErrSSAAlgorithm)
	}
	alg, ok := allowedSSAAlgorithm(headerAlg.String())
	if !ok {
		return nil, fmt.Errorf("%w: %q (want PS256 or ES256)", ErrSSAAlgorithm, headerAlg.String())
	}
	if typ, ok := hdr.Type(); ok && !strings.EqualFold(typ, "JWT") {
		return nil, fmt.Errorf("%w: typ %q", ErrSSAMalformed, typ)
	}
	if _, ok := hdr.Critical(); ok {
		// No extension is understood, so RFC 7515 §4.1.11 requires refusal.
		return nil, fmt.Errorf("%w: crit header present", ErrSSAMalformed)
	}
	kid, ok := hdr.KeyID()
	if !ok || kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrSSAUnknownKey)
	}
	key, ok := directoryKeys.LookupKeyID(kid)
	if !ok {
		return nil, fmt.Errorf("%w: kid %q", ErrSSAUnknownKey, kid)
	}
	if keyAlg, ok := key.Algorithm(); ok && keyAlg.String() != alg.String() {
		return nil, fmt.Errorf("%w: header alg %s but key %q is for %s", ErrSSAAlgorithm, alg, kid, keyAlg)
	}
	if use, ok := key.KeyUsage(); ok && use != jwk.ForSignature.String() {
		return nil, fmt.Errorf("%w: key %q has use %q", ErrSSAUnknownKey, kid, use)
	}
	// Verify with the public half only, whatever the set holds.
	pub, err := jwk.PublicKeyOf(key)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %w", ErrSSAUnknownKey, kid, err)
	}
	payload, err := jws.Verify([]byte(ssa), jws.WithKey(alg, pub), jws.WithAlgorithmMatch(true), jws.WithCompact())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSSASignature, err)
	}

	claims, err := decodeSSAClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := claims.validate(now); err != nil {
		return nil, err
	}
	return claims, nil
}

func decodeSSAClaims(payload []byte) (*SSA, error) {
	// Claims must be unique: a JSON parser that keeps the last duplicate
	// and one that keeps the first would read different SSAs. encoding/json
	// keeps the last silently, so reject duplicates up front.
	if err := checkNoDuplicateKeys(payload); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSSAClaims, err)
	}
	var claims SSA
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSSAClaims, err)
	}
	// iat is required; NumericDate cannot tell 0 from absent, and 0 is
	// not a plausible issue time either.
	if claims.IssuedAt.IsZero() || claims.IssuedAt.Unix() == 0 {
		return nil, fmt.Errorf("%w: missing iat", ErrSSAClaims)
	}
	return &claims, nil
}

func (s *SSA) validate(now time.Time) error {
	switch {
	case s.Issuer == "":
		return fmt.Errorf("%w: missing iss", ErrSSAClaims)
	case s.JWTID == "":
		return fmt.Errorf("%w: missing jti", ErrSSAClaims)
	case !validOBID(s.SoftwareID):
		return fmt.Errorf("%w: software_id %q does not match ^[0-9a-zA-Z]{1,22}$", ErrSSAClaims, s.SoftwareID)
	case s.OrgID == "":
		return fmt.Errorf("%w: missing org_id", ErrSSAClaims)
	case s.SoftwareJWKSEndpoint == "" && len(s.SoftwareJWKS) == 0:
		return fmt.Errorf("%w: neither software_jwks_endpoint nor software_jwks", ErrSSAClaims)
	}
	if s.IssuedAt.After(now.Add(SSASkew)) {
		return fmt.Errorf("%w: iat %s is in the future", ErrSSANotYet, s.IssuedAt.Format(time.RFC3339))
	}
	if s.NotBefore != nil && s.NotBefore.After(now.Add(SSASkew)) {
		return fmt.Errorf("%w: nbf %s", ErrSSANotYet, s.NotBefore.Format(time.RFC3339))
	}
	if s.ExpiresAt != nil && !now.Add(-SSASkew).Before(s.ExpiresAt.Time) {
		return fmt.Errorf("%w: exp %s", ErrSSAExpired, s.ExpiresAt.Format(time.RFC3339))
	}
	if s.OrgStatus != "" && s.OrgStatus != OrgStatusActive {
		return fmt.Errorf("%w: org_status %q", ErrOrgNotActive, s.OrgStatus)
	}
	if len(s.SoftwareJWKS) > 0 {
		set, err := s.SoftwareJWKSet()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSSAClaims, err)
		}
		for i := range set.Len() {
			k, _ := set.Key(i)
			if priv, err := jwk.IsPrivateKey(k); err != nil || priv {
				return fmt.Errorf("%w: software_jwks holds private key material", ErrSSAClaims)
			}
		}
	}
	return nil
}

// checkNoDuplicateKeys reports an error if any JSON object in data repeats
// a member name.
func checkNoDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				keyTok, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := keyTok.(string)
				if seen[name] {
					return fmt.Errorf("duplicate claim %q", name)
				}
				seen[name] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token() // '}'
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token() // ']'
			return err
		}
		return nil
	}
	return walk()
}
