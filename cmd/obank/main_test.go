package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/sqlite"
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
	url    string
	stderr *syncBuffer
	stop   func() error
}

// startServe runs `obank serve` with args on a free port and waits until it
// accepts connections. env supplies OBANK_* variables.
func startServe(t *testing.T, env map[string]string, args ...string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	ready := make(chan string, 1)
	e := &environment{
		stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return env[k] },
		ready:  func(addr string) { ready <- addr },
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx, e, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	var addr string
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
	return &runningServer{url: "http://" + addr, stderr: stderr, stop: stop}
}

func get(t *testing.T, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
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

	resp, body := get(t, srv.url+"/open-banking/v3.1/aisp/accounts", token)
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
	if len(got.Data.Account) < 2 || !strings.HasPrefix(got.Links.Self, srv.url+"/open-banking/") {
		t.Errorf("accounts = %+v", got)
	}
	if resp, _ := get(t, srv.url+"/open-banking/v3.1/aisp/accounts", ""); resp.StatusCode != 401 {
		t.Errorf("without token = %d, want 401", resp.StatusCode)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("serve returned %v on shutdown", err)
	}

	// A restart finds the bank and does not seed it twice.
	srv = startServe(t, map[string]string{"OBANK_DATA_DIR": dir, "OBANK_DEMO_CUSTOMERS": "3"})
	if strings.Contains(srv.stderr.String(), "demo bank seeded") {
		t.Errorf("restart seeded again:\n%s", srv.stderr)
	}
	if n, _ := store.Customers(ctx, 10); len(n) != 3 {
		t.Errorf("after restart: %d customers, want 3", len(n))
	}
}

func TestServeEmptyBank(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, nil, "--data-dir", dir, "--demo=false")
	if resp, _ := get(t, srv.url+"/readyz", ""); resp.StatusCode != 200 {
		t.Errorf("readyz = %d", resp.StatusCode)
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
	go func() { served <- serveUntilDone(ctx, slog.New(slog.DiscardHandler), srv, ln, 5*time.Second) }()

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
	if resp, body := get(t, srv.url+"/open-banking/v3.1/aisp/balances", token); resp.StatusCode != 200 {
		t.Errorf("GET /balances = %d: %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, srv.url+"/open-banking/v3.1/aisp/transactions", token); resp.StatusCode != 403 {
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
