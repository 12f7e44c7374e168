package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/web/webstore"
)

// PaymentConsents is what the consent pages need of the payment service for
// payment and funds-confirmation consents. *payments.Service implements it.
type PaymentConsents interface {
	// DebtorChoices returns the accounts the customer may choose for the
	// consent: the debtor account of a payment, the account a
	// funds-confirmation consent names.
	DebtorChoices(ctx context.Context, c ob.Consent, customerID string) ([]ob.Account, error)
	// Authorise records the customer's approval for one account; see
	// payments.Service.Authorise for its errors.
	Authorise(ctx context.Context, req payments.AuthoriseRequest) (ob.Consent, error)
}

var _ PaymentConsents = (*payments.Service)(nil)

// Messages of the payment and funds pages.
const (
	msgStepUp       = "For your security, confirm this payment with a new code from your authenticator app."
	msgEnterCode    = "Enter the 6-digit code from your authenticator app, or choose Deny."
	msgChooseDebtor = "Choose the account to pay from, or choose Deny."
	msgChooseFunds  = "Choose the account the app may check, or choose Deny."
	msgNoChoice     = "There is no account you can choose for this request. Choose Deny to return to the app."
	reasonNoPayment = "payments are not available"
	reasonRisk      = "this payment could not be authorised"
	reasonUnread    = "the bank could not read the consent"
)

// tppView is the app as the pages show it.
type tppView struct {
	TPPName string
	TPPOrg  string
	LogoURI string // https only
}

func describeTPP(c oauth.Client) tppView {
	return tppView{TPPName: c.Name, TPPOrg: c.OrgName, LogoURI: httpsURL(c.LogoURI)}
}

// paymentDetails is what a payment consent asks, ready to show.
type paymentDetails struct {
	Ask           string // what the app asks to do, after "asks you to"
	Amount        string // the amount of a single payment
	Payee         string
	PayeeAccount  string // masked
	Reference     string
	ExecutionDate string // scheduled payments
	// Arrives says when a payment by a scheme slower than Faster Payments
	// reaches the payee ("" for Faster Payments: at once).
	Arrives  string
	Standing *standingView
	// named is the debtor account the app named, masked ("" if none).
	named    string
	currency string
}

// standingView is a standing order's schedule.
type standingView struct {
	Frequency     string
	First         string // "£10.00 on 1 March 2026"
	Recurring     string // "£20.00 each"
	RecurringFrom string
	Final         string // "£5.00 on 1 March 2027", "" when none
	Count         string // NumberOfPayments, "" when not given
	OpenEnded     bool
}

// paymentPage is the data of a payment consent's page.
type paymentPage struct {
	page
	tppView
	paymentDetails
	debtorChoice
	// StepUp asks for a new one-time code (the fraud score asked for it).
	StepUp   bool
	DemoCode string
}

// fundsPage is the data of a funds-confirmation consent's page.
type fundsPage struct {
	page
	tppView
	debtorChoice
	Expires string // "" = until you revoke it
}

// debtorChoice is the account choice of the payment and funds pages
// (templates/debtor.html).
type debtorChoice struct {
	Legend   string
	Accounts []accountView
	// NoAccounts explains why there is nothing to choose; the page then
	// offers only Deny.
	NoAccounts string
}

// readPayment decodes a payment consent's payload into what its page
// shows.
func readPayment(c ob.Consent) (*paymentDetails, error) {
	p, err := payments.DecodeConsentPayload(c)
	if err != nil {
		return nil, err
	}
	o, err := payments.ParseOrder(c.Kind, p.Initiation)
	if err != nil {
		return nil, err
	}
	v := &paymentDetails{
		Amount: formatMoney(o.Amount), Payee: o.CreditorAccount.Name, PayeeAccount: describePayee(o.CreditorAccount),
		Reference: o.Reference, currency: o.Amount.Currency,
	}
	if v.Payee == "" {
		v.Payee = "A payee without a name"
	}
	if o.DebtorAccount != nil {
		v.named = maskNumber(o.DebtorAccount.Identification)
	}
	switch c.Kind {
	case ob.KindDomesticPayment:
		v.Ask = "make a payment"
		// The customer should know before approving that the money takes
		// days (payments.Settlement; a payment within the bank is at once).
		switch o.Instrument {
		case payments.InstrumentBACS:
			v.Arrives = "by Bacs: in about three working days (at once to an account at OBank)"
		case payments.InstrumentCHAPS:
			v.Arrives = "by CHAPS: the same working day if made before the bank's cut-off, else the next"
		}
	case ob.KindDomesticScheduledPayment:
		v.Ask = "schedule a payment"
		v.ExecutionDate = date(o.At)
	case ob.KindDomesticStandingOrder:
		v.Ask = "set up a standing order"
		var in payments.StandingOrderInitiation
		if err := json.Unmarshal(p.Initiation, &in); err != nil {
			return nil, err
		}
		v.Standing = describeStanding(in)
	}
	return v, nil
}

// describeStanding lays out a standing order's schedule and amounts.
func describeStanding(in payments.StandingOrderInitiation) *standingView {
	s := &standingView{
		Frequency: describeFrequency(in.Frequency),
		First:     formatAmount(in.FirstPaymentAmount) + " on " + date(in.FirstPaymentDateTime),
		Count:     in.NumberOfPayments,
	}
	recurring := in.FirstPaymentAmount
	if in.RecurringPaymentAmount != nil {
		recurring = *in.RecurringPaymentAmount
	}
	s.Recurring = formatAmount(recurring) + " each"
	if !in.RecurringPaymentDateTime.IsZero() {
		s.RecurringFrom = date(in.RecurringPaymentDateTime)
	}
	switch {
	case in.FinalPaymentAmount != nil && !in.FinalPaymentDateTime.IsZero():
		s.Final = formatAmount(*in.FinalPaymentAmount) + " on " + date(in.FinalPaymentDateTime)
	case in.FinalPaymentAmount != nil:
		s.Final = formatAmount(*in.FinalPaymentAmount) + " (the last payment)"
	case !in.FinalPaymentDateTime.IsZero():
		s.Final = "on " + date(in.FinalPaymentDateTime)
	}
	s.OpenEnded = in.NumberOfPayments == "" && in.FinalPaymentDateTime.IsZero()
	return s
}

// choices lists the decision's accounts for the radio buttons, with chosen
// (or the only one) selected.
func choices(d decision, chosen string) []accountView {
	var out []accountView
	for _, a := range d.accounts {
		v := describeAccount(a)
		v.Selected = a.ID == chosen || len(d.accounts) == 1
		out = append(out, v)
	}
	return out
}

func (j *Journey) renderPayment(w http.ResponseWriter, r *http.Request, status int, d decision, chosen, msg string, stepUp bool) error {
	p := paymentPage{
		page:           page{Title: "Approve a payment", CSRF: d.s.CSRF, Error: msg},
		tppView:        describeTPP(d.client),
		paymentDetails: *d.payment,
		debtorChoice:   debtorChoice{Legend: "Pay from", Accounts: choices(d, chosen)},
		StepUp:         stepUp,
	}
	switch d.consent.Kind {
	case ob.KindDomesticScheduledPayment:
		p.Title = "Approve a scheduled payment"
	case ob.KindDomesticStandingOrder:
		p.Title = "Approve a standing order"
	}
	if len(p.Accounts) == 0 {
		if d.payment.named != "" {
			p.NoAccounts = "The app asked for this payment to come from the account " + d.payment.named +
				", which is not one of your accounts that can make it. You can only deny this request."
		} else {
			p.NoAccounts = "None of your accounts can make a payment in " + d.payment.currency +
				", so you can only deny this request."
		}
	}
	if stepUp && j.cfg.DemoMode {
		c, err := j.store.Customer(r.Context(), d.s.CustomerID)
		if err != nil {
			return err
		}
		if p.DemoCode, err = j.demoCode(c); err != nil {
			return err
		}
	}
	securityHeaders(w, origin(d.auth.Request.RedirectURI))
	j.render(w, status, "payment_consent", p)
	return nil
}

func (j *Journey) renderFunds(w http.ResponseWriter, status int, d decision, chosen, msg string) {
	p := fundsPage{
		page:         page{Title: "Allow funds checks", CSRF: d.s.CSRF, Error: msg},
		tppView:      describeTPP(d.client),
		debtorChoice: debtorChoice{Legend: "The account the app may check", Accounts: choices(d, chosen)},
	}
	if e := d.consent.ExpirationDateTime; e != nil {
		p.Expires = dateTime(*e)
	}
	if len(p.Accounts) == 0 {
		p.NoAccounts = "The app asked to check an account that is not one of your open accounts"
		if d.funds != nil && d.funds.DebtorAccount.Identification != "" {
			p.NoAccounts = "The app asked to check the account " + maskNumber(d.funds.DebtorAccount.Identification) +
				", which is not one of your open accounts"
		}
		p.NoAccounts += ". You can only deny this request."
	}
	securityHeaders(w, origin(d.auth.Request.RedirectURI))
	j.render(w, status, "funds_consent", p)
}

// renderDebtor shows the page of a payment or funds-confirmation consent.
func (j *Journey) renderDebtor(w http.ResponseWriter, r *http.Request, status int, d decision, chosen, msg string, stepUp bool) error {
	if d.consent.Kind == ob.KindFundsConfirmation {
		j.renderFunds(w, status, d, chosen, msg)
		return nil
	}
	return j.renderPayment(w, r, status, d, chosen, msg, stepUp)
}

// allowDebtor authorises a payment or funds-confirmation consent for the
// chosen account through the payment service, which scores a payment's
// fraud risk: it may ask for a new one-time code first (step-up), or
// refuse the payment.
func (j *Journey) allowDebtor(w http.ResponseWriter, r *http.Request, d decision) error {
	ctx := r.Context()
	chosen := r.PostForm.Get("account")
	stepUp := r.PostForm.Get("stepup") != ""
	if len(d.accounts) == 0 {
		return j.renderDebtor(w, r, http.StatusBadRequest, d, "", msgNoChoice, false)
	}
	if chosen == "" {
		msg := msgChooseDebtor
		if d.consent.Kind == ob.KindFundsConfirmation {
			msg = msgChooseFunds
		}
		return j.renderDebtor(w, r, http.StatusBadRequest, d, "", msg, stepUp)
	}
	if !slices.ContainsFunc(d.accounts, func(a ob.Account) bool { return a.ID == chosen }) {
		j.log.WarnContext(ctx, "consent form named an account the customer cannot choose", sessionAttrs(d.s))
		return j.renderDebtor(w, r, http.StatusBadRequest, d, "", "Choose from the accounts listed.", stepUp)
	}
	steppedUp := false
	if code := r.PostForm.Get("code"); d.consent.Kind.Payment() && (stepUp || code != "") {
		if code == "" {
			return j.renderPayment(w, r, http.StatusBadRequest, d, chosen, msgEnterCode, true)
		}
		cust, err := j.store.Customer(ctx, d.s.CustomerID)
		if err != nil {
			return err
		}
		switch res, err := j.checkCode(ctx, cust, code); {
		case err != nil:
			return err
		case res == codeLocked:
			if err := j.endSession(w, r, d.s); err != nil {
				return err
			}
			return &pageError{http.StatusTooManyRequests, "Signing in is locked", msgLocked}
		case res == codeWrong:
			return j.renderPayment(w, r, http.StatusUnauthorized, d, chosen, msgBadCode, true)
		}
		steppedUp = true
	}
	c, err := j.cfg.Payments.Authorise(ctx, payments.AuthoriseRequest{
		ConsentID: d.consent.ID, CustomerID: d.s.CustomerID, AccountID: chosen, SteppedUp: steppedUp,
	})
	switch code := ob.ErrorCode(err); {
	case err == nil:
	case errors.Is(err, payments.ErrStepUpRequired) || code == ob.CodeReauthenticate:
		if steppedUp {
			// The service should not ask twice; ask again rather than
			// loop silently, and leave a trace.
			j.log.WarnContext(ctx, "payment asked for a step-up after one", "consent", d.consent.ID, sessionAttrs(d.s))
		}
		return j.renderPayment(w, r, http.StatusOK, d, chosen, "", true)
	case code == payments.CodeRiskRejected:
		j.audit(r, webstore.AuditConsentRiskRejected, d.s.CustomerID, d.consent, "account "+chosen)
		return j.deny(w, r, d, reasonRisk)
	case code == ob.CodeResourceInvalidConsentStatus || code == ob.CodeResourceNotFound:
		return j.deny(w, r, d, "the consent can no longer be authorised")
	default:
		return err
	}
	detail := "account " + chosen
	authTime := *d.s.SCAAt
	if steppedUp {
		detail += ", confirmed with a new code"
		authTime = j.now()
	}
	j.audit(r, webstore.AuditConsentAuthorised, d.s.CustomerID, c, detail)
	if err := j.endSession(w, r, d.s); err != nil {
		return err
	}
	return j.finish(w, r, d.auth.ID, oauth.Outcome{
		Approved: true, CustomerID: d.s.CustomerID, ACR: oauth.ACRSCA, AuthTime: authTime,
	})
}

// loadDebtor completes a decision on a payment or funds-confirmation
// consent: what it asks and the accounts to choose from. reason is set when
// the consent cannot be decided here.
func (j *Journey) loadDebtor(ctx context.Context, d *decision) (reason string, err error) {
	if j.cfg.Payments == nil {
		return reasonNoPayment, nil
	}
	if d.consent.Kind == ob.KindFundsConfirmation {
		f, err := payments.DecodeFundsConsentPayload(d.consent)
		if err != nil {
			j.log.ErrorContext(ctx, "read funds-confirmation consent", "consent", d.consent.ID, "err", err)
			return reasonUnread, nil
		}
		d.funds = &f
	} else {
		if d.payment, err = readPayment(d.consent); err != nil {
			j.log.ErrorContext(ctx, "read payment consent", "consent", d.consent.ID, "err", err)
			return reasonUnread, nil
		}
	}
	d.accounts, err = j.cfg.Payments.DebtorChoices(ctx, d.consent, d.s.CustomerID)
	return "", err
}
