package web_test

// The test harness: the whole stack on loopback, as `obank serve` wires it
// — a SQLite store seeded with a small demo bank, the authorization server
// with this package's Journey on a plain listener, the resource APIs and
// the token endpoint on a mutual-TLS listener, a sandbox TPP registered
// with a loopback redirect URI served by the test, and a settable clock.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/authz"
	"github.com/obank/obank/client"
	"github.com/obank/obank/demo"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/internal/totp"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
	"github.com/obank/obank/sandbox"
	"github.com/obank/obank/sqlite"
	"github.com/obank/obank/web"
	"github.com/obank/obank/web/webstore"
)

// fullStore is everything the stack needs of the store.
type fullStore interface {
	ob.Store
	authz.Store
	web.Store
}

// The SQL store is what serve gives the pages and the payment service.
var (
	_ web.Store      = (*sqlstore.Store)(nil)
	_ payments.Store = (*sqlstore.Store)(nil)
)

// testClock is a settable clock shared by every part of the stack. It
// starts at the real time (certificates must be valid).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// shared is made once per test binary: generating a sandbox directory, RSA
// keys and a demo bank is the slow part of a stack.
var shared struct {
	once     sync.Once
	err      error
	dir      string // sandbox directory files, copied per stack
	bank     *ob.BankData
	logins   []demo.Login
	tppKeys  [2]*rsa.PrivateKey
	tppDir   *sandbox.Directory
	serverKy *rsa.PrivateKey
}

func setupShared(tb testing.TB) {
	tb.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "web-sandbox-")
		if shared.err != nil {
			return
		}
		if shared.tppDir, shared.err = sandbox.Ensure(shared.dir, sandbox.Options{}); shared.err != nil {
			return
		}
		for i := range shared.tppKeys {
			if shared.tppKeys[i], shared.err = pki.NewRSAKey(2048); shared.err != nil {
				return
			}
		}
		if shared.serverKy, shared.err = pki.NewRSAKey(2048); shared.err != nil {
			return
		}
		shared.bank, shared.logins, shared.err = demo.Generate(demo.Config{Customers: 4, Years: 1})
	})
	if shared.err != nil {
		tb.Fatalf("test setup: %v", shared.err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// stack is a running bank.
type stack struct {
	t       testing.TB
	clock   *testClock
	store   fullStore
	journey *web.Journey
	as      *authz.Server
	public  *httptest.Server
	mtls    *httptest.Server
	// The TPP: its bundle, registered client, mTLS HTTP client and the
	// loopback server behind its redirect URI.
	tpp      *sandbox.TPPBundle
	client   oauth.Client
	tppHTTP  *http.Client
	callback *httptest.Server
	events   *recordingEvents
	// The customer the tests log in as: a demo customer with at least
	// three accounts; other is another customer's account.
	login    demo.Login
	accounts []string
	other    string
}

// stackOption changes the journey's configuration.
type stackOption func(*web.Config)

func newStack(tb testing.TB, opts ...stackOption) *stack {
	tb.Helper()
	setupShared(tb)
	st := &stack{t: tb, clock: &testClock{t: time.Now().UTC().Truncate(time.Second)}, events: &recordingEvents{}}
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "obank.db"), sqlite.Options{Now: st.clock.Now})
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	var fs fullStore = s
	st.store = fs
	st.events.store = s
	if err := fs.Import(context.Background(), shared.bank); err != nil {
		tb.Fatalf("Import: %v", err)
	}
	// As serve does: every account gets its opening entry in the ledger,
	// which payments read and post to.
	if _, err := ledger.Open(context.Background(), s, st.clock.Now()); err != nil {
		tb.Fatalf("ledger.Open: %v", err)
	}
	st.pickCustomer()

	secret := make([]byte, 32)
	rand.Read(secret)
	sealer, err := keystore.New(secret)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := authz.NewKeyManager(authz.KeyConfig{
		Store: fs, Sealer: sealer, Issue: authz.SandboxIssuer(shared.tppDir.CA(), "web test authorization server"),
		Now: st.clock.Now, GenerateKey: func() (*rsa.PrivateKey, error) { return shared.serverKy, nil },
	})
	if err != nil {
		tb.Fatal(err)
	}

	pubMux, mtlsMux := http.NewServeMux(), http.NewServeMux()
	st.public = httptest.NewServer(pubMux)
	tb.Cleanup(st.public.Close)
	st.mtls = httptest.NewUnstartedServer(mtlsMux)
	st.mtls.TLS = pki.ServerTLSConfig(shared.tppDir.ServerCertificate(), shared.tppDir.CAPool(), false)
	st.mtls.StartTLS()
	tb.Cleanup(st.mtls.Close)
	st.callback = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!DOCTYPE html><html lang="en"><title>TPP</title><h1>Back at the TPP</h1></html>`)
	}))
	tb.Cleanup(st.callback.Close)

	logger := testLogger()
	cfg := web.Config{Store: fs, Events: st.events, DemoMode: true, Logger: logger, Now: st.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	st.journey, err = web.NewJourney(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	st.as = authz.NewServer(authz.Config{
		Store: fs, Keys: keys, Issuer: st.public.URL, MTLSBaseURL: st.mtls.URL,
		DirectoryKeys: shared.tppDir.PublicJWKS(), Journey: st.journey,
		Secret: []byte("web test refresh derivation secret, 32+ bytes"), AllowInsecureRedirects: true,
		Logger: logger, Now: st.clock.Now,
	})
	st.journey.SetFinisher(st.as)
	api := httpapi.NewServer(httpapi.Config{Store: fs, PublicURL: st.mtls.URL, Logger: logger, Now: st.clock.Now,
		RecordInterval: 10 * time.Millisecond})
	tb.Cleanup(func() { api.Close() })
	st.as.Public(pubMux)
	st.journey.Routes(pubMux)
	st.as.MTLS(mtlsMux)
	mtlsMux.Handle("/", api.Handler())

	st.registerTPP()
	return st
}

// pickCustomer chooses the first demo customer with three or more open
// accounts, and another customer's account.
func (st *stack) pickCustomer() {
	ctx := context.Background()
	for _, l := range shared.logins {
		accs, err := st.store.AccountsByCustomer(ctx, l.CustomerID)
		if err != nil {
			st.t.Fatal(err)
		}
		var open []string
		for _, a := range accs {
			if a.Status == "Enabled" {
				open = append(open, a.ID)
			}
		}
		if len(open) >= 3 && st.login.CustomerID == "" {
			st.login, st.accounts = l, open
		} else if len(open) > 0 && st.other == "" {
			st.other = open[0]
		}
	}
	if st.login.CustomerID == "" || st.other == "" {
		st.t.Fatal("the demo bank has no customer with three open accounts and another with one")
	}
}

// registerTPP issues a sandbox TPP and registers it directly in the store
// (as DCR would), with the test's loopback redirect URI.
func (st *stack) registerTPP() {
	b, err := shared.tppDir.IssueTPP(sandbox.TPPRequest{
		Name: "Budget Buddy", RedirectURIs: []string{"https://tpp.example/cb"},
		Roles:   []string{sandbox.RoleAISP, sandbox.RolePISP, sandbox.RoleCBPII},
		LogoURI: "https://tpp.example/logo.png", TransportKey: shared.tppKeys[0], SigningKey: shared.tppKeys[1],
	})
	if err != nil {
		st.t.Fatalf("IssueTPP: %v", err)
	}
	jwks, err := json.Marshal(b.SigningJWKS)
	if err != nil {
		st.t.Fatal(err)
	}
	now := st.clock.Now()
	st.tpp = b
	st.client = oauth.Client{
		ID: uuid.NewString(), SoftwareID: b.SoftwareID, OrgID: b.OrgID, OrgName: b.OrgName, Name: b.ClientName,
		Roles: b.Roles, RedirectURIs: []string{st.callback.URL + "/cb"}, Scopes: oauth.ScopesForRoles(b.Roles),
		GrantTypes:    []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
		ResponseTypes: []string{"code id_token", "code"}, ApplicationType: "web",
		TokenEndpointAuthMethod: oauth.AuthPrivateKeyJWT, TokenEndpointAuthSigningAlg: "PS256", JWKS: jwks,
		IDTokenSignedResponseAlg: "PS256", RequestObjectSigningAlg: "PS256", SoftwareStatement: b.SSA,
		LogoURI: "https://tpp.example/logo.png", CreatedAt: now, UpdatedAt: now,
	}
	if err := st.store.CreateClient(context.Background(), st.client); err != nil {
		st.t.Fatalf("CreateClient: %v", err)
	}
	tr := &http.Transport{TLSClientConfig: b.ClientTLSConfig()}
	st.t.Cleanup(tr.CloseIdleConnections)
	st.tppHTTP = &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// tppToken posts a token request with the TPP's client assertion.
func (st *stack) tppToken(form url.Values) (int, map[string]any) {
	st.t.Helper()
	a, err := client.ClientAssertion(st.tpp, st.client.ID, st.mtls.URL+authz.PathToken, st.clock.Now())
	if err != nil {
		st.t.Fatal(err)
	}
	form.Set("client_id", st.client.ID)
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", a)
	resp, err := st.tppHTTP.PostForm(st.mtls.URL+authz.PathToken, form)
	if err != nil {
		st.t.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// ccToken obtains a client-credentials token with scope accounts.
func (st *stack) ccToken() string {
	st.t.Helper()
	status, body := st.tppToken(url.Values{"grant_type": {"client_credentials"}, "scope": {"accounts"}})
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		st.t.Fatalf("client_credentials: %d %v", status, body)
	}
	return tok
}

// api calls a resource API as the TPP and returns the status and body.
func (st *stack) api(method, path, bearer, body string) (int, map[string]any) {
	st.t.Helper()
	req, err := http.NewRequest(method, st.mtls.URL+"/open-banking/v3.1/aisp"+path, strings.NewReader(body))
	if err != nil {
		st.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := st.tppHTTP.Do(req)
	if err != nil {
		st.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// createConsent creates an account-access consent through the API, as the
// TPP does, and returns its id.
func (st *stack) createConsent() string {
	st.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"Data": map[string]any{
			"Permissions": []ob.Permission{ob.ReadAccountsDetail, ob.ReadBalances, ob.ReadTransactionsDetail,
				ob.ReadTransactionsCredits, ob.ReadTransactionsDebits},
			"ExpirationDateTime":      st.clock.Now().Add(90 * 24 * time.Hour).Format(time.RFC3339),
			"TransactionFromDateTime": st.clock.Now().AddDate(-1, 0, 0).Format(time.RFC3339),
		},
		"Risk": map[string]any{},
	})
	status, out := st.api(http.MethodPost, "/account-access-consents", st.ccToken(), string(body))
	data, _ := out["Data"].(map[string]any)
	id, _ := data["ConsentId"].(string)
	if status != http.StatusCreated || id == "" {
		st.t.Fatalf("POST /account-access-consents: %d %v", status, out)
	}
	return id
}

// authorizeURL returns the FAPI 1 hybrid authorization URL for
// account-access consent consentID, with a request object signed by the
// TPP, and its state.
func (st *stack) authorizeURL(consentID string) (string, string) {
	st.t.Helper()
	return st.authorizeURLScope(consentID, oauth.ScopeAccounts)
}

// authorizeURLScope is authorizeURL for a consent of scope (accounts,
// payments, fundsconfirmations).
func (st *stack) authorizeURLScope(consentID, scope string) (string, string) {
	st.t.Helper()
	now := st.clock.Now()
	state := "st-" + uuid.NewString()
	claims := map[string]any{
		"iss": st.client.ID, "aud": st.public.URL, "client_id": st.client.ID, "jti": uuid.NewString(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"response_type": "code id_token", "redirect_uri": st.client.RedirectURIs[0], "scope": "openid " + scope,
		"state": state, "nonce": "n-" + uuid.NewString(),
		"claims": map[string]any{"id_token": map[string]any{
			"openbanking_intent_id": map[string]any{"value": consentID, "essential": true},
			"acr":                   map[string]any{"essential": true, "values": []string{oauth.ACRSCA}},
		}},
	}
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, st.tpp.SigningKeyID)
	hdr.Set(jws.TypeKey, "oauth-authz-req+jwt")
	ro, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), st.tpp.SigningKey, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		st.t.Fatal(err)
	}
	q := url.Values{"client_id": {st.client.ID}, "response_type": {"code id_token"}, "scope": {"openid " + scope},
		"request": {string(ro)}}
	return st.public.URL + authz.PathAuthorize + "?" + q.Encode(), state
}

// exchange redeems an authorization code and returns the access token.
func (st *stack) exchange(code string) string {
	st.t.Helper()
	status, body := st.tppToken(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {st.client.RedirectURIs[0]}})
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		st.t.Fatalf("authorization_code exchange: %d %v", status, body)
	}
	return tok
}

// accountIDs lists the AccountIds GET /accounts returns to token.
func (st *stack) accountIDs(token string) (int, []string) {
	st.t.Helper()
	status, out := st.api(http.MethodGet, "/accounts", token, "")
	var ids []string
	if data, ok := out["Data"].(map[string]any); ok {
		accs, _ := data["Account"].([]any)
		for _, a := range accs {
			m, _ := a.(map[string]any)
			id, _ := m["AccountId"].(string)
			ids = append(ids, id)
		}
	}
	return status, ids
}

// totpCode is the customer's current code at the stack's clock.
func (st *stack) totpCode() string {
	st.t.Helper()
	key, err := totp.DecodeSecret(st.login.TOTPSecret)
	if err != nil {
		st.t.Fatal(err)
	}
	return totp.At(key, st.clock.Now())
}

// audit returns the customer's audit events.
func (st *stack) audit() []webstore.AuditEvent {
	st.t.Helper()
	es, err := st.store.AuditEvents(context.Background(), st.login.CustomerID)
	if err != nil {
		st.t.Fatal(err)
	}
	return es
}

// recordingEvents makes one outbox row per revocation the dashboard reports
// (jti "revoked-<consent id>"); list returns the consents whose row the
// dashboard committed with the revocation.
type recordingEvents struct {
	mu    sync.Mutex
	store interface {
		Notification(context.Context, string) (ob.EventNotification, error)
	}
	revoked []string
}

func (e *recordingEvents) ConsentAuthorizationRevokedEvents(_ context.Context, c ob.Consent) ([]ob.EventNotification, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.revoked = append(e.revoked, c.ID)
	now := time.Now().UTC()
	return []ob.EventNotification{{JTI: "revoked-" + c.ID, TPPID: c.TPPID, EventType: "consent-authorization-revoked",
		Claims: []byte(`{}`), Status: "polling", NextAttemptAt: now, CreatedAt: now}}, nil
}

func (e *recordingEvents) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, id := range e.revoked {
		if _, err := e.store.Notification(context.Background(), "revoked-"+id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// testLogger discards logs unless the tests run with -v.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// browserClient is a cookie-keeping HTTP client that does not follow
// redirects, so each hop can be inspected.
type browserClient struct {
	t    testing.TB
	st   *stack
	http *http.Client
}

func (st *stack) browser() *browserClient {
	jar, _ := cookiejar.New(nil)
	return &browserClient{t: st.t, st: st, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// result is a response read in full.
type result struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// csrf returns the CSRF token of the page's forms.
func (r result) csrf() string {
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(r.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (b *browserClient) do(req *http.Request) result {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return result{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

// get fetches a path of the public listener (or an absolute URL).
func (b *browserClient) get(target string) result {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.st.public.URL + target
	}
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	return b.do(req)
}

// post submits a form to a path of the public listener.
func (b *browserClient) post(path string, form url.Values) result {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.st.public.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// want fails unless r has the status (and, for redirects, the location
// prefix).
func (r result) want(tb testing.TB, what string, status int, location string) result {
	tb.Helper()
	if r.Status != status || !strings.HasPrefix(r.Location, location) {
		tb.Fatalf("%s = %d (Location %q), want %d (Location %q...)\n%s", what, r.Status, r.Location, status, location, r.Body)
	}
	return r
}

// startAuthorize creates a consent and follows the authorize redirect to
// the login page.
func (st *stack) startAuthorize(b *browserClient) (consentID string, login result) {
	st.t.Helper()
	consentID = st.createConsent()
	u, _ := st.authorizeURL(consentID)
	b.get(u).want(st.t, "GET /authorize", http.StatusFound, web.PathLogin)
	login = b.get(web.PathLogin).want(st.t, "GET /login", http.StatusOK, "")
	return consentID, login
}

// signIn logs in with the password and the current code and returns the
// page after the second factor's redirect.
func (st *stack) signIn(b *browserClient, login result) result {
	st.t.Helper()
	b.post(web.PathLogin, url.Values{"csrf": {login.csrf()}, "username": {st.login.Username},
		"password": {st.login.Password}}).want(st.t, "POST /login", http.StatusSeeOther, web.PathTOTP)
	page := b.get(web.PathTOTP).want(st.t, "GET /login/totp", http.StatusOK, "")
	r := b.post(web.PathTOTP, url.Values{"csrf": {page.csrf()}, "code": {st.totpCode()}})
	if r.Status != http.StatusSeeOther {
		st.t.Fatalf("POST /login/totp = %d, want 303\n%s", r.Status, r.Body)
	}
	return b.get(r.Location).want(st.t, "GET "+r.Location, http.StatusOK, "")
}

// redirectParams splits the TPP redirect's fragment (hybrid) or query.
func redirectParams(tb testing.TB, location string) url.Values {
	tb.Helper()
	u, err := url.Parse(location)
	if err != nil {
		tb.Fatal(err)
	}
	if u.Fragment != "" {
		v, err := url.ParseQuery(u.Fragment)
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
	return u.Query()
}

// withPaymentService gives the journey the real payment service over the
// stack's store, scoring with rc.
func withPaymentService(tb testing.TB, rc risk.Config, svc **payments.Service) stackOption {
	return func(c *web.Config) {
		tb.Helper()
		engine, err := risk.New(rc)
		if err != nil {
			tb.Fatal(err)
		}
		s, err := payments.NewService(payments.Config{Store: c.Store.(payments.Store), Risk: engine, Now: c.Now, Logger: c.Logger})
		if err != nil {
			tb.Fatal(err)
		}
		*svc, c.Payments = s, s
	}
}
