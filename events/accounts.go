package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// AccountStore is what the operator's account actions need of the bank's
// store. The sqlstore implements it.
type AccountStore interface {
	// SetAccountStatus sets an account's Status (Enabled, Disabled or
	// Deleted) and StatusUpdateDateTime to at; ob.ErrNotFound if the
	// account is unknown.
	SetAccountStatus(ctx context.Context, accountID, status string, at time.Time) error
	// SetAccountStatusNotifying is SetAccountStatus that also writes the
	// outbox rows reporting the change in the same transaction.
	SetAccountStatusNotifying(ctx context.Context, accountID, status string, at time.Time, notes []ob.EventNotification) error
	// AuthorisedAccountAccessConsents returns the authorised, undeleted
	// account-access consents whose selected accounts include accountID.
	AuthorisedAccountAccessConsents(ctx context.Context, accountID string) ([]ob.Consent, error)
}

// AccountStatusClosed is the OBIE account Status of a closed account: AIS
// keeps serving it, so the TPPs see what happened.
const AccountStatusClosed = "Deleted"

// CloseAccount is the operator's "close this account" action: it sets the
// account's Status to Deleted (StatusUpdateDateTime now) and, in the same
// database transaction, records an account-access-consent-linked-account-update
// event with reason (ReasonAccountClosure, or ReasonCASS for an account
// switched away) for every authorised account-access consent that covers
// the account, live at now (not past its ExpirationDateTime). Each event goes
// to the consent's TPP if its subscription (or callback URL) covers the
// type; others get none (Publisher). The status changes if and only if the
// events are recorded.
//
// It returns the consents it considered (those of TPPs without a
// subscription included).
func CloseAccount(ctx context.Context, store AccountStore, p *Publisher, accountID, reason string, now time.Time) ([]ob.Consent, error) {
	if reason != ReasonAccountClosure && reason != ReasonCASS {
		return nil, fmt.Errorf("events: close account: reason %q is not %s or %s", reason, ReasonAccountClosure, ReasonCASS)
	}
	if p == nil {
		return nil, errors.New("events: close account: no publisher")
	}
	cs, err := store.AuthorisedAccountAccessConsents(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("events: close account %s: %w", accountID, err)
	}
	var (
		done  []ob.Consent
		notes []Notification
	)
	for _, c := range cs {
		if c.ExpirationDateTime != nil && !now.Before(*c.ExpirationDateTime) {
			continue // expired: the sweeper is about to end it
		}
		n, err := p.linkedAccountUpdate(ctx, c, reason)
		if err != nil {
			return nil, fmt.Errorf("events: close account %s: consent %s: %w", accountID, c.ID, err)
		}
		if n != nil {
			notes = append(notes, *n)
		}
		done = append(done, c)
	}
	if err := store.SetAccountStatusNotifying(ctx, accountID, AccountStatusClosed, now, notes); err != nil {
		return nil, fmt.Errorf("events: close account %s: %w", accountID, err)
	}
	return done, nil
}
