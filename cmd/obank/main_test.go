package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sqlite"
	"github.com/obank/obank/web/webstore"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runningServer is `obank serve` running in-process.
type runningServer struct {
	url     string // the plain listener
	mtlsURL string // the mutual-TLS listener
	stderr  *syncBuffer
	stop    func() error
}

// startServe runs `obank serve` with args on a free port and waits until it
// accepts connections. env supplies OBANK_* variables.
func startServe(t *testing.T, env map[string]string, args ...string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	ready := make(chan listenAddrs, 1)
	e := &environment{
		stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return env[k] },
		ready:  func(a listenAddrs) { ready <- a },
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve", "--addr", "127.0.0.1:0", "--mtls-addr", "127.0.0.1:0"}, args...))
	}()
	var addr listenAddrs
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v\n%s", err, stderr)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("serve did not start:\n%s", stderr)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return &runningServer{url: "http://" + addr.plain, mtlsURL: "https://" + addr.mtls, stderr: stderr, stop: stop}
}

func get(t *testing.T, url, token string) (*http.Response, []byte) {
	t.Helper()
	return getWith(t, http.DefaultClient, url, token)
}

func getWith(t *testing.T, client *http.Client, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// grantAllAccounts gives a new token access to every account of customer,
// written straight into the store as the AIS tests do until the
// authorization server mints tokens.
func grantAllAccounts(t *testing.T, store ob.Store, customerID string) string {
	t.Helper()
	ctx := context.Background()
	accounts, err := store.AccountsByCustomer(ctx, customerID)
	if err != nil || len(accounts) == 0 {
		t.Fatalf("accounts of %s: %v (%d)", customerID, err, len(accounts))
	}
	g := ob.AccessGrant{
		ID: "consent-" + customerID, TPPID: "tpp-1", CustomerID: customerID,
		Permissions: ob.Permissions{ob.ReadAccountsDetail, ob.ReadBalances, ob.ReadTransactionsDetail,
			ob.ReadTransactionsCredits, ob.ReadTransactionsDebits},
		CreatedAt: time.Now(),
	}
	for _, a := range accounts {
		g.AccountIDs = append(g.AccountIDs, a.ID)
	}
	if err := store.CreateAccessGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	token := "token-" + customerID
	if err := store.CreateAccessToken(ctx, ob.AccessToken{
		Hash: ob.HashToken(token), GrantID: g.ID, ClientID: g.TPPID, Scopes: []string{"accounts"},
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	return token
}

// TestServeDemoBank runs the README's command the way a newcomer does (a
// small demo bank to keep it quick) and reads a demo customer's accounts.
func TestServeDemoBank(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, map[string]string{"OBANK_DATA_DIR": dir, "OBANK_DEMO_CUSTOMERS": "3"})

	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, _ := get(t, srv.url+path, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	if !strings.Contains(srv.stderr.String(), "Demo bank logins") {
		t.Errorf("demo logins not printed:\n%s", srv.stderr)
	}

	// A second handle on the same SQLite file, as an operator tool would.
	ctx := context.Background()
	store, err := sqlite.OpenDir(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	customers, err := store.Customers(ctx, 10)
	if err != nil || len(customers) != 3 {
		t.Fatalf("customers = %d, %v; want 3", len(customers), err)
	}
	token := grantAllAccounts(t, store, customers[0].ID)

	// The resource APIs are on the mutual-TLS listener only.
	if resp, _ := get(t, srv.url+"/open-banking/v3.1/aisp/accounts", token); resp.StatusCode != 404 {
		t.Errorf("GET /accounts on the plain listener = %d, want 404", resp.StatusCode)
	}
	tlsClient := sandboxClient(t, dir, "")
	resp, body := getWith(t, tlsClient, srv.mtlsURL+"/open-banking/v3.1/aisp/accounts", token)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /accounts = %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Data  struct{ Account []struct{ AccountId string } }
		Links struct{ Self string }
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data.Account) < 2 || !strings.HasPrefix(got.Links.Self, srv.mtlsURL+"/open-banking/") {
		t.Errorf("accounts = %+v", got)
	}
	if resp, _ := getWith(t, tlsClient, srv.mtlsURL+"/open-banking/v3.1/aisp/accounts", ""); resp.StatusCode != 401 {
		t.Errorf("without token = %d, want 401", resp.StatusCode)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("serve returned %v on shutdown", err)
	}
	logins := loginTable(t, srv.stderr.String())

	// A restart finds the bank, does not seed it twice, and prints the
	// same logins.
	srv = startServe(t, map[string]string{"OBANK_DATA_DIR": dir, "OBANK_DEMO_CUSTOMERS": "3"})
	if strings.Contains(srv.stderr.String(), "demo bank seeded") {
		t.Errorf("restart seeded again:\n%s", srv.stderr)
	}
	if again := loginTable(t, srv.stderr.String()); again != logins {
		t.Errorf("logins at the restart:\n%s\nwant those of the first start:\n%s", again, logins)
	}
	if n, _ := store.Customers(ctx, 10); len(n) != 3 {
		t.Errorf("after restart: %d customers, want 3", len(n))
	}
}

// loginTable returns the demo logins table serve printed.
func loginTable(t *testing.T, stderr string) string {
	t.Helper()
	_, table, ok := strings.Cut(stderr, "Demo bank logins")
	if !ok {
		t.Fatalf("no demo logins printed:\n%s", stderr)
	}
	table, _, _ = strings.Cut(table, "\n\n")
	if strings.Count(table, "demo-") != 3 {
		t.Fatalf("the logins table does not list 3 passwords:\n%s", table)
	}
	return table
}

// TestServeWithoutDemo: without --demo the bank starts empty and every key,
// certificate and trust anchor must be configured; here they come from a
// sandbox made beforehand, passed as an operator would pass real ones.
func TestServeWithoutDemo(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	err := run(context.Background(), env, []string{"serve", "--data-dir", dir, "--demo=false", "--addr", "127.0.0.1:0", "--mtls-addr", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "--secret") {
		t.Fatalf("serve --demo=false without a secret: err = %v, want one naming --secret", err)
	}

	pkiDir := t.TempDir()
	if err := run(context.Background(), env, []string{"tpp", "create", "--data-dir", pkiDir, "--name", "ACME",
		"--redirect-uri", "https://acme.example/cb", "--out", filepath.Join(pkiDir, "acme")}); err != nil {
		t.Fatal(err)
	}
	sb := filepath.Join(pkiDir, "sandbox")
	srv := startServe(t, nil, "--data-dir", dir, "--demo=false",
		"--secret", strings.Repeat("ab", 32),
		"--tls-cert", filepath.Join(sb, "server.pem"), "--tls-key", filepath.Join(sb, "server-key.pem"),
		"--client-ca", filepath.Join(sb, "ca.pem"), "--directory-jwks", filepath.Join(sb, "directory.jwks"),
		"--signing-ca-cert", filepath.Join(sb, "ca.pem"), "--signing-ca-key", filepath.Join(sb, "ca-key.pem"))
	if resp, _ := get(t, srv.url+"/readyz", ""); resp.StatusCode != 200 {
		t.Errorf("readyz = %d", resp.StatusCode)
	}
	if resp, body := get(t, srv.url+"/.well-known/openid-configuration", ""); resp.StatusCode != 200 {
		t.Errorf("discovery = %d: %s", resp.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "sandbox")); err == nil {
		t.Error("a sandbox was created without --demo")
	}
	srv.stop()
	store, err := sqlite.OpenDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if empty, err := store.Empty(context.Background()); err != nil || !empty {
		t.Errorf("--demo=false: Empty() = %v, %v; want true", empty, err)
	}
}

// sandboxClient is an HTTPS client trusting the sandbox CA of dataDir and,
// when tppDir is set, presenting that TPP's transport certificate.
func sandboxClient(t *testing.T, dataDir, tppDir string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(dataDir, "sandbox", "ca.pem"))
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("sandbox CA: %v", err)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if tppDir != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(tppDir, "transport.pem"), filepath.Join(tppDir, "transport-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 30 * time.Second}
}

// TestGracefulShutdown: a request in flight when the signal arrives is
// answered, and new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serveUntilDone(ctx, slog.New(slog.DiscardHandler), 5*time.Second, serving{srv: srv, ln: ln})
	}()

	result := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	<-started
	cancel()
	if got := <-result; got != "done" {
		t.Errorf("in-flight request got %q, want done", got)
	}
	if err := <-served; err != nil {
		t.Errorf("serveUntilDone = %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepts after shutdown")
	}
}

func TestMigrateAndImport(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"migrate", "--data-dir", dir}); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}

	file := filepath.Join(dir, "bank.json")
	b, err := json.Marshal(obtest.Fixture())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), env, []string{"import", "--data-dir", dir, "--file", file}); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	// The same file again conflicts and changes nothing.
	if err := run(context.Background(), env, []string{"import", "--data-dir", dir, "--file", file}); err == nil {
		t.Error("second import of the same data succeeded")
	}
	// Invalid data is refused before the store is touched.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"Accounts":[{"ID":"x","Currency":"pounds"}]}`), 0o600)
	if err := run(context.Background(), env, []string{"import", "--data-dir", dir, "--file", bad}); err == nil {
		t.Error("invalid bank data imported")
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		wantOut string
	}{
		{[]string{"version"}, false, "obank "},
		{[]string{"help"}, false, "Commands:"},
		{[]string{"frobnicate"}, true, "Commands:"},
		{[]string{"serve", "--page-size", "5"}, true, ""},
		{[]string{"serve", "--public-url", "ftp://x"}, true, ""},
		{[]string{"serve", "--dsn", "mysql://x"}, true, ""},
		{[]string{"serve", "--help"}, true, "OBANK_PUBLIC_URL"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		err := run(context.Background(), env, tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("obank %v: err = %v, wantErr %v", tt.args, err, tt.wantErr)
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("obank %v output lacks %q:\n%s", tt.args, tt.wantOut, out.String())
		}
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db", "postgres://h/db"},
	}
	for _, tt := range tests {
		if got := redactDSN(tt.in); got != tt.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTokenCommand: `obank token` gives a working bearer token for a demo
// customer, limited to the permissions asked for.
func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2")
	_, logins, err := demo.Generate(demo.Config{Customers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	err = run(context.Background(), env, []string{"token", "--data-dir", dir,
		"--customer", logins[0].Username, "--permissions", "ReadAccountsBasic,ReadBalances"})
	if err != nil {
		t.Fatalf("token: %v\n%s", err, out.String())
	}
	token := strings.TrimSpace(out.String())
	c := sandboxClient(t, dir, "")
	if resp, body := getWith(t, c, srv.mtlsURL+"/open-banking/v3.1/aisp/balances", token); resp.StatusCode != 200 {
		t.Errorf("GET /balances = %d: %s", resp.StatusCode, body)
	}
	if resp, _ := getWith(t, c, srv.mtlsURL+"/open-banking/v3.1/aisp/transactions", token); resp.StatusCode != 403 {
		t.Errorf("GET /transactions without the permission = %d, want 403", resp.StatusCode)
	}
	for _, args := range [][]string{
		{"token", "--data-dir", dir},
		{"token", "--data-dir", dir, "--customer", "nobody"},
		{"token", "--data-dir", dir, "--customer", logins[0].Username, "--permissions", "ReadEverything"},
	} {
		if err := run(context.Background(), env, args); err == nil {
			t.Errorf("obank %v succeeded", args)
		}
	}
}

// TestServeRegisterAndToken is the README's TPP recipe on the real server:
// issue a TPP from the sandbox directory, register it over mutual TLS with a
// signed request, obtain a client-credentials token bound to its
// certificate, and see the binding hold on the resource API.
func TestServeRegisterAndToken(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2")
	tppDir := filepath.Join(t.TempDir(), "acme")
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"tpp", "create", "--data-dir", dir, "--name", "ACME",
		"--redirect-uri", "https://acme.example/cb", "--out", tppDir}); err != nil {
		t.Fatalf("tpp create: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), env, []string{"tpp", "request", "--tpp", tppDir, "--aud", srv.url}); err != nil {
		t.Fatalf("tpp request: %v\n%s", err, out.String())
	}
	regJWT := strings.TrimSpace(out.String())

	// Discovery names the mTLS endpoints.
	resp, body := get(t, srv.url+"/.well-known/openid-configuration", "")
	var disc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		Registration  string `json:"registration_endpoint"`
		Aliases       struct {
			Token string `json:"token_endpoint"`
		} `json:"mtls_endpoint_aliases"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &disc) != nil {
		t.Fatalf("discovery = %d: %s", resp.StatusCode, body)
	}
	if disc.Issuer != srv.url || !strings.HasPrefix(disc.Aliases.Token, srv.mtlsURL) || !strings.HasPrefix(disc.Registration, srv.mtlsURL) {
		t.Errorf("discovery endpoints = %+v; want issuer %s and mTLS endpoints on %s", disc, srv.url, srv.mtlsURL)
	}

	tpp := sandboxClient(t, dir, tppDir)
	post := func(c *http.Client, url, contentType, body string) (int, []byte) {
		t.Helper()
		resp, err := c.Post(url, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, body := post(tpp, disc.Registration, "application/jose", regJWT)
	if status != 201 {
		t.Fatalf("POST /register = %d: %s", status, body)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(body, &reg); err != nil || reg.ClientID == "" {
		t.Fatalf("registration response: %v: %s", err, body)
	}

	form := "grant_type=client_credentials&scope=accounts&client_id=" + reg.ClientID
	status, body = post(tpp, disc.Aliases.Token, "application/x-www-form-urlencoded", form)
	if status != 200 {
		t.Fatalf("POST /token = %d: %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("token response: %v: %s", err, body)
	}

	// The token is bound to the TPP's certificate: without it, 401; with
	// it, the token is valid but has no account-access consent, so 403.
	noCert := sandboxClient(t, dir, "")
	if resp, _ := getWith(t, noCert, srv.mtlsURL+"/open-banking/v3.1/aisp/accounts", tok.AccessToken); resp.StatusCode != 401 {
		t.Errorf("bound token without its certificate = %d, want 401", resp.StatusCode)
	}
	if resp, _ := getWith(t, tpp, srv.mtlsURL+"/open-banking/v3.1/aisp/accounts", tok.AccessToken); resp.StatusCode != 403 {
		t.Errorf("client-credentials token on /accounts = %d, want 403", resp.StatusCode)
	}
	// Without a certificate the token endpoint refuses the client.
	if status, _ := post(noCert, disc.Aliases.Token, "application/x-www-form-urlencoded", form); status != 401 && status != 400 {
		t.Errorf("POST /token without a certificate = %d, want 401", status)
	}
}

// TestTwoInstancesOnePostgres: two `obank serve` instances on one
// PostgreSQL, sharing the secret and the sandbox, serve one TPP
// interchangeably: registered at one, its token minted at the other, and
// that token introspected and revoked across them.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := pgtest.SchemaDSN(t) // skips without OBANK_TEST_POSTGRES_DSN
	dir := t.TempDir()
	args := []string{"--dsn", dsn, "--data-dir", dir, "--demo-customers", "2"}
	a := startServe(t, nil, args...)
	// The second starts after the first seeded the bank and made the
	// sandbox; both then work on the same database and files.
	b := startServe(t, nil, args...)

	tppDir := filepath.Join(t.TempDir(), "acme")
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"tpp", "create", "--data-dir", dir, "--name", "ACME",
		"--redirect-uri", "https://acme.example/cb", "--out", tppDir}); err != nil {
		t.Fatal(err)
	}
	tpp := sandboxClient(t, dir, tppDir)
	post := func(url, contentType, body string) (int, []byte) {
		t.Helper()
		resp, err := tpp.Post(url, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// Register at A (the request's aud is A's issuer)...
	out.Reset()
	if err := run(context.Background(), env, []string{"tpp", "request", "--tpp", tppDir, "--aud", a.url}); err != nil {
		t.Fatal(err)
	}
	status, body := post(a.mtlsURL+"/register", "application/jose", strings.TrimSpace(out.String()))
	if status != 201 {
		t.Fatalf("register at A = %d: %s", status, body)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	json.Unmarshal(body, &reg)
	// ...get a token at B...
	status, body = post(b.mtlsURL+"/token", "application/x-www-form-urlencoded",
		"grant_type=client_credentials&scope=accounts&client_id="+reg.ClientID)
	if status != 200 {
		t.Fatalf("token at B = %d: %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(body, &tok)
	// ...introspect it at A, revoke it at A, and see it inactive at B.
	introspect := func(base string) bool {
		t.Helper()
		status, body := post(base+"/introspect", "application/x-www-form-urlencoded",
			"token="+tok.AccessToken+"&client_id="+reg.ClientID)
		if status != 200 {
			t.Fatalf("introspect at %s = %d: %s", base, status, body)
		}
		var r struct {
			Active bool `json:"active"`
		}
		json.Unmarshal(body, &r)
		return r.Active
	}
	if !introspect(a.mtlsURL) {
		t.Error("token minted at B is not active at A")
	}
	if status, body := post(a.mtlsURL+"/revoke", "application/x-www-form-urlencoded",
		"token="+tok.AccessToken+"&client_id="+reg.ClientID); status != 200 {
		t.Fatalf("revoke at A = %d: %s", status, body)
	}
	if introspect(b.mtlsURL) {
		t.Error("token revoked at A is still active at B")
	}
	// Both publish the same signing keys (generated once, shared through
	// the database).
	_, jwksA := get(t, a.url+"/jwks", "")
	_, jwksB := get(t, b.url+"/jwks", "")
	if !bytes.Equal(jwksA, jwksB) {
		t.Errorf("the instances publish different key sets:\nA %s\nB %s", jwksA, jwksB)
	}
}

// TestKeysRotate: after a rotation the new key signs and the old one stays
// published at /jwks.
func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"keys", "rotate", "--data-dir", dir}); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "signing key rotated") {
		t.Fatalf("output: %s", out.String())
	}
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2")
	_, body := get(t, srv.url+"/jwks", "")
	var set struct {
		Keys []struct {
			KID string   `json:"kid"`
			X5C []string `json:"x5c"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || set.Keys[0].KID == set.Keys[1].KID {
		t.Fatalf("/jwks after one rotation = %s, want the new and the old key", body)
	}
	for _, k := range set.Keys {
		if len(k.X5C) == 0 {
			t.Errorf("key %s has no x5c", k.KID)
		}
	}
}

// TestMasterSecretRotation: serve run once with --previous-secret reseals
// the signing keys under the new --secret, after which the old secret is
// not needed; without that run the new secret alone cannot open them.
func TestMasterSecretRotation(t *testing.T) {
	dir := t.TempDir()
	secret := func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	oldSecret, newSecret := secret(), secret()
	kids := func(srv *runningServer) []string {
		_, body := get(t, srv.url+"/jwks", "")
		var set struct {
			Keys []struct {
				KID string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KID)
		}
		return out
	}
	rotateKeys := func(args ...string) error {
		var out bytes.Buffer
		env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		return run(context.Background(), env, append([]string{"keys", "rotate", "--data-dir", dir}, args...))
	}
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2", "--secret", oldSecret)
	before := kids(srv)
	srv.stop()
	if len(before) != 1 {
		t.Fatalf("/jwks = %v, want one key", before)
	}
	if err := rotateKeys("--secret", newSecret); err == nil {
		t.Fatal("the new secret alone opened keys sealed under the old one")
	}
	srv = startServe(t, nil, "--data-dir", dir, "--demo-customers", "2", "--secret", newSecret, "--previous-secret", oldSecret)
	if got := kids(srv); !slices.Equal(got, before) {
		t.Errorf("/jwks while rotating = %v, want the same key %v", got, before)
	}
	srv.stop()
	if err := rotateKeys("--secret", newSecret); err != nil {
		t.Fatalf("keys rotate with the new secret alone, after the rotating run: %v", err)
	}
	srv = startServe(t, nil, "--data-dir", dir, "--demo-customers", "2", "--secret", newSecret)
	if got := kids(srv); len(got) != 2 || !slices.Contains(got, before[0]) {
		t.Errorf("/jwks after the rotation = %v, want a new key and %v", got, before)
	}
}

// TestJanitorCommand: one sweep expires a consent past its expiry and
// revokes the access its grant gave.
func TestJanitorCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.OpenDir(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obtest.MustImport(t, store, obtest.Fixture())
	now := time.Now().UTC()
	past := now.Add(-time.Minute)
	c := ob.Consent{ID: "aac-1", Kind: ob.KindAccountAccess, TPPID: "tpp-1", Status: ob.ConsentAwaitingAuthorisation,
		CreationDateTime: now.Add(-time.Hour), StatusUpdateDateTime: now.Add(-time.Hour),
		Permissions: ob.Permissions{ob.ReadAccountsBasic}, ExpirationDateTime: &past}
	if err := store.CreateConsent(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A page session that expired an hour ago, and a live one.
	for id, expires := range map[string]time.Time{"ws-old": now.Add(-time.Hour), "ws-live": now.Add(time.Hour)} {
		if err := store.CreateWebSession(ctx, webstore.Session{ID: id, Purpose: "dashboard", CSRF: "x",
			CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-2 * time.Hour), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(ctx, env, []string{"janitor", "--data-dir", dir}); err != nil {
		t.Fatalf("janitor: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 consents expired") ||
		!strings.Contains(out.String(), "1 expired records deleted (web_sessions 1)") {
		t.Errorf("janitor output = %q", out.String())
	}
	store, err = sqlite.OpenDir(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if got, err := store.Consent(ctx, "aac-1"); err != nil || got.Status != ob.ConsentRejected {
		t.Errorf("consent after janitor: %v, %v; want Rejected", got.Status, err)
	}
	if _, err := store.WebSession(ctx, "ws-old"); !ob.IsNotFound(err) {
		t.Errorf("expired page session after janitor: %v, want gone", err)
	}
	if _, err := store.WebSession(ctx, "ws-live"); err != nil {
		t.Errorf("live page session after janitor: %v", err)
	}
}

// TestLoadJWKS reads a directory's keys from a file and from an https URL.
func TestLoadJWKS(t *testing.T) {
	set := `{"keys":[{"kty":"EC","crv":"P-256","kid":"d1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	file := filepath.Join(t.TempDir(), "dir.jwks")
	os.WriteFile(file, []byte(set), 0o600)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, set) }))
	defer ts.Close()
	// The test server's certificate is trusted through the default client's
	// roots only in tests; swap them in for the fetch.
	old := http.DefaultTransport
	http.DefaultTransport = ts.Client().Transport
	defer func() { http.DefaultTransport = old }()
	for _, src := range []string{file, ts.URL + "/jwks"} {
		keys, err := loadJWKS(src)
		if err != nil || keys.Len() != 1 {
			t.Errorf("loadJWKS(%s) = %v keys, %v", src, keys, err)
		}
	}
	if _, err := loadJWKS(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file loaded")
	}
}

// TestLedgerAndAccountCommands: the seeded demo bank opens its ledger at
// start and verifies; closing an account reports the consents it notified.
func TestLedgerAndAccountCommands(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2")
	srv.stop()
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"ledger", "verify", "--data-dir", dir}); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, out.String())
	}
	store, err := sqlite.OpenDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	customers, _ := store.Customers(context.Background(), 1)
	accounts, _ := store.AccountsByCustomer(context.Background(), customers[0].ID)
	store.Close()
	out.Reset()
	if err := run(context.Background(), env, []string{"account", "close", "--data-dir", dir, "--account", accounts[0].ID}); err != nil {
		t.Fatalf("account close: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "closed; 0 consents notified") {
		t.Errorf("account close output = %q", out.String())
	}
	store, err = sqlite.OpenDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if a, err := store.Account(context.Background(), accounts[0].ID); err != nil || a.Status != "Deleted" {
		t.Errorf("closed account status = %q, %v; want Deleted", a.Status, err)
	}
	if err := run(context.Background(), env, []string{"account", "close", "--data-dir", dir, "--account", "nope"}); err == nil {
		t.Error("closing an unknown account succeeded")
	}
}
