// Package web is the customer's side of the bank: the pages a person sees
// when a TPP sends them to authorise a consent (login, a second factor,
// the consent decision) and the consent dashboard where they review and
// revoke what they granted.
//
// The pages are server-rendered html/template with one embedded stylesheet
// and no script: they work without JavaScript and load nothing from
// elsewhere. Sessions live in the store (several instances serve one
// customer); the browser holds only a random id in an HttpOnly, SameSite=Lax
// cookie. Every form carries the session's CSRF token, every response the
// security headers (CSP, frame denial, no-store).
//
//	authorize → Journey.Begin → /login → /login/totp → /consent → Finisher.Finish → TPP
//	/consents (dashboard) → /login → /login/totp → /consents → revoke
//
// File map: web.go (this: config, routes, Begin), session.go (cookies,
// sessions, CSRF, headers, rendering), login.go (password and TOTP),
// consent.go (the decision page of every kind, account access's own),
// payment.go (payment and funds-confirmation consents, with the fraud
// score's step-up), dashboard.go, describe.go and describe_payment.go
// (plain-English permissions, account labels, amounts, frequencies),
// webstore/ (the records and their store interface).
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/obank/obank/authz"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// Store is what the pages read and write: their own records, customers and
// accounts, consents and their grants, and the authorization server's
// clients and sessions. *sqlstore.Store implements it.
type Store interface {
	webstore.Store
	Customer(ctx context.Context, id string) (ob.Customer, error)
	CustomerByUsername(ctx context.Context, username string) (ob.Customer, error)
	AccountsByCustomer(ctx context.Context, customerID string) ([]ob.Account, error)
	Consent(ctx context.Context, id string) (ob.Consent, error)
	UpdateConsent(ctx context.Context, id string, now time.Time, change func(c *ob.Consent) error) (ob.Consent, error)
	// UpdateConsentNotifying and RevokeGrantNotifying write the events
	// reporting a revocation in its transaction.
	UpdateConsentNotifying(ctx context.Context, id string, now time.Time, change func(c *ob.Consent) error,
		notes []ob.EventNotification) (ob.Consent, error)
	RevokeGrantNotifying(ctx context.Context, id string, at time.Time, notes []ob.EventNotification) error
	ConsentsByCustomer(ctx context.Context, customerID string) ([]ob.Consent, error)
	AccessGrant(ctx context.Context, id string) (ob.AccessGrant, error)
	RevokeGrant(ctx context.Context, id string, at time.Time) error
	Client(ctx context.Context, id string) (oauth.Client, error)
	AuthSession(ctx context.Context, id string) (oauth.AuthSession, error)
}

// Events builds what TPPs must hear of what customers do (OBIE event
// notifications); the pages write the events in the transaction of the
// change. The events package implements it.
type Events interface {
	// ConsentAuthorizationRevokedEvents returns the outbox rows reporting
	// that the customer revoked consent c's access at the bank (none for a
	// TPP that did not subscribe).
	ConsentAuthorizationRevokedEvents(ctx context.Context, c ob.Consent) ([]ob.EventNotification, error)
}

// Config configures the customer's pages. Store is required; Finisher is
// required unless set later with SetFinisher (the authorization server
// that is the Finisher needs the Journey first).
type Config struct {
	Store    Store
	Finisher authz.Finisher
	// Events, when set, hears of revocations at the dashboard.
	Events Events
	// Payments authorises payment and funds-confirmation consents; when
	// nil, those are denied ("payments are not available").
	Payments PaymentConsents
	// DemoMode shows the current TOTP code on the second-factor page so a
	// person trying the demo bank can sign in.
	DemoMode bool
	// SessionTTL is the idle timeout of a page session (default 10 min).
	SessionTTL time.Duration
	// Secure marks the session cookie Secure (and names it with the
	// __Host- prefix): set it whenever the pages are served over https.
	Secure bool
	// MaxLoginFailures failures, each within webstore.LoginFailureWindow
	// of the one before, lock a username for LockDuration (defaults 5 and
	// 15 min).
	MaxLoginFailures int
	LockDuration     time.Duration
	Logger           *slog.Logger
	Now              func() time.Time
}

// Paths of the pages.
const (
	PathLogin     = "/login"
	PathTOTP      = "/login/totp"
	PathConsent   = "/consent"
	PathDashboard = "/consents"
	PathLogout    = "/logout"
	PathCSS       = "/static/obank.css"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/obank.css
var stylesheet []byte

// Journey is the customer's journey through the pages; it implements
// authz.Journey.
type Journey struct {
	cfg      Config
	store    Store
	log      *slog.Logger
	now      func() time.Time
	finisher atomic.Pointer[authz.Finisher]
	pages    map[string]*template.Template
	// dummyHash is compared against when the username is unknown, so an
	// unknown user costs about as much time as a wrong password.
	dummyHash []byte
}

var _ authz.Journey = (*Journey)(nil)

// NewJourney returns the journey with defaults filled in.
func NewJourney(cfg Config) (*Journey, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: Config.Store is required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 10 * time.Minute
	}
	if cfg.MaxLoginFailures <= 0 {
		cfg.MaxLoginFailures = 5
	}
	if cfg.LockDuration <= 0 {
		cfg.LockDuration = 15 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	// The demo's hashes use bcrypt's minimum cost (demo/bcrypt.go), real
	// imports the default; match what the bank holds.
	cost := bcrypt.DefaultCost
	if cfg.DemoMode {
		cost = bcrypt.MinCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(randomToken()), cost)
	if err != nil {
		return nil, err
	}
	j := &Journey{cfg: cfg, store: cfg.Store, log: cfg.Logger, now: cfg.Now, pages: pages, dummyHash: dummy}
	if cfg.Finisher != nil {
		j.SetFinisher(cfg.Finisher)
	}
	return j, nil
}

// SetFinisher sets the authorization server that ends sessions; call it
// before serving when Config.Finisher was nil.
func (j *Journey) SetFinisher(f authz.Finisher) { j.finisher.Store(&f) }

// parsePages parses each page with the shared layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(template.FuncMap{}).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "totp", "consent", "payment_consent", "funds_consent", "dashboard", "message"} {
		files := []string{"templates/" + name + ".html"}
		if name == "payment_consent" || name == "funds_consent" {
			files = append(files, "templates/debtor.html")
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, files...)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// Routes registers the pages on mux (the plain listener's).
func (j *Journey) Routes(mux *http.ServeMux) {
	mux.Handle("GET "+PathLogin, j.handle(j.loginPage))
	mux.Handle("POST "+PathLogin, j.handle(j.login))
	mux.Handle("GET "+PathTOTP, j.handle(j.totpPage))
	mux.Handle("POST "+PathTOTP, j.handle(j.totp))
	mux.Handle("GET "+PathConsent, j.handle(j.consentPage))
	mux.Handle("POST "+PathConsent, j.handle(j.decide))
	mux.Handle("GET "+PathDashboard, j.handle(j.dashboard))
	mux.Handle("POST "+PathDashboard+"/{ConsentId}/revoke", j.handle(j.revoke))
	mux.Handle("POST "+PathLogout, j.handle(j.logout))
	mux.HandleFunc("GET "+PathCSS, j.css)
}

// Begin implements authz.Journey: it opens a page session bound to the
// authorization session and sends the browser to the login page.
func (j *Journey) Begin(w http.ResponseWriter, r *http.Request, s oauth.AuthSession, f authz.Finisher) error {
	if j.finisher.Load() == nil {
		j.SetFinisher(f)
	}
	if _, err := j.store.PurgeWebSessions(r.Context(), j.now()); err != nil {
		// Only housekeeping; the journey goes on.
		j.log.WarnContext(r.Context(), "purge web sessions", "err", err)
	}
	if _, err := j.newSession(w, r, webstore.PurposeAuthorize, s.ID); err != nil {
		return err
	}
	securityHeaders(w, "")
	http.Redirect(w, r, PathLogin, http.StatusFound)
	return nil
}

// finish ends the authorization session through the Finisher, which writes
// the redirect to the TPP.
func (j *Journey) finish(w http.ResponseWriter, r *http.Request, authSessionID string, o oauth.Outcome) error {
	f := j.finisher.Load()
	if f == nil {
		return errors.New("web: no Finisher configured")
	}
	if err := (*f).Finish(w, r, authSessionID, o); err != nil {
		// Finish answered the browser already (access_denied on a Deny
		// is an error too); the error is for the log.
		j.log.InfoContext(r.Context(), "authorization session ended without a code", "err", err)
	}
	return nil
}

// css serves the stylesheet.
func (j *Journey) css(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w, "")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(stylesheet)
}
