package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments/risk"
)

// Authorise records the customer's approval of a payment or
// funds-confirmation consent for one account, after scoring a payment's
// fraud risk: ErrStepUpRequired when the customer must re-authenticate
// first, an error of kind CodeRiskRejected when the score rejects it (the
// consent is then Rejected), UK.OBIE.Resource.InvalidConsentStatus when it
// can no longer be authorised.
//
// The score and its reasons are stored in the consent's payload, where
// operators and the order's own scoring find them.
func (s *Service) Authorise(ctx context.Context, req AuthoriseRequest) (ob.Consent, error) {
	now := s.now().UTC()
	c, err := s.store.Consent(ctx, req.ConsentID)
	if err != nil {
		return ob.Consent{}, err
	}
	if !c.Kind.Payment() && c.Kind != ob.KindFundsConfirmation {
		return ob.Consent{}, fmt.Errorf("payments: consent %s is a %s consent", c.ID, c.Kind)
	}
	choices, err := s.DebtorChoices(ctx, c, req.CustomerID)
	if err != nil {
		return ob.Consent{}, err
	}
	if !slices.ContainsFunc(choices, func(a ob.Account) bool { return a.ID == req.AccountID }) {
		return ob.Consent{}, ob.FieldError(ob.CodeFieldInvalid, "AccountID", "the account cannot be used for this consent")
	}
	var assessment *risk.Assessment
	if c.Kind.Payment() {
		p, err := DecodeConsentPayload(c)
		if err != nil {
			return ob.Consent{}, err
		}
		o, err := ParseOrder(c.Kind, p.Initiation)
		if err != nil {
			return ob.Consent{}, fmt.Errorf("payments: consent %s initiation: %w", c.ID, err)
		}
		a, err := s.assess(ctx, c.TPPID, req.AccountID, o, now)
		if err != nil {
			return ob.Consent{}, err
		}
		assessment = &a
		switch {
		case a.Decision == risk.Reject:
			_, err := s.store.UpdateConsent(ctx, c.ID, now, func(c *ob.Consent) error {
				if err := setAssessment(c, &a, false); err != nil {
					return err
				}
				return c.Reject(now)
			})
			if err != nil {
				return ob.Consent{}, err
			}
			s.log.WarnContext(ctx, "payment consent rejected by fraud screening", "consent", c.ID, "tpp", c.TPPID,
				"score", a.Score, "reasons", a.Summary())
			return ob.Consent{}, &ob.Error{Code: CodeRiskRejected, Message: "the payment could not be authorised"}
		case a.Decision == risk.StepUp && !req.SteppedUp:
			return ob.Consent{}, ErrStepUpRequired
		}
	}
	return s.store.UpdateConsent(ctx, c.ID, now, func(c *ob.Consent) error {
		if assessment != nil {
			if err := setAssessment(c, assessment, req.SteppedUp && assessment.Decision == risk.StepUp); err != nil {
				return err
			}
		}
		return c.Authorise(req.CustomerID, []string{req.AccountID}, now)
	})
}

// setAssessment stores the score in a payment consent's payload.
func setAssessment(c *ob.Consent, a *risk.Assessment, steppedUp bool) error {
	p, err := DecodeConsentPayload(*c)
	if err != nil {
		return err
	}
	p.Assessment, p.SteppedUp = a, steppedUp
	b, err := json.Marshal(p)
	if err != nil {
		return errors.Join(errors.New("payments: encode consent payload"), err)
	}
	c.Payload = b
	return nil
}
