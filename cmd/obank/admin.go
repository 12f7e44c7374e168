package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/janitor"
	"github.com/obank/obank/ob"
)

func runMigrate(ctx context.Context, env *environment, args []string) error {
	var c storeConfig
	fs := cli.NewFlagSet("migrate", "Apply the database migrations of the embedded store or PostgreSQL, then exit.", env.stderr)
	c.flags(fs)
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	store, err := openStore(ctx, c, false)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(env.stdout, "%s: schema is current\n", c.describe())
	return nil
}

func runImport(ctx context.Context, env *environment, args []string) error {
	var c storeConfig
	var file string
	fs := cli.NewFlagSet("import", "Load bank data from a JSON file (the JSON encoding of ob.BankData) in one transaction.", env.stderr)
	c.flags(fs)
	fs.String(&file, "file", "", "the JSON file to import (- for standard input)")
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	if file == "" {
		return errors.New("--file is required")
	}
	data, err := readBankData(file)
	if err != nil {
		return err
	}
	if err := data.Validate(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	store, err := openStore(ctx, c, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Import(ctx, data); err != nil {
		if ob.ErrorCode(err) == ob.CodeConflict {
			return fmt.Errorf("%s: some records already exist; nothing was imported: %w", file, err)
		}
		return err
	}
	fmt.Fprintf(env.stdout, "imported %d customers, %d accounts, %d transactions\n",
		len(data.Customers), len(data.Accounts), len(data.Transactions))
	return nil
}

func readBankData(file string) (*ob.BankData, error) {
	f := os.Stdin
	if file != "-" {
		var err error
		if f, err = os.Open(file); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var data ob.BankData
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &data, nil
}

// runToken creates an access grant and a bearer token straight in the store,
// bypassing OAuth: an operator's and developer's tool to try the resource
// APIs, as the tests do. It needs the same database access as serve.
func runToken(ctx context.Context, env *environment, args []string) error {
	var (
		c           storeConfig
		username    string
		permissions string
		tpp         string
		ttl         time.Duration
	)
	fs := cli.NewFlagSet("token", "Create an access grant for a customer's accounts and print a bearer token for it\n(development and operations; TPPs get tokens through OAuth).", env.stderr)
	c.flags(fs)
	fs.String(&username, "customer", "", "the customer's login name (e.g. a demo login)")
	fs.String(&permissions, "permissions", "", "space- or comma-separated OBIE permissions (default: all)")
	fs.String(&tpp, "tpp", "obank-cli", "the TPP (OAuth client id) the grant belongs to")
	fs.Duration(&ttl, "ttl", time.Hour, "lifetime of the token and the grant")
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	if username == "" {
		return errors.New("--customer is required")
	}
	perms := ob.Permissions(ob.AllPermissions)
	if permissions != "" {
		perms = ob.ParsePermissions(strings.ReplaceAll(permissions, ",", " "))
		for _, p := range perms {
			if !p.Known() {
				return fmt.Errorf("--permissions: unknown permission %q", p)
			}
		}
	}
	store, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer store.Close()
	customer, err := store.CustomerByUsername(ctx, username)
	if err != nil {
		return fmt.Errorf("customer %q: %w", username, err)
	}
	accounts, err := store.AccountsByCustomer(ctx, customer.ID)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	expires := now.Add(ttl)
	g := ob.AccessGrant{
		ID: "cli-" + rand.Text()[:16], TPPID: tpp, CustomerID: customer.ID, Permissions: perms,
		ExpiresAt: &expires, CreatedAt: now,
	}
	for _, a := range accounts {
		g.AccountIDs = append(g.AccountIDs, a.ID)
	}
	if err := store.CreateAccessGrant(ctx, g); err != nil {
		return err
	}
	token := rand.Text() + rand.Text() // 2 x 128 bits
	if err := store.CreateAccessToken(ctx, ob.AccessToken{
		Hash: ob.HashToken(token), GrantID: g.ID, ClientID: tpp, Scopes: []string{"accounts"},
		CreatedAt: now, ExpiresAt: expires,
	}); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, token)
	return nil
}

// runJanitor sweeps expired consents once: awaiting ones become Rejected,
// authorised ones Expired with their tokens revoked. serve does the same
// every --janitor-interval; this is for cron-style deployments.
func runJanitor(ctx context.Context, env *environment, args []string) error {
	var c storeConfig
	fs := cli.NewFlagSet("janitor", "Expire consents past their ExpirationDateTime, delete expired idempotency keys and the security records nothing\ncan use any more (see the README) once, then exit.", env.stderr)
	c.flags(fs)
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	store, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now()
	changed, err := janitor.Once(ctx, store, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d consents expired\n", len(changed))
	purged, err := janitor.PurgeKeys(ctx, store, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d expired idempotency keys deleted\n", purged)
	deleted, err := janitor.Purge(ctx, store, now)
	if err != nil {
		return err
	}
	tables := slices.Sorted(maps.Keys(deleted))
	total := 0
	for _, t := range tables {
		total += deleted[t]
	}
	fmt.Fprintf(env.stdout, "%d expired records deleted", total)
	for i, t := range tables {
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(env.stdout, "%s%s %d", sep, t, deleted[t])
	}
	if len(tables) > 0 {
		fmt.Fprint(env.stdout, ")")
	}
	fmt.Fprintln(env.stdout)
	return nil
}

// runLedger proves the ledger: every account's balance equals the sum of its
// postings, every entry and the whole ledger sum to zero per currency, and
// AIS balances agree with the ledger. It exits non-zero on any mismatch.
func runLedger(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(env.stderr, "Usage: obank ledger verify [--data-dir D | --dsn DSN]")
		return errors.New("ledger: want the subcommand verify")
	}
	var c storeConfig
	fs := cli.NewFlagSet("ledger verify", "Verify the double-entry ledger.", env.stderr)
	c.flags(fs)
	if err := fs.Parse(args[1:], env.getenv); err != nil {
		return err
	}
	store, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := store.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, rep.String())
	if !rep.OK() {
		return errors.New("the ledger does not verify")
	}
	return nil
}

// runAccount closes an account: its status becomes Deleted, and every TPP
// holding an authorised consent over it is sent an
// account-access-consent-linked-account-update event.
func runAccount(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "close" {
		fmt.Fprintln(env.stderr, "Usage: obank account close --account ID [--reason UK.OBIE.AccountClosure|UK.OBIE.CASS]")
		return errors.New("account: want the subcommand close")
	}
	var (
		c                         storeConfig
		accountID, reason, issuer string
	)
	fs := cli.NewFlagSet("account close", "Close an account and notify the TPPs with consents over it.", env.stderr)
	c.flags(fs)
	fs.String(&accountID, "account", "", "the account id")
	fs.String(&reason, "reason", events.ReasonAccountClosure, "event reason: UK.OBIE.AccountClosure or UK.OBIE.CASS")
	fs.String(&issuer, "public-url", "http://127.0.0.1:8080", "the bank's issuer (serve's --public-url), the events' iss")
	var mtlsURL string
	fs.String(&mtlsURL, "mtls-public-url", "https://127.0.0.1:8443", "serve's --mtls-public-url, the base of resource links")
	if err := fs.Parse(args[1:], env.getenv); err != nil {
		return err
	}
	if accountID == "" {
		return errors.New("account close: --account is required")
	}
	store, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer store.Close()
	pub := &events.Publisher{Store: store, Issuer: issuer, BaseURL: mtlsURL}
	consents, err := events.CloseAccount(ctx, store, pub, accountID, reason, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "account %s closed; %d consents notified\n", accountID, len(consents))
	return nil
}
