package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
)

// available reports whether the account can pay amount now: its ledger
// balance less amount stays within its limit (booked balance plus
// overdraft, the same rule the posting applies). The balance itself never
// leaves the bank.
func (s *Service) available(ctx context.Context, accountID string, amount ob.Money) (bool, error) {
	a, err := s.store.LedgerAccount(ctx, accountID)
	if ob.ErrorCode(err) == ledger.CodeUnknownAccount {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if a.Currency != amount.Currency {
		return false, nil
	}
	return a.Allows(-amount.Minor), nil
}

// ConsentFunds answers GET /{t}-consents/{ConsentId}/funds-confirmation:
// whether the authorised consent's debtor account can pay its amount now.
// grantID is the consent the token is bound to.
func (s *Service) ConsentFunds(ctx context.Context, tppID, grantID string, kind ob.ConsentKind, consentID string) (bool, time.Time, error) {
	now := s.now().UTC()
	c, err := s.Consent(ctx, tppID, kind, consentID)
	if err != nil {
		return false, time.Time{}, err
	}
	if grantID != c.ID {
		return false, time.Time{}, ob.Errorf(ob.CodeForbidden, "the access token was not issued for this consent")
	}
	if c.Status != ob.ConsentAuthorised || len(c.AccountIDs) != 1 {
		return false, time.Time{}, ob.Errorf(ob.CodeResourceInvalidConsentStatus, "the consent is %s, not Authorised", c.Status.WireStatus())
	}
	p, err := DecodeConsentPayload(c)
	if err != nil {
		return false, time.Time{}, err
	}
	o, err := ParseOrder(c.Kind, p.Initiation)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("payments: consent %s initiation: %w", c.ID, err)
	}
	ok, err := s.available(ctx, c.AccountIDs[0], o.Amount)
	return ok, now, err
}

// CreateFundsConsent validates and stores a funds-confirmation consent.
func (s *Service) CreateFundsConsent(ctx context.Context, req FundsConsentRequest) (ob.Consent, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	v := &validator{l: s.limits}
	v.account("Data.DebtorAccount", &req.DebtorAccount, true)
	if err := v.result(); err != nil {
		return ob.Consent{}, err
	}
	req.DebtorAccount.SchemeName = NormaliseScheme(req.DebtorAccount.SchemeName)
	if e := req.ExpirationDateTime; e != nil {
		if !e.After(now) {
			return ob.Consent{}, ob.FieldError(ob.CodeFieldInvalidDate, "Data.ExpirationDateTime", "ExpirationDateTime must be in the future")
		}
		req.ExpirationDateTime = utcPtr(e)
	}
	payload, err := json.Marshal(FundsConsentPayload{DebtorAccount: req.DebtorAccount})
	if err != nil {
		return ob.Consent{}, err
	}
	c := ob.Consent{
		ID: "fcc-" + uuid.NewString(), Kind: ob.KindFundsConfirmation, TPPID: req.TPPID,
		Status: ob.ConsentAwaitingAuthorisation, CreationDateTime: now, StatusUpdateDateTime: now,
		ExpirationDateTime: req.ExpirationDateTime, Payload: payload,
	}
	if err := s.store.CreateConsent(ctx, c); err != nil {
		return ob.Consent{}, err
	}
	return c, nil
}

// DeleteFundsConsent is the CBPII's DELETE: a soft delete that revokes the
// consent's grant and tokens when it was authorised.
func (s *Service) DeleteFundsConsent(ctx context.Context, tppID, id string) (ob.Consent, error) {
	now := s.now().UTC()
	c, err := s.store.UpdateConsent(ctx, id, now, func(c *ob.Consent) error {
		if c.Kind != ob.KindFundsConfirmation || c.DeletedAt != nil {
			return ob.Errorf(ob.CodeResourceNotFound, "no such consent")
		}
		if c.TPPID != tppID {
			return ob.Errorf(ob.CodeForbidden, "the consent belongs to another TPP")
		}
		c.DeletedAt = &now
		return nil
	})
	if ob.IsNotFound(err) {
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	}
	return c, err
}

// ConfirmFunds answers POST /funds-confirmations and records the answer.
func (s *Service) ConfirmFunds(ctx context.Context, req FundsCheck) (FundsConfirmation, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if req.ConsentID == "" {
		return FundsConfirmation{}, ob.FieldError(ob.CodeFieldMissing, "Data.ConsentId", "ConsentId is required")
	}
	v := &validator{l: s.limits}
	v.text("Data.Reference", req.Reference, MaxReference, true)
	if err := v.result(); err != nil {
		return FundsConfirmation{}, err
	}
	c, err := s.store.Consent(ctx, req.ConsentID)
	if ob.IsNotFound(err) || (err == nil && (c.Kind != ob.KindFundsConfirmation || c.DeletedAt != nil)) {
		return FundsConfirmation{}, ob.FieldError(ob.CodeResourceNotFound, "Data.ConsentId", "no such consent")
	} else if err != nil {
		return FundsConfirmation{}, err
	}
	if c.TPPID != req.TPPID || req.GrantID != c.ID {
		return FundsConfirmation{}, ob.FieldError(ob.CodeResourceConsentMismatch, "Data.ConsentId",
			"the access token was not issued for this consent")
	}
	if c.Status != ob.ConsentAuthorised || len(c.AccountIDs) != 1 ||
		(c.ExpirationDateTime != nil && !now.Before(*c.ExpirationDateTime)) {
		return FundsConfirmation{}, ob.FieldError(ob.CodeResourceInvalidConsentStatus, "Data.ConsentId",
			"the consent is not Authorised")
	}
	amount, err := ob.ParseAmount(req.Amount.Amount, req.Amount.Currency)
	if err != nil || amount.Minor <= 0 {
		return FundsConfirmation{}, ob.FieldError(ob.CodeFieldInvalid, "Data.InstructedAmount.Amount",
			"InstructedAmount must be a positive amount in the currency's minor units")
	}
	acct, err := s.store.Account(ctx, c.AccountIDs[0])
	if err != nil {
		return FundsConfirmation{}, err
	}
	if acct.Currency != amount.Currency {
		return FundsConfirmation{}, ob.FieldError(ob.CodeFieldInvalid, "Data.InstructedAmount.Currency",
			"the currency must be the account's ("+acct.Currency+")")
	}
	ok, err := s.available(ctx, acct.ID, amount)
	if err != nil {
		return FundsConfirmation{}, err
	}
	fc := FundsConfirmation{ID: "fcf-" + uuid.NewString(), ConsentID: c.ID, TPPID: c.TPPID,
		CreationDateTime: now, Reference: req.Reference, Amount: amount, Available: ok}
	if err := s.store.RecordFundsConfirmation(ctx, fc); err != nil {
		return FundsConfirmation{}, err
	}
	return fc, nil
}
