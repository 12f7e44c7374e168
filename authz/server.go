// Package authz is obank's OAuth 2.0 / OpenID Connect authorization server,
// FAPI-shaped: discovery and JWKS, dynamic client registration with software
// statements, client authentication by certificate (tls_client_auth) or
// signed assertion (private_key_jwt), the client-credentials, authorization
// code (PKCE S256) and refresh-token grants, FAPI 1 Advanced hybrid requests
// with signed request objects and FAPI 2 style pushed requests, certificate
// bound opaque access tokens (RFC 8705), PS256 id_tokens (optionally
// encrypted), revocation and introspection.
//
// Endpoints are split over the two listeners: discovery, JWKS and the
// authorize endpoint on the plain one (Public), everything a TPP calls with
// its certificate on the mutual-TLS one (MTLS).
//
// File map: server.go (this: config, routes, shared helpers), keys.go
// (signing keys), discovery.go, clientauth.go, token.go, revoke.go
// (revocation and introspection), authorize.go, par.go, requestobject.go,
// idtoken.go, journey.go (the hand-over to the customer's journey),
// register.go (DCR).
package authz

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/events"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// Store is what the authorization server keeps: its own records and the
// access grants (consents) tokens are bound to.
type Store interface {
	oauth.Store
	ob.GrantStore
	// ConsentStore: the authorize and PAR endpoints check the consent
	// named by openbanking_intent_id.
	ob.ConsentStore
}

// Config configures the authorization server. Store, Keys, Issuer and
// MTLSBaseURL are required.
type Config struct {
	Store Store
	// Keys signs id_tokens and holds the published JWKS.
	Keys *KeyManager
	// Issuer is the issuer identifier and the base URL of the public
	// listener (discovery, JWKS, authorize), e.g. https://bank.example.
	Issuer string
	// MTLSBaseURL is the base URL of the mutual-TLS listener (token, PAR,
	// revocation, introspection, registration, resource APIs), advertised
	// in mtls_endpoint_aliases.
	MTLSBaseURL string
	// DirectoryKeys are the public keys of the software-statement issuers
	// (directories) the bank trusts.
	DirectoryKeys jwk.Set
	// OrgID is the bank's own organisation id at the directory (an OB
	// Directory id matches ^[0-9a-zA-Z]{1,18}$). Registration requests may
	// name it as their aud instead of the issuer URL; empty accepts only
	// the URLs.
	OrgID string
	// Journey takes the customer through login, SCA and consent; the
	// consent issue provides the real one. AutoApprove is a test double.
	Journey Journey
	// Secret keys the derivation of rotated refresh-token pairs (so a
	// retried refresh within RefreshGrace gets the same pair without the
	// server storing tokens in clear). All instances must share it.
	Secret []byte
	// PreviousSecrets are the secrets Secret replaces, while it is being
	// rotated: a retry of a refresh that an instance still on an old secret
	// rotated (or that was rotated just before the switch) is recognised by
	// the pair that secret derived, rather than taken for a replay.
	PreviousSecrets [][]byte
	// RequirePKCE makes PKCE mandatory for every authorization request,
	// including FAPI 1 hybrid ones with a signed request object.
	RequirePKCE bool
	// Lifetimes (defaults: access 1 h, refresh 90 days, code 60 s,
	// session 10 min, PAR request 90 s, id_token 10 min, refresh grace 60 s,
	// client cache 30 s).
	AccessTokenTTL, RefreshTokenTTL, CodeTTL, SessionTTL, PARTTL, IDTokenTTL, RefreshGrace, ClientCacheTTL time.Duration
	// AllowInsecureRedirects accepts http and localhost redirect URIs (tests
	// and demos only).
	AllowInsecureRedirects bool
	Logger                 *slog.Logger
	Now                    func() time.Time
}

// Server is the authorization server.
type Server struct {
	cfg     Config
	store   Store
	keys    *KeyManager
	log     *slog.Logger
	now     func() time.Time
	clients *clientCache
	// clientJWKS caches parsed client key sets (clientauth.go); its zero
	// value is ready.
	clientJWKS jwksCache
	// keyFetch fetches TPP key sets over the network (keyFetchClient).
	keyFetch *http.Client
}

// NewServer returns a server with defaults filled in.
func NewServer(cfg Config) *Server {
	d := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	d(&cfg.AccessTokenTTL, time.Hour)
	d(&cfg.RefreshTokenTTL, 90*24*time.Hour)
	d(&cfg.CodeTTL, 60*time.Second)
	d(&cfg.SessionTTL, 10*time.Minute)
	d(&cfg.PARTTL, 90*time.Second)
	d(&cfg.IDTokenTTL, 10*time.Minute)
	d(&cfg.RefreshGrace, 60*time.Second)
	d(&cfg.ClientCacheTTL, 30*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	cfg.MTLSBaseURL = strings.TrimSuffix(cfg.MTLSBaseURL, "/")
	s := &Server{cfg: cfg, store: cfg.Store, keys: cfg.Keys, log: cfg.Logger, now: cfg.Now}
	s.clients = newClientCache(cfg.Store, cfg.ClientCacheTTL, cfg.Now)
	s.keyFetch = keyFetchClient(cfg.AllowInsecureRedirects)
	s.clientJWKS.client = s.keyFetch
	return s
}

// keyFetchClient fetches TPP key sets (jwks_uri, software_jwks_endpoint):
// URLs a TPP chose, so the same guard as event callbacks applies — public
// addresses only (checked when dialling, after DNS), no proxy, no redirects —
// unless tests or demos allow private ones.
func keyFetchClient(allowPrivate bool) *http.Client {
	return events.NewHTTPClient(events.CallbackPolicy{AllowPrivate: allowPrivate}, nil)
}

// Endpoint paths.
const (
	PathDiscovery     = "/.well-known/openid-configuration"
	PathJWKS          = "/jwks"
	PathAuthorize     = "/authorize"
	PathToken         = "/token"
	PathPAR           = "/par"
	PathRevoke        = "/revoke"
	PathIntrospect    = "/introspect"
	PathRegister      = "/register"
	PathJourneyPrefix = "/journey/"
)

// Public registers the endpoints of the plain listener on mux.
func (s *Server) Public(mux *http.ServeMux) {
	mux.Handle("GET "+PathDiscovery, s.handle(s.discovery))
	mux.Handle("GET "+PathJWKS, s.handle(s.jwks))
	s.authorizeRoutes(mux)
}

// MTLS registers the endpoints of the mutual-TLS listener on mux.
func (s *Server) MTLS(mux *http.ServeMux) {
	mux.Handle("POST "+PathToken, s.handle(s.token))
	mux.Handle("POST "+PathRevoke, s.handle(s.revoke))
	mux.Handle("POST "+PathIntrospect, s.handle(s.introspect))
	s.parRoutes(mux)
	s.registerRoutes(mux)
}

// handlerFunc is an endpoint that returns its error; s.handle renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle renders an endpoint's error in the RFC 6749 JSON shape, logs
// server errors with their cause (never sent) and sets the no-store cache
// headers every OAuth response needs.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		start := s.now()
		err := h(w, r)
		if err != nil {
			s.writeError(w, r, err)
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "oauth request",
			slog.String("method", r.Method), slog.String("route", r.Pattern),
			slog.Duration("latency", s.now().Sub(start)), slog.Any("error", errorCode(err)))
	})
}

func errorCode(err error) any {
	if err == nil {
		return nil
	}
	return oauth.AsError(err).Code
}

// writeError answers err as {"error","error_description"} with its status.
// invalid_client at the token endpoint carries WWW-Authenticate (RFC 6749
// §5.2). A server_error's cause is logged, never sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := oauth.AsError(err)
	if e.Status >= 500 || e.Err != nil {
		s.log.ErrorContext(r.Context(), "oauth error", "route", r.Pattern, "code", e.Code, "err", err)
	}
	body := map[string]string{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	if e.Status >= 500 {
		body = map[string]string{"error": e.Code, "error_description": "internal error"}
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+e.Code+`"`)
	}
	writeJSON(w, e.Status, body)
}

// writeJSON writes v as the JSON response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// endpoint returns the absolute URL of a path on the public listener.
func (s *Server) endpoint(path string) string { return s.cfg.Issuer + path }

// mtlsEndpoint returns the absolute URL of a path on the mTLS listener.
func (s *Server) mtlsEndpoint(path string) string { return s.cfg.MTLSBaseURL + path }

// clientCache is a read-through cache of registered clients, so the token
// path reads a client from the store at most once per TTL. Registration
// changes made by this instance invalidate it at once; those made by
// another instance are seen within the TTL.
type clientCache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time
	// entries is guarded by mu; see cache.go.
	entries cacheMap
}

func newClientCache(store Store, ttl time.Duration, now func() time.Time) *clientCache {
	return &clientCache{store: store, ttl: ttl, now: now, entries: newCacheMap()}
}

// get returns the client with id, from the cache when fresh.
func (c *clientCache) get(ctx context.Context, id string) (oauth.Client, error) {
	if cl, ok := c.entries.get(id, c.now()); ok {
		return cl, nil
	}
	cl, err := c.store.Client(ctx, id)
	if err != nil {
		return oauth.Client{}, err
	}
	c.entries.put(id, cl, c.now().Add(c.ttl))
	return cl, nil
}

// invalidate drops a client after this instance changed it.
func (c *clientCache) invalidate(id string) { c.entries.del(id) }
