package authz

// Dynamic client registration: OBIE DCR v3.4 on top of RFC 7591 (register)
// and RFC 7592 (read, update, delete), served on the mutual-TLS listener.
//
// Decisions where the standards leave the bank a choice (register_test.go
// covers each, except fetching a software_jwks_endpoint over https, which
// needs a publicly trusted server):
//
//   - Body. POST and PUT take the signed request JWT as the raw body with
//     Content-Type application/jose or application/jwt. The OB YAML declares
//     application/json with a string body, so application/json is accepted
//     too when the body is that compact JWT (bare or as a JSON string); an
//     unsigned RFC 7591 JSON object, or any other content type, is refused
//     with 400 invalid_client_metadata (the spec's POST answers only 201 and
//     400, so no 415).
//   - Software statement. It is verified with sandbox.VerifySSA against
//     Config.DirectoryKeys. A statement signed by a key the bank does not
//     know cannot be verified at all, so it is invalid_software_statement
//     (RFC 7591 keeps unapproved_software_statement for a valid statement the
//     bank will not accept); an organisation whose org_status is not Active
//     is unapproved_software_statement. There is no maximum SSA age beyond
//     its exp: OB Directory statements carry none and are reissued rarely.
//   - Request JWT. PS256 only, a kid naming a key of the SSA's inline
//     software_jwks or of the set at its software_jwks_endpoint (fetched
//     over https, 10 s timeout, 1 MiB cap, at every registration: it is rare
//     and must see rotations); x5c/x5u/jku/jwk headers are never used, crit
//     is refused. iss must be the SSA's software_id, aud the issuer URL, the
//     registration endpoint URL or Config.OrgID, exp in the future and at
//     most 24 h after iat, iat no more than a minute ahead nor an hour old,
//     jti present (any string up to 255 bytes: RFC 7519 does not demand a
//     UUID) and single-use per software_id. Failures of the request JWT are
//     invalid_client_metadata: it is the container of the metadata.
//   - Metadata. Omitted fields get defaults that are echoed back: the SSA's
//     redirect URIs, every scope its roles allow, grant types
//     authorization_code + client_credentials + refresh_token, response type
//     "code id_token" (when authorization_code is registered), application
//     type web, PS256 for id_token and request-object signing, A256GCM when
//     only id_token_encrypted_response_alg is given. Keys always come from
//     the SSA; jwks/jwks_uri in the request are ignored like any unknown
//     claim.
//   - Client ids are random UUIDs, not the software_id: one piece of
//     software may register several clients (say, one per authentication
//     method); the store keeps no software_id index and OB leaves the choice
//     to the bank. The jti rule stops replays of one request.
//   - Certificate. POST and PUT need a TLS client certificate. For
//     tls_client_auth the registered subject DN must be the presented
//     certificate's; for private_key_jwt the certificate is not tied to the
//     SSA (possession of the SSA's signing key is the proof).
//   - Management (GET/PUT/DELETE /register/{ClientId}) takes a
//     client-credentials access token of that client, presented over the
//     certificate it is bound to. Everything else is 401 invalid_token; a
//     valid token naming another (or an unknown) ClientId is also revoked,
//     as OB requires.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/sandbox"
)

// Limits of the registration endpoint.
const (
	// maxRegistrationBody bounds a registration request: the SSA alone may
	// be sandbox.MaxSSASize, and it is base64url-encoded once more inside
	// the request JWT.
	maxRegistrationBody = 4*sandbox.MaxSSASize/3 + 64<<10
	// registrationSkew is the clock skew tolerated on a request's iat.
	registrationSkew = time.Minute
	// maxRegistrationRequestAge is how old a request's iat may be.
	maxRegistrationRequestAge = time.Hour
	// maxRegistrationRequestLifetime bounds exp - iat, and with it how long
	// the jti replay record is kept.
	maxRegistrationRequestLifetime = 24 * time.Hour
	// maxJTILength bounds the jti stored in the replay cache.
	maxJTILength = 255
	// maxRedirectURILength is OB's limit on each redirect URI.
	maxRedirectURILength = 256
	// softwareJWKSTimeout and maxSoftwareJWKS bound the fetch of an SSA's
	// software_jwks_endpoint.
	softwareJWKSTimeout = 10 * time.Second
	maxSoftwareJWKS     = 1 << 20
)

// regOBIDPattern is OB's pattern for software_id and the request's iss.
var regOBIDPattern = regexp.MustCompile(`^[0-9a-zA-Z]{1,22}$`)

// regSubjectDNPattern is OB's tls_client_auth_subject_dn pattern without its
// leading (?=.{1,512}$), a lookahead RE2 lacks; the length is checked apart.
var regSubjectDNPattern = regexp.MustCompile(`^[Cc][Nn]=[^,]+(?:,[^,\s]+=[^,]+)*$`)

// Values obank accepts in registration metadata.
const (
	regAlgPS256       = "PS256"
	regAlgRSAOAEP256  = "RSA-OAEP-256"
	regEncA256GCM     = "A256GCM"
	regResponseHybrid = "code id_token"
	regResponseCode   = "code"
	regAppWeb         = "web"
	regAppNative      = "native"
)

// registrationRequest is the claims of a registration request JWT: the JWT
// claims OB requires and the RFC 7591 / OB metadata. Pointer and nil-slice
// fields tell "omitted" from "empty".
type registrationRequest struct {
	Issuer    string               `json:"iss"`
	Audience  regAudience          `json:"aud"`
	IssuedAt  *sandbox.NumericDate `json:"iat"`
	ExpiresAt *sandbox.NumericDate `json:"exp"`
	JWTID     string               `json:"jti"`

	SoftwareStatement           string   `json:"software_statement"`
	SoftwareID                  *string  `json:"software_id"`
	ClientID                    *string  `json:"client_id"`
	RedirectURIs                []string `json:"redirect_uris"`
	TokenEndpointAuthMethod     string   `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string   `json:"token_endpoint_auth_signing_alg"`
	TLSClientAuthSubjectDN      string   `json:"tls_client_auth_subject_dn"`
	GrantTypes                  []string `json:"grant_types"`
	ResponseTypes               []string `json:"response_types"`
	Scope                       *string  `json:"scope"`
	ApplicationType             string   `json:"application_type"`
	IDTokenSignedResponseAlg    string   `json:"id_token_signed_response_alg"`
	IDTokenEncryptedResponseAlg string   `json:"id_token_encrypted_response_alg"`
	IDTokenEncryptedResponseEnc string   `json:"id_token_encrypted_response_enc"`
	RequestObjectSigningAlg     string   `json:"request_object_signing_alg"`
}

// regAudience is a JWT aud: one string or an array of them (RFC 7519 §4.1.3).
type regAudience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *regAudience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = regAudience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

// registeredMetadata is the accepted client metadata, as the registration
// response states it (RFC 7591 §3.2.1).
type registeredMetadata struct {
	RedirectURIs                []string `json:"redirect_uris"`
	TokenEndpointAuthMethod     string   `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string   `json:"token_endpoint_auth_signing_alg,omitempty"`
	TLSClientAuthSubjectDN      string   `json:"tls_client_auth_subject_dn,omitempty"`
	GrantTypes                  []string `json:"grant_types"`
	ResponseTypes               []string `json:"response_types"`
	Scope                       string   `json:"scope"`
	ApplicationType             string   `json:"application_type"`
	IDTokenSignedResponseAlg    string   `json:"id_token_signed_response_alg"`
	IDTokenEncryptedResponseAlg string   `json:"id_token_encrypted_response_alg,omitempty"`
	IDTokenEncryptedResponseEnc string   `json:"id_token_encrypted_response_enc,omitempty"`
	RequestObjectSigningAlg     string   `json:"request_object_signing_alg"`
	SoftwareID                  string   `json:"software_id"`
	SoftwareStatement           string   `json:"software_statement"`
	ClientName                  string   `json:"client_name,omitempty"`
	JWKSURI                     string   `json:"jwks_uri,omitempty"`
}

// registration is a validated registration request.
type registration struct {
	ssa *sandbox.SSA
	// ssaClaims are every claim of the SSA, flattened into the response.
	ssaClaims map[string]json.RawMessage
	// requestClaims are the request's JWT claims (iss, aud, iat, exp, jti),
	// which OB's OBClientRegistration1 echoes.
	requestClaims map[string]json.RawMessage
	meta          registeredMetadata
	jti           string
	expiresAt     time.Time
	// clientID is the client_id the request named, if any (PUT must
	// name the client it updates, RFC 7592 §2.2).
	clientID string
}

// registerRoutes registers the DCR endpoints on the mTLS mux.
func (s *Server) registerRoutes(mux *http.ServeMux) {
	mux.Handle("POST "+PathRegister, s.handle(s.register))
	mux.Handle("GET "+PathRegister+"/{ClientId}", s.handle(s.readRegistration))
	mux.Handle("PUT "+PathRegister+"/{ClientId}", s.handle(s.updateRegistration))
	mux.Handle("DELETE "+PathRegister+"/{ClientId}", s.handle(s.deleteRegistration))
}

// register is POST /register: it validates the signed request and creates
// a client, answering 201 with its metadata.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cert := mtls.ClientCert(r)
	if cert == nil {
		return oauth.ErrInvalidClientMetadata.WithDescription("registration requires a TLS client certificate")
	}
	body, err := readRegistrationBody(w, r)
	if err != nil {
		return err
	}
	now := s.now()
	reg, err := s.validateRegistration(ctx, body, cert, now)
	if err != nil {
		return err
	}
	c, err := reg.client(uuid.NewString(), now, now)
	if err != nil {
		return err
	}
	if err := s.useRegistrationJTI(ctx, reg, now); err != nil {
		return err
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return fmt.Errorf("register: create client: %w", err)
	}
	s.log.InfoContext(ctx, "client registered", "client_id", c.ID, "software_id", c.SoftwareID, "org_id", c.OrgID)
	writeJSON(w, http.StatusCreated, json.RawMessage(c.Metadata))
	return nil
}

// readRegistration is GET /register/{ClientId}.
func (s *Server) readRegistration(w http.ResponseWriter, r *http.Request) error {
	c, err := s.registrationClient(r)
	if err != nil {
		return err
	}
	meta := c.Metadata
	if len(meta) == 0 {
		// A client created other than through DCR (seeded, or by tests).
		if meta, err = json.Marshal(registrationMetadataOf(c)); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, json.RawMessage(meta))
	return nil
}

// updateRegistration is PUT /register/{ClientId}: the same validation as
// POST, replacing the client's metadata. Issued tokens stay valid.
func (s *Server) updateRegistration(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	old, err := s.registrationClient(r)
	if err != nil {
		return err
	}
	body, err := readRegistrationBody(w, r)
	if err != nil {
		return err
	}
	now := s.now()
	reg, err := s.validateRegistration(ctx, body, mtls.ClientCert(r), now)
	if err != nil {
		return err
	}
	if reg.ssa.SoftwareID != old.SoftwareID || reg.ssa.OrgID != old.OrgID {
		return oauth.ErrInvalidClientMetadata.WithDescription("the software statement is for other software than this client's")
	}
	if reg.clientID != "" && reg.clientID != old.ID {
		return oauth.ErrInvalidClientMetadata.WithDescription("client_id does not match the client being updated")
	}
	c, err := reg.client(old.ID, old.CreatedAt, now)
	if err != nil {
		return err
	}
	if err := s.useRegistrationJTI(ctx, reg, now); err != nil {
		return err
	}
	if err := s.store.UpdateClient(ctx, c); err != nil {
		if ob.IsNotFound(err) {
			return oauth.ErrInvalidToken.WithDescription("unknown client")
		}
		return fmt.Errorf("register: update client: %w", err)
	}
	s.clients.invalidate(c.ID)
	s.log.InfoContext(ctx, "client registration updated", "client_id", c.ID, "software_id", c.SoftwareID)
	writeJSON(w, http.StatusOK, json.RawMessage(c.Metadata))
	return nil
}

// deleteRegistration is DELETE /register/{ClientId}: the client is deleted
// and every token issued to it revoked.
func (s *Server) deleteRegistration(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.registrationClient(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteClient(ctx, c.ID, s.now()); err != nil {
		if ob.IsNotFound(err) {
			return oauth.ErrInvalidToken.WithDescription("unknown client")
		}
		return fmt.Errorf("register: delete client: %w", err)
	}
	s.clients.invalidate(c.ID)
	s.log.InfoContext(ctx, "client deleted", "client_id", c.ID, "software_id", c.SoftwareID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// registrationClient authenticates a registration-management request: a
// bearer client-credentials access token, active, bound to the presented
// TLS client certificate and issued to the client named in the path. It
// returns that client. A valid token naming another or an unknown client
// is revoked (OB DCR: "unknown or mismatched ClientId").
func (s *Server) registrationClient(r *http.Request) (oauth.Client, error) {
	ctx := r.Context()
	token, ok := registrationBearer(r)
	if !ok {
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("a bearer access token is required")
	}
	cert := mtls.ClientCert(r)
	if cert == nil {
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("a TLS client certificate is required")
	}
	hash := ob.HashToken(token)
	at, _, err := s.store.TokenGrant(ctx, hash)
	if ob.IsNotFound(err) {
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("unknown access token")
	}
	if err != nil {
		return oauth.Client{}, fmt.Errorf("register: read token: %w", err)
	}
	now := s.now()
	switch {
	case !at.Active(now):
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("the access token is expired or revoked")
	case at.GrantID != "":
		// A token bound to a customer's consent is not the client's own.
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("a client-credentials access token is required")
	case subtle.ConstantTimeCompare([]byte(at.CertThumbprint), []byte(mtls.Thumbprint(cert))) != 1:
		// An unbound token (empty thumbprint) never matches either.
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("the access token is bound to another certificate")
	}
	id := r.PathValue("ClientId")
	var c oauth.Client
	if at.ClientID == id {
		c, err = s.store.Client(ctx, id)
		if err != nil && !ob.IsNotFound(err) {
			return oauth.Client{}, fmt.Errorf("register: read client: %w", err)
		}
	}
	if at.ClientID != id || err != nil {
		if rerr := s.store.RevokeAccessToken(ctx, hash, now); rerr != nil {
			s.log.ErrorContext(ctx, "revoking the token of a mismatched registration request", "err", rerr)
		}
		return oauth.Client{}, oauth.ErrInvalidToken.WithDescription("the access token was not issued to this client")
	}
	return c, nil
}

// registrationBearer returns the RFC 6750 bearer token of the Authorization
// header. Tokens in the query or body are not accepted.
func registrationBearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// readRegistrationBody returns the compact request JWT of a POST or PUT.
func readRegistrationBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	switch mt {
	case "application/jose", "application/jwt", "application/json":
	default:
		return nil, oauth.ErrInvalidClientMetadata.WithDescription(
			"the registration request must be a signed JWT sent as application/jose or application/jwt")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request is too large")
		}
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request could not be read")
	}
	body = bytes.TrimSpace(body)
	if mt == "application/json" && len(body) > 0 && body[0] == '"' {
		// The OB YAML's shape: a JSON string holding the JWT.
		var s string
		if json.Unmarshal(body, &s) != nil {
			return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request must be a signed JWT")
		}
		body = []byte(strings.TrimSpace(s))
	}
	if bytes.Count(body, []byte(".")) != 2 || bytes.ContainsAny(body, " \t\r\n{\"") {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request must be a signed JWT (compact serialisation)")
	}
	return body, nil
}

// validateRegistration checks a registration request JWT end to end (the
// SSA, the request's signature and claims, the metadata, the certificate)
// and returns what to register. It writes nothing; the caller records the
// jti and stores the client.
func (s *Server) validateRegistration(ctx context.Context, compact []byte, cert *x509.Certificate, now time.Time) (*registration, error) {
	msg, err := jws.Parse(compact, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request is not a valid JWS")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	// The algorithm is checked before anything else is looked at: none,
	// the HMAC family and RS256 never reach a key.
	if alg, ok := hdr.Algorithm(); !ok || alg.String() != regAlgPS256 {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request must be signed with PS256")
	}
	if _, ok := hdr.Critical(); ok {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request carries a crit header, which is not supported")
	}
	kid, ok := hdr.KeyID()
	if !ok || kid == "" {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request header must name its key (kid)")
	}
	var req registrationRequest
	if err := json.Unmarshal(msg.Payload(), &req); err != nil {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request claims are malformed")
	}

	// The software statement, then the keys it vouches for.
	if req.SoftwareStatement == "" {
		return nil, oauth.ErrInvalidSoftwareStatement.WithDescription("software_statement is required")
	}
	ssa, err := sandbox.VerifySSA(req.SoftwareStatement, s.cfg.DirectoryKeys, now)
	if err != nil {
		return nil, registrationSSAError(err)
	}
	keys, err := s.softwareKeys(ctx, ssa)
	if err != nil {
		return nil, err
	}
	if err := verifyRegistrationSignature(compact, keys, kid); err != nil {
		return nil, err
	}

	reg := &registration{ssa: ssa, jti: req.JWTID}
	if req.ClientID != nil {
		reg.clientID = *req.ClientID
	}
	if err := s.checkRegistrationClaims(&req, ssa, now); err != nil {
		return nil, err
	}
	reg.expiresAt = req.ExpiresAt.Time
	if reg.ssaClaims, err = regPayloadClaims(req.SoftwareStatement); err != nil {
		return nil, oauth.ErrInvalidSoftwareStatement.WithDescription("the software statement claims are malformed")
	}
	if reg.requestClaims, err = regClaimsOf(msg.Payload(), "iss", "aud", "iat", "exp", "jti"); err != nil {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the registration request claims are malformed")
	}
	if reg.meta, err = s.checkRegistrationMetadata(&req, ssa, keys, cert); err != nil {
		return nil, err
	}
	return reg, nil
}

// registrationSSAError maps a VerifySSA error to the DCR error code and a
// description of what is wrong with the statement (never the library's
// wording).
func registrationSSAError(err error) error {
	var desc string
	switch {
	case errors.Is(err, sandbox.ErrOrgNotActive):
		return oauth.ErrUnapprovedSoftwareStatement.WithDescription("the software statement's organisation is not active")
	case errors.Is(err, sandbox.ErrSSAUnknownKey):
		desc = "the software statement is not signed by a directory the bank trusts"
	case errors.Is(err, sandbox.ErrSSAAlgorithm):
		desc = "the software statement must be signed with PS256 or ES256"
	case errors.Is(err, sandbox.ErrSSASignature):
		desc = "the software statement signature is invalid"
	case errors.Is(err, sandbox.ErrSSAExpired):
		desc = "the software statement has expired"
	case errors.Is(err, sandbox.ErrSSANotYet):
		desc = "the software statement is not yet valid"
	case errors.Is(err, sandbox.ErrSSAClaims):
		// These name the claim at fault, from the client's own statement.
		desc = strings.TrimPrefix(err.Error(), "sandbox: ")
	default:
		desc = "the software statement is malformed"
	}
	return oauth.ErrInvalidSoftwareStatement.WithDescription("%s", desc)
}

// softwareKeys returns the public keys the SSA names for the software:
// its inline software_jwks, or the set at its software_jwks_endpoint.
func (s *Server) softwareKeys(ctx context.Context, ssa *sandbox.SSA) (jwk.Set, error) {
	if len(ssa.SoftwareJWKS) > 0 {
		set, err := ssa.SoftwareJWKSet()
		if err != nil {
			return nil, oauth.ErrInvalidSoftwareStatement.WithDescription("software_jwks is not a JWK set")
		}
		return set, nil
	}
	set, err := fetchSoftwareJWKS(ctx, s.keyFetch, ssa.SoftwareJWKSEndpoint)
	if err != nil {
		s.log.WarnContext(ctx, "fetching software_jwks_endpoint", "software_id", ssa.SoftwareID, "err", err)
		return nil, oauth.ErrInvalidSoftwareStatement.WithDescription("the keys at software_jwks_endpoint could not be fetched")
	}
	return set, nil
}

// fetchSoftwareJWKS GETs a JWK set over https with client (keyFetchClient:
// public addresses only, no redirects). The URL comes from a statement the
// directory signed, but a TPP chose it; the fetch is bounded in time and
// size.
func fetchSoftwareJWKS(ctx context.Context, client *http.Client, endpoint string) (jwk.Set, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("software_jwks_endpoint %q is not an https URL", endpoint)
	}
	ctx, cancel := context.WithTimeout(ctx, softwareJWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("software_jwks_endpoint answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSoftwareJWKS+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSoftwareJWKS {
		return nil, errors.New("software_jwks_endpoint answered more than 1 MiB")
	}
	return jwk.Parse(data)
}

// verifyRegistrationSignature verifies the request JWT with the software key
// named kid: an RSA key whose alg, when set, is PS256 and whose use, when
// set, is sig. Only the public half is used, whatever the set holds.
func verifyRegistrationSignature(compact []byte, keys jwk.Set, kid string) error {
	bad := oauth.ErrInvalidClientMetadata.WithDescription("the registration request is not signed by a key of the software statement")
	key, ok := keys.LookupKeyID(kid)
	if !ok || key.KeyType() != jwa.RSA() {
		return bad
	}
	if alg, ok := key.Algorithm(); ok && alg.String() != regAlgPS256 {
		return bad
	}
	if use, ok := key.KeyUsage(); ok && use != jwk.ForSignature.String() {
		return bad
	}
	pub, err := jwk.PublicKeyOf(key)
	if err != nil {
		return bad
	}
	if _, err := jws.Verify(compact, jws.WithKey(jwa.PS256(), pub), jws.WithCompact()); err != nil {
		return oauth.ErrInvalidClientMetadata.WithDescription("the registration request signature is invalid")
	}
	return nil
}

// checkRegistrationClaims checks the request's iss, aud, iat, exp and jti.
func (s *Server) checkRegistrationClaims(req *registrationRequest, ssa *sandbox.SSA, now time.Time) error {
	bad := oauth.ErrInvalidClientMetadata.WithDescription
	switch {
	case !regOBIDPattern.MatchString(req.Issuer):
		return bad("iss must match ^[0-9a-zA-Z]{1,22}$")
	case req.Issuer != ssa.SoftwareID:
		return bad("iss must be the software statement's software_id")
	case !slices.ContainsFunc(req.Audience, s.isRegistrationAudience):
		return bad("aud must identify this bank")
	case req.IssuedAt == nil || req.IssuedAt.Unix() <= 0:
		return bad("iat is required")
	case req.ExpiresAt == nil || req.ExpiresAt.Unix() <= 0:
		return bad("exp is required")
	case !now.Before(req.ExpiresAt.Time):
		return bad("the registration request has expired")
	case req.IssuedAt.After(now.Add(registrationSkew)):
		return bad("iat is in the future")
	case req.IssuedAt.Before(now.Add(-maxRegistrationRequestAge)):
		return bad("iat is more than %s old", maxRegistrationRequestAge)
	case req.ExpiresAt.Sub(req.IssuedAt.Time) > maxRegistrationRequestLifetime:
		return bad("exp may be at most %s after iat", maxRegistrationRequestLifetime)
	case req.JWTID == "":
		return bad("jti is required")
	case len(req.JWTID) > maxJTILength:
		return bad("jti is longer than %d bytes", maxJTILength)
	}
	return nil
}

// isRegistrationAudience reports whether aud names this bank: its issuer
// URL, its registration endpoint or its directory organisation id.
func (s *Server) isRegistrationAudience(aud string) bool {
	switch {
	case aud == "":
		return false
	case aud == s.cfg.Issuer, aud == s.cfg.Issuer+"/", aud == s.mtlsEndpoint(PathRegister):
		return true
	}
	return s.cfg.OrgID != "" && aud == s.cfg.OrgID
}

// checkRegistrationMetadata validates the requested metadata against the SSA and the
// presented certificate, filling in defaults.
func (s *Server) checkRegistrationMetadata(req *registrationRequest, ssa *sandbox.SSA, keys jwk.Set, cert *x509.Certificate) (registeredMetadata, error) {
	bad := oauth.ErrInvalidClientMetadata.WithDescription
	m := registeredMetadata{
		SoftwareID:        ssa.SoftwareID,
		SoftwareStatement: req.SoftwareStatement,
		ClientName:        ssa.SoftwareClientName,
		JWKSURI:           ssa.SoftwareJWKSEndpoint,
	}
	if req.SoftwareID != nil && *req.SoftwareID != ssa.SoftwareID {
		return m, bad("software_id does not match the software statement")
	}

	// Grant and response types first: whether redirect URIs are needed
	// depends on them.
	m.GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantClientCredentials, oauth.GrantRefreshToken}
	if req.GrantTypes != nil {
		m.GrantTypes = regDedupe(req.GrantTypes)
	}
	if len(m.GrantTypes) == 0 {
		return m, bad("grant_types must not be empty")
	}
	for _, g := range m.GrantTypes {
		if g != oauth.GrantAuthorizationCode && g != oauth.GrantClientCredentials && g != oauth.GrantRefreshToken {
			return m, bad("grant type %q is not supported", g)
		}
	}
	codeFlow := slices.Contains(m.GrantTypes, oauth.GrantAuthorizationCode)
	m.ResponseTypes = []string{}
	if codeFlow {
		m.ResponseTypes = []string{regResponseHybrid}
	}
	if req.ResponseTypes != nil {
		m.ResponseTypes = regDedupe(req.ResponseTypes)
	}
	for _, rt := range m.ResponseTypes {
		if rt != regResponseHybrid && rt != regResponseCode {
			return m, bad("response type %q is not supported", rt)
		}
	}
	if len(m.ResponseTypes) > 0 && !codeFlow {
		return m, bad("response_types need the authorization_code grant type")
	}
	if codeFlow && len(m.ResponseTypes) == 0 {
		return m, bad("the authorization_code grant type needs a response type")
	}

	// Redirect URIs: a subset of the statement's; omitted means all of them.
	m.RedirectURIs = ssa.SoftwareRedirectURIs
	if req.RedirectURIs != nil {
		m.RedirectURIs = regDedupe(req.RedirectURIs)
	}
	if m.RedirectURIs == nil {
		m.RedirectURIs = []string{}
	}
	for _, u := range m.RedirectURIs {
		if !slices.Contains(ssa.SoftwareRedirectURIs, u) {
			return m, oauth.ErrInvalidRedirectURI.WithDescription("redirect URI %q is not in the software statement", u)
		}
		if err := s.checkRegistrationRedirectURI(u); err != nil {
			return m, err
		}
	}
	if codeFlow && len(m.RedirectURIs) == 0 {
		return m, oauth.ErrInvalidRedirectURI.WithDescription("the authorization_code grant type needs a redirect URI")
	}

	// Client authentication at the token endpoint.
	m.TokenEndpointAuthMethod = req.TokenEndpointAuthMethod
	m.TokenEndpointAuthSigningAlg = req.TokenEndpointAuthSigningAlg
	if m.TokenEndpointAuthSigningAlg != "" && m.TokenEndpointAuthSigningAlg != regAlgPS256 {
		return m, bad("token_endpoint_auth_signing_alg must be PS256")
	}
	switch m.TokenEndpointAuthMethod {
	case "":
		return m, bad("token_endpoint_auth_method is required")
	case oauth.AuthPrivateKeyJWT:
		if m.TokenEndpointAuthSigningAlg == "" {
			return m, bad("token_endpoint_auth_signing_alg is required for private_key_jwt")
		}
		if req.TLSClientAuthSubjectDN != "" {
			return m, bad("tls_client_auth_subject_dn is only for tls_client_auth")
		}
	case oauth.AuthTLSClientAuth:
		dn := req.TLSClientAuthSubjectDN
		switch {
		case dn == "":
			return m, bad("tls_client_auth_subject_dn is required for tls_client_auth")
		case len(dn) > 512 || !regSubjectDNPattern.MatchString(dn) || pki.CheckDN(dn) != nil:
			return m, bad("tls_client_auth_subject_dn is not a valid subject DN")
		case cert == nil || !pki.SubjectMatchesDN(cert, dn):
			return m, bad("tls_client_auth_subject_dn does not match the TLS client certificate")
		}
		m.TLSClientAuthSubjectDN = dn
	default:
		// client_secret_* included: FAPI allows only these two.
		return m, bad("token_endpoint_auth_method must be tls_client_auth or private_key_jwt")
	}

	// Scopes: within what the software's roles allow; omitted means all.
	allowed := oauth.ScopesForRoles(ssa.SoftwareRoles)
	scopes := allowed
	if req.Scope != nil && strings.TrimSpace(*req.Scope) != "" {
		scopes = regDedupe(oauth.ParseScope(*req.Scope))
	}
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return m, bad("scope %q is not allowed by the software statement's roles", sc)
		}
	}
	m.Scope = strings.Join(scopes, " ")

	switch m.ApplicationType = cmp.Or(req.ApplicationType, regAppWeb); m.ApplicationType {
	case regAppWeb, regAppNative:
	default:
		return m, bad("application_type must be web or native")
	}

	// Algorithms: PS256 only (OB conformance DCR-004/011 expect RS256 to be
	// refused).
	if m.IDTokenSignedResponseAlg = cmp.Or(req.IDTokenSignedResponseAlg, regAlgPS256); m.IDTokenSignedResponseAlg != regAlgPS256 {
		return m, bad("id_token_signed_response_alg must be PS256")
	}
	if m.RequestObjectSigningAlg = cmp.Or(req.RequestObjectSigningAlg, regAlgPS256); m.RequestObjectSigningAlg != regAlgPS256 {
		return m, bad("request_object_signing_alg must be PS256")
	}
	if req.IDTokenEncryptedResponseAlg != "" || req.IDTokenEncryptedResponseEnc != "" {
		switch {
		case req.IDTokenEncryptedResponseAlg == "":
			return m, bad("id_token_encrypted_response_enc needs id_token_encrypted_response_alg")
		case req.IDTokenEncryptedResponseAlg != regAlgRSAOAEP256:
			return m, bad("id_token_encrypted_response_alg must be RSA-OAEP-256")
		case req.IDTokenEncryptedResponseEnc != "" && req.IDTokenEncryptedResponseEnc != regEncA256GCM:
			return m, bad("id_token_encrypted_response_enc must be A256GCM")
		case !hasIDTokenEncryptionKey(keys):
			return m, bad("id_token encryption needs an RSA encryption key in the software's JWKS")
		}
		m.IDTokenEncryptedResponseAlg = regAlgRSAOAEP256
		m.IDTokenEncryptedResponseEnc = regEncA256GCM
	}
	return m, nil
}

// checkRegistrationRedirectURI checks one redirect URI's form: absolute, at most 256
// bytes, no fragment, and https to a host other than localhost unless
// insecure redirects are allowed (tests and demos).
func (s *Server) checkRegistrationRedirectURI(raw string) error {
	bad := oauth.ErrInvalidRedirectURI.WithDescription
	if raw == "" || len(raw) > maxRedirectURILength {
		return bad("a redirect URI must have 1 to %d characters", maxRedirectURILength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return bad("redirect URI %q is not an absolute URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("redirect URI %q has a fragment", raw)
	}
	if s.cfg.AllowInsecureRedirects {
		return nil
	}
	if u.Scheme != "https" {
		return bad("redirect URI %q is not https", raw)
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return bad("redirect URI %q points at localhost", raw)
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return bad("redirect URI %q points at a loopback address", raw)
	}
	return nil
}

// useRegistrationJTI records the request's jti, refusing a replay.
func (s *Server) useRegistrationJTI(ctx context.Context, reg *registration, now time.Time) error {
	err := s.store.UseJTI(ctx, "register:"+reg.ssa.SoftwareID, reg.jti, reg.expiresAt, now)
	if ob.ErrorCode(err) == ob.CodeConflict {
		return oauth.ErrInvalidClientMetadata.WithDescription("the registration request (jti) was already used")
	}
	if err != nil {
		return fmt.Errorf("register: record jti: %w", err)
	}
	return nil
}

// client builds the client to store, with the registration response as
// its Metadata.
func (reg *registration) client(id string, issuedAt, now time.Time) (oauth.Client, error) {
	ssa, m := reg.ssa, reg.meta
	c := oauth.Client{
		ID:                          id,
		SoftwareID:                  ssa.SoftwareID,
		OrgID:                       ssa.OrgID,
		OrgName:                     ssa.OrgName,
		Name:                        cmp.Or(ssa.SoftwareClientName, ssa.SoftwareID),
		Roles:                       slices.Clone(ssa.SoftwareRoles),
		RedirectURIs:                m.RedirectURIs,
		Scopes:                      oauth.ParseScope(m.Scope),
		GrantTypes:                  m.GrantTypes,
		ResponseTypes:               m.ResponseTypes,
		ApplicationType:             m.ApplicationType,
		TokenEndpointAuthMethod:     m.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: m.TokenEndpointAuthSigningAlg,
		TLSClientAuthSubjectDN:      m.TLSClientAuthSubjectDN,
		JWKS:                        slices.Clone([]byte(ssa.SoftwareJWKS)),
		JWKSURI:                     ssa.SoftwareJWKSEndpoint,
		IDTokenSignedResponseAlg:    m.IDTokenSignedResponseAlg,
		IDTokenEncryptedResponseAlg: m.IDTokenEncryptedResponseAlg,
		IDTokenEncryptedResponseEnc: m.IDTokenEncryptedResponseEnc,
		RequestObjectSigningAlg:     m.RequestObjectSigningAlg,
		LogoURI:                     ssa.SoftwareLogoURI,
		ClientURI:                   ssa.SoftwareClientURI,
		PolicyURI:                   ssa.SoftwarePolicyURI,
		TosURI:                      ssa.SoftwareTOSURI,
		SoftwareStatement:           m.SoftwareStatement,
		CreatedAt:                   issuedAt,
		UpdatedAt:                   now,
	}
	var err error
	if c.Metadata, err = reg.response(id, issuedAt); err != nil {
		return oauth.Client{}, fmt.Errorf("register: encode response: %w", err)
	}
	return c, nil
}

// response is the registration response body: every SSA claim flattened
// to the top level (the OBIE convention) except the SSA's own JWT claims
// (iss, iat, exp, nbf, jti, which describe the statement, not the client;
// the statement itself is in software_statement), then the request's JWT
// claims that OBClientRegistration1 lists, the accepted metadata, and
// client_id and client_id_issued_at. Later sources win.
func (reg *registration) response(id string, issuedAt time.Time) ([]byte, error) {
	out := map[string]json.RawMessage{}
	for k, v := range reg.ssaClaims {
		switch k {
		case "iss", "iat", "exp", "nbf", "jti", "aud":
			continue
		}
		out[k] = v
	}
	for k, v := range reg.requestClaims {
		out[k] = v
	}
	meta, err := json.Marshal(reg.meta)
	if err != nil {
		return nil, err
	}
	var metaMap map[string]json.RawMessage
	if err := json.Unmarshal(meta, &metaMap); err != nil {
		return nil, err
	}
	for k, v := range metaMap {
		out[k] = v
	}
	if out["client_id"], err = json.Marshal(id); err != nil {
		return nil, err
	}
	if out["client_id_issued_at"], err = json.Marshal(issuedAt.Unix()); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// registrationMetadataOf describes a client that has no stored registration response
// (one created other than through DCR).
func registrationMetadataOf(c oauth.Client) map[string]any {
	return map[string]any{
		"client_id":                       c.ID,
		"client_id_issued_at":             c.CreatedAt.Unix(),
		"software_id":                     c.SoftwareID,
		"org_id":                          c.OrgID,
		"client_name":                     c.Name,
		"redirect_uris":                   c.RedirectURIs,
		"scope":                           strings.Join(c.Scopes, " "),
		"grant_types":                     c.GrantTypes,
		"response_types":                  c.ResponseTypes,
		"application_type":                c.ApplicationType,
		"token_endpoint_auth_method":      c.TokenEndpointAuthMethod,
		"token_endpoint_auth_signing_alg": c.TokenEndpointAuthSigningAlg,
		"tls_client_auth_subject_dn":      c.TLSClientAuthSubjectDN,
		"id_token_signed_response_alg":    c.IDTokenSignedResponseAlg,
		"request_object_signing_alg":      c.RequestObjectSigningAlg,
	}
}

// regPayloadClaims decodes the claims of a compact JWS without verifying it
// (callers verify first).
func regPayloadClaims(compact string) (map[string]json.RawMessage, error) {
	msg, err := jws.Parse([]byte(compact), jws.WithCompact())
	if err != nil {
		return nil, err
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(msg.Payload(), &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// regClaimsOf returns the named members of a JSON object that are present.
func regClaimsOf(payload []byte, names ...string) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(payload, &all); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, n := range names {
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

// hasIDTokenEncryptionKey reports whether keys hold a key id_tokens can be
// encrypted to, by the rule the id_token code applies (encryptionKey).
func hasIDTokenEncryptionKey(keys jwk.Set) bool {
	_, err := encryptionKey(keys)
	return err == nil
}

// regDedupe returns s without repeated values, in first-seen order.
func regDedupe(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
