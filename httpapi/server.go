// Package httpapi serves obank's OBIE v3.1 resource APIs over HTTP: thin
// handlers, the OBIE wire structs and their converters, one error mapping
// (error.go), and the middleware every API shares: FAPI headers, bearer
// authentication, content negotiation, an access log and asynchronous
// API-call recording.
//
// A handler reads: decode → validate → one ais.Service call → encode. It
// returns an error instead of writing one; s.handle maps it.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/ais"
	"github.com/obank/obank/events"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// Config configures a Server. Store is required; everything else has a
// default.
type Config struct {
	Store ob.Store
	// PublicURL is the scheme and host TPPs use to reach the server, such
	// as "https://obank.example"; Links in responses are absolute against
	// it. Empty means "http://" + the request's Host.
	PublicURL string
	// PageSize is the number of rows per page of every collection
	// (default 100; OBIE suggests 25 to 1000).
	PageSize int
	// Logger receives the access log and internal errors (default
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock used to judge token and grant expiry (default
	// time.Now).
	Now func() time.Time
	// MaxBodyBytes bounds request bodies (default 1 MiB). A larger body is
	// answered 400 UK.OBIE.Field.Invalid (OBIE lists no 413).
	MaxBodyBytes int64
	// RecordBuffer, RecordBatch and RecordInterval tune the asynchronous
	// API-call recorder: at most RecordBuffer calls wait in memory (more
	// are dropped and counted), and they are written RecordBatch at a time
	// or every RecordInterval, whichever comes first (defaults 8192, 256,
	// 1 s).
	RecordBuffer   int
	RecordBatch    int
	RecordInterval time.Duration
	// Consents serves the account-access-consents endpoints (default:
	// Store, when it implements ob.ConsentStore; without one the
	// endpoints answer 500).
	Consents ob.ConsentStore
	// ConsentEvents, when set, is told about consent changes the API makes
	// (see consents.go); the events package implements it.
	ConsentEvents ConsentEvents
	// Events serves the events API (event subscriptions and polling,
	// events.go); nil leaves it unrouted.
	Events *events.Service
	// Payments serves the payment-initiation (pis.go) and
	// confirmation-of-funds (cbpii.go) APIs; nil leaves them unrouted.
	Payments *payments.Service
	// ClientKeys returns a registered TPP and its public signing keys, to
	// verify the x-jws-signature of payment requests (authz.Server.ClientKeys
	// implements it). Without it every signed request is 400
	// UK.OBIE.Signature.Invalid.
	ClientKeys func(ctx context.Context, clientID string) (oauth.Client, jwk.Set, error)
	// ResponseSigner signs payment-initiation responses (x-jws-signature)
	// with the bank's key; SigningIssuer is the signature's iss (the bank's
	// organisation id) and SigningTrustAnchor its tan (jws.TrustAnchorOB
	// when empty). Without a signer, or an issuer, those responses are 500.
	ResponseSigner     jws.Signer
	SigningIssuer      string
	SigningTrustAnchor string
}

// Defaults.
const (
	DefaultPageSize     = 100
	DefaultMaxBodyBytes = 1 << 20
)

// Server is the HTTP face of obank's resource APIs.
type Server struct {
	store     ob.Store
	ais       *ais.Service
	log       *slog.Logger
	now       func() time.Time
	publicURL string
	pageSize  int
	maxBody   int64
	mux       *http.ServeMux
	handler   http.Handler
	rec       *recorder
	consents  consentDeps
	events    *events.Service
	// Payment APIs (pis.go, cbpii.go, signing.go).
	payments           *payments.Service
	clientKeys         func(ctx context.Context, clientID string) (oauth.Client, jwk.Set, error)
	signer             jws.Signer
	signingIssuer      string
	signingTrustAnchor string
}

// NewServer builds a server and starts its call recorder; Close stops it.
func NewServer(cfg Config) *Server {
	s := &Server{
		store:     cfg.Store,
		log:       cfg.Logger,
		now:       cfg.Now,
		publicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
		pageSize:  cfg.PageSize,
		maxBody:   cfg.MaxBodyBytes,
		mux:       http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pageSize <= 0 {
		s.pageSize = DefaultPageSize
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.ais = &ais.Service{Store: cfg.Store, Now: s.now}
	s.consents = newConsentDeps(cfg)
	s.events = cfg.Events
	s.payments = cfg.Payments
	s.clientKeys = cfg.ClientKeys
	s.signer = cfg.ResponseSigner
	s.signingIssuer = cfg.SigningIssuer
	s.signingTrustAnchor = cfg.SigningTrustAnchor
	s.rec = newRecorder(cfg.Store, s.log, cfg.RecordBuffer, cfg.RecordBatch, cfg.RecordInterval)
	s.routes()
	s.handler = s.front(s.mux)
	return s
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close flushes the API calls still buffered and stops the recorder. Call
// it after the HTTP server has shut down.
func (s *Server) Close() error { return s.rec.Close() }

// DroppedCalls reports how many API-call records were dropped because the
// recorder's buffer was full.
func (s *Server) DroppedCalls() int64 { return s.rec.Dropped() }

// handlerFunc is an HTTP handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route describes how one pattern is served.
type route struct {
	// api marks a resource-API route: it is recorded as an ob.APICall.
	api bool
	// auth requires a bearer token (and, through s.grant, an AIS grant).
	auth bool
	// produces lists the media types the route answers in; the Accept
	// header must allow one of them (406 otherwise).
	produces []string
	// consumes lists the request content types a POST/PUT/PATCH body may
	// have (415 otherwise). Later APIs add application/jose+jwe or
	// application/jwt where the spec allows them.
	consumes []string
}

var (
	apiRoute = route{api: true, auth: true, produces: []string{"application/json"}, consumes: []string{"application/json"}}
	// opsRoute is for health checks: no auth, any Accept.
	opsRoute = route{}
)

// handle wraps h once: route checks (Accept, Content-Type, auth) run first,
// and any error, from them or from h, goes through writeError.
func (s *Server) handle(rt route, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		st.api = rt.api
		err := s.checkRoute(r, rt)
		if err == nil && rt.auth {
			err = s.authenticate(r, st)
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// checkRoute applies the route's content negotiation.
func (s *Server) checkRoute(r *http.Request, rt route) error {
	if len(rt.produces) > 0 && !acceptable(r.Header.Values("Accept"), rt.produces) {
		return ob.Errorf(ob.CodeNotAcceptable, "cannot produce any media type in Accept")
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if !contentTypeAllowed(r.Header.Get("Content-Type"), rt.consumes) {
			return ob.Errorf(ob.CodeUnsupportedMediaType, "unsupported Content-Type")
		}
	}
	return nil
}

// reqState is what the middleware learns about a request, shared by
// pointer through the context so outer layers see what inner ones found.
type reqState struct {
	interactionID string
	clientID      string
	grantID       string
	grant         *ob.AccessGrant
	token         ob.AccessToken
	api           bool
	err           error // the error answered, for the access log
}

type stateKey struct{}

// stateOf returns the request's state; requests that did not pass through
// s.front (direct handler tests) get a fresh one.
func stateOf(r *http.Request) *reqState {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st
	}
	return &reqState{}
}

func withState(r *http.Request, st *reqState) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
}

// routeOf returns the matched route template without its method, or "-"
// for requests that matched no route. Never the raw path: ids in paths
// would make logs and metrics unbounded.
func routeOf(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return "-"
	}
	if _, path, ok := strings.Cut(p, " "); ok {
		return path
	}
	return p
}

// linkBase returns the absolute base for Links.
func (s *Server) linkBase(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return "http://" + r.Host
}
