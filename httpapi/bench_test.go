package httpapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sqlite"
)

// The AIS hot path over loopback HTTP: BenchmarkTransactionsPage reads a
// page of 100 transactions of an account holding benchTxCount, and
// BenchmarkHello answers a bare JSON hello through the same stack (front
// middleware, route checks, bearer-token lookup in the store). Their ratio
// is the share of the serving stack's throughput the transactions read
// keeps; the target is at least 40 % on SQLite. %hello-cpu is the same
// ratio from the CPU time per request, steadier on a busy machine.
//
//	go test -run '^$' -bench 'Hello|TransactionsPage' -benchtime 3s -p 1 ./httpapi/

const (
	benchTxCount  = 2000
	benchAccount  = "acc-bench"
	benchPageSize = 100
)

// benchRates keeps each benchmark's req/s so the second one can print the
// ratio; benchmarks in a file run in source order. (Test-only state.)
var benchRates = struct {
	sync.Mutex
	m map[string]float64
}{m: map[string]float64{}}

// benchBackends are the stores benchmarked: SQLite always, PostgreSQL when
// OBANK_TEST_POSTGRES_DSN is set (pgtest skips otherwise).
var benchBackends = []struct {
	name string
	open func(testing.TB) ob.Store
}{
	{"sqlite", func(tb testing.TB) ob.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "obank.db"), sqlite.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(tb testing.TB) ob.Store { return pgtest.OpenTestStore(tb) }},
}

// benchServer seeds a store, starts the server on loopback and returns the
// base URL and a bearer token.
func benchServer(b *testing.B, open func(testing.TB) ob.Store) (string, string) {
	b.Helper()
	h, bearer := benchHandler(b, open)
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ConnContext = ConnContext // as obank serve's servers
	ts.Start()
	b.Cleanup(ts.Close)
	return ts.URL, bearer
}

// benchHandler seeds a store and returns the server's handler and a bearer
// token.
func benchHandler(b *testing.B, open func(testing.TB) ob.Store) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	store := open(b)
	now := obtest.FixtureTime()
	d := obtest.Fixture()
	d.Accounts = append(d.Accounts, ob.Account{ID: benchAccount, CustomerID: obtest.Alice, Status: "Enabled",
		Currency: "GBP", Type: ob.AccountTypePersonal, SubType: ob.SubTypeCurrentAccount, OpeningDate: now.AddDate(-2, 0, 0),
		CreatedAt: now.AddDate(-2, 0, 0)})
	d.AccountHolders = append(d.AccountHolders, ob.AccountHolder{AccountID: benchAccount, CustomerID: obtest.Alice,
		PartyType: "Sole", AccountRole: "UK.OBIE.Principal"})
	for i := range benchTxCount {
		amt := int64(1000 + i)
		if i%3 != 0 {
			amt = -amt
		}
		d.Transactions = append(d.Transactions, ob.Transaction{
			ID: fmt.Sprintf("tx-b-%05d", i), AccountID: benchAccount, Reference: fmt.Sprintf("PAYMENT %d", i),
			Status: ob.TxBooked, Mutability: "Immutable", BookingDateTime: now.Add(-time.Duration(i) * time.Hour),
			Information: "Card payment at a shop", Amount: ob.Money{Minor: amt, Currency: "GBP"},
			BalanceAfter:        &ob.Money{Minor: 100000 + amt, Currency: "GBP"},
			BankTransactionCode: &ob.BankTransactionCode{Code: "IssuedCreditTransfers", SubCode: "DomesticCreditTransfer"},
			Merchant:            &ob.Merchant{Name: "Shop Ltd", CategoryCode: "5411"},
			Category:            "groceries",
		})
	}
	if err := store.Import(ctx, d); err != nil {
		b.Fatal(err)
	}
	g := ob.AccessGrant{ID: "grant-bench", TPPID: "tpp-bench", CustomerID: obtest.Alice,
		Permissions: ob.AllPermissions, AccountIDs: []string{benchAccount}, CreatedAt: now}
	if err := store.CreateAccessGrant(ctx, g); err != nil {
		b.Fatal(err)
	}
	bearer := rand.Text()
	if err := store.CreateAccessToken(ctx, ob.AccessToken{Hash: ob.HashToken(bearer), GrantID: g.ID, ClientID: g.TPPID,
		Scopes: []string{"accounts"}, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		b.Fatal(err)
	}
	s := NewServer(Config{Store: store, PublicURL: "https://obank.example", PageSize: benchPageSize,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	s.mux.Handle("GET "+aisPrefix+"/hello", s.handle(apiRoute, func(w http.ResponseWriter, r *http.Request) error {
		if _, err := aisGrant(r); err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]string{"hello": "world"})
	}))
	b.Cleanup(func() { s.Close() })
	return s.Handler(), bearer
}

// loadClient issues authenticated GETs from keep-alive connections, as the
// benchmarks' TPPs.
type loadClient struct {
	client *http.Client
	bearer string
}

func newLoadClient(b *testing.B, bearer string) *loadClient {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	return &loadClient{client: &http.Client{Transport: tr}, bearer: bearer}
}

// get fetches url and reads the whole answer, which must be a 200.
func (c *loadClient) get(url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.bearer)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

// runLoad issues GET url from parallel keep-alive clients for b.N requests
// and reports req/s; backend and kind ("hello" or "transactions") key the
// rate for the ratio.
func runLoad(b *testing.B, backend, kind, url, bearer string) {
	b.Helper()
	c := newLoadClient(b, bearer)
	if err := c.get(url); err != nil { // warm up, and fail fast on a broken setup
		b.Fatal(err)
	}
	b.SetParallelism(4) // 4 client goroutines per CPU
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.get(url); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "req/s")
	// The process's CPU time per request (server and clients) is what the
	// rate is at saturation, less the noise of a shared machine: other
	// processes' load changes the wall-clock rate far more than it does
	// this.
	cpu := float64(processCPU(b)-cpu0) / float64(time.Microsecond) / float64(b.N)
	b.ReportMetric(cpu, "cpu-µs/req")
	benchRates.Lock()
	defer benchRates.Unlock()
	benchRates.m[backend+"/"+kind] = rate
	benchRates.m[backend+"/"+kind+"/cpu"] = cpu
	if hello, ok := benchRates.m[backend+"/hello"]; ok && kind != "hello" && b.N > 1 {
		helloCPU := benchRates.m[backend+"/hello/cpu"]
		b.ReportMetric(100*rate/hello, "%hello")
		b.ReportMetric(100*helloCPU/cpu, "%hello-cpu")
		b.Logf("transactions/hello = %.0f / %.0f req/s = %.1f %%; by CPU time %.0f / %.0f µs = %.1f %%",
			rate, hello, 100*rate/hello, cpu, helloCPU, 100*helloCPU/cpu)
	}
}

// BenchmarkPageVsHello is the ratio of BenchmarkTransactionsPage to
// BenchmarkHello measured with the two loads interleaved on one server:
// phases of about a quarter of a second each alternate, so that a change
// in the machine's other load falls on both alike. Run one after the other,
// the two benchmarks' ratio moves by several points between runs on a
// shared machine; this one much less. b.N counts page requests; each phase
// of pages is followed by one of 2.5 times as many hellos, which take about
// as long. The phases are long so that little of the garbage collection
// one phase's allocations cause is done, and counted, in the next.
func BenchmarkPageVsHello(b *testing.B) {
	const pagesPerPhase = 2000
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			base, bearer := benchServer(b, be.open)
			c := newLoadClient(b, bearer)
			helloURL := base + aisPrefix + "/hello"
			pageURL := base + aisPrefix + "/accounts/" + benchAccount + "/transactions"
			for _, u := range []string{helloURL, pageURL} {
				if err := c.get(u); err != nil {
					b.Fatal(err)
				}
			}
			var pages, hellos phaseTotals
			b.ResetTimer()
			for left := b.N; left > 0; left -= pagesPerPhase {
				n := min(left, pagesPerPhase)
				pages.add(runPhase(b, c, pageURL, n))
				hellos.add(runPhase(b, c, helloURL, n*5/2))
			}
			b.StopTimer()
			pageRate, helloRate := pages.rate(), hellos.rate()
			b.ReportMetric(pageRate, "page-req/s")
			b.ReportMetric(helloRate, "hello-req/s")
			b.ReportMetric(100*pageRate/helloRate, "%hello")
			b.ReportMetric(100*hellos.cpuPerRequest()/pages.cpuPerRequest(), "%hello-cpu")
		})
	}
}

// phaseTotals adds up the phases of one kind of request.
type phaseTotals struct {
	requests  int
	wall, cpu time.Duration
}

func (t *phaseTotals) add(p phaseTotals) {
	t.requests += p.requests
	t.wall += p.wall
	t.cpu += p.cpu
}

func (t *phaseTotals) rate() float64 { return float64(t.requests) / t.wall.Seconds() }

func (t *phaseTotals) cpuPerRequest() float64 { return float64(t.cpu) / float64(t.requests) }

// runPhase fetches url n times from 4 goroutines per CPU, as runLoad.
func runPhase(b *testing.B, c *loadClient, url string, n int) phaseTotals {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	cpu0, start := processCPU(b), time.Now()
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := c.get(url); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return phaseTotals{requests: n, wall: time.Since(start), cpu: processCPU(b) - cpu0}
}

// processCPU returns the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkHello(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			base, bearer := benchServer(b, be.open)
			runLoad(b, be.name, "hello", base+aisPrefix+"/hello", bearer)
		})
	}
}

func BenchmarkTransactionsPage(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			base, bearer := benchServer(b, be.open)
			runLoad(b, be.name, "transactions", base+aisPrefix+"/accounts/"+benchAccount+"/transactions", bearer)
		})
	}
}
