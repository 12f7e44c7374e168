package sqlstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/ob"
)

// Customers' second-factor (TOTP) secrets are sealed at rest when the store
// has a sealer (serve gives it the master secret's): a copy of the database
// then yields no one's one-time codes. A sealed value is sealedPrefix and
// the base64 of keystore.Sealer.Seal, bound to the customer's id (so one
// customer's secret cannot be moved to another's row). Values without the
// prefix are secrets stored in clear, by an import without a sealer or
// before sealing existed; they are read as they are, and
// SealCustomerSecrets seals them.

const sealedPrefix = "sealed:"

// SetSecretSealer makes the store seal TOTP secrets it writes and open those
// it reads. Call it once, before the store is used.
func (s *Store) SetSecretSealer(sl *keystore.Sealer) { s.sealer = sl }

func totpAAD(customerID string) []byte { return []byte("obank totp secret " + customerID) }

// sealTOTP returns the value to store for a customer's secret.
func (s *Store) sealTOTP(customerID, secret string) (string, error) {
	if s.sealer == nil || secret == "" || strings.HasPrefix(secret, sealedPrefix) {
		return secret, nil
	}
	sealed, err := s.sealer.Seal([]byte(secret), totpAAD(customerID))
	if err != nil {
		return "", fmt.Errorf("seal TOTP secret of %s: %w", customerID, err)
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// openTOTP returns the secret of a stored value (the sealed value itself
// when the store has no sealer).
func (s *Store) openTOTP(customerID, stored string) (string, error) {
	b64, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if s.sealer == nil {
		// A store opened without the master secret (an operator's command
		// that has no use for the secret) reads the sealed value as it is:
		// it decodes as no TOTP secret, so nothing can verify a code with it.
		return stored, nil
	}
	sealed, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("TOTP secret of %s: %w", customerID, keystore.ErrCorrupt)
	}
	secret, err := s.sealer.Open(sealed, totpAAD(customerID))
	if err != nil {
		return "", fmt.Errorf("TOTP secret of %s: %w", customerID, err)
	}
	return string(secret), nil
}

// openCustomer opens c's TOTP secret in place.
func (s *Store) openCustomer(c *ob.Customer) error {
	secret, err := s.openTOTP(c.ID, c.TOTPSecret)
	if err != nil {
		return err
	}
	c.TOTPSecret = secret
	return nil
}

// SealCustomerSecrets seals the TOTP secrets stored in clear and reseals
// those sealed under a previous master secret, and returns how many it
// changed. serve runs it at start; it is idempotent.
func (s *Store) SealCustomerSecrets(ctx context.Context) (int, error) {
	if s.sealer == nil {
		return 0, errors.New("sqlstore: seal customer secrets: no sealer")
	}
	// serve runs this at every start: unless the master secret is being
	// rotated, only the clear secrets need reading, which the database
	// finds without handing every sealed one to Go to be checked.
	rows, err := s.r.QueryContext(ctx, `SELECT id, totp_secret FROM customers
		WHERE totp_secret <> '' AND (totp_secret NOT LIKE $1 OR $2)`, sealedPrefix+"%", s.sealer.Rotating())
	if err != nil {
		return 0, s.wrapErr(err, "seal customer secrets")
	}
	type row struct{ id, value string }
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.value); err != nil {
			rows.Close()
			return 0, s.wrapErr(err, "seal customer secrets")
		}
		if b64, sealed := strings.CutPrefix(r.value, sealedPrefix); sealed {
			raw, err := base64.RawStdEncoding.DecodeString(b64)
			if err != nil || s.sealer.SealedWithCurrent(raw) {
				continue // current, or corrupt: reading it will say so
			}
		}
		todo = append(todo, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, s.wrapErr(err, "seal customer secrets")
	}
	changed := 0
	for _, r := range todo {
		secret, err := s.openTOTP(r.id, r.value)
		if err != nil {
			return changed, err
		}
		// Sealing a clear value; the old sealed one is opened first.
		sealed, err := s.sealTOTP(r.id, secret)
		if err != nil {
			return changed, err
		}
		// Only if unchanged since it was read: a concurrent instance may
		// have sealed it already.
		res, err := s.w.ExecContext(ctx, `UPDATE customers SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3`,
			sealed, r.id, r.value)
		if err != nil {
			return changed, s.wrapErr(err, "seal TOTP secret of %q", r.id)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed++
		}
	}
	return changed, nil
}
