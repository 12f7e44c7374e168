package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

const (
	domesticConsents = pisBase + "/domestic-payment-consents"
	domesticPayments = pisBase + "/domestic-payments"
)

// TestPISDomesticJourney drives a domestic payment through the API: the
// TPP's signed consent, the customer's authorisation, the funds check, the
// order that settles at once, its reads, and the consent consumed.
func TestPISDomesticJourney(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newPayEnv(t, be)
		cc := e.ccPay(tppID)
		in := domesticInitiation("10.50", "GBP", externalCreditor)

		r := e.post(domesticConsents, cc, consentBody(t, in), newKey()).wantStatus(t, http.StatusCreated)
		d := r.data()
		id, _ := d["ConsentId"].(string)
		if !strings.HasPrefix(id, "pdc-") {
			t.Fatalf("ConsentId = %q", id)
		}
		want := obj{
			"ConsentId": id, "Status": "AwaitingAuthorisation",
			"CreationDateTime": "2026-01-15T09:30:00.123456Z", "StatusUpdateDateTime": "2026-01-15T09:30:00.123456Z",
			"Charges": []any{}, "Initiation": in,
		}
		if diff := cmpJSON(want, d); diff != "" {
			t.Errorf("POST Data (-want +got):\n%s", diff)
		}
		if diff := cmpJSON(testRisk, r.json["Risk"]); diff != "" {
			t.Errorf("Risk (-want +got):\n%s", diff)
		}
		if self := publicURL + domesticConsents + "/" + id; r.links()["Self"] != self {
			t.Errorf("Links.Self = %v, want %s", r.links()["Self"], self)
		}
		got := e.send(http.MethodGet, domesticConsents+"/"+id, cc, "").wantStatus(t, http.StatusOK)
		if diff := cmpJSON(r.json, got.json); diff != "" {
			t.Errorf("GET differs from POST (-post +get):\n%s", diff)
		}

		e.authorise(id, obtest.Acc1)
		if st := e.send(http.MethodGet, domesticConsents+"/"+id, cc, "").data()["Status"]; st != "Authorised" {
			t.Errorf("after authorisation Status = %v", st)
		}
		ac := e.acToken(tppID, id, "openid", "payments")
		f := e.send(http.MethodGet, domesticConsents+"/"+id+"/funds-confirmation", ac, "").wantStatus(t, http.StatusOK)
		wantFunds := obj{"FundsAvailableResult": obj{"FundsAvailable": true, "FundsAvailableDateTime": "2026-01-15T09:30:00.123456Z"}}
		if diff := cmpJSON(wantFunds, f.data()); diff != "" {
			t.Errorf("funds-confirmation (-want +got):\n%s", diff)
		}
		// Funds confirmation and orders need the consent's token; the
		// consent's token cannot read the consent.
		e.send(http.MethodGet, domesticConsents+"/"+id, ac, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, domesticConsents+"/"+id+"/funds-confirmation", cc, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")

		before := e.balance(obtest.Acc1)
		body, key := orderBody(t, id, in), newKey()
		p := e.post(domesticPayments, ac, body, key).wantStatus(t, http.StatusCreated)
		pid, _ := p.data()["DomesticPaymentId"].(string)
		if !strings.HasPrefix(pid, "pdp-") {
			t.Fatalf("DomesticPaymentId = %q in %s", pid, p.body)
		}
		wantP := obj{
			"DomesticPaymentId": pid, "ConsentId": id, "Status": "AcceptedSettlementCompleted",
			"CreationDateTime": "2026-01-15T09:30:00.123456Z", "StatusUpdateDateTime": "2026-01-15T09:30:00.123456Z",
			"Charges": []any{}, "Initiation": in,
		}
		if diff := cmpJSON(wantP, p.data()); diff != "" {
			t.Errorf("order Data (-want +got):\n%s", diff)
		}
		if self := publicURL + domesticPayments + "/" + pid; p.links()["Self"] != self {
			t.Errorf("Links.Self = %v, want %s", p.links()["Self"], self)
		}
		if got := e.balance(obtest.Acc1); got != before-1050 {
			t.Errorf("Acc1 balance %d, want %d", got, before-1050)
		}

		g := e.send(http.MethodGet, domesticPayments+"/"+pid, cc, "").wantStatus(t, http.StatusOK)
		if diff := cmpJSON(p.json, g.json); diff != "" {
			t.Errorf("GET order differs from POST (-post +get):\n%s", diff)
		}
		pd := e.send(http.MethodGet, domesticPayments+"/"+pid+"/payment-details", cc, "").wantStatus(t, http.StatusOK)
		wantPD := obj{"PaymentStatus": []any{obj{
			"PaymentTransactionId": pid + ":0", "Status": "AcceptedSettlementCompleted",
			"StatusUpdateDateTime": "2026-01-15T09:30:00.123456Z",
			"StatusDetail":         obj{"Status": "AcceptedSettlementCompleted"},
		}}}
		if diff := cmpJSON(wantPD, pd.data()); diff != "" {
			t.Errorf("payment-details (-want +got):\n%s", diff)
		}
		if st := e.send(http.MethodGet, domesticConsents+"/"+id, cc, "").data()["Status"]; st != "Consumed" {
			t.Errorf("consent Status = %v, want Consumed", st)
		}

		// A retry is answered with the payment as it is now, and a second
		// order on the consumed consent is refused; nothing moves either
		// way. (Consuming keeps the consent's grant, so the token reaches
		// these answers.)
		again := e.post(domesticPayments, ac, body, key)
		again.wantStatus(t, http.StatusCreated)
		if again.data()["DomesticPaymentId"] != pid {
			t.Errorf("replay DomesticPaymentId = %v, want %s", again.data()["DomesticPaymentId"], pid)
		}
		second := e.post(domesticPayments, ac, body, newKey())
		second.wantError(t, 400, ob.CodeResourceInvalidConsentStatus, "Data.ConsentId")
		f = e.send(http.MethodGet, domesticConsents+"/"+id+"/funds-confirmation", ac, "")
		f.wantError(t, 400, ob.CodeResourceInvalidConsentStatus, "")
		if got := e.balance(obtest.Acc1); got != before-1050 {
			t.Errorf("Acc1 balance %d after retries, want %d", got, before-1050)
		}

		// Tokens and owners.
		cc2 := e.ccPay(tpp2ID)
		e.send(http.MethodGet, domesticConsents+"/"+id, cc2, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, domesticPayments+"/"+pid, cc2, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, domesticPayments+"/"+pid+"/payment-details", cc2, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, domesticConsents+"/"+id, e.ccToken(tppID, "accounts"), "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.post(domesticConsents, e.ccToken(tppID, "accounts"), consentBody(t, in), newKey()).wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.post(domesticPayments, cc, body, newKey()).wantError(t, 403, ob.CodeResourceConsentMismatch, "")
		e.send(http.MethodGet, domesticConsents+"/pdc-unknown", cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.send(http.MethodGet, domesticPayments+"/pdp-unknown", cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.send(http.MethodGet, domesticConsents+"/"+id, "", "").wantNoBody(t, http.StatusUnauthorized)
	})
}

// TestPISOrderRules covers what the order POST refuses or rejects.
func TestPISOrderRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newPayEnv(t, be)
		cc := e.ccPay(tppID)
		in := domesticInitiation("1.00", "GBP", externalCreditor)

		t.Run("ConsentMismatch", func(t *testing.T) {
			e := e.sub(t)
			id, ac := e.authorisedDomestic(in)
			other := domesticInitiation("1.01", "GBP", externalCreditor)
			e.post(domesticPayments, ac, orderBody(t, id, other), newKey()).wantError(t, 400, ob.CodeResourceConsentMismatch, "Data.Initiation")
			// A different Risk.
			b := mustJSON(t, obj{"Data": obj{"ConsentId": id, "Initiation": in}, "Risk": obj{"PaymentContextCode": "PartyToParty"}})
			e.post(domesticPayments, ac, b, newKey()).wantError(t, 400, ob.CodeResourceConsentMismatch, "Risk")
			// The token of another consent.
			id2, _ := e.authorisedDomestic(in)
			e.post(domesticPayments, ac, orderBody(t, id2, in), newKey()).wantError(t, 400, ob.CodeResourceConsentMismatch, "Data.ConsentId")
			// "10.5" is the same amount as "10.50": amounts compare as money.
			same := domesticInitiation("1.0", "GBP", externalCreditor)
			e.post(domesticPayments, ac, orderBody(t, id, same), newKey()).wantStatus(t, http.StatusCreated)
		})

		t.Run("InsufficientFunds", func(t *testing.T) {
			e := e.sub(t)
			before := e.balance(obtest.Acc1)
			poor := domesticInitiation("5000.00", "GBP", externalCreditor)
			id, ac := e.authorisedDomestic(poor)
			p := e.post(domesticPayments, ac, orderBody(t, id, poor), newKey()).wantStatus(t, http.StatusCreated)
			if st := p.data()["Status"]; st != "Rejected" {
				t.Errorf("Status = %v, want Rejected", st)
			}
			if got := e.balance(obtest.Acc1); got != before {
				t.Errorf("balance moved from %d to %d", before, got)
			}
			pid, _ := p.data()["DomesticPaymentId"].(string)
			pd := e.send(http.MethodGet, domesticPayments+"/"+pid+"/payment-details", cc, "").wantStatus(t, http.StatusOK)
			ps := pd.list("PaymentStatus")
			if len(ps) != 1 || ps[0]["Status"] != "Rejected" {
				t.Fatalf("PaymentStatus = %v", ps)
			}
			detail, _ := ps[0]["StatusDetail"].(map[string]any)
			if detail["StatusReason"] != "ProprietaryRejection" || detail["StatusReasonDescription"] == "" {
				t.Errorf("StatusDetail = %v", detail)
			}
			// The funds check said so beforehand.
			id2, ac2 := e.authorisedDomestic(poor)
			f := e.send(http.MethodGet, domesticConsents+"/"+id2+"/funds-confirmation", ac2, "").wantStatus(t, http.StatusOK)
			if fa := f.data()["FundsAvailableResult"].(map[string]any)["FundsAvailable"]; fa != false {
				t.Errorf("FundsAvailable = %v, want false", fa)
			}
		})

		t.Run("BacsSettlesLater", func(t *testing.T) {
			e := e.sub(t)
			before := e.balance(obtest.Acc1)
			bacs := domesticInitiation("2.00", "GBP", externalCreditor)
			bacs["LocalInstrument"] = "UK.OBIE.BACS"
			id, ac := e.authorisedDomestic(bacs)
			p := e.post(domesticPayments, ac, orderBody(t, id, bacs), newKey()).wantStatus(t, http.StatusCreated)
			d := p.data()
			if d["Status"] != "AcceptedSettlementInProcess" || d["ExpectedSettlementDateTime"] == nil ||
				d["ExpectedSettlementDateTime"] != d["ExpectedExecutionDateTime"] {
				t.Fatalf("Bacs payment = %v", d)
			}
			// The money leaves the customer at acceptance, for the bank's
			// clearing account, until the scheme settles.
			if got := e.balance(obtest.Acc1); got != before-200 {
				t.Errorf("balance after acceptance %d, want %d", got, before-200)
			}
			pid, _ := d["DomesticPaymentId"].(string)
			pd := e.send(http.MethodGet, domesticPayments+"/"+pid+"/payment-details", cc, "").wantStatus(t, http.StatusOK)
			if ps := pd.list("PaymentStatus"); len(ps) != 0 {
				t.Errorf("PaymentStatus before settlement = %v, want []", ps)
			}
		})

		t.Run("Concurrent", func(t *testing.T) {
			e := e.sub(t)
			before := e.balance(obtest.Acc1)
			id, ac := e.authorisedDomestic(in)
			body, key := orderBody(t, id, in), newKey()
			sig := sign(t, payKeys.tpp1, body, now)
			const n = 20
			type result struct {
				status int
				id     any
				body   []byte
			}
			results := make([]result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					r := e.send(http.MethodPost, domesticPayments, ac, body, "x-idempotency-key: "+key, jws.Header+": "+sig)
					results[i] = result{r.status, r.data()["DomesticPaymentId"], r.body}
				})
			}
			wg.Wait()
			// One payment: every request gets 201 with the same id.
			var first any
			created := 0
			for i, r := range results {
				switch r.status {
				case http.StatusCreated:
					created++
					if first == nil {
						first = r.id
					}
					if r.id == nil || r.id != first {
						t.Errorf("request %d: DomesticPaymentId %v, want %v", i, r.id, first)
					}
				default:
					t.Errorf("request %d: status %d: %s", i, r.status, r.body)
				}
			}
			if created != n {
				t.Errorf("%d of %d concurrent requests answered 201", created, n)
			}
			if got := e.balance(obtest.Acc1); got != before-100 {
				t.Errorf("balance %d, want %d (one payment)", got, before-100)
			}
		})
	})
}

// TestPISIdempotencyKey covers the x-idempotency-key header of PIS POSTs.
func TestPISIdempotencyKey(t *testing.T) {
	e := newPayEnv(t, backends()[0])
	cc := e.ccPay(tppID)
	body := consentBody(t, domesticInitiation("1.00", "GBP", externalCreditor))
	sig := jws.Header + ": " + sign(t, payKeys.tpp1, body, now)
	e.send(http.MethodPost, domesticConsents, cc, body, sig).wantError(t, 400, ob.CodeHeaderMissing, ob.HeaderIdempotencyKey)
	e.send(http.MethodPost, domesticConsents, cc, body, sig, "x-idempotency-key: "+strings.Repeat("k", 41)).
		wantError(t, 400, ob.CodeHeaderInvalid, ob.HeaderIdempotencyKey)

	key := newKey()
	a := e.send(http.MethodPost, domesticConsents, cc, body, sig, "x-idempotency-key: "+key).wantStatus(t, http.StatusCreated)
	b := e.send(http.MethodPost, domesticConsents, cc, body, sig, "x-idempotency-key: "+key).wantStatus(t, http.StatusCreated)
	if a.data()["ConsentId"] != b.data()["ConsentId"] {
		t.Errorf("replayed consent %v, want %v", b.data()["ConsentId"], a.data()["ConsentId"])
	}
	other := consentBody(t, domesticInitiation("2.00", "GBP", externalCreditor))
	e.post(domesticConsents, cc, other, key).wantError(t, 400, ob.CodeHeaderInvalid, ob.HeaderIdempotencyKey)
	// Keys are per TPP: another TPP's same key is a new consent.
	c := e.send(http.MethodPost, domesticConsents, e.ccPay(tpp2ID), body, "x-idempotency-key: "+key,
		jws.Header+": "+sign(t, payKeys.tpp2, body, now)).wantStatus(t, http.StatusCreated)
	if c.data()["ConsentId"] == a.data()["ConsentId"] {
		t.Error("another TPP's key replayed the first TPP's consent")
	}
}

// TestPISSignatures covers the request signature: each failure's code, and
// that nothing is stored before the signature verifies.
func TestPISSignatures(t *testing.T) {
	e := newPayEnv(t, backends()[0])
	cc := e.ccPay(tppID)
	body := consentBody(t, domesticInitiation("1.00", "GBP", externalCreditor))
	tpp1 := payKeys.tpp1
	with := func(kv ...any) map[string]any {
		h := obHeader(tpp1)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(h, kv[i].(string))
			} else {
				h[kv[i].(string)] = kv[i+1]
			}
		}
		return h
	}
	tests := []struct {
		name string
		sig  string
		code string
	}{
		{"valid by hand", rawSign(t, obHeader(tpp1), []byte(body), tpp1.key), ""},
		{"missing", "", ob.CodeSignatureMissing},
		{"not detached", "a.b.c", ob.CodeSignatureMalformed},
		{"tampered body", sign(t, tpp1, strings.Replace(body, "1.00", "9.00", 1), now), ob.CodeSignatureInvalid},
		{"unknown kid", rawSign(t, with("kid", "no-such-key"), []byte(body), tpp1.key), ob.CodeSignatureInvalid},
		{"another TPP's key", sign(t, payKeys.tpp2, body, now), ob.CodeSignatureInvalid},
		{"wrong key for kid", rawSign(t, obHeader(tpp1), []byte(body), payKeys.stray), ob.CodeSignatureInvalid},
		{"iat older than 24 h", sign(t, tpp1, body, now.Add(-25*time.Hour)), ob.CodeSignatureInvalidClaim},
		{"iat in the future", sign(t, tpp1, body, now.Add(time.Hour)), ob.CodeSignatureInvalidClaim},
		// crit must be exactly the three OBIE claims: with one left out
		// the claim is present but wrong, which the jws package (and its
		// doc) calls InvalidClaim; MissingClaim is for an absent header
		// member, as below.
		{"crit missing a member", rawSign(t, with("crit", []string{jws.ClaimIAT, jws.ClaimISS}), []byte(body), tpp1.key), ob.CodeSignatureInvalidClaim},
		{"no tan", rawSign(t, with(jws.ClaimTAN, nil), []byte(body), tpp1.key), ob.CodeSignatureMissingClaim},
		{"iss of another TPP", rawSign(t, with(jws.ClaimISS, payKeys.tpp2.client.OrgID+"/"+payKeys.tpp2.client.SoftwareID), []byte(body), tpp1.key), ob.CodeSignatureInvalidClaim},
		{"untrusted tan", rawSign(t, with(jws.ClaimTAN, "evil.example"), []byte(body), tpp1.key), ob.CodeSignatureInvalidClaim},
		{"alg RS256", rawSign(t, with("alg", "RS256"), []byte(body), tpp1.key), ob.CodeSignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			key := newKey()
			headers := []string{"x-idempotency-key: " + key}
			if tt.sig != "" {
				headers = append(headers, jws.Header+": "+tt.sig)
			}
			r := e.send(http.MethodPost, domesticConsents, cc, body, headers...)
			if tt.code == "" {
				r.wantStatus(t, http.StatusCreated)
				return
			}
			r.wantError(t, 400, tt.code, jws.Header)
			// Nothing was stored under the key: it still creates a consent
			// with another body.
			other := consentBody(t, domesticInitiation("3.00", "GBP", externalCreditor))
			e.post(domesticConsents, cc, other, key).wantStatus(t, http.StatusCreated)
		})
	}
	// Orders are signed too.
	id, ac := e.authorisedDomestic(domesticInitiation("1.00", "GBP", externalCreditor))
	e.send(http.MethodPost, domesticPayments, ac, orderBody(t, id, domesticInitiation("1.00", "GBP", externalCreditor)),
		"x-idempotency-key: "+newKey()).wantError(t, 400, ob.CodeSignatureMissing, jws.Header)
}

// TestPISHeaderErrorsSigned: the front middleware's answers to faulty
// FAPI headers on the payment API are signed like every other PIS answer
// with a body (send checks the signature).
func TestPISHeaderErrorsSigned(t *testing.T) {
	e := newPayEnv(t, backends()[0])
	cc := e.ccPay(tppID)
	body := consentBody(t, domesticInitiation("1.00", "GBP", externalCreditor))
	for _, tt := range []struct {
		name, header string
	}{
		{"interaction id not a UUID", "x-fapi-interaction-id: not-a-uuid"},
		{"auth date not a date", "x-fapi-auth-date: yesterday"},
		{"customer IP not an address", "x-fapi-customer-ip-address: 300.1.1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name, _, _ := strings.Cut(tt.header, ":")
			r := e.send(http.MethodPost, domesticConsents, cc, body, tt.header, "x-idempotency-key: "+newKey(),
				jws.Header+": "+sign(t, payKeys.tpp1, body, now))
			r.wantError(t, 400, ob.CodeHeaderInvalid, name)
			if r.header.Get(jws.Header) == "" {
				t.Error("the answer is not signed")
			}
			e.send(http.MethodGet, domesticConsents+"/pdc-unknown", cc, "", tt.header).wantError(t, 400, ob.CodeHeaderInvalid, name)
		})
	}
}

// TestPISConsentValidation covers the consent POST's body checks; the
// Initiation rules themselves are the payments package's.
func TestPISConsentValidation(t *testing.T) {
	e := newPayEnv(t, backends()[0])
	cc := e.ccPay(tppID)
	in := func(mod func(obj)) obj {
		v := domesticInitiation("10.00", "GBP", externalCreditor)
		mod(v)
		return v
	}
	tests := []struct {
		name, body, code, path string
	}{
		{"over the limit", consentBody(t, in(func(o obj) { o["InstructedAmount"] = obj{"Amount": "50000.01", "Currency": "GBP"} })),
			ob.CodeFieldInvalid, "Data.Initiation.InstructedAmount.Amount"},
		{"at the limit", consentBody(t, in(func(o obj) { o["InstructedAmount"] = obj{"Amount": "50000", "Currency": "GBP"} })), "", ""},
		{"unsupported currency", consentBody(t, in(func(o obj) { o["InstructedAmount"] = obj{"Amount": "1.00", "Currency": "JPY"} })),
			ob.CodeUnsupportedCurrency, "Data.Initiation.InstructedAmount.Currency"},
		{"bad IBAN", consentBody(t, in(func(o obj) {
			o["CreditorAccount"] = obj{"SchemeName": "UK.OBIE.IBAN", "Identification": "GB00OBNK60000112345678", "Name": "X"}
		})), ob.CodeFieldInvalid, "Data.Initiation.CreditorAccount.Identification"},
		{"good IBAN", consentBody(t, in(func(o obj) {
			o["CreditorAccount"] = obj{"SchemeName": "UK.OBIE.IBAN", "Identification": "GB58OBNK60000112345678", "Name": "X"}
		})), "", ""},
		{"unsupported scheme", consentBody(t, in(func(o obj) {
			o["CreditorAccount"] = obj{"SchemeName": "UK.OBIE.PAN", "Identification": "4929000000006", "Name": "X"}
		})), ob.CodeUnsupportedScheme, "Data.Initiation.CreditorAccount.SchemeName"},
		{"no creditor name", consentBody(t, in(func(o obj) {
			o["CreditorAccount"] = obj{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": externalCreditor}
		})), ob.CodeFieldMissing, "Data.Initiation.CreditorAccount.Name"},
		{"postal address", consentBody(t, in(func(o obj) {
			o["CreditorPostalAddress"] = obj{"TownName": "Leeds", "Country": "GB", "AddressLine": []string{"1 Main St"}}
		})), "", ""},
		{"unknown initiation member", consentBody(t, in(func(o obj) { o["Colour"] = "blue" })), ob.CodeFieldUnexpected, "Data.Initiation"},
		{"supplementary data", consentBody(t, in(func(o obj) { o["SupplementaryData"] = obj{"x": 1} })), ob.CodeFieldUnexpected, "Data.Initiation.SupplementaryData"},
		{"empty supplementary data", consentBody(t, in(func(o obj) { o["SupplementaryData"] = obj{} })), "", ""},
		{"amount as number", `{"Data":{"Initiation":{"InstructedAmount":{"Amount":1,"Currency":"GBP"}}},"Risk":{}}`, ob.CodeResourceInvalidFormat, "Data.Initiation"},
		{"no Data", `{"Risk":{}}`, ob.CodeFieldMissing, "Data"},
		{"no Initiation", `{"Data":{},"Risk":{}}`, ob.CodeFieldMissing, "Data.Initiation"},
		{"no Risk", mustJSON(t, obj{"Data": obj{"Initiation": in(func(obj) {})}}), ob.CodeFieldMissing, "Risk"},
		{"Risk not an object", mustJSON(t, obj{"Data": obj{"Initiation": in(func(obj) {})}, "Risk": []int{}}), ob.CodeFieldInvalid, "Risk"},
		{"Permission on a domestic consent", consentBody(t, in(func(obj) {}), "Permission", "Create"), ob.CodeFieldUnexpected, "Data.Permission"},
		{"unknown Data member", consentBody(t, in(func(obj) {}), "Colour", "blue"), ob.CodeFieldUnexpected, "body"},
		{"bad ReadRefundAccount", consentBody(t, in(func(obj) {}), "ReadRefundAccount", "Maybe"), ob.CodeFieldInvalid, "Data.ReadRefundAccount"},
		{"authorisation", consentBody(t, in(func(obj) {}), "ReadRefundAccount", "No",
			"Authorisation", obj{"AuthorisationType": "Single", "CompletionDateTime": "2026-01-15T12:00:00"}), "", ""},
		{"authorisation without type", consentBody(t, in(func(obj) {}), "Authorisation", obj{}), ob.CodeFieldMissing, "Data.Authorisation.AuthorisationType"},
		{"bad completion date", consentBody(t, in(func(obj) {}), "Authorisation", obj{"AuthorisationType": "Any", "CompletionDateTime": "soon"}),
			ob.CodeFieldInvalidDate, "Data.Authorisation.CompletionDateTime"},
		{"not JSON", `{"Data":`, ob.CodeResourceInvalidFormat, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			r := e.post(domesticConsents, cc, tt.body, newKey())
			if tt.code == "" {
				r.wantStatus(t, http.StatusCreated)
				return
			}
			r.wantError(t, 400, tt.code, tt.path)
		})
	}
	// The Authorisation is kept and echoed; a zone-less date reads as UTC.
	r := e.post(domesticConsents, cc, consentBody(t, in(func(obj) {}), "ReadRefundAccount", "Yes",
		"Authorisation", obj{"AuthorisationType": "Single", "CompletionDateTime": "2026-01-15T12:00:00"}), newKey()).
		wantStatus(t, http.StatusCreated)
	if diff := cmpJSON(obj{"AuthorisationType": "Single", "CompletionDateTime": "2026-01-15T12:00:00Z"}, r.data()["Authorisation"]); diff != "" {
		t.Errorf("Authorisation (-want +got):\n%s", diff)
	}
	if r.data()["ReadRefundAccount"] != "Yes" {
		t.Errorf("ReadRefundAccount = %v", r.data()["ReadRefundAccount"])
	}
}

// TestPISScheduledAndStandingOrders runs the other two payment types'
// consent and order.
func TestPISScheduledAndStandingOrders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newPayEnv(t, be)
		cc := e.ccPay(tppID)
		credit := obj{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": externalCreditor, "Name": "Landlord"}

		t.Run("Scheduled", func(t *testing.T) {
			e := e.sub(t)
			in := obj{
				"InstructionIdentification":  "sched-1",
				"RequestedExecutionDateTime": "2026-01-20T10:00:00", // no zone: UTC
				"InstructedAmount":           obj{"Amount": "25.00", "Currency": "GBP"},
				"CreditorAccount":            credit,
			}
			const path = pisBase + "/domestic-scheduled-payment-consents"
			e.post(path, cc, consentBody(t, in), newKey()).wantError(t, 400, ob.CodeFieldMissing, "Data.Permission")
			e.post(path, cc, consentBody(t, in, "Permission", "Delete"), newKey()).wantError(t, 400, ob.CodeFieldInvalid, "Data.Permission")
			r := e.post(path, cc, consentBody(t, in, "Permission", "Create"), newKey()).wantStatus(t, http.StatusCreated)
			id, _ := r.data()["ConsentId"].(string)
			echoed := obj{}
			for k, v := range in {
				echoed[k] = v
			}
			echoed["RequestedExecutionDateTime"] = "2026-01-20T10:00:00Z"
			want := obj{
				"ConsentId": id, "Status": "AwaitingAuthorisation", "Permission": "Create",
				"CreationDateTime": "2026-01-15T09:30:00.123456Z", "StatusUpdateDateTime": "2026-01-15T09:30:00.123456Z",
				"ExpectedExecutionDateTime": "2026-01-20T10:00:00Z", "Charges": []any{}, "Initiation": echoed,
			}
			if diff := cmpJSON(want, r.data()); diff != "" {
				t.Errorf("consent Data (-want +got):\n%s", diff)
			}
			e.send(http.MethodGet, path+"/"+id, cc, "").wantStatus(t, http.StatusOK)
			// No funds-confirmation for scheduled payments.
			e.send(http.MethodGet, path+"/"+id+"/funds-confirmation", cc, "").wantNoBody(t, http.StatusNotFound)
			// A domestic consent id is not a scheduled one.
			did := e.createPaymentConsent("/domestic-payment-consents", consentBody(t, domesticInitiation("1.00", "GBP", externalCreditor)))
			e.send(http.MethodGet, path+"/"+did, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")

			e.authorise(id, obtest.Acc1)
			ac := e.acToken(tppID, id, "payments")
			before := e.balance(obtest.Acc1)
			o := e.post(pisBase+"/domestic-scheduled-payments", ac, orderBody(t, id, in), newKey()).wantStatus(t, http.StatusCreated)
			pid, _ := o.data()["DomesticScheduledPaymentId"].(string)
			if o.data()["Status"] != "InitiationCompleted" || !strings.HasPrefix(pid, "psp-") {
				t.Errorf("order Data = %v", o.data())
			}
			if o.data()["ExpectedExecutionDateTime"] != "2026-01-20T10:00:00Z" {
				t.Errorf("ExpectedExecutionDateTime = %v", o.data()["ExpectedExecutionDateTime"])
			}
			if got := e.balance(obtest.Acc1); got != before {
				t.Errorf("a scheduled payment moved money at once: %d → %d", before, got)
			}
			e.send(http.MethodGet, pisBase+"/domestic-scheduled-payments/"+pid, cc, "").wantStatus(t, http.StatusOK)
			pd := e.send(http.MethodGet, pisBase+"/domestic-scheduled-payments/"+pid+"/payment-details", cc, "").wantStatus(t, http.StatusOK)
			if ps := pd.list("PaymentStatus"); len(ps) != 0 {
				t.Errorf("PaymentStatus before execution = %v, want []", ps)
			}
			// A scheduled payment id is not a domestic payment.
			e.send(http.MethodGet, domesticPayments+"/"+pid, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
			if st := e.send(http.MethodGet, path+"/"+id, cc, "").data()["Status"]; st != "Consumed" {
				t.Errorf("consent Status = %v, want Consumed", st)
			}
		})

		t.Run("StandingOrder", func(t *testing.T) {
			e := e.sub(t)
			in := obj{
				"Frequency":            "IntrvlMnthDay:01:15",
				"Reference":            "RENT",
				"NumberOfPayments":     "3",
				"FirstPaymentDateTime": "2026-02-15T09:00:00+00:00",
				"FirstPaymentAmount":   obj{"Amount": "500.00", "Currency": "GBP"},
				"CreditorAccount":      credit,
			}
			const path = pisBase + "/domestic-standing-order-consents"
			r := e.post(path, cc, consentBody(t, in, "Permission", "Create"), newKey()).wantStatus(t, http.StatusCreated)
			id, _ := r.data()["ConsentId"].(string)
			echoed := obj{}
			for k, v := range in {
				echoed[k] = v
			}
			echoed["FirstPaymentDateTime"] = "2026-02-15T09:00:00Z"
			if diff := cmpJSON(echoed, r.data()["Initiation"]); diff != "" {
				t.Errorf("Initiation (-want +got):\n%s", diff)
			}
			if r.data()["Permission"] != "Create" {
				t.Errorf("Permission = %v", r.data()["Permission"])
			}
			bad := obj{}
			for k, v := range in {
				bad[k] = v
			}
			bad["Frequency"] = "Fortnightly"
			e.post(path, cc, consentBody(t, bad, "Permission", "Create"), newKey()).wantError(t, 400, ob.CodeUnsupportedFrequency, "")

			e.authorise(id, obtest.Acc1)
			ac := e.acToken(tppID, id, "payments")
			o := e.post(pisBase+"/domestic-standing-orders", ac, orderBody(t, id, in), newKey()).wantStatus(t, http.StatusCreated)
			pid, _ := o.data()["DomesticStandingOrderId"].(string)
			if o.data()["Status"] != "InitiationCompleted" || !strings.HasPrefix(pid, "pso-") {
				t.Errorf("order Data = %v", o.data())
			}
			e.send(http.MethodGet, pisBase+"/domestic-standing-orders/"+pid, cc, "").wantStatus(t, http.StatusOK)
			e.send(http.MethodGet, pisBase+"/domestic-standing-orders/"+pid+"/payment-details", cc, "").wantStatus(t, http.StatusOK)
		})
	})
}

// TestPISResponseSigningFailure: a response the bank cannot sign is a
// 500 that leaks nothing.
func TestPISResponseSigningFailure(t *testing.T) {
	e := newPayEnv(t, backends()[0], func(c *httpapi.Config) { c.ResponseSigner = failingSigner{} })
	r := e.send(http.MethodGet, domesticConsents+"/pdc-unknown", e.ccPay(tppID), "")
	r.wantError(t, 500, ob.CodeUnexpectedError, "")
	if strings.Contains(string(r.body), "HSM") {
		t.Errorf("the body leaks the cause: %s", r.body)
	}
	if !strings.Contains(e.logBuf.String(), "HSM unavailable") {
		t.Error("the cause was not logged")
	}
	// The validator does hold signed answers to their x-jws-signature:
	// this one, unsigned, fails it.
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+domesticConsents+"/pdc-unknown", nil)
	if err := e.pisV.Validate(req, r.status, r.header, r.body); err == nil || !strings.Contains(err.Error(), jws.Header) {
		t.Errorf("Validate(unsigned 500) = %v, want an error about %s", err, jws.Header)
	}
}

// TestPaymentRoutesNeedService: without Config.Payments the payment APIs
// are not served.
func TestPaymentRoutesNeedService(t *testing.T) {
	e := newEnv(t, backends()[0])
	e.call(http.MethodGet, domesticConsents+"/x", e.ccToken(tppID, "payments"), "").wantNoBody(t, http.StatusNotFound)
	e.call(http.MethodGet, cbpiiBase+"/funds-confirmation-consents/x", e.ccToken(tppID, "fundsconfirmations"), "").wantNoBody(t, http.StatusNotFound)
}
