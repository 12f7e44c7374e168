package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ob"
)

// This file is events.AccountStore: the operator's account status changes
// and the account-access consents they concern.

var _ events.AccountStore = (*Store)(nil)

// settableAccountStatuses are the statuses SetAccountStatus writes.
var settableAccountStatuses = []string{"Enabled", "Disabled", "Deleted"}

// SetAccountStatus sets an account's Status (Enabled, Disabled or Deleted)
// and StatusUpdateDateTime; ob.ErrNotFound if the account is unknown.
func (s *Store) SetAccountStatus(ctx context.Context, accountID, status string, at time.Time) error {
	return s.SetAccountStatusNotifying(ctx, accountID, status, at, nil)
}

// SetAccountStatusNotifying is SetAccountStatus that writes the outbox
// rows reporting the change in the same transaction.
func (s *Store) SetAccountStatusNotifying(ctx context.Context, accountID, status string, at time.Time, notes []ob.EventNotification) error {
	if !slices.Contains(settableAccountStatuses, status) {
		return fmt.Errorf("sqlstore: account status %q is not one of %s", status, strings.Join(settableAccountStatuses, ", "))
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: set account status: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET status = $2, status_updated_at = $3 WHERE id = $1`,
		accountID, status, micros(at))
	if err := s.oneRow(res, err, "set status of account %q", accountID); err != nil {
		return err
	}
	for _, n := range notes {
		if err := s.enqueueNotification(ctx, tx, n); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "set status of account %q: commit", accountID)
	}
	return nil
}

// AuthorisedAccountAccessConsents returns the authorised, undeleted
// account-access consents whose selected accounts include accountID,
// oldest first. Expiry is the caller's concern (an authorised consent
// past its expiry the sweeper has not reached yet is included).
//
// account_ids is a JSON array; the LIKE narrows the scan and the decoded
// list decides, so ids containing LIKE metacharacters or JSON escapes are
// matched exactly.
func (s *Store) AuthorisedAccountAccessConsents(ctx context.Context, accountID string) ([]ob.Consent, error) {
	quoted, err := json.Marshal(accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: consents covering %q: %w", accountID, err)
	}
	pattern := "%" + likeEscaper.Replace(string(quoted)) + "%"
	cs, err := queryAll(ctx, s.w, scanConsent, `SELECT `+consentCols+` FROM consents
		WHERE kind = $1 AND status = $2 AND deleted_at IS NULL AND account_ids LIKE $3 ESCAPE '!'
		ORDER BY creation_date_time, id`,
		string(ob.KindAccountAccess), string(ob.ConsentAuthorised), pattern)
	if err != nil {
		return nil, s.wrapErr(err, "consents covering account %q", accountID)
	}
	out := cs[:0]
	for _, c := range cs {
		if slices.Contains(c.AccountIDs, accountID) {
			out = append(out, c)
		}
	}
	return out, nil
}

// likeEscaper escapes LIKE metacharacters for ESCAPE '!'.
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
