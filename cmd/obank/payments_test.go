package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/client"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sandbox"
)

const (
	pispBase            = "/open-banking/v3.1/pisp"
	domesticConsentPath = pispBase + "/domestic-payment-consents"
	domesticPaymentPath = pispBase + "/domestic-payments"
)

// obankProcess is `obank serve` running as a separate process (the test
// binary, see TestMain), so that it can be killed with SIGKILL.
type obankProcess struct {
	cmd     *exec.Cmd
	url     string // the plain listener
	mtlsURL string // the mutual-TLS listener
	out     *syncBuffer
	done    chan struct{}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startProcess runs `obank serve args...` as a child process on free ports
// and waits until /healthz answers.
func startProcess(t *testing.T, args ...string) *obankProcess {
	t.Helper()
	plain, mtls := freeAddr(t), freeAddr(t)
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", plain, "--mtls-addr", mtls,
		"--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "OBANK_TEST_RUN_AS_OBANK=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &obankProcess{cmd: cmd, url: "http://" + plain, mtlsURL: "https://" + mtls, out: out, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(60 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.done:
			t.Fatalf("obank serve exited before it was ready:\n%s", out)
		default:
		}
		if resp, err := hc.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("obank serve not ready after 60s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *obankProcess) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// testTPP is a TPP issued by the sandbox of dataDir and registered at a
// running obank, with a client-credentials token.
type testTPP struct {
	bundle   *sandbox.TPPBundle
	dir      string
	clientID string
	cc       string // client-credentials token, scope payments
	http     *http.Client
}

// registerTPP issues a TPP from dataDir's sandbox, registers it at the
// server (issuer url, mutual TLS at mtlsURL) and gets a client-credentials
// token with scope.
func registerTPP(t *testing.T, dataDir, url, mtlsURL, scope string) *testTPP {
	t.Helper()
	tppDir := filepath.Join(t.TempDir(), "acme")
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"tpp", "create", "--data-dir", dataDir, "--name", "ACME",
		"--redirect-uri", "https://acme.example/callback", "--out", tppDir}); err != nil {
		t.Fatalf("tpp create: %v\n%s", err, out.String())
	}
	bundle, err := sandbox.LoadTPP(tppDir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := client.RegistrationRequest(bundle, client.Registration{Audience: url})
	if err != nil {
		t.Fatal(err)
	}
	tpp := &testTPP{bundle: bundle, dir: tppDir, http: sandboxClient(t, dataDir, tppDir)}
	var m map[string]any
	status, body := tpp.call(t, "POST", mtlsURL+"/register", "", "application/jose", reg)
	if status != 201 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("register = %d: %s", status, body)
	}
	tpp.clientID, _ = m["client_id"].(string)
	status, body = tpp.call(t, "POST", mtlsURL+"/token", "", "application/x-www-form-urlencoded",
		"client_id="+tpp.clientID+"&grant_type=client_credentials&scope="+scope)
	if status != 200 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("token = %d: %s", status, body)
	}
	tpp.cc, _ = m["access_token"].(string)
	return tpp
}

// call sends a request with the TPP's certificate ("Name: value" headers).
func (tpp *testTPP) call(t *testing.T, method, url, bearer, contentType, body string, headers ...string) (int, []byte) {
	t.Helper()
	resp, b, err := tpp.do(tpp.http, method, url, bearer, contentType, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode, b
}

func (tpp *testTPP) do(c *http.Client, method, url, bearer, contentType, body string, headers ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// signedPost is a PIS POST: signed, with an idempotency key.
type signedPost struct {
	path, body, key, sig string
}

func (tpp *testTPP) newPost(t *testing.T, path, body, key string) signedPost {
	t.Helper()
	sig, err := client.SignRequest(tpp.bundle, []byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return signedPost{path: path, body: body, key: key, sig: sig}
}

// send sends p to base with bearer over c.
func (tpp *testTPP) send(c *http.Client, base, bearer string, p signedPost) (*http.Response, []byte, error) {
	return tpp.do(c, "POST", base+p.path, bearer, "application/json", p.body,
		"x-idempotency-key: "+p.key, "x-jws-signature: "+p.sig)
}

// domesticInitiation is a domestic payment's Initiation to a sort code and
// account number.
func domesticInitiation(instr, amount, creditor string) map[string]any {
	return map[string]any{
		"InstructionIdentification": instr,
		"EndToEndIdentification":    "e2e-" + instr,
		"LocalInstrument":           "UK.OBIE.FPS",
		"InstructedAmount":          map[string]any{"Amount": amount, "Currency": "GBP"},
		"CreditorAccount": map[string]any{"SchemeName": "UK.OBIE.SortCodeAccountNumber",
			"Identification": creditor, "Name": "Own account"},
		"RemittanceInformation": map[string]any{"Reference": "MOVE-" + instr},
	}
}

var paymentRisk = map[string]any{"PaymentContextCode": "PartyToParty"}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sortCodeNumber is an account's UK.OBIE.SortCodeAccountNumber.
func sortCodeNumber(a ob.Account) string {
	for _, id := range a.Identifications {
		if payments.NormaliseScheme(id.SchemeName) == "UK.OBIE.SortCodeAccountNumber" {
			return id.Identification
		}
	}
	return ""
}

// ownAccounts finds a demo customer with two enabled GBP accounts
// addressable by sort code: the debtor (the one with the larger ledger
// balance) and the creditor of internal transfers.
func ownAccounts(t *testing.T, store *sqlstore.Store) (customerID string, debtor, creditor ob.Account) {
	t.Helper()
	ctx := context.Background()
	customers, err := store.Customers(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range customers {
		accounts, err := store.AccountsByCustomer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var usable []ob.Account
		var best int64
		for _, a := range accounts {
			if a.Currency != "GBP" || a.Status != "Enabled" || sortCodeNumber(a) == "" {
				continue
			}
			la, err := store.LedgerAccount(ctx, a.ID)
			if err != nil {
				continue
			}
			if len(usable) == 0 || la.Balance.Minor > best {
				usable = append([]ob.Account{a}, usable...)
				best = la.Balance.Minor
			} else {
				usable = append(usable, a)
			}
		}
		if len(usable) >= 2 && best >= 10000 {
			return c.ID, usable[0], usable[1]
		}
	}
	t.Fatal("no demo customer with two GBP accounts and funds")
	return "", ob.Account{}, ob.Account{}
}

func TestKillDuringPaymentSQLite(t *testing.T) {
	dir := t.TempDir()
	testKillDuringPayment(t, storeConfig{dataDir: dir})
}

func TestKillDuringPaymentPostgres(t *testing.T) {
	dsn := pgtest.SchemaDSN(t) // skips without OBANK_TEST_POSTGRES_DSN
	testKillDuringPayment(t, storeConfig{dataDir: t.TempDir(), dsn: dsn})
}

// testKillDuringPayment: a TPP fires a burst of domestic payments, each on
// its own authorised consent, and the bank's process is killed (SIGKILL) as
// soon as the first answer arrives, with the others in flight. After a
// restart on the same store the TPP retries every request with the same
// idempotency key, body and signature: each is answered 201 with the one
// payment of its consent (the same id where the first attempt had been
// answered), created exactly once; another key on the consent is refused;
// the ledger verifies and the debtor's balance moved by exactly the
// accepted payments.
func testKillDuringPayment(t *testing.T, sc storeConfig) {
	ctx := context.Background()
	args := []string{"--data-dir", sc.dataDir, "--demo-customers", "2", "--scheduler-interval", "0", "--janitor-interval", "0"}
	if sc.dsn != "" {
		args = append(args, "--dsn", sc.dsn)
	}
	start := time.Now().Add(-time.Minute)
	srv := startProcess(t, args...)
	tpp := registerTPP(t, sc.dataDir, srv.url, srv.mtlsURL, "payments")

	// The test's own handle on the bank's store, for what the browser
	// would do (authorise) and for the checks.
	store, err := openStore(ctx, sc, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	customerID, debtor, creditor := ownAccounts(t, store)
	balance := func(id string) int64 {
		t.Helper()
		a, err := store.LedgerAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return a.Balance.Minor
	}

	const n = 30
	total, cutOff := 0, 0
	for round := 1; round <= 3 && cutOff == 0; round++ {
		// n consents, authorised by the customer for the debtor account,
		// each with its order's token, body, key and signature.
		type order struct {
			consentID string
			token     string
			post      signedPost
			amount    int64
		}
		orders := make([]order, n)
		for i := range orders {
			instr := fmt.Sprintf("kill-%d-%d", round, i)
			amountMinor := int64(i + 1) // 0.01 .. 0.30
			in := domesticInitiation(instr, fmt.Sprintf("0.%02d", amountMinor), sortCodeNumber(creditor))
			consent := tpp.newPost(t, domesticConsentPath,
				mustMarshal(t, map[string]any{"Data": map[string]any{"Initiation": in}, "Risk": paymentRisk}),
				"consent-"+instr)
			resp, body, err := tpp.send(tpp.http, srv.mtlsURL, tpp.cc, consent)
			if err != nil || resp.StatusCode != 201 {
				t.Fatalf("create consent: %v %v: %s", err, resp, body)
			}
			var c struct{ Data struct{ ConsentId string } }
			if err := json.Unmarshal(body, &c); err != nil || c.Data.ConsentId == "" {
				t.Fatalf("consent response: %v: %s", err, body)
			}
			id := c.Data.ConsentId
			now := time.Now().UTC()
			if _, err := store.UpdateConsent(ctx, id, now, func(c *ob.Consent) error {
				return c.Authorise(customerID, []string{debtor.ID}, now)
			}); err != nil {
				t.Fatalf("authorise %s: %v", id, err)
			}
			token := "kill-token-" + instr
			if err := store.CreateAccessToken(ctx, ob.AccessToken{Hash: ob.HashToken(token), GrantID: id,
				ClientID: tpp.clientID, Scopes: []string{"openid", "payments"}, CreatedAt: now,
				ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			orderBody := mustMarshal(t, map[string]any{"Data": map[string]any{"ConsentId": id, "Initiation": in},
				"Risk": paymentRisk})
			orders[i] = order{consentID: id, token: token, amount: amountMinor,
				post: tpp.newPost(t, domesticPaymentPath, orderBody, "order-"+instr)}
		}
		debtorBefore, creditorBefore := balance(debtor.ID), balance(creditor.ID)

		// The burst, on fresh connections; the first answer kills the bank.
		type first struct {
			answered bool
			status   int
			id       string
			err      error
		}
		firsts := make([]first, n)
		burst := sandboxClient(t, sc.dataDir, tpp.dir)
		burst.Transport.(*http.Transport).MaxConnsPerHost = 0
		burst.Transport.(*http.Transport).MaxIdleConnsPerHost = n
		var killOnce sync.Once
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i, o := range orders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				resp, body, err := tpp.send(burst, srv.mtlsURL, o.token, o.post)
				if err != nil {
					firsts[i] = first{err: err}
					return
				}
				killOnce.Do(srv.kill)
				var p struct {
					Data struct{ DomesticPaymentId string }
				}
				json.Unmarshal(body, &p)
				firsts[i] = first{answered: true, status: resp.StatusCode, id: p.Data.DomesticPaymentId}
			}()
		}
		close(gate)
		// Kill at the first answer, or after a while if none comes (a
		// server that answers nothing is stuck: a failure, reported below).
		stuck := time.AfterFunc(10*time.Second, func() { killOnce.Do(srv.kill) })
		wg.Wait()
		stuck.Stop()
		killOnce.Do(srv.kill)
		answered := 0
		for i, f := range firsts {
			if f.answered {
				answered++
				if f.status != 201 || f.id == "" {
					t.Errorf("round %d order %d: first attempt answered %d without a payment", round, i, f.status)
				}
			}
		}
		cut := n - answered
		// Of those cut off, the ones the bank had committed before it died:
		// the retry must replay them, not pay again.
		committed := 0
		for i, f := range firsts {
			if c, err := store.Consent(ctx, orders[i].consentID); !f.answered && err == nil && c.Status == ob.ConsentConsumed {
				committed++
			}
		}
		t.Logf("round %d: %d of %d orders answered before the kill; %d cut off, %d of them committed unanswered",
			round, answered, n, cut, committed)
		if answered == 0 {
			// A burst of first requests after a start once deadlocked the
			// reader pool (statements prepared on the pool from inside read
			// transactions): the server must answer.
			t.Errorf("round %d: no answer within 10s: the server was stuck before the kill", round)
		}
		burst.CloseIdleConnections()

		// The restart, and every request retried as it was.
		srv = startProcess(t, args...)
		retry := sandboxClient(t, sc.dataDir, tpp.dir)
		var accepted int64
		for i, o := range orders {
			resp, body, err := tpp.send(retry, srv.mtlsURL, o.token, o.post)
			if err != nil {
				t.Fatalf("round %d order %d retry: %v", round, i, err)
			}
			var p struct {
				Data struct{ DomesticPaymentId, ConsentId, Status string }
			}
			if resp.StatusCode != 201 || json.Unmarshal(body, &p) != nil || p.Data.DomesticPaymentId == "" {
				t.Errorf("round %d order %d retry = %d: %s", round, i, resp.StatusCode, body)
				continue
			}
			if f := firsts[i]; f.answered && f.id != p.Data.DomesticPaymentId {
				t.Errorf("round %d order %d: retry answered payment %s, the first attempt %s", round, i,
					p.Data.DomesticPaymentId, f.id)
			}
			stored, err := store.Payment(ctx, p.Data.DomesticPaymentId)
			if err != nil || stored.ConsentID != o.consentID || p.Data.ConsentId != o.consentID {
				t.Errorf("round %d order %d: payment %s: %v, consent %q/%q, want %s", round, i,
					p.Data.DomesticPaymentId, err, stored.ConsentID, p.Data.ConsentId, o.consentID)
			}
			if string(stored.Status) != p.Data.Status {
				t.Errorf("round %d order %d: answered status %s, stored %s", round, i, p.Data.Status, stored.Status)
			}
			if stored.Status == payments.StatusAcceptedSettlementCompleted {
				accepted += o.amount
			}
			// Another key is another order: the consent is consumed.
			other := o.post
			other.key += "-other"
			resp, body, err = tpp.send(retry, srv.mtlsURL, o.token, other)
			if err != nil || resp.StatusCode != 400 || !strings.Contains(string(body), ob.CodeResourceInvalidConsentStatus) {
				t.Errorf("round %d order %d: a second order on the consent = %v %v: %s", round, i, err, resp, body)
			}
		}
		total += n
		if got := balance(debtor.ID); got != debtorBefore-accepted {
			t.Errorf("round %d: debtor balance %d, want %d - %d accepted", round, got, debtorBefore, accepted)
		}
		if got := balance(creditor.ID); got != creditorBefore+accepted {
			t.Errorf("round %d: creditor balance %d, want %d + %d accepted", round, got, creditorBefore, accepted)
		}
		t.Logf("round %d: %d minor units accepted", round, accepted)
		cutOff += cut
	}
	if cutOff == 0 {
		t.Fatalf("no request was cut off by the kill in 3 rounds: the test proved nothing")
	}

	// One payment per consent, and the ledger holds.
	submitted, _, err := store.TPPPaymentStats(ctx, tpp.clientID, start)
	if err != nil || submitted != total {
		t.Errorf("payments of the TPP = %d, %v; want %d (one per consent)", submitted, err, total)
	}
	report, err := store.Verify(ctx)
	if err != nil || !report.OK() {
		t.Errorf("ledger verify: %v: %+v", err, report.Mismatches)
	}
	if t.Failed() {
		t.Logf("server output:\n%s", srv.out)
	}
}
