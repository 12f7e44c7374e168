// Package demo generates obank's deterministic demo bank: a few dozen UK
// customers, personal and business, with current accounts, savings, credit
// cards, loans and mortgages, and two years of transactions, standing
// orders, direct debits, statements and the rest of the OBIE
// account-information resources, all consistent with each other (running
// balances, statement totals, mandate histories).
//
// The same Config always yields byte-identical data: every random choice
// comes from a PCG generator seeded from Config.Seed, and nothing reads the
// clock or iterates a map. That lets tests and the README quote ids, logins
// and amounts.
package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// Defaults of Config's zero fields.
const (
	DefaultCustomers = 50
	// DefaultSeed is fixed so that every demo bank, and the README's list
	// of logins, is the same everywhere.
	DefaultSeed  uint64 = 0x0BA4C0DE
	DefaultYears        = 2
)

// Config chooses the bank to generate. The zero value is the default demo
// bank ending today.
type Config struct {
	// Customers is the number of customers (default 50). About one in ten
	// is a business; a few pairs of personal customers share a joint
	// account.
	Customers int
	// Seed selects the random choices (default DefaultSeed).
	Seed uint64
	// Anchor is "now" for the demo: the history covers the Years before the
	// UTC day of Anchor and stops at the end of the previous day; balances
	// are dated Anchor; standing orders and scheduled payments fall after
	// it. Zero means the start of the current UTC day, the only place the
	// clock is read.
	Anchor time.Time
	// Years of history (default 2).
	Years int
}

// Login is a demo customer's credentials, published in the README.
type Login struct {
	Username   string
	Password   string
	CustomerID string
	Name       string
	// TOTPSecret is the customer's second-factor secret (base32), for an
	// authenticator app; the demo's TOTP page also shows the current code.
	TOTPSecret string
}

// withDefaults fills the zero fields; now is consulted only when Anchor is
// zero.
func (c Config) withDefaults(now func() time.Time) Config {
	if c.Customers <= 0 {
		c.Customers = DefaultCustomers
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Years <= 0 {
		c.Years = DefaultYears
	}
	if c.Anchor.IsZero() {
		n := now().UTC()
		c.Anchor = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	}
	c.Anchor = c.Anchor.UTC()
	return c
}

// Generate builds the demo bank described by cfg and the logins of its
// customers, in customer order. The result passes ob.BankData.Validate.
//
// Records share immutable sub-values to keep the batch small (the merchant,
// card and bank-code pointers of thousands of transactions point at the same
// value): treat the data as read-only, or copy a record before changing
// what its pointers point at.
func Generate(cfg Config) (*ob.BankData, []Login, error) {
	cfg, err := cfg.check()
	if err != nil {
		return nil, nil, err
	}
	g := newGenerator(cfg)
	if err := g.run(); err != nil {
		return nil, nil, err
	}
	return g.data, g.logins, nil
}

// Logins returns the logins Generate(cfg) returns, in a few milliseconds:
// it makes the customers alone, and hashes no passwords. A server started
// on a bank seeded before prints them with this.
func Logins(cfg Config) ([]Login, error) {
	cfg, err := cfg.check()
	if err != nil {
		return nil, err
	}
	g := newGenerator(cfg)
	g.customersOnly()
	return g.logins, nil
}

// check fills the defaults in and refuses what the generator cannot make.
func (c Config) check() (Config, error) {
	c = c.withDefaults(time.Now)
	if c.Customers > 99999 {
		return c, fmt.Errorf("demo: %d customers is more than the id scheme allows (99999)", c.Customers)
	}
	if c.Years > 50 {
		return c, fmt.Errorf("demo: %d years of history is more than the demo supports (50)", c.Years)
	}
	return c, nil
}

// LoginTable formats the first n logins as a Markdown table for the README.
func LoginTable(logins []Login, n int) string {
	if n > len(logins) {
		n = len(logins)
	}
	var b strings.Builder
	b.WriteString("| Username | Password | Customer |\n|---|---|---|\n")
	for _, l := range logins[:n] {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", l.Username, l.Password, l.Name)
	}
	return b.String()
}
