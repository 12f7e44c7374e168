package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/obank/obank/authz"
	"github.com/obank/obank/demo"
	"github.com/obank/obank/events"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/janitor"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/web"
)

// serveConfig is everything `obank serve` is configured with.
type serveConfig struct {
	store         storeConfig
	addr          string
	publicURL     string
	demo          bool
	demoCustomers int
	demoSeed      int64
	pageSize      int
	maxBodyBytes  int64
	log           logConfig
	security      securityConfig
	// allowPrivateCallbacks lets event subscriptions name callback URLs on
	// private or loopback addresses (tests and local demos only: SSRF).
	allowPrivateCallbacks bool
	janitorInterval       time.Duration
	shutdownTimeout       time.Duration
	payments              paymentsConfig
}

// storeConfig selects the store: the embedded SQLite file in dataDir, or the
// PostgreSQL database named by dsn.
type storeConfig struct {
	dataDir string
	dsn     string
}

func (c *storeConfig) flags(fs *cli.FlagSet) {
	fs.String(&c.dataDir, "data-dir", "./obank-data", "directory of the embedded SQLite store (obank.db)")
	fs.String(&c.dsn, "dsn", "", "database: empty for the embedded SQLite store in --data-dir,\nor postgres://user:password@host:5432/db?sslmode=... for PostgreSQL")
}

func parseServe(env *environment, args []string) (*serveConfig, error) {
	c := &serveConfig{}
	fs := cli.NewFlagSet("serve", "Run the bank: the OBIE resource APIs and the authorization server on the embedded store\n(default) or PostgreSQL.", env.stderr)
	fs.String(&c.addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	c.store.flags(fs)
	fs.String(&c.publicURL, "public-url", "", "external base URL of the plain listener, the OAuth issuer (default http://<bound address>)")
	fs.Bool(&c.demo, "demo", true, "seed a deterministic demo bank into an empty store; false gives an empty bank")
	fs.Int(&c.demoCustomers, "demo-customers", 50, "number of customers in the demo bank")
	fs.Int64(&c.demoSeed, "demo-seed", int64(demo.DefaultSeed), "seed of the demo bank generator")
	fs.Int(&c.pageSize, "page-size", httpapi.DefaultPageSize, "records per page of a collection (25-1000)")
	fs.Int64(&c.maxBodyBytes, "max-body-bytes", httpapi.DefaultMaxBodyBytes, "request body size limit in bytes")
	c.log.flags(fs)
	c.security.flags(fs)
	fs.Bool(&c.allowPrivateCallbacks, "allow-private-callbacks", false, "allow event callback URLs on private or loopback addresses (tests and local\ndemos only: it opens the server to SSRF)")
	fs.Duration(&c.janitorInterval, "janitor-interval", janitor.DefaultInterval, "how often expired consents are swept (0 disables; `obank janitor` runs one sweep)")
	fs.Duration(&c.shutdownTimeout, "shutdown-timeout", 20*time.Second, "time in-flight requests get to finish on SIGINT/SIGTERM")
	c.payments.flags(fs)
	if err := fs.Parse(args, env.getenv); err != nil {
		return nil, err
	}
	if c.pageSize < 25 || c.pageSize > 1000 {
		return nil, fmt.Errorf("--page-size %d: OBIE pages hold 25 to 1000 records", c.pageSize)
	}
	if c.demoCustomers < 1 {
		return nil, fmt.Errorf("--demo-customers %d: need at least one", c.demoCustomers)
	}
	if c.publicURL != "" && !strings.HasPrefix(c.publicURL, "http://") && !strings.HasPrefix(c.publicURL, "https://") {
		return nil, fmt.Errorf("--public-url %q: must be an absolute http(s) URL", c.publicURL)
	}
	c.publicURL = strings.TrimSuffix(c.publicURL, "/")
	return c, nil
}

func runServe(ctx context.Context, env *environment, args []string) error {
	c, err := parseServe(env, args)
	if err != nil {
		return err
	}
	logger, err := c.log.logger(env.stderr)
	if err != nil {
		return err
	}

	store, err := openStore(ctx, c.store, false)
	if err != nil {
		return err
	}
	defer store.Close()

	tr, err := resolveTrust(&c.security, c.store.dataDir, c.demo)
	if err != nil {
		return err
	}
	sealer, err := keystore.New(tr.secret, tr.previous...)
	if err != nil {
		return err
	}
	// Customers' second-factor secrets are sealed at rest with the master
	// secret, from the demo seed on; any stored in clear (an import without
	// the secret, an older database) are sealed now.
	store.SetSecretSealer(sealer)
	if c.demo {
		if err := seedDemo(ctx, env, logger, store, c); err != nil {
			return err
		}
	}
	if n, err := store.SealCustomerSecrets(ctx); err != nil {
		return fmt.Errorf("sealing customers' TOTP secrets: %w", err)
	} else if n > 0 {
		logger.Info("customers' TOTP secrets sealed", "customers", n)
	}
	// Every account gets its opening entry in the ledger (idempotent), so
	// balances equal the sum of postings from the first payment on.
	if n, err := ledger.Open(ctx, store, time.Now()); err != nil {
		return fmt.Errorf("opening the ledger: %w", err)
	} else if n > 0 {
		logger.Info("ledger opened", "accounts", n)
	}

	plainLn, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	defer plainLn.Close()
	mtlsLn, err := net.Listen("tcp", c.security.mtlsAddr)
	if err != nil {
		return err
	}
	defer mtlsLn.Close()
	if c.publicURL == "" {
		// The bound address, not --addr: with port 0 only the listener knows.
		c.publicURL = "http://" + plainLn.Addr().String()
	}
	if c.security.mtlsPublicURL == "" {
		c.security.mtlsPublicURL = "https://" + mtlsLn.Addr().String()
	}

	keys, err := authz.NewKeyManager(authz.KeyConfig{Store: store, Sealer: sealer, Issue: tr.signingIssuer})
	if err != nil {
		return err
	}
	policy := events.CallbackPolicy{AllowPrivate: c.allowPrivateCallbacks}
	publisher := &events.Publisher{Store: store, Issuer: c.publicURL, BaseURL: c.security.mtlsPublicURL}
	paymentService, err := c.payments.service(store, publisher, c.security.mtlsPublicURL, logger)
	if err != nil {
		return err
	}
	// The customer's journey: login, TOTP, consent, and the dashboard.
	journey, err := web.NewJourney(web.Config{
		Store:    store,
		Events:   publisher,
		Payments: paymentService,
		DemoMode: c.demo,
		Secure:   strings.HasPrefix(c.publicURL, "https://"),
		Logger:   logger,
	})
	if err != nil {
		return err
	}
	as := authz.NewServer(authz.Config{
		Store:           store,
		Keys:            keys,
		Issuer:          c.publicURL,
		MTLSBaseURL:     c.security.mtlsPublicURL,
		DirectoryKeys:   tr.directoryKeys,
		OrgID:           c.security.orgID,
		Journey:         journey,
		Secret:          tr.secret,
		PreviousSecrets: tr.previous,
		RequirePKCE:     c.security.requirePKCE,
		AccessTokenTTL:  c.security.accessTokenTTL,
		RefreshTokenTTL: c.security.refreshTokenTTL,
		Logger:          logger,
	})
	api := httpapi.NewServer(httpapi.Config{
		Store:         store,
		PublicURL:     c.security.mtlsPublicURL,
		PageSize:      c.pageSize,
		Logger:        logger,
		MaxBodyBytes:  c.maxBodyBytes,
		Events:        &events.Service{Store: store, Signer: keys, Policy: policy},
		ConsentEvents: publisher,
		Payments:      paymentService,
		ClientKeys:    as.ClientKeys,
		// The bank signs payment responses with its current signing key.
		ResponseSigner:     keys,
		SigningIssuer:      responseIssuer(c.security.orgID),
		SigningTrustAnchor: c.payments.trustAnchor,
	})
	// Deferred after the store's Close, so it runs first: the recorder
	// flushes buffered API calls while the store is still open.
	defer api.Close()

	// The plain listener: discovery, JWKS, authorize, the customer's pages
	// and operations; behind a TLS-terminating proxy also everything a TPP
	// calls with its certificate, which the proxy forwards.
	journey.SetFinisher(as)
	plainMux := http.NewServeMux()
	as.Public(plainMux)
	journey.Routes(plainMux)
	var plain http.Handler = plainMux
	if c.security.proxyCertHeader != "" {
		as.MTLS(plainMux)
		plainMux.Handle("/", api.Handler())
		proxy := &mtls.Proxy{Header: c.security.proxyCertHeader, Trusted: tr.proxies, Roots: tr.clientCAs, Logger: logger}
		plain = proxy.Middleware(plainMux)
	} else {
		plainMux.Handle("/", onlyPublicPaths(api.Handler()))
	}
	mtlsMux := http.NewServeMux()
	as.MTLS(mtlsMux)
	mtlsMux.Handle("/", api.Handler())

	plainSrv := newHTTPServer(plain, logger)
	mtlsSrv := newHTTPServer(mtlsMux, logger)
	mtlsSrv.TLSConfig = pki.ServerTLSConfig(tr.serverCert, tr.clientCAs, false)

	logger.Info("obank serving", "addr", plainLn.Addr().String(), "mtls_addr", mtlsLn.Addr().String(),
		"public_url", c.publicURL, "mtls_public_url", c.security.mtlsPublicURL,
		"store", c.store.describe(), "version", versionString())
	// Background workers stop after the HTTP servers (nothing new arrives)
	// and before the store closes (deferred above).
	workers, stopWorkers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stopWorkers(); wg.Wait() }()
	deliverer := &events.Deliverer{Store: store, Keys: keys, AllowPrivateCallbacks: policy.AllowPrivate,
		FinancialID: c.security.orgID, Logger: logger}
	wg.Go(func() { deliverer.Run(workers) })
	if c.janitorInterval > 0 {
		wg.Go(func() { janitor.Run(workers, store, c.janitorInterval, nil, logger) })
	}
	if c.payments.schedulerInterval > 0 {
		wg.Go(func() { paymentService.Run(workers, c.payments.schedulerInterval) })
	}
	wg.Go(func() {
		// Debits written before risk records existed get theirs (once,
		// then this finds none at each start).
		n, err := store.BackfillAllRiskRecords(workers, 1000)
		switch {
		case err != nil && workers.Err() == nil:
			logger.Error("backfilling risk records", "err", err, "filled", n)
		case n > 0:
			logger.Info("risk records backfilled", "transactions", n)
		}
	})

	if env.ready != nil {
		env.ready(listenAddrs{plain: plainLn.Addr().String(), mtls: mtlsLn.Addr().String()})
	}
	return serveUntilDone(ctx, logger, c.shutdownTimeout,
		serving{plainSrv, plainLn, false}, serving{mtlsSrv, mtlsLn, true})
}

// listenAddrs are the bound addresses, reported to tests.
type listenAddrs struct{ plain, mtls string }

// newHTTPServer returns a server with the timeouts every listener needs.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler: h,
		// Timeouts bound what one slow or malicious client can hold: headers
		// must arrive quickly, whole requests and responses within a minute.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Large API answers leave in one transmission (httpapi/coalesce.go).
		ConnContext: httpapi.ConnContext,
	}
}

// serving is one server on its listener.
type serving struct {
	srv *http.Server
	ln  net.Listener
	tls bool
}

// serveUntilDone serves every listener until ctx ends or one fails, then
// shuts all down gracefully: listeners close at once and in-flight requests
// get timeout to finish.
func serveUntilDone(ctx context.Context, logger *slog.Logger, timeout time.Duration, servers ...serving) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			if s.tls {
				errc <- s.srv.ServeTLS(s.ln, "", "")
			} else {
				errc <- s.srv.Serve(s.ln)
			}
		}()
	}
	var first error
	select {
	case first = <-errc:
		logger.Error("listener failed", "err", first)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	shutdownErrs := make([]error, len(servers))
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shutdownErrs[i] = s.srv.Shutdown(sctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(shutdownErrs...); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if first != nil {
		return first
	}
	for range servers {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	logger.Info("stopped")
	return nil
}

// seedDemo seeds the demo bank into an empty store and prints its logins.
// With several instances starting on one empty PostgreSQL, one import wins
// and the others see a conflict; that is success for them too.
func seedDemo(ctx context.Context, env *environment, logger *slog.Logger, store ob.Store, c *serveConfig) error {
	cfg := demo.Config{Customers: c.demoCustomers, Seed: uint64(c.demoSeed)}
	empty, err := store.Empty(ctx)
	if err != nil {
		return err
	}
	var logins []demo.Login
	if empty {
		data, l, err := demo.Generate(cfg)
		if err != nil {
			return fmt.Errorf("demo bank: %w", err)
		}
		logins = l
		start := time.Now()
		switch err := store.Import(ctx, data); {
		case ob.ErrorCode(err) == ob.CodeConflict:
			logger.Info("demo bank seeded by another instance")
		case err != nil:
			return fmt.Errorf("seeding the demo bank: %w", err)
		default:
			logger.Info("demo bank seeded", "customers", len(data.Customers), "accounts", len(data.Accounts),
				"transactions", len(data.Transactions), "took", time.Since(start).Round(time.Millisecond).String())
		}
	} else if logins, err = demo.Logins(cfg); err != nil {
		// A restart needs the logins alone: no second bank is generated.
		return fmt.Errorf("demo bank: %w", err)
	}
	// The logins are printed on every start, not only the first: a person
	// who restarts the server still needs them. They are only right if the
	// store was seeded with the same --demo-customers and --demo-seed.
	if _, err := store.CustomerByUsername(ctx, logins[0].Username); err != nil {
		if ob.IsNotFound(err) {
			logger.Warn("store holds data that is not this demo bank; not printing demo logins")
			return nil
		}
		return err
	}
	fmt.Fprintf(env.stderr, "\nDemo bank logins (username / password):\n%s\n", demo.LoginTable(logins, len(logins)))
	return nil
}
