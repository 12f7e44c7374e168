package obtest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
)

// RunSecretSealingTests checks that the SQL store seals customers' TOTP
// secrets at rest when given a sealer: raw reads the stored column of a
// customer (the test's back door into the database).
func RunSecretSealingTests(t *testing.T, open func(t *testing.T) *sqlstore.Store, raw func(t *testing.T, s *sqlstore.Store, customerID string) string) {
	ctx := context.Background()
	secret := []byte(strings.Repeat("k", keystore.MinSecretLen))
	sealer, err := keystore.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	const totp = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	customer := func(id, username string) ob.Customer {
		return ob.Customer{ID: id, Username: username, PasswordHash: "$2a$04$x", PartyType: "Sole", Name: username,
			TOTPSecret: totp, CreatedAt: FixtureTime()}
	}

	t.Run("SealedOnImportOpenedOnRead", func(t *testing.T) {
		s := open(t)
		s.SetSecretSealer(sealer)
		MustImport(t, s, &ob.BankData{Customers: []ob.Customer{customer("cust-s1", "sam")}})
		if stored := raw(t, s, "cust-s1"); !strings.HasPrefix(stored, "sealed:") || strings.Contains(stored, totp) {
			t.Errorf("stored TOTP secret %q, want it sealed", stored)
		}
		for name, get := range map[string]func() (ob.Customer, error){
			"Customer":           func() (ob.Customer, error) { return s.Customer(ctx, "cust-s1") },
			"CustomerByUsername": func() (ob.Customer, error) { return s.CustomerByUsername(ctx, "sam") },
			"Customers": func() (ob.Customer, error) {
				cs, err := s.Customers(ctx, 0)
				if err != nil || len(cs) != 1 {
					return ob.Customer{}, err
				}
				return cs[0], nil
			},
		} {
			if c, err := get(); err != nil || c.TOTPSecret != totp {
				t.Errorf("%s: TOTP secret %q, %v; want it opened", name, c.TOTPSecret, err)
			}
		}
		// Sealed under another master secret: refused, not mistaken.
		other, _ := keystore.New([]byte(strings.Repeat("o", keystore.MinSecretLen)))
		s.SetSecretSealer(other)
		if _, err := s.Customer(ctx, "cust-s1"); err == nil {
			t.Error("a secret sealed under another master secret was opened")
		}
	})

	t.Run("ClearSecretsSealedLater", func(t *testing.T) {
		s := open(t)
		MustImport(t, s, &ob.BankData{Customers: []ob.Customer{customer("cust-c1", "cleo"), customer("cust-c2", "carl")}})
		if stored := raw(t, s, "cust-c1"); stored != totp {
			t.Fatalf("without a sealer the secret is stored as %q", stored)
		}
		s.SetSecretSealer(sealer)
		if c, err := s.Customer(ctx, "cust-c1"); err != nil || c.TOTPSecret != totp {
			t.Errorf("a clear secret reads %q, %v", c.TOTPSecret, err)
		}
		n, err := s.SealCustomerSecrets(ctx)
		if err != nil || n != 2 {
			t.Fatalf("SealCustomerSecrets = %d, %v; want 2", n, err)
		}
		if stored := raw(t, s, "cust-c2"); !strings.HasPrefix(stored, "sealed:") {
			t.Errorf("stored %q after sealing", stored)
		}
		if c, err := s.Customer(ctx, "cust-c2"); err != nil || c.TOTPSecret != totp {
			t.Errorf("after sealing the secret reads %q, %v", c.TOTPSecret, err)
		}
		if n, err := s.SealCustomerSecrets(ctx); err != nil || n != 0 {
			t.Errorf("second SealCustomerSecrets = %d, %v; want 0", n, err)
		}
		// A new master secret: values sealed under the previous one (still
		// configured as previous) are resealed under the new.
		rotated, err := keystore.New([]byte(strings.Repeat("n", keystore.MinSecretLen)), secret)
		if err != nil {
			t.Fatal(err)
		}
		s.SetSecretSealer(rotated)
		if n, err := s.SealCustomerSecrets(ctx); err != nil || n != 2 {
			t.Errorf("SealCustomerSecrets after rotation = %d, %v; want 2", n, err)
		}
		only, _ := keystore.New([]byte(strings.Repeat("n", keystore.MinSecretLen)))
		s.SetSecretSealer(only)
		if c, err := s.Customer(ctx, "cust-c1"); err != nil || c.TOTPSecret != totp {
			t.Errorf("after rotation the secret reads %q, %v", c.TOTPSecret, err)
		}
	})
}

// RawTOTPSecret reads a customer's stored TOTP secret column through db.
func RawTOTPSecret(t *testing.T, db *sql.DB, customerID string) string {
	t.Helper()
	var v string
	if err := db.QueryRow(`SELECT totp_secret FROM customers WHERE id = $1`, customerID).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
