package httpapi

import (
	"net/http"
	"strings"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// The confirmation-of-funds API (confirmation-funds-openapi.yaml): POST,
// GET and DELETE of funds-confirmation consents, and POST
// /funds-confirmations. No message signing and no idempotency key (an
// x-idempotency-key sent anyway is ignored).
//
// Decisions where the spec leaves a choice:
//   - Consent endpoints take a client-credentials token with the
//     fundsconfirmations scope; POST /funds-confirmations an
//     authorization-code token bound to the consent named in the body.
//     Wrong kind of token or missing scope: 403.
//   - A consent belongs to the TPP that created it: another TPP's is 403
//     UK.OBIE.Resource.ConsentMismatch; an unknown id, a consent of another
//     kind and a deleted consent are 400 UK.OBIE.Resource.NotFound.
//   - An authorised consent whose ExpirationDateTime has passed reads
//     Revoked (one never authorised reads Rejected), even before the
//     janitor has recorded it.
//   - Members the schema does not define are 400 UK.OBIE.Field.Unexpected,
//     as everywhere in this API (decodeJSON).

// cbpiiPrefix is the base path of the confirmation-of-funds API ([CF] servers).
const cbpiiPrefix = "/open-banking/v3.1/cbpii"

const fundsConsentsPath = "/funds-confirmation-consents"

// cbpiiRoutes registers the CBPII endpoints (called by paymentRoutes).
func (s *Server) cbpiiRoutes() {
	handle := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		s.mux.Handle(method+" "+cbpiiPrefix+path, s.handle(apiRoute, h))
	}
	handle("POST "+fundsConsentsPath, s.createFundsConsent)
	handle("GET "+fundsConsentsPath+"/{ConsentId}", s.getFundsConsent)
	handle("DELETE "+fundsConsentsPath+"/{ConsentId}", s.deleteFundsConsent)
	handle("POST /funds-confirmations", s.confirmFunds)
}

// Wire shapes.

// obFundsConfirmationConsent1 is the consent POST body.
type obFundsConfirmationConsent1 struct {
	Data *struct {
		ExpirationDateTime *string           `json:"ExpirationDateTime"`
		DebtorAccount      *payments.Account `json:"DebtorAccount"`
	} `json:"Data"`
}

// obFundsConfirmationConsentResponse1 is the consent as answered.
type obFundsConfirmationConsentResponse1 struct {
	Data struct {
		ConsentId            string           `json:"ConsentId"`
		CreationDateTime     string           `json:"CreationDateTime"`
		Status               string           `json:"Status"`
		StatusUpdateDateTime string           `json:"StatusUpdateDateTime"`
		ExpirationDateTime   string           `json:"ExpirationDateTime,omitempty"`
		DebtorAccount        payments.Account `json:"DebtorAccount"`
	} `json:"Data"`
	Links obLinks `json:"Links"`
	Meta  obMeta  `json:"Meta"`
}

// obFundsConfirmation1 is the funds check POST body.
type obFundsConfirmation1 struct {
	Data *struct {
		ConsentId        *string   `json:"ConsentId"`
		Reference        *string   `json:"Reference"`
		InstructedAmount *obAmount `json:"InstructedAmount"`
	} `json:"Data"`
}

// obFundsConfirmationResponse1 is the funds check's answer.
type obFundsConfirmationResponse1 struct {
	Data struct {
		FundsConfirmationId string   `json:"FundsConfirmationId"`
		ConsentId           string   `json:"ConsentId"`
		CreationDateTime    string   `json:"CreationDateTime"`
		FundsAvailable      bool     `json:"FundsAvailable"`
		Reference           string   `json:"Reference"`
		InstructedAmount    obAmount `json:"InstructedAmount"`
	} `json:"Data"`
	Links obLinks `json:"Links"`
	Meta  obMeta  `json:"Meta"`
}

// createFundsConsent handles POST /funds-confirmation-consents.
func (s *Server) createFundsConsent(w http.ResponseWriter, r *http.Request) error {
	clientID, err := ccClient(r, scopeFundsConfirmations)
	if err != nil {
		return err
	}
	var body obFundsConfirmationConsent1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	switch {
	case body.Data == nil:
		return ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	case body.Data.DebtorAccount == nil:
		return ob.FieldError(ob.CodeFieldMissing, "Data.DebtorAccount", "DebtorAccount is required")
	}
	exp, err := bodyTime("Data.ExpirationDateTime", body.Data.ExpirationDateTime)
	if err != nil {
		return err
	}
	c, err := s.payments.CreateFundsConsent(r.Context(), payments.FundsConsentRequest{
		TPPID: clientID, DebtorAccount: *body.Data.DebtorAccount, ExpirationDateTime: exp,
	})
	if err != nil {
		return err
	}
	resp, err := s.fundsConsentResponse(r, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// getFundsConsent handles GET /funds-confirmation-consents/{ConsentId}.
func (s *Server) getFundsConsent(w http.ResponseWriter, r *http.Request) error {
	clientID, err := ccClient(r, scopeFundsConfirmations)
	if err != nil {
		return err
	}
	c, err := s.fundsConsent(r, clientID, r.PathValue("ConsentId"))
	if err != nil {
		return err
	}
	resp, err := s.fundsConsentResponse(r, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// fundsConsent reads a TPP's funds-confirmation consent. payments.Service
// has no reader for these (its Consent is for payment kinds), so the
// consent store is read here with the ownership rules of consents.go.
func (s *Server) fundsConsent(r *http.Request, clientID, id string) (ob.Consent, error) {
	store, err := s.consentStore()
	if err != nil {
		return ob.Consent{}, err
	}
	c, err := store.Consent(r.Context(), id)
	if ob.IsNotFound(err) {
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	} else if err != nil {
		return ob.Consent{}, err
	}
	switch {
	case c.Kind != ob.KindFundsConfirmation:
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	case c.TPPID != clientID:
		return ob.Consent{}, ob.Errorf(ob.CodeForbidden, "the consent belongs to another TPP")
	case c.DeletedAt != nil:
		return ob.Consent{}, ob.Errorf(ob.CodeResourceNotFound, "the consent was deleted")
	}
	return c, nil
}

// deleteFundsConsent handles DELETE /funds-confirmation-consents/{ConsentId}.
func (s *Server) deleteFundsConsent(w http.ResponseWriter, r *http.Request) error {
	clientID, err := ccClient(r, scopeFundsConfirmations)
	if err != nil {
		return err
	}
	if _, err := s.payments.DeleteFundsConsent(r.Context(), clientID, r.PathValue("ConsentId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// confirmFunds handles POST /funds-confirmations.
func (s *Server) confirmFunds(w http.ResponseWriter, r *http.Request) error {
	clientID, grant, err := acGrant(r, scopeFundsConfirmations)
	if err != nil {
		return err
	}
	var body obFundsConfirmation1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	d := body.Data
	switch {
	case d == nil:
		return ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	case d.ConsentId == nil || *d.ConsentId == "":
		return ob.FieldError(ob.CodeFieldMissing, "Data.ConsentId", "ConsentId is required")
	case d.Reference == nil:
		return ob.FieldError(ob.CodeFieldMissing, "Data.Reference", "Reference is required")
	case d.InstructedAmount == nil:
		return ob.FieldError(ob.CodeFieldMissing, "Data.InstructedAmount", "InstructedAmount is required")
	}
	fc, err := s.payments.ConfirmFunds(r.Context(), payments.FundsCheck{
		TPPID: clientID, GrantID: grant.ID, ConsentID: *d.ConsentId, Reference: *d.Reference,
		Amount: amountIn(*d.InstructedAmount),
	})
	if err != nil {
		return err
	}
	var resp obFundsConfirmationResponse1
	resp.Data.FundsConfirmationId = fc.ID
	resp.Data.ConsentId = fc.ConsentID
	resp.Data.CreationDateTime = formatTime(fc.CreationDateTime)
	resp.Data.FundsAvailable = fc.Available
	resp.Data.Reference = fc.Reference
	resp.Data.InstructedAmount = amount(fc.Amount)
	// There is no GET /funds-confirmations/{Id}: Self is the collection.
	resp.Links.Self = s.linkBase(r) + cbpiiPrefix + "/funds-confirmations"
	return writeJSON(w, http.StatusCreated, resp)
}

// fundsConsentResponse renders a funds-confirmation consent.
func (s *Server) fundsConsentResponse(r *http.Request, c ob.Consent) (obFundsConfirmationConsentResponse1, error) {
	p, err := payments.DecodeFundsConsentPayload(c)
	if err != nil {
		return obFundsConfirmationConsentResponse1{}, err
	}
	c.Expire(s.now()) // a copy: shows the status the janitor will record
	var resp obFundsConfirmationConsentResponse1
	resp.Data.ConsentId = c.ID
	resp.Data.CreationDateTime = formatTime(c.CreationDateTime)
	resp.Data.Status = c.Status.WireStatus()
	resp.Data.StatusUpdateDateTime = formatTime(c.StatusUpdateDateTime)
	resp.Data.ExpirationDateTime = formatTimePtr(c.ExpirationDateTime)
	resp.Data.DebtorAccount = p.DebtorAccount
	resp.Links.Self = s.linkBase(r) + cbpiiPrefix + fundsConsentsPath + "/" + c.ID
	return resp, nil
}
