package authz

// The shared test harness: a sandbox directory, a SQLite store, a key
// manager and an authz.Server served on a plain listener (Public) and a
// real mutual-TLS listener (MTLS), plus helpers to issue TPPs, register
// them directly in the store and call the endpoints with their
// certificates. Every engineer's tests in this package use it.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/sandbox"
	"github.com/obank/obank/sqlite"
)

// testKeyPool hands out RSA-2048 keys generated once per test binary
// (generation costs ~100 ms each on this machine). It cycles through
// testKeyPoolSize keys, so consecutive draws are distinct: a harness that
// draws fewer than testKeyPoolSize keys never sees one twice.
var testKeyPool struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
	next int
}

const testKeyPoolSize = 12

// testRSAKey returns the next pooled key.
func testRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	p := &testKeyPool
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.next % testKeyPoolSize
	p.next++
	if i < len(p.keys) {
		return p.keys[i]
	}
	k, err := pki.NewRSAKey(2048)
	if err != nil {
		tb.Fatalf("generate RSA key: %v", err)
	}
	p.keys = append(p.keys, k)
	return k
}

// freshRSAKey generates a key outside the pool, for tests that must not
// meet a pooled key anywhere else (e.g. an attacker's key).
func freshRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := pki.NewRSAKey(2048)
	if err != nil {
		tb.Fatalf("generate RSA key: %v", err)
	}
	return k
}

// sandboxFiles is a sandbox directory made once per test binary and kept
// in memory; each harness writes it into its own t.TempDir() and loads it,
// which is fast, instead of generating a CA, server and directory keys.
var sandboxFiles struct {
	once  sync.Once
	files map[string][]byte
	err   error
}

func newSandbox(tb testing.TB) *sandbox.Directory {
	tb.Helper()
	sandboxFiles.once.Do(func() {
		tmp, err := os.MkdirTemp("", "authz-sandbox-")
		if err != nil {
			sandboxFiles.err = err
			return
		}
		defer os.RemoveAll(tmp)
		if _, err := sandbox.Ensure(tmp, sandbox.Options{}); err != nil {
			sandboxFiles.err = err
			return
		}
		entries, err := os.ReadDir(tmp)
		if err != nil {
			sandboxFiles.err = err
			return
		}
		sandboxFiles.files = map[string][]byte{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(tmp, e.Name()))
			if err != nil {
				sandboxFiles.err = err
				return
			}
			sandboxFiles.files[e.Name()] = b
		}
	})
	if sandboxFiles.err != nil {
		tb.Fatalf("sandbox: %v", sandboxFiles.err)
	}
	dir := filepath.Join(tb.TempDir(), "sandbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	for name, b := range sandboxFiles.files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	d, err := sandbox.Ensure(dir, sandbox.Options{})
	if err != nil {
		tb.Fatalf("sandbox.Ensure: %v", err)
	}
	return d
}

// testClock is a settable clock shared by the server, the store and the
// tests: grace windows and expiries are tested by advancing it, never by
// sleeping. It starts at the real time so certificates are valid.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Second)} }

// Now returns the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a running authorization server over real TLS.
type harness struct {
	t      testing.TB
	Dir    *sandbox.Directory
	Store  Store
	Sealer *keystore.Sealer
	Keys   *KeyManager
	Server *Server
	Clock  *testClock
	// Public serves Server.Public (plain HTTP, like behind a proxy); MTLS
	// serves Server.MTLS with the FAPI TLS configuration, verifying
	// client certificates against the sandbox CA.
	Public *httptest.Server
	MTLS   *httptest.Server
	// Secret is the key-encryption secret of Sealer.
	Secret []byte
	// cfg is the configuration Server was built with.
	cfg Config
}

// harnessOption changes the server configuration before it is built.
type harnessOption func(*Config)

// newHarness starts a server with AutoApprove (approving as customer
// "cust-1" with ACR urn:openbanking:psd2:sca) and a SQLite store in
// t.TempDir(). Options adjust the Config.
func newHarness(tb testing.TB, opts ...harnessOption) *harness {
	tb.Helper()
	clock := newTestClock()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "obank.db"), sqlite.Options{Now: clock.Now})
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	// Asserted dynamically so this file compiles while the SQL store of
	// oauth.Store is being written.
	var anyStore any = st
	s, ok := anyStore.(Store)
	if !ok {
		tb.Skip("sqlstore does not implement oauth.Store yet")
	}
	return newHarnessOn(tb, s, clock, opts...)
}

// newHarnessOn is newHarness on a given store and clock (e.g. PostgreSQL
// through pgtest.OpenTestStore).
func newHarnessOn(tb testing.TB, s Store, clock *testClock, opts ...harnessOption) *harness {
	tb.Helper()
	var err error
	h := &harness{t: tb, Clock: clock, Store: s}
	h.Dir = newSandbox(tb)
	h.Secret = make([]byte, 32)
	rand.Read(h.Secret)
	if h.Sealer, err = keystore.New(h.Secret); err != nil {
		tb.Fatal(err)
	}
	h.Keys = h.newKeyManager(h.Sealer)

	// Both listeners start before the server exists, because its
	// configuration needs their URLs.
	pubMux, mtlsMux := http.NewServeMux(), http.NewServeMux()
	h.Public = httptest.NewServer(pubMux)
	tb.Cleanup(h.Public.Close)
	h.MTLS = httptest.NewUnstartedServer(mtlsMux)
	h.MTLS.TLS = pki.ServerTLSConfig(h.Dir.ServerCertificate(), h.Dir.CAPool(), false)
	h.MTLS.StartTLS()
	tb.Cleanup(h.MTLS.Close)

	cfg := Config{
		Store:         s,
		Keys:          h.Keys,
		Issuer:        h.Public.URL,
		MTLSBaseURL:   h.MTLS.URL,
		DirectoryKeys: h.Dir.PublicJWKS(),
		Journey: AutoApprove{Decide: func(oauth.AuthSession) oauth.Outcome {
			return oauth.Outcome{Approved: true, CustomerID: "cust-1", ACR: oauth.ACRSCA, AuthTime: h.Clock.Now()}
		}},
		Secret:                 []byte("test refresh derivation secret, 32+ bytes"),
		AllowInsecureRedirects: true,
		Logger:                 testLogger(tb),
		Now:                    h.Clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h.Server = NewServer(cfg)
	h.Server.Public(pubMux)
	h.Server.MTLS(mtlsMux)
	h.cfg = cfg
	return h
}

// newInstance starts a second server on the same store, clock, sandbox
// and key-encryption secret, as a second `obank serve` behind the same
// hostnames would run: its configuration names the first instance's URLs
// (so assertions, issuer and endpoints agree), while the returned harness
// sends requests to the new instance's own listeners.
func (h *harness) newInstance(opts ...func(*Config)) *harness {
	h.t.Helper()
	h2 := *h
	h2.Keys = h.newKeyManager(h.Sealer)
	pubMux, mtlsMux := http.NewServeMux(), http.NewServeMux()
	h2.Public = httptest.NewServer(pubMux)
	h.t.Cleanup(h2.Public.Close)
	h2.MTLS = httptest.NewUnstartedServer(mtlsMux)
	h2.MTLS.TLS = pki.ServerTLSConfig(h.Dir.ServerCertificate(), h.Dir.CAPool(), false)
	h2.MTLS.StartTLS()
	h.t.Cleanup(h2.MTLS.Close)
	cfg := h.cfg
	cfg.Keys = h2.Keys
	for _, o := range opts {
		o(&cfg)
	}
	h2.cfg = cfg
	h2.Server = NewServer(cfg)
	h2.Server.Public(pubMux)
	h2.Server.MTLS(mtlsMux)
	return &h2
}

// newKeyManager returns a key manager on the harness store, with pooled
// keys and the sandbox CA certifying them.
func (h *harness) newKeyManager(sealer *keystore.Sealer) *KeyManager {
	h.t.Helper()
	km, err := NewKeyManager(KeyConfig{
		Store:       h.Store,
		Sealer:      sealer,
		Issue:       SandboxIssuer(h.Dir.CA(), "obank test authorization server"),
		Now:         h.Clock.Now,
		GenerateKey: func() (*rsa.PrivateKey, error) { return testRSAKey(h.t), nil },
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return km
}

// testTPP is a sandbox TPP registered as a client, with an HTTP client
// that presents its transport certificate.
type testTPP struct {
	*sandbox.TPPBundle
	Client oauth.Client
	// HTTP presents the transport certificate and trusts the sandbox CA.
	HTTP *http.Client
}

// tppOptions describe a TPP for newTPP.
type tppOptions struct {
	// Method is the token endpoint auth method (private_key_jwt when empty).
	Method string
	// Roles default to AISP, PISP and CBPII.
	Roles []string
	// RedirectURIs default to https://tpp.example/cb.
	RedirectURIs []string
	// Edit changes the client before it is stored.
	Edit func(*oauth.Client)
}

// newTPP issues a TPP from the sandbox directory and registers it directly
// in the store (as DCR would), skipping registration.
func (h *harness) newTPP(o tppOptions) *testTPP {
	h.t.Helper()
	if o.Method == "" {
		o.Method = oauth.AuthPrivateKeyJWT
	}
	if len(o.RedirectURIs) == 0 {
		o.RedirectURIs = []string{"https://tpp.example/cb"}
	}
	b, err := h.Dir.IssueTPP(sandbox.TPPRequest{
		Name:         "Test TPP",
		RedirectURIs: o.RedirectURIs,
		Roles:        o.Roles,
		TransportKey: testRSAKey(h.t),
		SigningKey:   testRSAKey(h.t),
	})
	if err != nil {
		h.t.Fatalf("IssueTPP: %v", err)
	}
	jwks, err := json.Marshal(b.SigningJWKS)
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.Clock.Now()
	c := oauth.Client{
		ID:                          uuid.NewString(),
		SoftwareID:                  b.SoftwareID,
		OrgID:                       b.OrgID,
		OrgName:                     b.OrgName,
		Name:                        b.ClientName,
		Roles:                       b.Roles,
		RedirectURIs:                b.RedirectURIs,
		Scopes:                      oauth.ScopesForRoles(b.Roles),
		GrantTypes:                  []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
		ResponseTypes:               []string{"code id_token", "code"},
		ApplicationType:             "web",
		TokenEndpointAuthMethod:     o.Method,
		JWKS:                        jwks,
		IDTokenSignedResponseAlg:    "PS256",
		RequestObjectSigningAlg:     "PS256",
		SoftwareStatement:           b.SSA,
		CreatedAt:                   now,
		UpdatedAt:                   now,
		TokenEndpointAuthSigningAlg: "PS256",
	}
	if o.Method == oauth.AuthTLSClientAuth {
		c.TokenEndpointAuthSigningAlg = ""
		c.TLSClientAuthSubjectDN = b.SubjectDN()
	}
	if o.Edit != nil {
		o.Edit(&c)
	}
	if err := h.Store.CreateClient(context.Background(), c); err != nil {
		h.t.Fatalf("CreateClient: %v", err)
	}
	return &testTPP{TPPBundle: b, Client: c, HTTP: h.httpClient(b.ClientTLSConfig())}
}

// httpClient returns a keep-alive HTTP client over tlsConfig.
func (h *harness) httpClient(tlsConfig *tls.Config) *http.Client {
	tr := &http.Transport{TLSClientConfig: tlsConfig, MaxIdleConnsPerHost: 16, ForceAttemptHTTP2: false}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// noCertClient is an HTTP client that trusts the sandbox CA and presents no
// certificate.
func (h *harness) noCertClient() *http.Client {
	roots := h.Dir.CAPool()
	return h.httpClient(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
}

// claimSet is the claims of a JWT a test builds; tests edit them.
type claimSet map[string]any

// assertion returns a PS256 client assertion for tpp with aud = the mTLS
// token endpoint, exp in 5 minutes and a fresh jti; edit (optional) changes
// the claims before signing.
func (h *harness) assertion(tpp *testTPP, edit func(claimSet)) string {
	h.t.Helper()
	now := h.Clock.Now()
	c := claimSet{
		"iss": tpp.Client.ID,
		"sub": tpp.Client.ID,
		"aud": h.Server.mtlsEndpoint(PathToken),
		"jti": uuid.NewString(),
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return h.signPS256(tpp.SigningKey, tpp.SigningKeyID, c)
}

// signPS256 signs claims with key, kid in the header.
func (h *harness) signPS256(key *rsa.PrivateKey, kid string, claims any) string {
	h.t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		h.t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, kid)
	hdr.Set(jws.TypeKey, "JWT")
	out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(out)
}

// unsignedJWT returns an alg=none JWT ("header.payload.").
func unsignedJWT(claims any) string {
	hdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// clientAuth returns the client-authentication form parameters for tpp:
// client_id alone for tls_client_auth, plus a fresh assertion for
// private_key_jwt.
func (h *harness) clientAuth(tpp *testTPP) url.Values {
	v := url.Values{"client_id": {tpp.Client.ID}}
	if tpp.Client.TokenEndpointAuthMethod == oauth.AuthPrivateKeyJWT {
		v.Set("client_assertion_type", clientAssertionType)
		v.Set("client_assertion", h.assertion(tpp, nil))
	}
	return v
}

// httpResult is a decoded response.
type httpResult struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// str returns a string field of the JSON body.
func (r httpResult) str(name string) string {
	s, _ := r.JSON[name].(string)
	return s
}

// postForm posts form to url (absolute, or a path on the mTLS listener)
// with client c.
func (h *harness) postForm(c *http.Client, target string, form url.Values) httpResult {
	h.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = h.MTLS.URL + target
	}
	resp, err := c.PostForm(target, form)
	if err != nil {
		h.t.Fatalf("POST %s: %v", target, err)
	}
	return readResult(h.t, resp)
}

func readResult(tb testing.TB, resp *http.Response) httpResult {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	r := httpResult{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		if err := json.Unmarshal(b, &r.JSON); err != nil {
			tb.Fatalf("decode %s: %v", b, err)
		}
	}
	return r
}

// token posts a token request for tpp with its client authentication
// merged into form.
func (h *harness) token(tpp *testTPP, form url.Values) httpResult {
	h.t.Helper()
	f := h.clientAuth(tpp)
	maps.Copy(f, form)
	return h.postForm(tpp.HTTP, PathToken, f)
}

// clientCredentials obtains a client-credentials token for tpp, failing
// the test unless it is issued.
func (h *harness) clientCredentials(tpp *testTPP, scope string) httpResult {
	h.t.Helper()
	r := h.token(tpp, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
	if r.Status != http.StatusOK || r.str("access_token") == "" {
		h.t.Fatalf("client_credentials: %d %s", r.Status, r.Body)
	}
	return r
}

// testCode is an authorization code made directly in the store.
type testCode struct {
	// Value is the code as the TPP receives it.
	Value    string
	Verifier string
	// Code is what the store holds.
	Code oauth.Code
}

// grantFor creates an account-access consent owned by tpp, authorised by
// customer "cust-1" for account acc-1 (so its access grant exists), and
// returns its id. Authorising it again at the authorize endpoint is
// re-authentication.
func (h *harness) grantFor(tpp *testTPP) string {
	h.t.Helper()
	id := "aac-" + uuid.NewString()
	now := h.Clock.Now()
	c := ob.Consent{ID: id, Kind: ob.KindAccountAccess, TPPID: tpp.Client.ID, Status: ob.ConsentAwaitingAuthorisation,
		CreationDateTime: now, StatusUpdateDateTime: now, Permissions: ob.Permissions{ob.ReadAccountsBasic}}
	ctx := context.Background()
	if err := h.Store.CreateConsent(ctx, c); err != nil {
		h.t.Fatalf("CreateConsent: %v", err)
	}
	_, err := h.Store.UpdateConsent(ctx, id, now, func(c *ob.Consent) error {
		return c.Authorise("cust-1", []string{"acc-1"}, now)
	})
	if err != nil {
		h.t.Fatalf("authorise consent: %v", err)
	}
	return id
}

// newCode stores an authorization code for tpp, as the authorize endpoint
// would issue it after the customer approved intent. edit changes the
// request before the code is stored. Unless edit clears it, the request
// carries an S256 challenge whose verifier is returned.
func (h *harness) newCode(tpp *testTPP, intentID string, edit func(*oauth.Code)) testCode {
	h.t.Helper()
	verifier := rand.Text() + rand.Text()
	now := h.Clock.Now()
	code := rand.Text() + rand.Text()
	c := oauth.Code{
		Hash:      ob.HashToken(code),
		SessionID: uuid.NewString(),
		ClientID:  tpp.Client.ID,
		Request: oauth.AuthRequest{
			ClientID:            tpp.Client.ID,
			RedirectURI:         tpp.Client.RedirectURIs[0],
			ResponseType:        "code",
			ResponseMode:        "query",
			Scopes:              []string{oauth.ScopeOpenID, oauth.ScopeAccounts},
			State:               "st-" + uuid.NewString(),
			Nonce:               "n-" + uuid.NewString(),
			IntentID:            intentID,
			ACRValues:           []string{oauth.ACRSCA},
			CodeChallenge:       s256(verifier),
			CodeChallengeMethod: "S256",
		},
		CustomerID: "cust-1",
		ACR:        oauth.ACRSCA,
		AuthTime:   now,
		IssuedAt:   now,
		ExpiresAt:  now.Add(60 * time.Second),
		FamilyID:   uuid.NewString(),
	}
	if edit != nil {
		edit(&c)
	}
	if err := h.Store.CreateCode(context.Background(), c); err != nil {
		h.t.Fatalf("CreateCode: %v", err)
	}
	return testCode{Value: code, Verifier: verifier, Code: c}
}

// exchange redeems code for tpp with redirect_uri and code_verifier.
func (h *harness) exchange(tpp *testTPP, c testCode) httpResult {
	h.t.Helper()
	return h.token(tpp, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {c.Value},
		"redirect_uri":  {c.Code.Request.RedirectURI},
		"code_verifier": {c.Verifier},
	})
}

// introspect introspects token as tpp.
func (h *harness) introspect(tpp *testTPP, token string) httpResult {
	h.t.Helper()
	f := h.clientAuth(tpp)
	f.Set("token", token)
	r := h.postForm(tpp.HTTP, PathIntrospect, f)
	if r.Status != http.StatusOK {
		h.t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	return r
}

// active reports whether token introspects as active for tpp.
func (h *harness) active(tpp *testTPP, token string) bool {
	h.t.Helper()
	a, _ := h.introspect(tpp, token).JSON["active"].(bool)
	return a
}

// s256 returns the PKCE S256 challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// testLogger discards the server's logs unless the tests run with -v.
func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}
