package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

const (
	fundsConsents      = cbpiiBase + "/funds-confirmation-consents"
	fundsConfirmations = cbpiiBase + "/funds-confirmations"
)

// acc1Debtor names Alice's Acc1 by its sort code and account number.
var acc1Debtor = obj{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "60000112345678", "Name": "A Smith"}

func (e *payEnv) ccFunds(clientID string) string { return e.ccToken(clientID, "fundsconfirmations") }

// createFundsConsent posts a consent for acc1Debtor and returns its id.
func (e *payEnv) createFundsConsent(clientID string) string {
	e.t.Helper()
	r := e.send(http.MethodPost, fundsConsents, e.ccFunds(clientID), mustJSON(e.t, obj{"Data": obj{"DebtorAccount": acc1Debtor}})).
		wantStatus(e.t, http.StatusCreated)
	id, _ := r.data()["ConsentId"].(string)
	if id == "" {
		e.t.Fatalf("no ConsentId in %s", r.body)
	}
	return id
}

func checkBody(t testing.TB, consentID, ref, amount, currency string) string {
	return mustJSON(t, obj{"Data": obj{"ConsentId": consentID, "Reference": ref,
		"InstructedAmount": obj{"Amount": amount, "Currency": currency}}})
}

// TestCBPIIJourney: a CBPII's consent, its authorisation, funds checks,
// and its deletion.
func TestCBPIIJourney(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newPayEnv(t, be)
		cc := e.ccFunds(tppID)
		body := mustJSON(t, obj{"Data": obj{"DebtorAccount": acc1Debtor, "ExpirationDateTime": "2026-06-01T00:00:00"}})
		// An idempotency key where none is required is ignored.
		r := e.send(http.MethodPost, fundsConsents, cc, body, "x-idempotency-key: ignored").wantStatus(t, http.StatusCreated)
		id, _ := r.data()["ConsentId"].(string)
		want := obj{
			"ConsentId": id, "Status": "AwaitingAuthorisation", "DebtorAccount": acc1Debtor,
			"CreationDateTime": "2026-01-15T09:30:00.123456Z", "StatusUpdateDateTime": "2026-01-15T09:30:00.123456Z",
			"ExpirationDateTime": "2026-06-01T00:00:00Z",
		}
		if diff := cmpJSON(want, r.data()); diff != "" {
			t.Errorf("POST Data (-want +got):\n%s", diff)
		}
		if self := publicURL + fundsConsents + "/" + id; r.links()["Self"] != self {
			t.Errorf("Links.Self = %v, want %s", r.links()["Self"], self)
		}
		g := e.send(http.MethodGet, fundsConsents+"/"+id, cc, "").wantStatus(t, http.StatusOK)
		if diff := cmpJSON(r.json, g.json); diff != "" {
			t.Errorf("GET differs from POST (-post +get):\n%s", diff)
		}

		e.authorise(id, obtest.Acc1)
		if st := e.send(http.MethodGet, fundsConsents+"/"+id, cc, "").data()["Status"]; st != "Authorised" {
			t.Errorf("Status = %v, want Authorised", st)
		}
		ac := e.acToken(tppID, id, "openid", "fundsconfirmations")
		before := e.balance(obtest.Acc1)
		yes := e.send(http.MethodPost, fundsConfirmations, ac, checkBody(t, id, "Purchase01", "20.00", "GBP")).wantStatus(t, http.StatusCreated)
		fcID, _ := yes.data()["FundsConfirmationId"].(string)
		wantYes := obj{
			"FundsConfirmationId": fcID, "ConsentId": id, "CreationDateTime": "2026-01-15T09:30:00.123456Z",
			"FundsAvailable": true, "Reference": "Purchase01", "InstructedAmount": obj{"Amount": "20.00", "Currency": "GBP"},
		}
		if fcID == "" {
			t.Error("no FundsConfirmationId")
		}
		if diff := cmpJSON(wantYes, yes.data()); diff != "" {
			t.Errorf("funds confirmation (-want +got):\n%s", diff)
		}
		no := e.send(http.MethodPost, fundsConfirmations, ac, checkBody(t, id, "Purchase02", "5000.00", "GBP")).wantStatus(t, http.StatusCreated)
		if no.data()["FundsAvailable"] != false {
			t.Errorf("FundsAvailable = %v for 5,000.00, want false", no.data()["FundsAvailable"])
		}
		if got := e.balance(obtest.Acc1); got != before {
			t.Errorf("a funds check moved money: %d → %d", before, got)
		}

		tests := []struct {
			name, bearer, body string
			status             int
			code, path         string
		}{
			{"wrong currency", ac, checkBody(t, id, "P3", "1.00", "EUR"), 400, ob.CodeFieldInvalid, "Data.InstructedAmount.Currency"},
			{"bad amount", ac, checkBody(t, id, "P3", "1.001", "GBP"), 400, ob.CodeFieldInvalid, "Data.InstructedAmount.Amount"},
			{"reference too long", ac, checkBody(t, id, strings.Repeat("r", 36), "1.00", "GBP"), 400, ob.CodeFieldInvalid, "Data.Reference"},
			{"no reference", ac, mustJSON(t, obj{"Data": obj{"ConsentId": id, "InstructedAmount": obj{"Amount": "1.00", "Currency": "GBP"}}}), 400, ob.CodeFieldMissing, "Data.Reference"},
			{"no amount", ac, mustJSON(t, obj{"Data": obj{"ConsentId": id, "Reference": "P"}}), 400, ob.CodeFieldMissing, "Data.InstructedAmount"},
			{"no consent id", ac, mustJSON(t, obj{"Data": obj{"Reference": "P", "InstructedAmount": obj{"Amount": "1.00", "Currency": "GBP"}}}), 400, ob.CodeFieldMissing, "Data.ConsentId"},
			{"no Data", ac, `{}`, 400, ob.CodeFieldMissing, "Data"},
			{"unknown consent", ac, checkBody(t, "fcc-unknown", "P", "1.00", "GBP"), 400, ob.CodeResourceNotFound, "Data.ConsentId"},
			{"client credentials", cc, checkBody(t, id, "P", "1.00", "GBP"), 403, ob.CodeResourceConsentMismatch, ""},
			{"payments scope", e.acToken(tppID, id, "payments"), checkBody(t, id, "P", "1.00", "GBP"), 403, ob.CodeResourceConsentMismatch, ""},
			{"another TPP's token for the consent", e.acToken(tpp2ID, id, "fundsconfirmations"), checkBody(t, id, "P", "1.00", "GBP"), 403, ob.CodeResourceConsentMismatch, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.sub(t).send(http.MethodPost, fundsConfirmations, tt.bearer, tt.body).wantError(t, tt.status, tt.code, tt.path)
			})
		}

		// The token of one consent cannot check another's.
		id2 := e.createFundsConsent(tppID)
		e.authorise(id2, obtest.Acc1)
		e.send(http.MethodPost, fundsConfirmations, ac, checkBody(t, id2, "P", "1.00", "GBP")).
			wantError(t, 400, ob.CodeResourceConsentMismatch, "Data.ConsentId")

		// Another TPP sees nothing of it; a payments token neither.
		cc2 := e.ccFunds(tpp2ID)
		e.send(http.MethodGet, fundsConsents+"/"+id, cc2, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodDelete, fundsConsents+"/"+id, cc2, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, fundsConsents+"/"+id, e.ccPay(tppID), "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, fundsConsents+"/"+id, ac, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")

		// Deleted: gone for reads, its tokens revoked.
		e.send(http.MethodDelete, fundsConsents+"/"+id, cc, "").wantNoBody(t, http.StatusNoContent)
		e.send(http.MethodGet, fundsConsents+"/"+id, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.send(http.MethodDelete, fundsConsents+"/"+id, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.send(http.MethodPost, fundsConfirmations, ac, checkBody(t, id, "P", "1.00", "GBP")).wantNoBody(t, http.StatusUnauthorized)

		// Revoked by the customer at the bank: Revoked, its tokens dead.
		ac2 := e.acToken(tppID, id2, "fundsconfirmations")
		if _, err := e.store.(ob.ConsentStore).UpdateConsent(context.Background(), id2, now, func(c *ob.Consent) error { return c.Revoke(now) }); err != nil {
			t.Fatal(err)
		}
		if st := e.send(http.MethodGet, fundsConsents+"/"+id2, cc, "").data()["Status"]; st != "Revoked" {
			t.Errorf("Status = %v, want Revoked", st)
		}
		e.send(http.MethodPost, fundsConfirmations, ac2, checkBody(t, id2, "P", "1.00", "GBP")).wantNoBody(t, http.StatusUnauthorized)
	})
}

// TestCBPIIConsentValidation covers the consent POST's checks.
func TestCBPIIConsentValidation(t *testing.T) {
	e := newPayEnv(t, backends()[0])
	cc := e.ccFunds(tppID)
	data := func(kv ...any) string {
		d := obj{"DebtorAccount": acc1Debtor}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(d, kv[i].(string))
			} else {
				d[kv[i].(string)] = kv[i+1]
			}
		}
		return mustJSON(t, obj{"Data": d})
	}
	tests := []struct {
		name, body, code, path string
	}{
		{"no Data", `{}`, ob.CodeFieldMissing, "Data"},
		{"no DebtorAccount", data("DebtorAccount", nil), ob.CodeFieldMissing, "Data.DebtorAccount"},
		{"unsupported scheme", data("DebtorAccount", obj{"SchemeName": "UK.OBIE.PAN", "Identification": "4929000000006"}), ob.CodeUnsupportedScheme, "Data.DebtorAccount.SchemeName"},
		{"bad sort code", data("DebtorAccount", obj{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "6000011234567", "Name": "A"}), ob.CodeFieldInvalid, "Data.DebtorAccount.Identification"},
		{"expiry in the past", data("ExpirationDateTime", now.Add(-time.Hour).Format(time.RFC3339)), ob.CodeFieldInvalidDate, "Data.ExpirationDateTime"},
		{"expiry not a date", data("ExpirationDateTime", "tomorrow"), ob.CodeFieldInvalidDate, "Data.ExpirationDateTime"},
		{"unknown member", data("Colour", "blue"), ob.CodeFieldUnexpected, "body"},
		{"Risk is not part of it", mustJSON(t, obj{"Data": obj{"DebtorAccount": acc1Debtor}, "Risk": obj{}}), ob.CodeFieldUnexpected, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sub(t).send(http.MethodPost, fundsConsents, cc, tt.body).wantError(t, 400, tt.code, tt.path)
		})
	}
	e.send(http.MethodGet, fundsConsents+"/fcc-unknown", cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
	// A payment consent is not a funds-confirmation consent.
	pid := e.createPaymentConsent("/domestic-payment-consents", consentBody(t, domesticInitiation("1.00", "GBP", externalCreditor)))
	e.send(http.MethodGet, fundsConsents+"/"+pid, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
	e.send(http.MethodDelete, fundsConsents+"/"+pid, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
	e.send(http.MethodPost, fundsConsents, e.ccPay(tppID), data()).wantError(t, 403, ob.CodeResourceConsentMismatch, "")
	e.send(http.MethodPost, fundsConsents, cc, data(), "Content-Type: text/plain").wantNoBody(t, http.StatusUnsupportedMediaType)
}
