package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ob"
)

// The account-access-consents endpoints of account-info-openapi.yaml:
// POST /account-access-consents (201), GET and DELETE
// /account-access-consents/{ConsentId} (200, 204).
//
// Decisions where the spec leaves a choice:
//   - The endpoints take a client-credentials token with the accounts
//     scope (TPPOAuth2Security). A token bound to a consent (from the
//     authorization-code flow) or without the accounts scope is 403: it is
//     a valid token asking for what it may not do.
//   - A consent belongs to the TPP (OAuth client) that created it. Another
//     TPP's token gets 403 UK.OBIE.Resource.ConsentMismatch and never the
//     resource; an unknown ConsentId, and the id of a consent of another
//     kind (a payment consent), are 400 UK.OBIE.Resource.NotFound, as is a
//     consent the TPP deleted (so a second DELETE is 400 too).
//   - Permissions without ReadAccountsBasic or ReadAccountsDetail are 400
//     UK.OBIE.Field.Invalid (the field is present; its value breaks a
//     rule), as are an empty list, an unknown code and unpaired
//     transaction permissions. Path is Data.Permissions.
//   - A date that does not parse, and an ExpirationDateTime that is not in
//     the future, are 400 UK.OBIE.Field.InvalidDate. TransactionFromDateTime
//     after TransactionToDateTime is 400 UK.OBIE.Field.Invalid (each date is
//     valid; their order is not), as for the query filters. Dates without
//     a timezone are read as UTC; responses carry them in UTC.
//   - Duplicate permissions are kept once, in the order first sent.

// ConsentEvents is told about consent changes made through this API so
// that TPPs can be notified (the events package implements it). Calls
// happen after the change is committed; an error is logged and does not
// change the answer, because the change itself has happened.
type ConsentEvents interface {
	// ConsentRevoked is called after a TPP deleted consent c (c.DeletedAt
	// is set; c.Status says whether it had been authorised, in which case
	// its grant and tokens are already revoked).
	ConsentRevoked(ctx context.Context, c ob.Consent) error
}

// consentDeps is what the consent handlers use beyond the Server's store.
type consentDeps struct {
	store  ob.ConsentStore
	events ConsentEvents
}

func newConsentDeps(cfg Config) consentDeps {
	d := consentDeps{store: cfg.Consents, events: cfg.ConsentEvents}
	if d.store == nil {
		d.store, _ = cfg.Store.(ob.ConsentStore)
	}
	return d
}

const consentsPath = "/account-access-consents"

// consentRoutes registers the account-access-consents endpoints.
func (s *Server) consentRoutes() {
	s.mux.Handle("POST "+aisPrefix+consentsPath, s.handle(apiRoute, s.createConsent))
	s.mux.Handle("GET "+aisPrefix+consentsPath+"/{ConsentId}", s.handle(apiRoute, s.getConsent))
	s.mux.Handle("DELETE "+aisPrefix+consentsPath+"/{ConsentId}", s.handle(apiRoute, s.deleteConsent))
}

// obReadConsent1 is the POST body. Pointers tell absent from empty.
type obReadConsent1 struct {
	Data *struct {
		Permissions             []string `json:"Permissions"`
		ExpirationDateTime      *string  `json:"ExpirationDateTime"`
		TransactionFromDateTime *string  `json:"TransactionFromDateTime"`
		TransactionToDateTime   *string  `json:"TransactionToDateTime"`
	} `json:"Data"`
	Risk json.RawMessage `json:"Risk"`
}

// obReadConsentResponse1 is the consent as answered.
type obReadConsentResponse1 struct {
	Data  obConsentData `json:"Data"`
	Risk  struct{}      `json:"Risk"`
	Links obLinks       `json:"Links"`
	Meta  obMeta        `json:"Meta"`
}

type obConsentData struct {
	ConsentId               string          `json:"ConsentId"`
	CreationDateTime        string          `json:"CreationDateTime"`
	Status                  string          `json:"Status"`
	StatusUpdateDateTime    string          `json:"StatusUpdateDateTime"`
	Permissions             []ob.Permission `json:"Permissions"`
	ExpirationDateTime      string          `json:"ExpirationDateTime,omitempty"`
	TransactionFromDateTime string          `json:"TransactionFromDateTime,omitempty"`
	TransactionToDateTime   string          `json:"TransactionToDateTime,omitempty"`
}

// consentClient returns the TPP behind a consent-management request, or
// 403 for a token that may not manage consents.
func consentClient(r *http.Request) (string, error) {
	st := stateOf(r)
	if st.grant != nil || st.token.GrantID != "" {
		return "", ob.Errorf(ob.CodeForbidden, "consents are managed with a client-credentials token")
	}
	if !slices.Contains(st.token.Scopes, scopeAccounts) {
		return "", ob.Errorf(ob.CodeForbidden, "the access token lacks the accounts scope")
	}
	if st.token.ClientID == "" {
		return "", ob.Errorf(ob.CodeForbidden, "the access token belongs to no TPP")
	}
	return st.token.ClientID, nil
}

func (s *Server) consentStore() (ob.ConsentStore, error) {
	if s.consents.store == nil {
		return nil, errors.New("httpapi: no consent store configured")
	}
	return s.consents.store, nil
}

// createConsent handles POST /account-access-consents.
func (s *Server) createConsent(w http.ResponseWriter, r *http.Request) error {
	clientID, err := consentClient(r)
	if err != nil {
		return err
	}
	store, err := s.consentStore()
	if err != nil {
		return err
	}
	var body obReadConsent1
	if err := s.decodeJSON(r, &body); err != nil {
		return err
	}
	// The store keeps microseconds: answer with what a later GET will show.
	now := s.now().UTC().Truncate(time.Microsecond)
	c, err := consentFromRequest(body, now)
	if err != nil {
		return err
	}
	c.ID = "aac-" + uuid.NewString()
	c.TPPID = clientID
	if err := store.CreateConsent(r.Context(), c); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.consentResponse(r, c))
}

// consentFromRequest validates the request body and returns the new
// consent, AwaitingAuthorisation as of now.
func consentFromRequest(body obReadConsent1, now time.Time) (ob.Consent, error) {
	if body.Data == nil {
		return ob.Consent{}, ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	}
	if _, err := ob.CheckRisk(body.Risk); err != nil {
		return ob.Consent{}, err
	}
	perms, err := checkPermissions(body.Data.Permissions)
	if err != nil {
		return ob.Consent{}, err
	}
	exp, err := bodyTime("Data.ExpirationDateTime", body.Data.ExpirationDateTime)
	if err != nil {
		return ob.Consent{}, err
	}
	if exp != nil && !exp.After(now) {
		return ob.Consent{}, ob.FieldError(ob.CodeFieldInvalidDate, "Data.ExpirationDateTime",
			"ExpirationDateTime must be in the future")
	}
	from, err := bodyTime("Data.TransactionFromDateTime", body.Data.TransactionFromDateTime)
	if err != nil {
		return ob.Consent{}, err
	}
	to, err := bodyTime("Data.TransactionToDateTime", body.Data.TransactionToDateTime)
	if err != nil {
		return ob.Consent{}, err
	}
	if from != nil && to != nil && from.After(*to) {
		return ob.Consent{}, ob.FieldError(ob.CodeFieldInvalid, "Data.TransactionFromDateTime",
			"TransactionFromDateTime is after TransactionToDateTime")
	}
	return ob.Consent{
		Kind: ob.KindAccountAccess, Status: ob.ConsentAwaitingAuthorisation,
		CreationDateTime: now, StatusUpdateDateTime: now, Permissions: perms,
		ExpirationDateTime: exp, TransactionFrom: from, TransactionTo: to,
	}, nil
}

// checkPermissions applies the permission rules of the Account and
// Transaction API profile.
func checkPermissions(codes []string) (ob.Permissions, error) {
	const path = "Data.Permissions"
	if codes == nil {
		return nil, ob.FieldError(ob.CodeFieldMissing, path, "Permissions is required")
	}
	if len(codes) == 0 {
		return nil, ob.FieldError(ob.CodeFieldInvalid, path, "Permissions must not be empty")
	}
	var ps ob.Permissions
	for _, code := range codes {
		p := ob.Permission(code)
		if !p.Known() {
			return nil, ob.FieldError(ob.CodeFieldInvalid, path, "unsupported permission "+truncate(code, 100))
		}
		if !ps.Has(p) {
			ps = append(ps, p)
		}
	}
	if !ps.HasAny(ob.ReadAccountsBasic, ob.ReadAccountsDetail) {
		return nil, ob.FieldError(ob.CodeFieldInvalid, path, "Permissions must include ReadAccountsBasic or ReadAccountsDetail")
	}
	level := ps.HasAny(ob.ReadTransactionsBasic, ob.ReadTransactionsDetail)
	side := ps.HasAny(ob.ReadTransactionsCredits, ob.ReadTransactionsDebits)
	switch {
	case level && !side:
		return nil, ob.FieldError(ob.CodeFieldInvalid, path,
			"ReadTransactionsBasic or ReadTransactionsDetail needs ReadTransactionsCredits and/or ReadTransactionsDebits")
	case side && !level:
		return nil, ob.FieldError(ob.CodeFieldInvalid, path,
			"ReadTransactionsCredits or ReadTransactionsDebits needs ReadTransactionsBasic or ReadTransactionsDetail")
	}
	return ps, nil
}

// bodyTimeLayouts are the ISO 8601 date-time forms accepted in bodies:
// with a zone (RFC 3339, any fraction), or without one (read as UTC).
var bodyTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// bodyTime parses an optional date-time field; 400
// UK.OBIE.Field.InvalidDate when it does not parse.
func bodyTime(path string, v *string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	for _, layout := range bodyTimeLayouts {
		if t, err := time.Parse(layout, *v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, ob.FieldError(ob.CodeFieldInvalidDate, path, path+" must be an ISO 8601 date-time such as 2017-04-05T10:43:07+00:00")
}

// ownConsent checks that clientID may see consent c: 400 NotFound for a
// deleted or non-account-access consent, 403 for another TPP's.
func ownConsent(c ob.Consent, clientID string) error {
	if c.Kind != ob.KindAccountAccess {
		return ob.ErrNotFound
	}
	if c.TPPID != clientID {
		return ob.Errorf(ob.CodeForbidden, "the consent belongs to another TPP")
	}
	if c.DeletedAt != nil {
		return ob.Errorf(ob.CodeResourceNotFound, "the consent was deleted")
	}
	return nil
}

// getConsent handles GET /account-access-consents/{ConsentId}.
func (s *Server) getConsent(w http.ResponseWriter, r *http.Request) error {
	clientID, err := consentClient(r)
	if err != nil {
		return err
	}
	store, err := s.consentStore()
	if err != nil {
		return err
	}
	c, err := store.Consent(r.Context(), r.PathValue("ConsentId"))
	if ob.IsNotFound(err) {
		return ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	} else if err != nil {
		return err
	}
	if err := ownConsent(c, clientID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.consentResponse(r, c))
}

// deleteConsent handles DELETE /account-access-consents/{ConsentId}: a
// soft delete that, in the same transaction, revokes the consent's grant
// and tokens when it was authorised.
func (s *Server) deleteConsent(w http.ResponseWriter, r *http.Request) error {
	clientID, err := consentClient(r)
	if err != nil {
		return err
	}
	store, err := s.consentStore()
	if err != nil {
		return err
	}
	now := s.now().UTC()
	// The checks run inside the update so that two DELETEs cannot both
	// succeed.
	c, err := store.UpdateConsent(r.Context(), r.PathValue("ConsentId"), now, func(c *ob.Consent) error {
		if err := ownConsent(*c, clientID); err != nil {
			return err
		}
		c.DeletedAt = &now
		return nil
	})
	if ob.IsNotFound(err) {
		return ob.Errorf(ob.CodeResourceNotFound, "no such consent")
	} else if err != nil {
		return err
	}
	if s.consents.events != nil {
		if err := s.consents.events.ConsentRevoked(r.Context(), c); err != nil {
			s.log.ErrorContext(r.Context(), "consent event not recorded", "consent", c.ID,
				"interaction_id", stateOf(r).interactionID, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// consentResponse renders c as OBReadConsentResponse1.
func (s *Server) consentResponse(r *http.Request, c ob.Consent) obReadConsentResponse1 {
	perms := c.Permissions
	if perms == nil {
		perms = ob.Permissions{}
	}
	return obReadConsentResponse1{
		Data: obConsentData{
			ConsentId:               c.ID,
			CreationDateTime:        formatTime(c.CreationDateTime),
			Status:                  c.Status.WireStatus(),
			StatusUpdateDateTime:    formatTime(c.StatusUpdateDateTime),
			Permissions:             perms,
			ExpirationDateTime:      formatTimePtr(c.ExpirationDateTime),
			TransactionFromDateTime: formatTimePtr(c.TransactionFrom),
			TransactionToDateTime:   formatTimePtr(c.TransactionTo),
		},
		Links: obLinks{Self: s.linkBase(r) + aisPrefix + consentsPath + "/" + c.ID},
	}
}
