package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/api/obie"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/spectest"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/sqlite"
)

const (
	aisBase   = "/open-banking/v3.1/aisp"
	publicURL = "https://obank.example"
	tppID     = "tpp-1"
	// pagedAcc is an extra account of Alice's with pagedTxCount transactions,
	// enough for several pages at testPageSize.
	pagedAcc     = "acc-900"
	pagedTxCount = 60
	testPageSize = 25
)

// now is the clock of every test server: the fixture's reference instant.
var now = obtest.FixtureTime()

// backend opens a fresh store.
type backend struct {
	name string
	open func(tb testing.TB) ob.Store
}

// backends lists the stores the e2e suite runs on. The postgres runs skip
// with a message unless OBANK_TEST_POSTGRES_DSN is set. Tests about the
// HTTP layer alone use backends()[0], SQLite.
func backends() []backend {
	return []backend{{"sqlite", openSQLite}, {"postgres", openPostgres}}
}

func openSQLite(tb testing.TB) ob.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "obank.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// testData is the fixture plus the pagination account.
func testData() *ob.BankData {
	d := obtest.Fixture()
	d.Accounts = append(d.Accounts, ob.Account{
		ID: pagedAcc, CustomerID: obtest.Alice, Status: "Enabled", StatusUpdateDateTime: now.Add(-time.Hour),
		Currency: "GBP", Type: ob.AccountTypePersonal, SubType: ob.SubTypeCurrentAccount,
		Description: "Busy account", OpeningDate: now.AddDate(-1, 0, 0), CreatedAt: now.AddDate(-1, 0, 0),
	})
	d.AccountHolders = append(d.AccountHolders, ob.AccountHolder{AccountID: pagedAcc, CustomerID: obtest.Alice,
		PartyType: "Sole", AccountRole: "UK.OBIE.Principal"})
	d.Transactions = append(d.Transactions, pagedTransactions(pagedAcc, pagedTxCount, now)...)
	return d
}

// pagedTransactions returns n transactions, one per hour back from end,
// every third one sharing its booking time with the previous one so ties
// are exercised; even ones are credits.
func pagedTransactions(accountID string, n int, end time.Time) []ob.Transaction {
	txs := make([]ob.Transaction, n)
	at := end.Add(-time.Hour)
	for i := range txs {
		if i%3 != 2 {
			at = at.Add(-time.Hour)
		}
		amt := int64(100 + i)
		if i%2 == 1 {
			amt = -amt
		}
		txs[i] = ob.Transaction{
			ID: fmt.Sprintf("tx-9-%03d", i), AccountID: accountID, Reference: fmt.Sprintf("REF %d", i),
			Status: ob.TxBooked, BookingDateTime: at, Amount: ob.Money{Minor: amt, Currency: "GBP"},
			Information: "paged", Category: "misc",
		}
	}
	return txs
}

// env is one server under test on a real store over loopback HTTP.
type env struct {
	t      *testing.T
	store  ob.Store
	srv    *httpapi.Server
	ts     *httptest.Server
	v      *spectest.Validator
	logBuf *syncBuffer
	client *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// envOption adjusts the server config or wraps the store.
type envOption func(*httpapi.Config)

func newEnv(t *testing.T, be backend, opts ...envOption) *env {
	t.Helper()
	store := be.open(t)
	obtest.MustImport(t, store, testData())
	return newEnvWithStore(t, store, opts...)
}

func newEnvWithStore(t *testing.T, store ob.Store, opts ...envOption) *env {
	t.Helper()
	logBuf := &syncBuffer{}
	cfg := httpapi.Config{
		Store:     store,
		PublicURL: publicURL,
		PageSize:  testPageSize,
		Logger:    slog.New(slog.NewJSONHandler(logBuf, nil)),
		Now:       func() time.Time { return now },
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httpapi.NewServer(cfg)
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ConnContext = httpapi.ConnContext // as obank serve's servers
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	return &env{
		t: t, store: cfg.Store, srv: srv, ts: ts, logBuf: logBuf, client: ts.Client(),
		v: spectest.MustNew(t, obie.AccountInfo, ts.URL),
	}
}

// grantOpts describes a grant to create.
type grantOpts struct {
	customer  string
	accounts  []string
	perms     []ob.Permission
	from, to  *time.Time
	expires   *time.Time
	revoked   bool
	tokenTTL  time.Duration // default one hour; negative = already expired
	noGrant   bool          // a client-credentials token with no grant
	scopes    []string      // default accounts
	revokeTok bool
}

var grantSeq struct {
	sync.Mutex
	n int
}

// token creates a grant (unless noGrant) and a bearer token for it and
// returns the bearer value.
func (e *env) token(o grantOpts) string {
	e.t.Helper()
	ctx := context.Background()
	grantSeq.Lock()
	grantSeq.n++
	n := grantSeq.n
	grantSeq.Unlock()
	if o.customer == "" {
		o.customer = obtest.Alice
	}
	if o.accounts == nil {
		o.accounts = []string{obtest.Acc1, obtest.Acc2, pagedAcc}
	}
	if o.perms == nil {
		o.perms = ob.AllPermissions
	}
	if o.scopes == nil {
		o.scopes = []string{"openid", "accounts"}
	}
	if o.tokenTTL == 0 {
		o.tokenTTL = time.Hour
	}
	grantID := ""
	if !o.noGrant {
		grantID = fmt.Sprintf("grant-%d", n)
		g := ob.AccessGrant{
			ID: grantID, TPPID: tppID, CustomerID: o.customer, Permissions: o.perms, AccountIDs: o.accounts,
			TransactionFrom: o.from, TransactionTo: o.to, ExpiresAt: o.expires, CreatedAt: now.Add(-time.Hour),
		}
		if err := e.store.CreateAccessGrant(ctx, g); err != nil {
			e.t.Fatalf("CreateAccessGrant: %v", err)
		}
		if o.revoked {
			if err := e.store.RevokeGrant(ctx, grantID, now.Add(-time.Minute)); err != nil {
				e.t.Fatalf("RevokeGrant: %v", err)
			}
		}
	}
	bearer := rand.Text()
	tok := ob.AccessToken{
		Hash: ob.HashToken(bearer), GrantID: grantID, ClientID: tppID, Scopes: o.scopes,
		CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(o.tokenTTL),
	}
	if o.revokeTok {
		tok.RevokedAt = ptr(now.Add(-time.Second))
	}
	if err := e.store.CreateAccessToken(ctx, tok); err != nil {
		e.t.Fatalf("CreateAccessToken: %v", err)
	}
	return bearer
}

func ptr[T any](v T) *T { return &v }

// response is a received response with its decoded JSON body.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// get sends GET path (relative to the server, or an absolute public link)
// with the bearer token and extra headers ("Name: value"), and validates
// the response against the spec when the route is an AIS one.
func (e *env) get(path, bearer string, headers ...string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, bearer, nil, headers...)
}

func (e *env) do(method, path, bearer string, body io.Reader, headers ...string) response {
	e.t.Helper()
	url := strings.Replace(path, publicURL, e.ts.URL, 1)
	if !strings.HasPrefix(url, "http") {
		url = e.ts.URL + url
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	r, resp := e.exchange(req)
	b := r.body
	if strings.HasPrefix(req.URL.Path, aisBase) && method == http.MethodGet && resp.StatusCode != http.StatusNotFound {
		e.v.Check(e.t, req, resp.StatusCode, resp.Header, b)
	}
	if resp.Header.Get("x-fapi-interaction-id") == "" {
		e.t.Errorf("%s %s -> %d: no x-fapi-interaction-id", method, path, resp.StatusCode)
	}
	return r
}

// exchange sends req and reads the answer, decoding a JSON body; every test
// request goes through it. The *http.Response's body is already read.
func (e *env) exchange(req *http.Request) (response, *http.Response) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r.json); err != nil {
			e.t.Errorf("%s %s: body is not JSON: %v\n%s", req.Method, req.URL.Path, err, b)
		}
	}
	return r, resp
}

// wantStatus fails unless r has the status.
func (r response) wantStatus(t *testing.T, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.status, want, r.body)
	}
	return r
}

// wantError checks an OBIE error answer.
func (r response) wantError(t *testing.T, status int, code, path string) {
	t.Helper()
	r.wantStatus(t, status)
	errs, _ := r.json["Errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("Errors = %v, want one", r.json["Errors"])
	}
	e := errs[0].(map[string]any)
	if e["ErrorCode"] != code {
		t.Errorf("ErrorCode = %v, want %s", e["ErrorCode"], code)
	}
	if path != "" && e["Path"] != path {
		t.Errorf("Path = %v, want %s", e["Path"], path)
	}
	if r.json["Id"] != r.header.Get("x-fapi-interaction-id") {
		t.Errorf("Id = %v, want the interaction id %s", r.json["Id"], r.header.Get("x-fapi-interaction-id"))
	}
}

// wantNoBody checks a body-less answer.
func (r response) wantNoBody(t *testing.T, status int) {
	t.Helper()
	r.wantStatus(t, status)
	if len(r.body) != 0 {
		t.Errorf("body = %q, want none", r.body)
	}
}

// list returns Data[key] as a list of objects.
func (r response) list(key string) []map[string]any {
	data, _ := r.json["Data"].(map[string]any)
	items, _ := data[key].([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)
	}
	return out
}

func (r response) links() map[string]any {
	l, _ := r.json["Links"].(map[string]any)
	return l
}

func (r response) meta() map[string]any {
	m, _ := r.json["Meta"].(map[string]any)
	return m
}

// forEachBackend runs f once per store backend.
func forEachBackend(t *testing.T, f func(t *testing.T, be backend)) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) { f(t, be) })
	}
}
