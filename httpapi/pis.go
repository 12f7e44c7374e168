package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// The payment-initiation API (payment-initiation-openapi.yaml) for the
// domestic payment types: for each of domestic payments, domestic scheduled
// payments and domestic standing orders, POST and GET of the consent, POST
// of the order, GET of the order and of its payment-details, and GET of a
// domestic payment consent's funds-confirmation. The logic is
// payments.Service's; the handlers authenticate, check the signature and
// the idempotency key, decode, make one service call and encode. Every
// response with a body is signed (signing.go).
//
// Decisions where the spec leaves a choice:
//   - Consent POST/GET and order GETs take a client-credentials token with
//     the payments scope; order POSTs and funds-confirmation take an
//     authorization-code token bound to the consent (the service checks it
//     is this consent). The wrong kind of token, or a missing scope, is 403.
//   - The checks run in this order: token (403), x-idempotency-key (400
//     UK.OBIE.Header.Missing/Invalid), x-jws-signature over the raw body
//     (400 UK.OBIE.Signature.*), then the body. Nothing is decoded or
//     stored before the signature verifies.
//   - Charges is always [] (the bank charges nothing). Debtor and Refund
//     are not returned. ExpectedExecutionDateTime is given for scheduled
//     payments (their RequestedExecutionDateTime) and, with
//     ExpectedSettlementDateTime, for a domestic payment accepted to settle
//     later (payments.Settlement: CHAPS after the bank's cut-off, Bacs)
//     until it settles. CutOffDateTime is not given: the consent does not
//     know when its order will come.
//   - SCASupportData is accepted and not kept (the bank grants no SCA
//     exemption), so it is not echoed. SupplementaryData other than {} is
//     400 UK.OBIE.Field.Unexpected: the bank defines none.
//   - Consent statuses use the PIS enumeration: a payment consent the bank
//     expired after authorisation reads Rejected (the v3.1 PIS enumeration
//     has neither Expired nor Revoked).
//   - payment-details lists one PaymentStatus per execution (the immediate
//     settlement of a domestic payment, each run of a scheduled payment or
//     standing order), PaymentTransactionId being the ledger entry's id; an
//     order not executed yet answers PaymentStatus []. A rejected execution
//     carries StatusReason ProprietaryRejection and the reason as
//     StatusReasonDescription.

// pisPrefix is the base path of the payment-initiation API ([PI] servers).
const pisPrefix = "/open-banking/v3.1/pisp"

// The OAuth scopes of the payment APIs (scopeAccounts is in auth.go).
const (
	scopePayments           = oauth.ScopePayments
	scopeFundsConfirmations = oauth.ScopeFundsConfirmations
)

// pisKind is what differs between the three payment types.
type pisKind struct {
	kind     ob.ConsentKind
	consents string // consent collection path
	orders   string // order collection path
	idParam  string // the order id's path parameter and response field
	funds    bool   // has GET /{ConsentId}/funds-confirmation
	// permission: Data.Permission ("Create") is required in the consent.
	permission bool
	// parse decodes a request's Data.Initiation into the payments type
	// (payments.Initiation, ScheduledInitiation, StandingOrderInitiation).
	parse func(json.RawMessage) (any, error)
	// render turns the stored Initiation into its wire form.
	render func(json.RawMessage) (any, error)
}

var pisKinds = []pisKind{
	{
		kind: ob.KindDomesticPayment, consents: "/domestic-payment-consents", orders: "/domestic-payments",
		idParam: "DomesticPaymentId", funds: true, parse: parseDomestic, render: renderDomestic,
	},
	{
		kind: ob.KindDomesticScheduledPayment, consents: "/domestic-scheduled-payment-consents",
		orders: "/domestic-scheduled-payments", idParam: "DomesticScheduledPaymentId", permission: true,
		parse: parseScheduled, render: renderScheduled,
	},
	{
		kind: ob.KindDomesticStandingOrder, consents: "/domestic-standing-order-consents",
		orders: "/domestic-standing-orders", idParam: "DomesticStandingOrderId", permission: true,
		parse: parseStandingOrder, render: renderStandingOrder,
	},
}

// paymentRoutes registers the PIS and CBPII APIs when the server has a
// payment service (Config.Payments).
func (s *Server) paymentRoutes() {
	if s.payments == nil {
		return
	}
	handle := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		// Signed by s.front, which wraps every request under pisPrefix.
		s.mux.Handle(method+" "+pisPrefix+path, s.handle(apiRoute, h))
	}
	for _, k := range pisKinds {
		handle("POST "+k.consents, s.createPaymentConsent(k))
		handle("GET "+k.consents+"/{ConsentId}", s.getPaymentConsent(k))
		if k.funds {
			handle("GET "+k.consents+"/{ConsentId}/funds-confirmation", s.paymentConsentFunds(k))
		}
		handle("POST "+k.orders, s.createPaymentOrder(k))
		handle("GET "+k.orders+"/{"+k.idParam+"}", s.getPaymentOrder(k))
		handle("GET "+k.orders+"/{"+k.idParam+"}/payment-details", s.getPaymentDetails(k))
	}
	s.cbpiiRoutes()
}

// ccClient returns the TPP behind a request that needs a client-credentials
// token with scope, or 403.
func ccClient(r *http.Request, scope string) (string, error) {
	st := stateOf(r)
	if st.grant != nil || st.token.GrantID != "" {
		return "", ob.Errorf(ob.CodeForbidden, "this endpoint takes a client-credentials token")
	}
	if !slices.Contains(st.token.Scopes, scope) {
		return "", ob.Errorf(ob.CodeForbidden, "the access token lacks the %s scope", scope)
	}
	if st.token.ClientID == "" {
		return "", ob.Errorf(ob.CodeForbidden, "the access token belongs to no TPP")
	}
	return st.token.ClientID, nil
}

// acGrant returns the TPP and the consent grant of a request that needs an
// authorization-code token (bound to a consent) with scope, or 403.
func acGrant(r *http.Request, scope string) (string, ob.AccessGrant, error) {
	st := stateOf(r)
	if st.grant == nil {
		return "", ob.AccessGrant{}, ob.Errorf(ob.CodeForbidden, "this endpoint takes an access token bound to the consent (authorization code)")
	}
	if !slices.Contains(st.token.Scopes, scope) {
		return "", ob.AccessGrant{}, ob.Errorf(ob.CodeForbidden, "the access token lacks the %s scope", scope)
	}
	if st.token.ClientID == "" || (st.grant.TPPID != "" && st.grant.TPPID != st.token.ClientID) {
		return "", ob.AccessGrant{}, ob.Errorf(ob.CodeForbidden, "the consent belongs to another TPP")
	}
	return st.token.ClientID, *st.grant, nil
}

// signedBody runs the checks every PIS POST shares, in order: the
// idempotency key, reading the body once, and its signature. It returns
// the key and the raw body.
func (s *Server) signedBody(r *http.Request, clientID string) (payments.IdempotencyKey, []byte, error) {
	key := r.Header.Get(ob.HeaderIdempotencyKey)
	if err := ob.ValidateIdempotencyKey(key); err != nil {
		return payments.IdempotencyKey{}, nil, err
	}
	raw, err := s.readBody(r)
	if err != nil {
		return payments.IdempotencyKey{}, nil, err
	}
	if err := s.verifyRequest(r, clientID, raw); err != nil {
		return payments.IdempotencyKey{}, nil, err
	}
	sum := sha256.Sum256(raw)
	return payments.IdempotencyKey{Key: key, RequestHash: sum[:], Now: s.now()}, raw, nil
}

// decodeRaw decodes an already-read body with decodeJSON's rules.
func (s *Server) decodeRaw(r *http.Request, raw []byte, v any) error {
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return s.decodeJSON(r, v)
}

func missingJSON(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// createPaymentConsent handles POST /{t}-consents.
func (s *Server) createPaymentConsent(k pisKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		clientID, err := ccClient(r, scopePayments)
		if err != nil {
			return err
		}
		key, raw, err := s.signedBody(r, clientID)
		if err != nil {
			return err
		}
		var body obPaymentConsentRequest
		if err := s.decodeRaw(r, raw, &body); err != nil {
			return err
		}
		req, err := k.consentRequest(body)
		if err != nil {
			return err
		}
		req.TPPID, req.Idempotency = clientID, key
		c, _, err := s.payments.CreateConsent(r.Context(), req)
		if err != nil {
			return err
		}
		resp, err := s.paymentConsentResponse(r, k, c)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, resp)
	}
}

// consentRequest checks the presence of what the service needs and
// decodes the Initiation.
func (k pisKind) consentRequest(body obPaymentConsentRequest) (payments.ConsentRequest, error) {
	d := body.Data
	if d == nil {
		return payments.ConsentRequest{}, ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
	}
	if missingJSON(d.Initiation) {
		return payments.ConsentRequest{}, ob.FieldError(ob.CodeFieldMissing, initiationPath, "Initiation is required")
	}
	if _, err := ob.CheckRisk(body.Risk); err != nil {
		return payments.ConsentRequest{}, err
	}
	req := payments.ConsentRequest{Kind: k.kind, Risk: body.Risk}
	switch {
	case k.permission && d.Permission == nil:
		return req, ob.FieldError(ob.CodeFieldMissing, "Data.Permission", "Permission is required")
	case !k.permission && d.Permission != nil:
		return req, ob.FieldError(ob.CodeFieldUnexpected, "Data.Permission", "this consent has no Permission")
	case d.Permission != nil:
		req.Permission = *d.Permission
	}
	if d.ReadRefundAccount != nil {
		req.ReadRefundAccount = *d.ReadRefundAccount
	}
	if a := d.Authorisation; a != nil {
		if a.AuthorisationType == nil {
			return req, ob.FieldError(ob.CodeFieldMissing, "Data.Authorisation.AuthorisationType", "AuthorisationType is required")
		}
		req.AuthorisationType = *a.AuthorisationType
		at, err := bodyTime("Data.Authorisation.CompletionDateTime", a.CompletionDateTime)
		if err != nil {
			return req, err
		}
		req.CompletionDateTime = at
	}
	in, err := k.parse(d.Initiation)
	if err != nil {
		return req, err
	}
	req.Initiation = in
	return req, nil
}

// getPaymentConsent handles GET /{t}-consents/{ConsentId}.
func (s *Server) getPaymentConsent(k pisKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		clientID, err := ccClient(r, scopePayments)
		if err != nil {
			return err
		}
		c, err := s.payments.Consent(r.Context(), clientID, k.kind, r.PathValue("ConsentId"))
		if err != nil {
			return err
		}
		resp, err := s.paymentConsentResponse(r, k, c)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, resp)
	}
}

// paymentConsentFunds handles GET /{t}-consents/{ConsentId}/funds-confirmation.
func (s *Server) paymentConsentFunds(k pisKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		clientID, grant, err := acGrant(r, scopePayments)
		if err != nil {
			return err
		}
		id := r.PathValue("ConsentId")
		ok, at, err := s.payments.ConsentFunds(r.Context(), clientID, grant.ID, k.kind, id)
		if err != nil {
			return err
		}
		var resp obWriteFundsConfirmationResponse1
		resp.Data.FundsAvailableResult = obFundsAvailableResult{FundsAvailableDateTime: formatTime(at), FundsAvailable: ok}
		resp.Links.Self = s.linkBase(r) + pisPrefix + k.consents + "/" + id + "/funds-confirmation"
		return writeJSON(w, http.StatusOK, resp)
	}
}

// createPaymentOrder handles POST /{order}.
func (s *Server) createPaymentOrder(k pisKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		clientID, grant, err := acGrant(r, scopePayments)
		if err != nil {
			return err
		}
		key, raw, err := s.signedBody(r, clientID)
		if err != nil {
			return err
		}
		var body obPaymentOrderRequest
		if err := s.decodeRaw(r, raw, &body); err != nil {
			return err
		}
		d := body.Data
		switch {
		case d == nil:
			return ob.FieldError(ob.CodeFieldMissing, "Data", "Data is required")
		case d.ConsentId == nil || *d.ConsentId == "":
			return ob.FieldError(ob.CodeFieldMissing, "Data.ConsentId", "ConsentId is required")
		case missingJSON(d.Initiation):
			return ob.FieldError(ob.CodeFieldMissing, initiationPath, "Initiation is required")
		}
		if _, err := ob.CheckRisk(body.Risk); err != nil {
			return err
		}
		in, err := k.parse(d.Initiation)
		if err != nil {
			return err
		}
		p, _, err := s.payments.Submit(r.Context(), payments.OrderRequest{
			Kind: k.kind, TPPID: clientID, GrantID: grant.ID, ConsentID: *d.ConsentId,
			Idempotency: key, Initiation: in, Risk: body.Risk,
		})
		if err != nil {
			return err
		}
		resp, err := s.paymentOrderResponse(r, k, p)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, resp)
	}
}

// ownPayment returns the order of the request's path for the TPP of its
// client-credentials token.
func (s *Server) ownPayment(r *http.Request, k pisKind) (payments.Payment, error) {
	clientID, err := ccClient(r, scopePayments)
	if err != nil {
		return payments.Payment{}, err
	}
	return s.payments.Payment(r.Context(), clientID, k.kind, r.PathValue(k.idParam))
}

// getPaymentOrder handles GET /{order}/{Id}.
func (s *Server) getPaymentOrder(k pisKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.ownPayment(r, k)
		if err != nil {
			return err
		}
		resp, err := s.paymentOrderResponse(r, k, p)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, resp)
	}
}

// getPaymentDetails handles GET /{order}/{Id}/payment-details.
func (s *Server) getPaymentDetails(k pisKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.ownPayment(r, k)
		if err != nil {
			return err
		}
		xs, err := s.payments.Executions(r.Context(), p)
		if err != nil {
			return err
		}
		var resp obWritePaymentDetailsResponse1
		resp.Data.PaymentStatus = mapSlice(xs, paymentStatus)
		resp.Links.Self = s.linkBase(r) + pisPrefix + k.orders + "/" + p.ID + "/payment-details"
		return writeJSON(w, http.StatusOK, resp)
	}
}

// paymentStatus renders one execution.
func paymentStatus(x payments.Execution) obPaymentStatus {
	ps := obPaymentStatus{
		PaymentTransactionId: x.EntryID,
		Status:               string(x.Status),
		StatusUpdateDateTime: formatTime(x.At),
		StatusDetail:         &obStatusDetail1{Status: string(x.Status)},
	}
	if x.Status == payments.StatusRejected {
		ps.StatusDetail.StatusReason = "ProprietaryRejection"
		ps.StatusDetail.StatusReasonDescription = truncate(x.Reason, 256)
	}
	return ps
}

// paymentConsentStatus renders a payment consent's status in the PIS
// enumeration (Authorised, AwaitingAuthorisation, Consumed, Rejected).
func paymentConsentStatus(st ob.ConsentStatus) string {
	switch st {
	case ob.ConsentExpired, ob.ConsentRevoked:
		return string(ob.ConsentRejected)
	}
	return st.WireStatus()
}

// paymentConsentResponse renders a payment consent of kind k.
func (s *Server) paymentConsentResponse(r *http.Request, k pisKind, c ob.Consent) (obPaymentConsentResponse, error) {
	p, err := payments.DecodeConsentPayload(c)
	if err != nil {
		return obPaymentConsentResponse{}, err
	}
	in, err := k.render(p.Initiation)
	if err != nil {
		return obPaymentConsentResponse{}, err
	}
	d := obPaymentConsentData{
		ConsentId:            c.ID,
		CreationDateTime:     formatTime(c.CreationDateTime),
		Status:               paymentConsentStatus(c.Status),
		StatusUpdateDateTime: formatTime(c.StatusUpdateDateTime),
		ReadRefundAccount:    p.ReadRefundAccount,
		Charges:              []obCharge{},
		Initiation:           in,
	}
	if k.permission {
		d.Permission = p.Permission
	}
	if k.kind == ob.KindDomesticScheduledPayment {
		d.ExpectedExecutionDateTime = formatTime(scheduledAt(p.Initiation))
	}
	if p.AuthorisationType != "" {
		d.Authorisation = &obAuthorisation{AuthorisationType: p.AuthorisationType,
			CompletionDateTime: formatTimePtr(p.CompletionDateTime)}
	}
	risk := p.Risk
	if missingJSON(risk) {
		risk = json.RawMessage("{}")
	}
	return obPaymentConsentResponse{
		Data:  d,
		Risk:  risk,
		Links: obLinks{Self: s.linkBase(r) + pisPrefix + k.consents + "/" + c.ID},
	}, nil
}

// paymentOrderResponse renders a payment order of kind k.
func (s *Server) paymentOrderResponse(r *http.Request, k pisKind, p payments.Payment) (obPaymentOrderResponse, error) {
	in, err := k.render(p.Initiation)
	if err != nil {
		return obPaymentOrderResponse{}, err
	}
	d := obPaymentOrderData{
		ConsentId:            p.ConsentID,
		CreationDateTime:     formatTime(p.CreationDateTime),
		Status:               string(p.Status),
		StatusUpdateDateTime: formatTime(p.StatusUpdateDateTime),
		Charges:              []obCharge{},
		Initiation:           in,
	}
	switch k.kind {
	case ob.KindDomesticPayment:
		d.DomesticPaymentId = p.ID
		if p.NextRunAt != nil {
			// Accepted, settling when its scheme does (CHAPS after the
			// cut-off, Bacs).
			d.ExpectedExecutionDateTime = formatTime(*p.NextRunAt)
			d.ExpectedSettlementDateTime = d.ExpectedExecutionDateTime
		}
	case ob.KindDomesticScheduledPayment:
		d.DomesticScheduledPaymentId = p.ID
		d.ExpectedExecutionDateTime = formatTime(scheduledAt(p.Initiation))
	case ob.KindDomesticStandingOrder:
		d.DomesticStandingOrderId = p.ID
	}
	return obPaymentOrderResponse{
		Data:  d,
		Links: obLinks{Self: s.linkBase(r) + pisPrefix + k.orders + "/" + p.ID},
	}, nil
}
