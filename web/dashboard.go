package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// dashboardPage is the data of the consent dashboard.
type dashboardPage struct {
	page
	Name     string
	Consents []consentView
	// Revoked names the app whose access was just revoked.
	Revoked string
}

// consentView is one consent on the dashboard.
type consentView struct {
	ID          string
	TPPName     string
	TPPOrg      string
	LogoURI     string
	Permissions []permissionView
	Accounts    []accountView
	Granted     string
	Expires     string
	LastAccess  string
	State       string
	Active      bool
	// Kind names the consent's kind ("Payment", "Funds checks", ...).
	Kind string
	// Payment is what a payment consent pays, e.g. "£25.00 to Jane
	// Smith"; Schedule says when (scheduled payments, standing orders).
	Payment  string
	Schedule string
	// Funds marks a funds-confirmation consent.
	Funds bool
	// Revocable shows the Revoke button: active account-access and
	// funds-confirmation consents (a payment consent is used once).
	Revocable bool
}

var errConsentEnded = &pageError{http.StatusBadRequest, "This consent has ended",
	"The app's access has already ended, so there is nothing to revoke."}

// dashboardSession returns the customer's fully authenticated session, or
// sends the browser to log in (with a fresh dashboard session) and returns
// ok=false.
func (j *Journey) dashboardSession(w http.ResponseWriter, r *http.Request) (webstore.Session, bool, error) {
	s, ok, err := j.session(r)
	if err != nil {
		return s, false, err
	}
	if ok && s.SCAAt != nil {
		return s, true, nil
	}
	if ok {
		// A half-done sign-in (perhaps for an app in another tab) is
		// replaced: the dashboard needs its own.
		if err := j.store.DeleteWebSession(r.Context(), s.ID); err != nil {
			return s, false, err
		}
	}
	if _, err := j.newSession(w, r, webstore.PurposeDashboard, ""); err != nil {
		return s, false, err
	}
	http.Redirect(w, r, PathLogin, http.StatusSeeOther)
	return s, false, nil
}

// dashboard lists every consent the customer authorised.
func (j *Journey) dashboard(w http.ResponseWriter, r *http.Request) error {
	s, ok, err := j.dashboardSession(w, r)
	if err != nil || !ok {
		return err
	}
	ctx := r.Context()
	cust, err := j.store.Customer(ctx, s.CustomerID)
	if err != nil {
		return err
	}
	consents, err := j.store.ConsentsByCustomer(ctx, s.CustomerID)
	if err != nil {
		return err
	}
	accounts, err := j.store.AccountsByCustomer(ctx, s.CustomerID)
	if err != nil {
		return err
	}
	p := dashboardPage{page: page{Title: "Apps you share your accounts with", CSRF: s.CSRF}, Name: cust.Name}
	now := j.now()
	for _, c := range consents {
		v := consentView{ID: c.ID, Permissions: describePermissions(c.Permissions), TPPName: "An app no longer registered"}
		if cl, err := j.store.Client(ctx, c.TPPID); err == nil {
			v.TPPName, v.TPPOrg = cl.Name, cl.OrgName
			v.LogoURI = httpsURL(cl.LogoURI)
		} else if !ob.IsNotFound(err) {
			return err
		}
		for _, id := range c.AccountIDs {
			i := slices.IndexFunc(accounts, func(a ob.Account) bool { return a.ID == id })
			if i >= 0 {
				v.Accounts = append(v.Accounts, describeAccount(accounts[i]))
			} else {
				v.Accounts = append(v.Accounts, accountView{ID: id, Name: "A closed account"})
			}
		}
		if c.ExpirationDateTime != nil {
			v.Expires = dateTime(*c.ExpirationDateTime)
		}
		if at, err := j.store.LastAPICall(ctx, c.ID); err != nil {
			return err
		} else if at != nil {
			v.LastAccess = dateTime(*at)
		}
		g, err := j.store.AccessGrant(ctx, c.ID)
		switch {
		case ob.IsNotFound(err):
			v.State = "No access"
		case err != nil:
			return err
		default:
			v.Granted = dateTime(g.CreatedAt)
			v.State, v.Active = grantState(c, g, now)
		}
		v.Kind = kindText[c.Kind]
		switch {
		case c.Kind.Payment():
			v.State, v.Active = paymentState(c)
			if d, err := readPayment(c); err != nil {
				j.log.ErrorContext(ctx, "read payment consent", "consent", c.ID, "err", err)
			} else {
				v.Payment, v.Schedule = dashboardPayment(d)
			}
		case c.Kind == ob.KindFundsConfirmation:
			v.Funds = true
			if c.Status == ob.ConsentRevoked {
				v.State, v.Active = "Revoked on "+dateTime(c.StatusUpdateDateTime), false
			}
			v.Revocable = v.Active
		default:
			v.Revocable = v.Active
		}
		if v.ID == r.URL.Query().Get("revoked") {
			p.Revoked = v.TPPName
		}
		p.Consents = append(p.Consents, v)
	}
	j.render(w, http.StatusOK, "dashboard", p)
	return nil
}

// grantState says whether a consent's access still works, and if not why.
func grantState(c ob.Consent, g ob.AccessGrant, now time.Time) (string, bool) {
	switch {
	case g.RevokedAt != nil && c.Status == ob.ConsentAuthorised && c.DeletedAt == nil:
		return "You revoked access on " + dateTime(*g.RevokedAt), false
	case c.DeletedAt != nil:
		return "Ended by the app on " + dateTime(*c.DeletedAt), false
	case c.Status == ob.ConsentExpired || !g.Active(now):
		return "Expired", false
	case c.Status != ob.ConsentAuthorised:
		return "Ended", false
	}
	return "Active", true
}

// paymentState says where a payment consent is. It has no Revoke: it is
// used once, by the payment the app makes with it.
func paymentState(c ob.Consent) (string, bool) {
	switch c.Status {
	case ob.ConsentAuthorised:
		if c.DeletedAt == nil {
			return "Allowed, not made yet", true
		}
	case ob.ConsentConsumed:
		if c.Kind == ob.KindDomesticPayment {
			return "Payment made", false
		}
		return "Set up", false
	case ob.ConsentExpired:
		return "Expired", false
	case ob.ConsentRejected:
		return "Not allowed", false
	}
	return "Ended", false
}

// dashboardPayment summarises a payment consent for the dashboard.
func dashboardPayment(d *paymentDetails) (payment, schedule string) {
	if s := d.Standing; s != nil {
		return s.Recurring + " to " + d.Payee, s.Frequency + ", first " + s.First
	}
	payment = d.Amount + " to " + d.Payee
	if d.ExecutionDate != "" {
		schedule = "on " + d.ExecutionDate
	}
	return payment, schedule
}

// revoke revokes a consent's access at once: the grant and every token
// bound to it. An account-access consent's status stays as it is, as OBIE
// prescribes for a revocation at the bank; a funds-confirmation consent
// becomes Revoked, as the CBPII specification has it. Payment consents
// cannot be revoked (they are used once). The TPP learns of it through the
// events hook.
func (j *Journey) revoke(w http.ResponseWriter, r *http.Request) error {
	s, err := j.postSession(r)
	if err != nil {
		return err
	}
	if s.SCAAt == nil {
		return &pageError{http.StatusBadRequest, "Sign in first", "Sign in with your password and security code first."}
	}
	ctx := r.Context()
	notFound := &pageError{http.StatusNotFound, "Consent not found", "You have no consent with that reference."}
	c, err := j.store.Consent(ctx, r.PathValue("ConsentId"))
	if ob.IsNotFound(err) || (err == nil && c.CustomerID != s.CustomerID) {
		// Another customer's consent reads as unknown.
		return notFound
	} else if err != nil {
		return err
	}
	now := j.now()
	// done shows the dashboard with the revocation acknowledged.
	done := func() error {
		http.Redirect(w, r, PathDashboard+"?revoked="+url.QueryEscape(c.ID), http.StatusSeeOther)
		return nil
	}
	// The TPP's events are made first and written with the revocation, so
	// that it hears of the revocation exactly when it happened. A failure
	// to make them stops nothing: the customer's revocation comes first.
	events := func() []ob.EventNotification {
		if j.cfg.Events == nil {
			return nil
		}
		notes, err := j.cfg.Events.ConsentAuthorizationRevokedEvents(ctx, c)
		if err != nil {
			j.log.ErrorContext(ctx, "notify consent revocation", "consent", c.ID, "err", err)
			return nil
		}
		return notes
	}
	switch {
	case c.Kind.Payment():
		return &pageError{http.StatusBadRequest, "A payment cannot be revoked",
			"A payment consent is used once, by the payment you allowed. To stop a standing order or a scheduled payment, contact the bank."}
	case c.Kind == ob.KindFundsConfirmation:
		if c.Status == ob.ConsentRevoked {
			// Revoked already (a second click): nothing more to do or tell.
			return done()
		}
		if c.DeletedAt != nil {
			return errConsentEnded
		}
		c, err = j.store.UpdateConsentNotifying(ctx, c.ID, now, func(c *ob.Consent) error { return c.Revoke(now) }, events())
		if ob.ErrorCode(err) == ob.CodeResourceInvalidConsentStatus {
			return errConsentEnded
		} else if ob.IsNotFound(err) {
			return notFound
		} else if err != nil {
			return err
		}
	default:
		if g, err := j.store.AccessGrant(ctx, c.ID); err == nil && g.RevokedAt != nil {
			// Revoked already (a second click): nothing more to do or tell.
			return done()
		}
		if err := j.store.RevokeGrantNotifying(ctx, c.ID, now, events()); ob.IsNotFound(err) {
			return notFound
		} else if err != nil {
			return err
		}
	}
	j.audit(r, webstore.AuditConsentRevoked, s.CustomerID, c, "revoked by the customer on the dashboard")
	j.log.InfoContext(ctx, "customer revoked consent", "consent", c.ID, "client", c.TPPID, sessionAttrs(s))
	return done()
}
