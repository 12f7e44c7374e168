package authz

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// clientAssertionType is the only client_assertion_type accepted (RFC 7523
// §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Client-assertion limits.
const (
	// assertionMaxLifetime bounds how far in the future exp may lie: a
	// long-lived assertion is a bearer credential, and its jti must be
	// remembered that long.
	assertionMaxLifetime = 60 * time.Minute
	// clockSkew tolerates clocks slightly ahead of ours (iat, nbf) or
	// behind (exp).
	clockSkew = 30 * time.Second
	// maxAssertionLen refuses absurd inputs before any parsing.
	maxAssertionLen = 8 << 10
)

// authenticateClient authenticates the client of a token, PAR, revocation
// or introspection request from its form (client_id, client_assertion,
// client_assertion_type) and its TLS client certificate
// (mtls.ClientCert), by the method it registered: tls_client_auth (subject
// DN match) or private_key_jwt (PS256 assertion against the client's JWKS,
// aud, exp, single-use jti). A verified client certificate is required
// either way: FAPI binds every token to it. It returns invalid_client on
// failure.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (oauth.Client, error) {
	ctx := r.Context()
	cert := mtls.ClientCert(r)
	if cert == nil {
		return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("a client certificate is required")
	}
	assertion := form.Get("client_assertion")
	assertionType := form.Get("client_assertion_type")
	clientID := form.Get("client_id")

	hasAssertion := assertion != "" || assertionType != ""
	if hasAssertion {
		if assertionType != clientAssertionType {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client_assertion_type must be %s", clientAssertionType)
		}
		if assertion == "" {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client_assertion is missing")
		}
		if len(assertion) > maxAssertionLen {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client_assertion is too long")
		}
		// The client id is read from the unverified payload only to find
		// the keys that verify it; nothing else is trusted before that.
		sub, err := unverifiedSubject(assertion)
		if err != nil {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client_assertion is not a JWT").WithCause(err)
		}
		if clientID == "" {
			clientID = sub
		} else if sub != clientID {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client_assertion sub does not match client_id")
		}
	}
	if clientID == "" {
		return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client_id is missing")
	}
	c, err := s.clients.get(ctx, clientID)
	if err != nil {
		if ob.IsNotFound(err) {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("unknown client")
		}
		return oauth.Client{}, fmt.Errorf("authz: read client: %w", err)
	}

	switch c.TokenEndpointAuthMethod {
	case oauth.AuthTLSClientAuth:
		if hasAssertion {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client registered tls_client_auth, not private_key_jwt")
		}
		if c.TLSClientAuthSubjectDN == "" || !pki.SubjectMatchesDN(cert, c.TLSClientAuthSubjectDN) {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client certificate subject does not match the registration")
		}
		return c, nil
	case oauth.AuthPrivateKeyJWT:
		// The certificate is not matched against the registration here:
		// with private_key_jwt it only binds the tokens (RFC 8705 §3).
		if !hasAssertion {
			return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client registered private_key_jwt: client_assertion is required")
		}
		if err := s.verifyClientAssertion(ctx, r, c, assertion); err != nil {
			return oauth.Client{}, err
		}
		return c, nil
	default:
		return oauth.Client{}, oauth.ErrInvalidClient.WithDescription("client authentication method not supported")
	}
}

// assertionClaims are the claims of a client assertion that are checked.
type assertionClaims struct {
	Iss string      `json:"iss"`
	Sub string      `json:"sub"`
	Aud jwtAudience `json:"aud"`
	Exp json.Number `json:"exp"`
	Iat json.Number `json:"iat"`
	Nbf json.Number `json:"nbf"`
	Jti string      `json:"jti"`
}

// jwtAudience is a JWT aud: a string or an array of strings.
type jwtAudience []string

func (a *jwtAudience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = jwtAudience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// numericDate parses a JWT NumericDate; ok is false when absent.
func numericDate(n json.Number) (t time.Time, ok bool, err error) {
	if n == "" {
		return time.Time{}, false, nil
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Unix(int64(f), 0), true, nil
}

// unverifiedSubject returns the sub (or, failing that, iss) of a compact
// JWS without verifying it.
func unverifiedSubject(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", err
	}
	if c.Sub != "" {
		return c.Sub, nil
	}
	return c.Iss, nil
}

// errAssertionAlg is returned by the key provider for any alg but PS256.
var errAssertionAlg = errors.New("alg must be PS256")

// verifyClientAssertion checks a private_key_jwt assertion: one PS256
// signature by a key of the client (kid, or the only signing key), no
// critical headers, iss = sub = client id, aud naming this server, exp in
// the future and at most 60 minutes ahead, iat/nbf not in the future, and
// a jti not seen before. The signature is verified once; the claims are
// checked on the verified payload.
func (s *Server) verifyClientAssertion(ctx context.Context, r *http.Request, c oauth.Client, assertion string) error {
	set, err := s.clientKeys(ctx, c)
	if err != nil {
		return oauth.ErrInvalidClient.WithDescription("the client's keys could not be read").WithCause(err)
	}
	var keyErr error
	provider := jws.KeyProviderFunc(func(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		h := sig.ProtectedHeaders()
		// Algorithm confusion is refused before any key is chosen: alg
		// none, HS256 (with the public key as secret), RS256 and the rest.
		if alg, ok := h.Algorithm(); !ok || alg != jwa.PS256() {
			keyErr = errAssertionAlg
			return keyErr
		}
		kid, _ := h.KeyID()
		key, err := signingKey(set, kid)
		if err != nil {
			keyErr = err
			return err
		}
		sink.Key(jwa.PS256(), key)
		return nil
	})
	payload, err := jws.Verify([]byte(assertion), jws.WithCompact(), jws.WithKeyProvider(provider), jws.WithCritValidation(true))
	if err != nil {
		if keyErr != nil {
			return oauth.ErrInvalidClient.WithDescription("client_assertion: %s", keyErr.Error())
		}
		return oauth.ErrInvalidClient.WithDescription("client_assertion signature is invalid").WithCause(err)
	}
	var cl assertionClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return oauth.ErrInvalidClient.WithDescription("client_assertion claims are malformed")
	}
	if cl.Iss != c.ID || cl.Sub != c.ID {
		return oauth.ErrInvalidClient.WithDescription("client_assertion iss and sub must be the client_id")
	}
	if !slices.ContainsFunc(cl.Aud, func(a string) bool { return s.assertionAudience(r, a) }) {
		return oauth.ErrInvalidClient.WithDescription("client_assertion aud must be the token endpoint or the issuer")
	}
	now := s.now()
	exp, ok, err := numericDate(cl.Exp)
	if err != nil || !ok {
		return oauth.ErrInvalidClient.WithDescription("client_assertion exp is missing")
	}
	if !now.Before(exp.Add(clockSkew)) {
		return oauth.ErrInvalidClient.WithDescription("client_assertion has expired")
	}
	if exp.After(now.Add(assertionMaxLifetime + clockSkew)) {
		return oauth.ErrInvalidClient.WithDescription("client_assertion exp is too far in the future")
	}
	for name, n := range map[string]json.Number{"iat": cl.Iat, "nbf": cl.Nbf} {
		t, ok, err := numericDate(n)
		if err != nil {
			return oauth.ErrInvalidClient.WithDescription("client_assertion %s is malformed", name)
		}
		if ok && t.After(now.Add(clockSkew)) {
			return oauth.ErrInvalidClient.WithDescription("client_assertion %s is in the future", name)
		}
	}
	if cl.Jti == "" {
		return oauth.ErrInvalidClient.WithDescription("client_assertion jti is missing")
	}
	// The jti is remembered until the assertion expires (plus skew); after
	// that the exp check refuses a replay anyway.
	if err := s.store.UseJTI(ctx, "assertion:"+c.ID, cl.Jti, exp.Add(clockSkew), now); err != nil {
		if ob.ErrorCode(err) == ob.CodeConflict {
			return oauth.ErrInvalidClient.WithDescription("client_assertion jti was used before")
		}
		return fmt.Errorf("authz: record assertion jti: %w", err)
	}
	return nil
}

// assertionAudience reports whether aud names this server: the issuer,
// the token endpoint (mTLS alias), or the endpoint being called (RFC 9126
// and RFC 7009 clients often put the PAR or revocation URL).
func (s *Server) assertionAudience(r *http.Request, aud string) bool {
	aud = strings.TrimSuffix(aud, "/")
	switch aud {
	case s.cfg.Issuer, s.mtlsEndpoint(PathToken):
		return true
	}
	switch r.URL.Path {
	case PathPAR, PathRevoke, PathIntrospect:
		return aud == s.mtlsEndpoint(r.URL.Path)
	}
	return false
}

// signingKey picks the verification key for kid from set: the key with
// that kid, or the only signature key when the header has no kid.
func signingKey(set jwk.Set, kid string) (jwk.Key, error) {
	if kid != "" {
		k, ok := set.LookupKeyID(kid)
		if !ok {
			return nil, errors.New("no key of the client has that kid")
		}
		if u, ok := k.KeyUsage(); ok && u != jwk.ForSignature.String() {
			return nil, errors.New("the key with that kid is not a signature key")
		}
		return k, nil
	}
	var found jwk.Key
	for i := range set.Len() {
		k, _ := set.Key(i)
		if u, ok := k.KeyUsage(); ok && u != jwk.ForSignature.String() {
			continue
		}
		if found != nil {
			return nil, errors.New("kid is required: the client has several signing keys")
		}
		found = k
	}
	if found == nil {
		return nil, errors.New("the client has no signing key")
	}
	return found, nil
}

// ClientKeys returns a registered client and its public signing keys (the
// inline JWKS, or the set at its jwks_uri, fetched through the SSRF-guarded
// client and cached): what the resource APIs verify a TPP's x-jws-signature
// with. ob.ErrNotFound (wrapped) for an unknown client.
func (s *Server) ClientKeys(ctx context.Context, clientID string) (oauth.Client, jwk.Set, error) {
	c, err := s.clients.get(ctx, clientID)
	if err != nil {
		return oauth.Client{}, nil, fmt.Errorf("authz: client %s: %w", clientID, err)
	}
	set, err := s.clientKeys(ctx, c)
	if err != nil {
		return c, nil, fmt.Errorf("authz: keys of client %s: %w", clientID, err)
	}
	return c, set, nil
}

// clientKeys returns a client's public signing keys: its inline JWKS, or
// the set at its jwks_uri (fetched and cached).
func (s *Server) clientKeys(ctx context.Context, c oauth.Client) (jwk.Set, error) {
	return s.clientJWKS.get(ctx, c, s.now())
}

// Client key cache limits.
const (
	jwksURITTL       = 5 * time.Minute
	jwksFetchTimeout = 5 * time.Second
	maxJWKSBytes     = 256 << 10
)

// jwksCache caches parsed client key sets: inline sets keyed by client id
// and checked against the registered bytes (so a registration update is
// seen at once), fetched sets by URL for jwksURITTL. Parsing a JWKS per
// request would be avoidable work on the token path. The zero value is
// ready to use.
type jwksCache struct {
	mu      sync.Mutex
	entries map[string]jwksEntry
	client  *http.Client
}

type jwksEntry struct {
	raw     []byte // the inline JWKS it was parsed from
	set     jwk.Set
	expires time.Time // for fetched sets
}

func (j *jwksCache) lookup(key string) (jwksEntry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.entries[key]
	return e, ok
}

func (j *jwksCache) store(key string, e jwksEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Registered clients number in the thousands at most; dropping the
	// lot past that keeps the map bounded without an LRU.
	if j.entries == nil || len(j.entries) > 10000 {
		j.entries = map[string]jwksEntry{}
	}
	j.entries[key] = e
}

func (j *jwksCache) get(ctx context.Context, c oauth.Client, now time.Time) (jwk.Set, error) {
	if len(c.JWKS) > 0 {
		key := "inline:" + c.ID
		if e, ok := j.lookup(key); ok && bytes.Equal(e.raw, c.JWKS) {
			return e.set, nil
		}
		set, err := jwk.Parse(c.JWKS)
		if err != nil {
			return nil, fmt.Errorf("parse client JWKS: %w", err)
		}
		j.store(key, jwksEntry{raw: c.JWKS, set: set})
		return set, nil
	}
	if c.JWKSURI == "" {
		return nil, errors.New("client has neither jwks nor jwks_uri")
	}
	key := "uri:" + c.JWKSURI
	if e, ok := j.lookup(key); ok && now.Before(e.expires) {
		return e.set, nil
	}
	set, err := j.fetch(ctx, c.JWKSURI)
	if err != nil {
		return nil, err
	}
	j.store(key, jwksEntry{set: set, expires: now.Add(jwksURITTL)})
	return set, nil
}

// fetch downloads a JWKS over https with a timeout and a size limit.
func (j *jwksCache) fetch(ctx context.Context, rawURL string) (jwk.Set, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("jwks_uri %q is not an https URL", rawURL)
	}
	j.mu.Lock()
	if j.client == nil {
		j.client = &http.Client{Timeout: jwksFetchTimeout}
	}
	hc := j.client
	j.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks_uri: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	if len(b) > maxJWKSBytes {
		return nil, errors.New("fetch jwks_uri: too large")
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse jwks_uri: %w", err)
	}
	return set, nil
}
