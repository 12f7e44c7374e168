package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ob"
)

// ConsentTTL is how long a payment consent may wait for its customer and
// then for its order: an AwaitingAuthorisation consent older than this is
// Rejected by the expiry janitor, an authorised one never used is Expired.
// Payment consents are short-lived (OBIE PIS profile); a day leaves room
// for a customer who comes back to the app later the same day.
const ConsentTTL = 24 * time.Hour

// CreateConsent validates and stores a payment consent, AwaitingAuthorisation,
// exactly once per idempotency key. replayed reports that the key was seen
// before with the same body: the consent returned is the stored one, as it
// is now.
func (s *Service) CreateConsent(ctx context.Context, req ConsentRequest) (c ob.Consent, replayed bool, err error) {
	info, err := kindOf(req.Kind)
	if err != nil {
		return ob.Consent{}, false, err
	}
	// The store keeps microseconds: answer with what a later GET shows.
	now := s.now().UTC().Truncate(time.Microsecond)
	risk, err := ob.CheckRisk(req.Risk)
	if err != nil {
		return ob.Consent{}, false, err
	}
	if err := s.validateInitiation(req.Kind, req.Initiation, now); err != nil {
		return ob.Consent{}, false, err
	}
	if req.Kind != ob.KindDomesticPayment {
		switch req.Permission {
		case "":
			return ob.Consent{}, false, ob.FieldError(ob.CodeFieldMissing, "Data.Permission", "Permission is required")
		case "Create":
		default:
			return ob.Consent{}, false, ob.FieldError(ob.CodeFieldInvalid, "Data.Permission", "Permission must be Create")
		}
	} else if req.Permission != "" {
		return ob.Consent{}, false, ob.FieldError(ob.CodeFieldUnexpected, "Data.Permission", "a domestic payment consent has no Permission")
	}
	switch req.ReadRefundAccount {
	case "", "Yes", "No":
	default:
		return ob.Consent{}, false, ob.FieldError(ob.CodeFieldInvalid, "Data.ReadRefundAccount", "ReadRefundAccount must be Yes or No")
	}
	switch req.AuthorisationType {
	case "", "Any", "Single":
		// One customer authorises: both are satisfied by a single
		// authorisation (obank has no multi-authorisation accounts).
	default:
		return ob.Consent{}, false, ob.FieldError(ob.CodeFieldInvalid, "Data.Authorisation.AuthorisationType", "AuthorisationType must be Single or Any")
	}
	expires := now.Add(ConsentTTL)
	if t := req.CompletionDateTime; t != nil {
		if !t.After(now) {
			return ob.Consent{}, false, ob.FieldError(ob.CodeFieldInvalidDate, "Data.Authorisation.CompletionDateTime", "CompletionDateTime must be in the future")
		}
		if t.Before(expires) {
			expires = t.UTC()
		}
	}
	initiation, err := json.Marshal(req.Initiation)
	if err != nil {
		return ob.Consent{}, false, fmt.Errorf("payments: encode initiation: %w", err)
	}
	payload, err := json.Marshal(ConsentPayload{
		Initiation: initiation, Risk: risk, Permission: req.Permission, ReadRefundAccount: req.ReadRefundAccount,
		AuthorisationType: req.AuthorisationType, CompletionDateTime: utcPtr(req.CompletionDateTime),
	})
	if err != nil {
		return ob.Consent{}, false, fmt.Errorf("payments: encode consent payload: %w", err)
	}
	c = ob.Consent{
		ID: info.consentPrefix + uuid.NewString(), Kind: req.Kind, TPPID: req.TPPID,
		Status: ob.ConsentAwaitingAuthorisation, CreationDateTime: now, StatusUpdateDateTime: now,
		ExpirationDateTime: &expires, Payload: payload,
	}
	key := req.Idempotency
	key.TPPID, key.Kind, key.Now = req.TPPID, info.consentResource, now
	id, replayed, err := s.store.Idempotent(ctx, key, func(ctx context.Context, tx Tx) (string, error) {
		return c.ID, tx.CreateConsent(ctx, c)
	})
	if err != nil {
		return ob.Consent{}, false, err
	}
	if replayed {
		c, err = s.store.Consent(ctx, id)
		if err != nil {
			return ob.Consent{}, false, fmt.Errorf("payments: replayed consent %s: %w", id, err)
		}
	}
	return c, replayed, nil
}

// validateInitiation checks that in is the Initiation type of kind, and
// valid.
func (s *Service) validateInitiation(kind ob.ConsentKind, in any, now time.Time) error {
	var err error
	switch v := in.(type) {
	case Initiation:
		if kind != ob.KindDomesticPayment {
			return fmt.Errorf("payments: a domestic Initiation for a %s", kind)
		}
		err = v.Validate(s.limits, now)
	case ScheduledInitiation:
		if kind != ob.KindDomesticScheduledPayment {
			return fmt.Errorf("payments: a scheduled Initiation for a %s", kind)
		}
		err = v.Validate(s.limits, now)
	case StandingOrderInitiation:
		if kind != ob.KindDomesticStandingOrder {
			return fmt.Errorf("payments: a standing-order Initiation for a %s", kind)
		}
		err = v.Validate(s.limits, now)
	default:
		return fmt.Errorf("payments: initiation of type %T", in)
	}
	return err
}

// sameJSON reports whether two JSON documents are the same value (member
// order and spacing aside).
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Consent returns a TPP's payment consent of a kind: 400
// UK.OBIE.Resource.NotFound for an unknown id or a consent of another kind,
// 403 (obank.Forbidden) for another TPP's.
func (s *Service) Consent(ctx context.Context, tppID string, kind ob.ConsentKind, id string) (ob.Consent, error) {
	c, err := s.store.Consent(ctx, id)
	if ob.IsNotFound(err) {
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	} else if err != nil {
		return ob.Consent{}, err
	}
	if c.Kind != kind {
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	}
	if c.TPPID != tppID {
		return ob.Consent{}, ob.Errorf(ob.CodeForbidden, "the consent belongs to another TPP")
	}
	if c.DeletedAt != nil {
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "the consent was deleted")
	}
	return c, nil
}

// DebtorChoices returns the accounts the customer may choose on the consent
// page of a payment or funds-confirmation consent: their enabled accounts
// (for a payment, current, savings and e-money accounts in the payment's
// currency), only the one named when the TPP named a DebtorAccount (none
// when the customer does not hold it).
func (s *Service) DebtorChoices(ctx context.Context, c ob.Consent, customerID string) ([]ob.Account, error) {
	var (
		named    *Account
		currency string
	)
	switch {
	case c.Kind.Payment():
		p, err := DecodeConsentPayload(c)
		if err != nil {
			return nil, err
		}
		o, err := ParseOrder(c.Kind, p.Initiation)
		if err != nil {
			return nil, fmt.Errorf("payments: consent %s initiation: %w", c.ID, err)
		}
		named, currency = o.DebtorAccount, o.Amount.Currency
	case c.Kind == ob.KindFundsConfirmation:
		p, err := DecodeFundsConsentPayload(c)
		if err != nil {
			return nil, err
		}
		named = &p.DebtorAccount
	default:
		return nil, fmt.Errorf("payments: consent %s is not a payment or funds-confirmation consent", c.ID)
	}
	all, err := s.store.AccountsByCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	var out []ob.Account
	for _, a := range all {
		if a.Status != "Enabled" || (currency != "" && a.Currency != currency) {
			continue
		}
		if c.Kind.Payment() && !payFrom[a.SubType] {
			continue
		}
		if named != nil && !identifies(*named, a) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// payFrom are the account subtypes a customer can make a credit transfer
// from: not loans, mortgages or cards, which are paid into, not from.
var payFrom = map[string]bool{ob.SubTypeCurrentAccount: true, ob.SubTypeSavings: true, ob.SubTypeEMoney: true}

// identifies reports whether the TPP's account names the bank's account a.
func identifies(named Account, a ob.Account) bool {
	key := named.PayeeKey()
	return slices.ContainsFunc(a.Identifications, func(id ob.AccountIdentification) bool {
		return Account{SchemeName: id.SchemeName, Identification: id.Identification}.PayeeKey() == key
	})
}
