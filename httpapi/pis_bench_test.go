package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
)

// BenchmarkPaymentSubmit times domestic payment submission over loopback
// TLS: the TPP's signature verified, the consent consumed and the money
// posted through the ledger in one transaction, the answer signed. Beside it,
// in the same run, a bare PS256 sign+verify loop (2048-bit RSA, a body of
// the same size: the cryptography each submission does) gives the rate the
// signatures alone allow; pay/sign is the share of it the submission keeps.
// The target is at least 50 % on PostgreSQL.
//
// Two workloads: "customers" spreads the payments over the current accounts
// of a demo bank's customers, each paying another (the bank's submission
// rate); "one-account" sends them all from one account to
// another, whose balance rows every payment must lock in turn (the rate of
// a single hot account, bounded by the database's commit latency). The
// signature loop runs with 2×GOMAXPROCS workers, which saturate the CPU;
// the submissions, which also wait on the database, with 4×GOMAXPROCS.
//
//	go test ./httpapi -run '^$' -bench Payment -benchtime 200x
//
// Consents, tokens and signed bodies are made before the timer starts.
func BenchmarkPaymentSubmit(b *testing.B) {
	for _, be := range backends() {
		for _, spread := range []bool{true, false} {
			name := be.name + "/one-account"
			if spread {
				name = be.name + "/customers"
			}
			b.Run(name, func(b *testing.B) { benchPaymentSubmit(b, be, spread) })
		}
	}
}

// benchCustomers is the size of the demo bank of the "customers" workload.
const benchCustomers = 24

// payer is a debtor account of the benchmark and whom it pays.
type payer struct {
	customer, account string
	creditor          string // the payee's sort code and account number
}

// acc2SortCode addresses the fixture's Acc2: the payments are internal
// transfers, posted on both sides.
const acc2SortCode = "60000187654321"

// benchOrder is one prepared submission.
type benchOrder struct {
	body, key, sig, token string
}

func benchPaymentSubmit(b *testing.B, be backend, spread bool) {
	loadPayKeys(b)
	ctx := context.Background()
	store := be.open(b)
	ps := store.(payments.Store)
	ls := store.(ledger.Store)
	var payers []payer
	if spread {
		data, _, err := demo.Generate(demo.Config{Customers: benchCustomers, Anchor: now})
		if err != nil {
			b.Fatal(err)
		}
		obtest.MustImport(b, store, data)
		if _, err := ledger.Open(ctx, ls, now); err != nil {
			b.Fatal(err)
		}
		// Each customer's first GBP current account in credit pays the
		// next customer's.
		for _, c := range data.Customers {
			accounts, err := store.AccountsByCustomer(ctx, c.ID)
			if err != nil {
				b.Fatal(err)
			}
			for _, a := range accounts {
				la, err := ls.LedgerAccount(ctx, a.ID)
				if err != nil || a.SubType != ob.SubTypeCurrentAccount || a.Currency != "GBP" || a.CustomerID != c.ID ||
					la.Balance.Minor < 100_00 || len(a.Identifications) == 0 {
					continue
				}
				payers = append(payers, payer{customer: c.ID, account: a.ID, creditor: a.Identifications[0].Identification})
				break
			}
		}
		if len(payers) < 8 {
			b.Fatalf("only %d payers in the demo bank", len(payers))
		}
		own := make([]string, len(payers))
		for i, p := range payers {
			own[i] = p.creditor
		}
		// Payer i pays the one half the bank away, so that the payments
		// in flight together (consecutive ones) lock disjoint accounts.
		half := len(payers) / 2
		for i := range payers {
			payers[i].creditor = own[(i+half)%len(payers)]
		}
	} else {
		data := testData()
		data.Balances = append(data.Balances,
			ob.Balance{AccountID: obtest.Acc1, Type: ob.BalanceInterimBooked, DateTime: now, Amount: ob.Money{Minor: 120000, Currency: "GBP"}},
			ob.Balance{AccountID: obtest.Acc2, Type: ob.BalanceInterimBooked, DateTime: now, Amount: ob.Money{Minor: 0, Currency: "GBP"}})
		obtest.MustImport(b, store, data)
		if _, err := ledger.Open(ctx, ls, now); err != nil {
			b.Fatal(err)
		}
		payers = []payer{{customer: obtest.Alice, account: obtest.Acc1, creditor: acc2SortCode}}
	}
	// Fraud screening that never scores HIGH: a burst from one account is
	// what the velocity rules are for, and rejected payments post nothing.
	rc := risk.DefaultConfig()
	rc.MediumAt, rc.HighAt = 1, 1
	engine, err := risk.New(rc)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := payments.NewService(payments.Config{Store: ps, Risk: engine, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	tpp := payKeys.tpp1
	// The TPP's keys parsed once, as authz.Server.ClientKeys caches them.
	tppKeys, err := jws.ClientKeys(tpp.client)
	if err != nil {
		b.Fatal(err)
	}
	srv := httpapi.NewServer(httpapi.Config{
		Store: store, PublicURL: publicURL, PageSize: testPageSize, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }, Payments: svc,
		ClientKeys: func(ctx context.Context, clientID string) (oauth.Client, jwk.Set, error) {
			if clientID != tppID {
				return oauth.Client{}, nil, fmt.Errorf("client %s: %w", clientID, ob.ErrNotFound)
			}
			return tpp.client, tppKeys, nil
		},
		ResponseSigner: jws.KeySigner{Key: payKeys.bank, KID: payKeys.bankKID}, SigningIssuer: bankOrgID,
		SigningTrustAnchor: jws.TrustAnchorSandbox,
	})
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	b.Cleanup(func() { ts.Close(); srv.Close() })

	// b.N authorised consents of 0.01 GBP, each with its order token and
	// signed order.
	orders := make([]benchOrder, b.N)
	riskJSON, _ := json.Marshal(testRisk)
	for i := range orders {
		p := payers[i%len(payers)]
		in := domesticInitiation("0.01", "GBP", p.creditor)
		in["InstructionIdentification"] = fmt.Sprintf("bench-%d", i)
		var typed payments.Initiation
		if err := json.Unmarshal([]byte(mustJSON(b, in)), &typed); err != nil {
			b.Fatal(err)
		}
		c, _, err := svc.CreateConsent(ctx, payments.ConsentRequest{Kind: ob.KindDomesticPayment, TPPID: tppID,
			Idempotency: payments.IdempotencyKey{Key: rand.Text(), RequestHash: []byte(rand.Text())},
			Initiation:  typed, Risk: riskJSON})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Authorise(ctx, payments.AuthoriseRequest{ConsentID: c.ID, CustomerID: p.customer,
			AccountID: p.account, SteppedUp: true}); err != nil {
			b.Fatal(err)
		}
		bearer := rand.Text()
		if err := store.CreateAccessToken(ctx, ob.AccessToken{Hash: ob.HashToken(bearer), GrantID: c.ID, ClientID: tppID,
			Scopes: []string{"openid", "payments"}, CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
		body := orderBody(b, c.ID, in)
		orders[i] = benchOrder{body: body, key: rand.Text(), sig: sign(b, tpp, body, now), token: bearer}
	}
	before := balanceOf(b, ls, payers[0].account)

	signWorkers := runtime.GOMAXPROCS(0) * 2
	workers := runtime.GOMAXPROCS(0) * 4
	client := ts.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = workers
	submit := func(o benchOrder) error {
		req, err := http.NewRequest(http.MethodPost, ts.URL+domesticPayments, strings.NewReader(o.body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-idempotency-key", o.key)
		req.Header.Set(jws.Header, o.sig)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		rb, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated || resp.Header.Get(jws.Header) == "" ||
			!strings.Contains(string(rb), `"AcceptedSettlementCompleted"`) {
			return fmt.Errorf("POST domestic-payments = %d: %s", resp.StatusCode, rb)
		}
		return nil
	}
	// Warm the connections (TLS handshakes are not the subject) with a
	// request the server refuses before any work.
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := client.Get(ts.URL + domesticPayments + "/pdp-none"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()

	b.ResetTimer()
	cpu0 := selfCPU(b)
	db0, dbOK := postgresCPU()
	payRate := parallelRate(b, workers, len(orders), func(i int) error { return submit(orders[i]) })
	b.StopTimer()
	appCPU := perOp(selfCPU(b)-cpu0, len(orders))
	var dbCPU float64
	if db1, ok := postgresCPU(); ok && dbOK && be.name == "postgres" {
		dbCPU = perOp(db1-db0, len(orders))
	}
	// The first payer paid 0.01 for each of its orders and, with several
	// payers, received as much from the one paying it.
	paid := int64(countFrom(b.N, len(payers), 0))
	received := int64(0)
	if len(payers) > 1 {
		received = int64(countFrom(b.N, len(payers), len(payers)-len(payers)/2))
	}
	if got, want := balanceOf(b, ls, payers[0].account), before-paid+received; got != want {
		b.Errorf("first payer's balance %d after %d payments of 0.01, want %d", got, b.N, want)
	}
	if rep, err := ls.Verify(ctx); err != nil || !rep.OK() {
		b.Errorf("ledger after the benchmark: %v, %v", rep, err)
	}

	// The baseline: the TPP's signature made and verified, as many times,
	// over a body of the same size, by as many workers.
	sample := []byte(orders[0].body)
	set, err := jws.ClientKeys(tpp.client)
	if err != nil {
		b.Fatal(err)
	}
	signer := jws.KeySigner{Key: tpp.key, KID: tpp.kid}
	opts := jws.SignOptions{Issuer: tpp.client.OrgID + "/" + tpp.client.SoftwareID, TrustAnchor: jws.TrustAnchorSandbox, Now: now}
	n := max(b.N, 4*signWorkers) // enough for a rate even at -benchtime 1x
	cpu0 = selfCPU(b)
	signRate := parallelRate(b, signWorkers, n, func(int) error {
		sig, err := jws.SignDetached(ctx, sample, signer, opts)
		if err != nil {
			return err
		}
		_, err = jws.VerifyDetached(sig, sample, set, jws.ExpectClient(tpp.client), now)
		return err
	})
	signCPU := perOp(selfCPU(b)-cpu0, n)
	b.ReportMetric(payRate, "pay/s")
	b.ReportMetric(signRate, "sign+verify/s")
	b.ReportMetric(100*payRate/signRate, "%pay/sign")
	// Where the time goes: this process's CPU per payment (server and
	// TPP client), the database server's when it runs on this machine, and
	// the signature loop's per sign+verify. With the database on a host of
	// its own, the rate ratio would tend to %pay/sign-appcpu.
	b.ReportMetric(appCPU, "app-µs/pay")
	if dbCPU > 0 {
		b.ReportMetric(dbCPU, "db-µs/pay")
	}
	b.ReportMetric(signCPU, "sign-µs/op")
	b.ReportMetric(100*signCPU/appCPU, "%pay/sign-appcpu")
	b.Logf("%s: %d payments from %d accounts at %.0f/s (%d workers); PS256 sign+verify %.0f/s (%d workers); payment/sign = %.1f %%; "+
		"CPU per payment %.0f µs here + %.0f µs in the database, per sign+verify %.0f µs",
		be.name, b.N, len(payers), payRate, workers, signRate, signWorkers, 100*payRate/signRate, appCPU, dbCPU, signCPU)
}

// perOp is d per operation, in microseconds.
func perOp(d time.Duration, n int) float64 {
	return float64(d) / float64(time.Microsecond) / float64(n)
}

// selfCPU returns the user and system CPU time the process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU returns the CPU time the processes named "postgres" on this
// machine have used, from /proc (Linux), or false when there are none: a
// PostgreSQL server elsewhere, or no /proc. A backend that exits between
// two readings takes its time with it, so a difference may undercount; the
// benchmark's pool keeps its connections while it runs.
func postgresCPU() (time.Duration, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	var ticks int64
	found := false
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // it exited
		}
		// pid (comm) state ppid ... utime stime: fields 14 and 15, the
		// 12th and 13th after the parenthesised command name.
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open || string(stat[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(stat[end+1:]))
		if len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		s, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ticks += u + s
		found = true
	}
	// USER_HZ is 100 on every Linux ABI Go runs on.
	return time.Duration(ticks) * 10 * time.Millisecond, found
}

// countFrom counts the orders i < n with i % k == r.
func countFrom(n, k, r int) int {
	if r >= n {
		return 0
	}
	return (n-1-r)/k + 1
}

// parallelRate runs f(0..n-1) on workers goroutines and returns calls per
// second; the first error fails b.
func parallelRate(b *testing.B, workers, n int, f func(i int) error) float64 {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return float64(n) / elapsed.Seconds()
}

func balanceOf(b *testing.B, ls ledger.Store, id string) int64 {
	b.Helper()
	a, err := ls.LedgerAccount(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	return a.Balance.Minor
}
