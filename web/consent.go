package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/web/webstore"
)

// consentPage is the data of the consent decision page.
type consentPage struct {
	page
	TPPName     string
	TPPOrg      string
	LogoURI     string // https only
	Permissions []permissionView
	Expires     string // "" = until you revoke it
	TxFrom      string
	TxTo        string
	Accounts    []accountView
}

// decision is everything the consent page and its answer need.
type decision struct {
	s       webstore.Session
	auth    oauth.AuthSession
	consent ob.Consent
	client  oauth.Client
	// accounts are the accounts the customer may choose: their eligible
	// ones for account access, the payment service's DebtorChoices for
	// payment and funds-confirmation consents.
	accounts []ob.Account
	payment  *paymentDetails               // payment kinds
	funds    *payments.FundsConsentPayload // funds confirmation
}

var errRequestEnded = &pageError{http.StatusBadRequest, "This request has ended",
	"The app's request has already been answered or has expired. Return to the app you came from."}

// loadDecision loads the authenticated authorize session, its request and
// consent. ok is false when the consent cannot be authorised any more; the
// caller then ends the request with access_denied.
func (j *Journey) loadDecision(r *http.Request, post bool) (d decision, reason string, err error) {
	var ok bool
	if post {
		d.s, err = j.postSession(r)
	} else {
		d.s, ok, err = j.session(r)
		if err == nil && !ok {
			err = errSessionEnded
		}
	}
	if err != nil {
		return d, "", err
	}
	if d.s.SCAAt == nil || d.s.Purpose != webstore.PurposeAuthorize {
		return d, "", &pageError{http.StatusBadRequest, "Sign in first", "Sign in with your password and security code first."}
	}
	ctx := r.Context()
	d.auth, err = j.store.AuthSession(ctx, d.s.AuthSessionID)
	if ob.IsNotFound(err) {
		return d, "", errRequestEnded
	} else if err != nil {
		return d, "", err
	}
	if d.auth.CompletedAt != nil || !j.now().Before(d.auth.ExpiresAt) {
		return d, "", errRequestEnded
	}
	d.consent, err = j.store.Consent(ctx, d.auth.Request.IntentID)
	if ob.IsNotFound(err) {
		return d, "the consent does not exist", nil
	} else if err != nil {
		return d, "", err
	}
	switch {
	case d.consent.TPPID != d.auth.Request.ClientID:
		return d, "the consent belongs to another client", nil
	case d.consent.DeletedAt != nil:
		return d, "the consent was deleted", nil
	case d.consent.Status != ob.ConsentAwaitingAuthorisation:
		return d, "the consent is " + strings.ToLower(string(d.consent.Status.WireStatus())), nil
	case d.consent.ExpirationDateTime != nil && !j.now().Before(*d.consent.ExpirationDateTime):
		return d, "the consent has expired", nil
	}
	if d.client, err = j.store.Client(ctx, d.auth.Request.ClientID); err != nil {
		return d, "", err
	}
	switch k := d.consent.Kind; {
	case k.Payment() || k == ob.KindFundsConfirmation:
		reason, err = j.loadDebtor(ctx, &d)
		return d, reason, err
	case k != ob.KindAccountAccess:
		return d, "the bank cannot authorise this kind of consent here", nil
	}
	all, err := j.store.AccountsByCustomer(ctx, d.s.CustomerID)
	if err != nil {
		return d, "", err
	}
	for _, a := range all {
		if eligible(a) {
			d.accounts = append(d.accounts, a)
		}
	}
	return d, "", nil
}

// consentPage shows what the TPP asks for and the accounts to choose from.
func (j *Journey) consentPage(w http.ResponseWriter, r *http.Request) error {
	d, reason, err := j.loadDecision(r, false)
	if err != nil {
		return err
	}
	if reason != "" {
		return j.deny(w, r, d, reason)
	}
	if d.consent.Kind != ob.KindAccountAccess {
		return j.renderDebtor(w, r, http.StatusOK, d, "", "", false)
	}
	j.renderConsent(w, http.StatusOK, d, nil, "")
	return nil
}

func (j *Journey) renderConsent(w http.ResponseWriter, status int, d decision, chosen []string, msg string) {
	p := consentPage{
		page:        page{Title: "Share your account information", CSRF: d.s.CSRF, Error: msg},
		TPPName:     d.client.Name,
		TPPOrg:      d.client.OrgName,
		Permissions: describePermissions(d.consent.Permissions),
	}
	p.LogoURI = httpsURL(d.client.LogoURI)
	if e := d.consent.ExpirationDateTime; e != nil {
		p.Expires = dateTime(*e)
	}
	if t := d.consent.TransactionFrom; t != nil {
		p.TxFrom = date(*t)
	}
	if t := d.consent.TransactionTo; t != nil {
		p.TxTo = date(*t)
	}
	for _, a := range d.accounts {
		v := describeAccount(a)
		v.Selected = slices.Contains(chosen, a.ID)
		p.Accounts = append(p.Accounts, v)
	}
	// The answer to this form redirects to the TPP, which form-action must
	// allow (see securityHeaders).
	securityHeaders(w, origin(d.auth.Request.RedirectURI))
	j.render(w, status, "consent", p)
}

// decide applies the customer's answer and ends the authorization session.
func (j *Journey) decide(w http.ResponseWriter, r *http.Request) error {
	d, reason, err := j.loadDecision(r, true)
	if err != nil {
		return err
	}
	if reason != "" {
		return j.deny(w, r, d, reason)
	}
	debtor := d.consent.Kind != ob.KindAccountAccess
	switch r.PostForm.Get("decision") {
	case "deny":
		return j.reject(w, r, d)
	case "allow":
		if debtor {
			return j.allowDebtor(w, r, d)
		}
		return j.allow(w, r, d)
	}
	if debtor {
		return j.renderDebtor(w, r, http.StatusBadRequest, d, "", "Choose Allow or Deny.", false)
	}
	j.renderConsent(w, http.StatusBadRequest, d, nil, "Choose Allow or Deny.")
	return nil
}

// allow authorises the consent with the chosen accounts. Only the
// customer's own eligible accounts are accepted, whatever the form says.
func (j *Journey) allow(w http.ResponseWriter, r *http.Request, d decision) error {
	chosen := r.PostForm["account"]
	slices.Sort(chosen)
	chosen = slices.Compact(chosen)
	if len(chosen) == 0 {
		j.renderConsent(w, http.StatusBadRequest, d, nil, "Choose at least one account to share, or choose Deny.")
		return nil
	}
	for _, id := range chosen {
		if !slices.ContainsFunc(d.accounts, func(a ob.Account) bool { return a.ID == id }) {
			j.log.WarnContext(r.Context(), "consent form named an account the customer cannot share", sessionAttrs(d.s))
			j.renderConsent(w, http.StatusBadRequest, d, nil, "Choose from the accounts listed.")
			return nil
		}
	}
	ctx := r.Context()
	now := j.now()
	c, err := j.store.UpdateConsent(ctx, d.consent.ID, now, func(c *ob.Consent) error {
		return c.Authorise(d.s.CustomerID, chosen, now)
	})
	if code := ob.ErrorCode(err); code == ob.CodeResourceInvalidConsentStatus || code == ob.CodeResourceNotFound {
		return j.deny(w, r, d, "the consent can no longer be authorised")
	} else if err != nil {
		return err
	}
	j.audit(r, webstore.AuditConsentAuthorised, d.s.CustomerID, c, "accounts "+strings.Join(chosen, " "))
	if err := j.endSession(w, r, d.s); err != nil {
		return err
	}
	return j.finish(w, r, d.auth.ID, oauth.Outcome{
		Approved: true, CustomerID: d.s.CustomerID, ACR: oauth.ACRSCA, AuthTime: *d.s.SCAAt,
	})
}

// reject records the customer's refusal and sends access_denied.
func (j *Journey) reject(w http.ResponseWriter, r *http.Request, d decision) error {
	now := j.now()
	c, err := j.store.UpdateConsent(r.Context(), d.consent.ID, now, func(c *ob.Consent) error { return c.Reject(now) })
	if err != nil && ob.ErrorCode(err) != ob.CodeResourceInvalidConsentStatus {
		return err
	}
	if err == nil {
		j.audit(r, webstore.AuditConsentRejected, d.s.CustomerID, c, "")
	}
	return j.deny(w, r, d, "the customer denied access")
}

// deny ends the session and the authorization request with access_denied.
func (j *Journey) deny(w http.ResponseWriter, r *http.Request, d decision, reason string) error {
	if err := j.endSession(w, r, d.s); err != nil {
		return err
	}
	return j.finish(w, r, d.auth.ID, oauth.Outcome{Approved: false, Reason: reason})
}

// audit records what the customer did; a failure is logged, not shown (the
// decision itself is stored already).
func (j *Journey) audit(r *http.Request, kind, customerID string, c ob.Consent, detail string) {
	err := j.store.RecordAudit(r.Context(), webstore.AuditEvent{
		ID: randomToken(), At: j.now(), Kind: kind, CustomerID: customerID, ConsentID: c.ID, ClientID: c.TPPID, Detail: detail,
	})
	if err != nil {
		j.log.ErrorContext(r.Context(), "record audit event", "kind", kind, "consent", c.ID, "err", err)
	}
}
