package httpapi_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/api/obie"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/internal/spectest"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/payments"
)

// The payment APIs' e2e harness: a server with a payments.Service on the
// real store, over TLS on loopback, whose TPPs (tppID and tpp2ID) have
// registered signing keys, and which signs its PIS responses with the
// bank's key. Every answer is validated against its spec file, and every
// PIS answer with a body must carry a bank signature that verifies.

const (
	pisBase   = "/open-banking/v3.1/pisp"
	cbpiiBase = "/open-banking/v3.1/cbpii"
	tpp2ID    = "tpp-2"
	bankOrgID = "0015800001041REbank"
	// externalCreditor is an account at another bank.
	externalCreditor = "20000055555555"
)

// testTPP is a registered TPP with its signing key.
type testTPP struct {
	client oauth.Client
	key    *rsa.PrivateKey
	kid    string
	set    jwk.Set
}

var payKeys struct {
	once       sync.Once
	bank       *rsa.PrivateKey
	bankKID    string
	bankSet    jwk.Set
	tpp1, tpp2 testTPP
	stray      *rsa.PrivateKey // registered by nobody
	err        error
}

func loadPayKeys(tb testing.TB) {
	tb.Helper()
	payKeys.once.Do(func() {
		mk := func() (*rsa.PrivateKey, string, jwk.Set) {
			if payKeys.err != nil {
				return nil, "", nil
			}
			k, err := pki.NewRSAKey(2048)
			if err != nil {
				payKeys.err = err
				return nil, "", nil
			}
			pub, err := pki.SigningJWK(k.Public())
			if err != nil {
				payKeys.err = err
				return nil, "", nil
			}
			kid, _ := pub.KeyID()
			set := jwk.NewSet()
			if err := set.AddKey(pub); err != nil {
				payKeys.err = err
			}
			return k, kid, set
		}
		payKeys.bank, payKeys.bankKID, payKeys.bankSet = mk()
		tpp := func(id, org, software string) testTPP {
			k, kid, set := mk()
			raw, err := json.Marshal(set)
			if err != nil && payKeys.err == nil {
				payKeys.err = err
			}
			return testTPP{key: k, kid: kid, set: set,
				client: oauth.Client{ID: id, OrgID: org, SoftwareID: software, JWKS: raw}}
		}
		payKeys.tpp1 = tpp(tppID, "0015800001041RHAAY", "tpp1-software")
		payKeys.tpp2 = tpp(tpp2ID, "0015800001041RHBBB", "tpp2-software")
		payKeys.stray, _, _ = mk()
	})
	if payKeys.err != nil {
		tb.Fatalf("test keys: %v", payKeys.err)
	}
}

// payEnv is an env with the payment APIs.
type payEnv struct {
	*env
	svc        *payments.Service
	ledger     ledger.Store
	pisV, cfV  *spectest.Validator
	signerFail bool
}

// sub returns e for subtest t (helpers fail t, not the parent).
func (e *payEnv) sub(t *testing.T) *payEnv {
	c := *e
	ec := *e.env
	ec.t = t
	c.env = &ec
	return &c
}

// failingSigner is a response signer that always fails.
type failingSigner struct{}

func (failingSigner) SignDetached(context.Context, []byte, map[string]any) (string, error) {
	return "", fmt.Errorf("HSM unavailable")
}

// newPayEnv starts a server with the payment APIs on be's store, which
// holds the fixture bank with an opened ledger (Acc1: 1,200.00 GBP booked,
// Acc2: 0).
func newPayEnv(t *testing.T, be backend, opts ...envOption) *payEnv {
	t.Helper()
	loadPayKeys(t)
	ctx := context.Background()
	store := be.open(t)
	ps, ok := store.(payments.Store)
	if !ok {
		t.Fatalf("%T is not a payments.Store", store)
	}
	ls, ok := store.(ledger.Store)
	if !ok {
		t.Fatalf("%T is not a ledger.Store", store)
	}
	data := testData()
	data.Balances = append(data.Balances,
		ob.Balance{AccountID: obtest.Acc1, Type: ob.BalanceInterimBooked, DateTime: now, Amount: ob.Money{Minor: 120000, Currency: "GBP"}},
		ob.Balance{AccountID: obtest.Acc2, Type: ob.BalanceInterimBooked, DateTime: now, Amount: ob.Money{Minor: 0, Currency: "GBP"}})
	obtest.MustImport(t, store, data)
	if _, err := ledger.Open(ctx, ls, now); err != nil {
		t.Fatalf("ledger.Open: %v", err)
	}
	logBuf := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logBuf, nil))
	svc, err := payments.NewService(payments.Config{Store: ps, Now: func() time.Time { return now }, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	tpps := map[string]testTPP{tppID: payKeys.tpp1, tpp2ID: payKeys.tpp2}
	cfg := httpapi.Config{
		Store:     store,
		PublicURL: publicURL,
		PageSize:  testPageSize,
		Logger:    logger,
		Now:       func() time.Time { return now },
		Payments:  svc,
		ClientKeys: func(ctx context.Context, clientID string) (oauth.Client, jwk.Set, error) {
			tpp, ok := tpps[clientID]
			if !ok {
				return oauth.Client{}, nil, fmt.Errorf("client %s: %w", clientID, ob.ErrNotFound)
			}
			set, err := jws.ClientKeys(tpp.client)
			return tpp.client, set, err
		},
		ResponseSigner:     jws.KeySigner{Key: payKeys.bank, KID: payKeys.bankKID},
		SigningIssuer:      bankOrgID,
		SigningTrustAnchor: jws.TrustAnchorSandbox,
	}
	for _, o := range opts {
		o(&cfg)
	}
	_, fails := cfg.ResponseSigner.(failingSigner)
	srv := httpapi.NewServer(cfg)
	ts := httptest.NewUnstartedServer(srv.Handler())
	// Handshakes cut short by ts.Close are not the test's concern.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	e := &env{t: t, store: store, srv: srv, ts: ts, logBuf: logBuf, client: ts.Client(),
		v: spectest.MustNew(t, obie.AccountInfo, ts.URL)}
	return &payEnv{env: e, svc: svc, ledger: ls, signerFail: fails,
		pisV: spectest.MustNew(t, obie.PaymentInitiation, ts.URL),
		cfV:  spectest.MustNew(t, obie.ConfirmationFunds, ts.URL)}
}

// send sends a request ("Name: value" headers; Content-Type
// application/json when there is a body) and checks the answer: valid
// against the PIS or CBPII spec (404/405 aside), an interaction id, and for
// PIS a bank signature over any body, for CBPII none.
func (e *payEnv) send(method, path, bearer, body string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	r, resp := e.exchange(req)
	b := r.body
	sig := resp.Header.Get(jws.Header)
	pis := strings.HasPrefix(path, pisBase)
	switch {
	case pis && len(b) > 0 && !e.signerFail:
		if sig == "" {
			e.t.Errorf("%s %s -> %d: no x-jws-signature on a signed API's body", method, path, resp.StatusCode)
		} else if _, err := jws.VerifyDetached(sig, b, payKeys.bankSet,
			jws.Expect{Issuers: []string{bankOrgID}, TrustAnchors: []string{jws.TrustAnchorSandbox}}, now); err != nil {
			e.t.Errorf("%s %s -> %d: the bank's signature does not verify: %v", method, path, resp.StatusCode, err)
		}
	case sig != "":
		e.t.Errorf("%s %s -> %d: unexpected x-jws-signature", method, path, resp.StatusCode)
	}
	v := e.cfV
	if pis {
		v = e.pisV
	}
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed && !e.signerFail {
		req.Body = nil
		v.Check(e.t, req, resp.StatusCode, resp.Header, b)
	}
	if resp.Header.Get("x-fapi-interaction-id") == "" {
		e.t.Errorf("%s %s -> %d: no x-fapi-interaction-id", method, path, resp.StatusCode)
	}
	return r
}

// sign returns tpp's x-jws-signature over body, as of iat.
func sign(t testing.TB, tpp testTPP, body string, iat time.Time) string {
	t.Helper()
	sig, err := jws.SignDetached(context.Background(), []byte(body), jws.KeySigner{Key: tpp.key, KID: tpp.kid},
		jws.SignOptions{Issuer: tpp.client.OrgID + "/" + tpp.client.SoftwareID, TrustAnchor: jws.TrustAnchorSandbox, Now: iat})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// rawSign builds a detached PS256 JWS with any protected header h, for
// signatures jws.SignDetached would not make.
func rawSign(t testing.TB, h map[string]any, payload []byte, key *rsa.PrivateKey) string {
	t.Helper()
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	protected := base64.RawURLEncoding.EncodeToString(hj)
	digest := sha256.Sum256([]byte(protected + "." + base64.RawURLEncoding.EncodeToString(payload)))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	return protected + ".." + base64.RawURLEncoding.EncodeToString(sig)
}

// obHeader is a valid OBIE signature header of tpp.
func obHeader(tpp testTPP) map[string]any {
	return map[string]any{
		"alg": "PS256", "kid": tpp.kid, "typ": "JOSE", "cty": "application/json",
		jws.ClaimIAT: now.Unix(), jws.ClaimISS: tpp.client.OrgID + "/" + tpp.client.SoftwareID,
		jws.ClaimTAN: jws.TrustAnchorSandbox,
		"crit":       []string{jws.ClaimIAT, jws.ClaimISS, jws.ClaimTAN},
	}
}

var keySeq struct {
	sync.Mutex
	n int
}

// newKey returns a fresh idempotency key.
func newKey() string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	return fmt.Sprintf("idem-%d-%d", keySeq.n, time.Now().UnixNano()%1e6)
}

// post sends a PIS POST signed by tpp1 with idempotency key.
func (e *payEnv) post(path, bearer, body, key string) response {
	e.t.Helper()
	return e.send(http.MethodPost, path, bearer, body,
		"x-idempotency-key: "+key, jws.Header+": "+sign(e.t, payKeys.tpp1, body, now))
}

// ccPay is a client-credentials token of clientID with the payments scope.
func (e *payEnv) ccPay(clientID string) string { return e.ccToken(clientID, "payments") }

// acToken stores an authorization-code token of clientID bound to the
// grant of consentID (created when the consent was authorised).
func (e *payEnv) acToken(clientID, consentID string, scopes ...string) string {
	e.t.Helper()
	bearer := rand.Text()
	tok := ob.AccessToken{Hash: ob.HashToken(bearer), GrantID: consentID, ClientID: clientID, Scopes: scopes,
		CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
	if err := e.store.CreateAccessToken(context.Background(), tok); err != nil {
		e.t.Fatalf("CreateAccessToken: %v", err)
	}
	return bearer
}

// authorise approves a consent as Alice would on the consent page, with
// the debtor account acc.
func (e *payEnv) authorise(consentID, acc string) {
	e.t.Helper()
	if _, err := e.svc.Authorise(context.Background(), payments.AuthoriseRequest{
		ConsentID: consentID, CustomerID: obtest.Alice, AccountID: acc, SteppedUp: true,
	}); err != nil {
		e.t.Fatalf("Authorise(%s): %v", consentID, err)
	}
}

// balance is an account's ledger balance in minor units.
func (e *payEnv) balance(id string) int64 {
	e.t.Helper()
	a, err := e.ledger.LedgerAccount(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Balance.Minor
}

// mustJSON marshals v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// obj is a JSON object literal.
type obj = map[string]any

var testRisk = obj{"PaymentContextCode": "EcommerceGoods"}

// domesticInitiation is a domestic Initiation of amount GBP to creditor.
func domesticInitiation(amount, currency, creditor string) obj {
	return obj{
		"InstructionIdentification": "instr-1",
		"EndToEndIdentification":    "e2e-1",
		"LocalInstrument":           "UK.OBIE.FPS",
		"InstructedAmount":          obj{"Amount": amount, "Currency": currency},
		"CreditorAccount": obj{"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": creditor,
			"Name": "Payee Ltd"},
		"RemittanceInformation": obj{"Reference": "INV-1", "Unstructured": "thank you"},
	}
}

func consentBody(t testing.TB, in obj, extra ...any) string {
	data := obj{"Initiation": in}
	for i := 0; i+1 < len(extra); i += 2 {
		data[extra[i].(string)] = extra[i+1]
	}
	return mustJSON(t, obj{"Data": data, "Risk": testRisk})
}

func orderBody(t testing.TB, consentID string, in obj) string {
	return mustJSON(t, obj{"Data": obj{"ConsentId": consentID, "Initiation": in}, "Risk": testRisk})
}

// createPaymentConsent posts a consent and returns its id.
func (e *payEnv) createPaymentConsent(path, body string) string {
	e.t.Helper()
	r := e.post(pisBase+path, e.ccPay(tppID), body, newKey()).wantStatus(e.t, http.StatusCreated)
	id, _ := r.data()["ConsentId"].(string)
	if id == "" {
		e.t.Fatalf("no ConsentId in %s", r.body)
	}
	return id
}

// authorisedDomestic creates and authorises a domestic consent for in and
// returns its id and an order token for it.
func (e *payEnv) authorisedDomestic(in obj) (string, string) {
	e.t.Helper()
	id := e.createPaymentConsent("/domestic-payment-consents", consentBody(e.t, in))
	e.authorise(id, obtest.Acc1)
	return id, e.acToken(tppID, id, "openid", "payments")
}
