package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/ob"
)

// serveConfig is everything `obank serve` is configured with.
type serveConfig struct {
	store           storeConfig
	addr            string
	publicURL       string
	demo            bool
	demoCustomers   int
	demoSeed        int64
	pageSize        int
	maxBodyBytes    int64
	log             logConfig
	shutdownTimeout time.Duration
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
	fs := cli.NewFlagSet("serve", "Run the OBIE resource APIs on the embedded store (default) or PostgreSQL.", env.stderr)
	fs.String(&c.addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	c.store.flags(fs)
	fs.String(&c.publicURL, "public-url", "", "external base URL used in response Links (default http://<bound address>)")
	fs.Bool(&c.demo, "demo", true, "seed a deterministic demo bank into an empty store; false gives an empty bank")
	fs.Int(&c.demoCustomers, "demo-customers", 50, "number of customers in the demo bank")
	fs.Int64(&c.demoSeed, "demo-seed", int64(demo.DefaultSeed), "seed of the demo bank generator")
	fs.Int(&c.pageSize, "page-size", httpapi.DefaultPageSize, "records per page of a collection (25-1000)")
	fs.Int64(&c.maxBodyBytes, "max-body-bytes", httpapi.DefaultMaxBodyBytes, "request body size limit in bytes")
	c.log.flags(fs)
	fs.Duration(&c.shutdownTimeout, "shutdown-timeout", 20*time.Second, "time in-flight requests get to finish on SIGINT/SIGTERM")
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

	if c.demo {
		if err := seedDemo(ctx, env, logger, store, c); err != nil {
			return err
		}
	}

	srv := &http.Server{
		// Timeouts bound what one slow or malicious client can hold: headers
		// must arrive quickly, whole requests and responses within a minute.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	if c.publicURL == "" {
		// The bound address, not --addr: with port 0 only the listener knows.
		c.publicURL = "http://" + ln.Addr().String()
	}
	api := httpapi.NewServer(httpapi.Config{
		Store:        store,
		PublicURL:    c.publicURL,
		PageSize:     c.pageSize,
		Logger:       logger,
		MaxBodyBytes: c.maxBodyBytes,
	})
	// Deferred after the store's Close, so it runs first: the recorder
	// flushes buffered API calls while the store is still open.
	defer api.Close()
	srv.Handler = api.Handler()
	logger.Info("obank serving", "addr", ln.Addr().String(), "public_url", c.publicURL,
		"store", c.store.describe(), "version", versionString())
	if env.ready != nil {
		env.ready(ln.Addr().String())
	}
	return serveUntilDone(ctx, logger, srv, ln, c.shutdownTimeout)
}

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully:
// the listener closes at once and in-flight requests get timeout to finish.
func serveUntilDone(ctx context.Context, logger *slog.Logger, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
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
	data, logins, err := demo.Generate(cfg)
	if err != nil {
		return fmt.Errorf("demo bank: %w", err)
	}
	if empty {
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
