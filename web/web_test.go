package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/web"
	"github.com/obank/obank/web/webstore"
)

// These tests drive the pages with a cookie-keeping HTTP client, the way a
// browser without JavaScript would, against the whole stack.

// jwtClaims decodes a JWT's claims without verifying it (the authz tests
// verify id_tokens; here only acr matters).
func jwtClaims(tb testing.TB, token string) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

func (st *stack) consent(id string) ob.Consent {
	st.t.Helper()
	c, err := st.store.Consent(context.Background(), id)
	if err != nil {
		st.t.Fatal(err)
	}
	return c
}

func TestAllow(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	consentID, login := st.startAuthorize(b)
	if !strings.Contains(login.Body, "An app has asked") {
		t.Errorf("login page does not say why the customer is here:\n%s", login.Body)
	}
	page := st.signIn(b, login)
	for _, want := range []string{"Budget Buddy", st.tpp.OrgName, `<img src="https://tpp.example/logo.png"`,
		"Your account balances", "Money going out of your accounts", "Access ends"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	for _, id := range st.accounts {
		if !strings.Contains(page.Body, `value="`+id+`"`) {
			t.Errorf("consent page lacks account %s", id)
		}
	}
	if strings.Contains(page.Body, st.other) {
		t.Errorf("consent page offers another customer's account %s", st.other)
	}
	// The consent form's answer redirects to the TPP, which form-action
	// must allow.
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+st.callback.URL+";") {
		t.Errorf("consent page CSP = %q, want form-action 'self' %s", csp, st.callback.URL)
	}

	chosen := st.accounts[:2]
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": chosen})
	r.want(t, "POST /consent (allow)", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	p := redirectParams(t, r.Location)
	if p.Get("error") != "" || p.Get("code") == "" || p.Get("id_token") == "" {
		t.Fatalf("redirect params = %v, want code and id_token", p)
	}
	claims := jwtClaims(t, p.Get("id_token"))
	if claims["acr"] != oauth.ACRSCA || claims["sub"] != st.login.CustomerID || claims["openbanking_intent_id"] != consentID {
		t.Errorf("id_token acr/sub/intent = %v/%v/%v, want %s/%s/%s", claims["acr"], claims["sub"],
			claims["openbanking_intent_id"], oauth.ACRSCA, st.login.CustomerID, consentID)
	}

	c := st.consent(consentID)
	if c.Status != ob.ConsentAuthorised || c.CustomerID != st.login.CustomerID || !slices.Equal(c.AccountIDs, chosen) {
		t.Errorf("consent = %s for %q with %v, want Authorised for %s with %v", c.Status, c.CustomerID, c.AccountIDs,
			st.login.CustomerID, chosen)
	}
	token := st.exchange(p.Get("code"))
	status, ids := st.accountIDs(token)
	if status != http.StatusOK || !slices.Equal(ids, chosen) {
		t.Errorf("GET /accounts = %d %v, want 200 %v", status, ids, chosen)
	}
	if es := st.audit(); len(es) != 1 || es[0].Kind != webstore.AuditConsentAuthorised || es[0].ConsentID != consentID {
		t.Errorf("audit = %+v, want one %s", es, webstore.AuditConsentAuthorised)
	}
	// The page session ended with the journey: going back does not reopen it.
	b.get(web.PathConsent).want(t, "GET /consent after finishing", http.StatusBadRequest, "")
}

func TestDeny(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	consentID, login := st.startAuthorize(b)
	page := st.signIn(b, login)
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"deny"}})
	r.want(t, "POST /consent (deny)", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	p := redirectParams(t, r.Location)
	if p.Get("error") != "access_denied" || p.Get("code") != "" || p.Get("state") == "" {
		t.Errorf("redirect params = %v, want error=access_denied with state", p)
	}
	if c := st.consent(consentID); c.Status != ob.ConsentRejected {
		t.Errorf("consent status = %s, want Rejected", c.Status)
	}
}

func TestConsentAccountChecks(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	consentID, login := st.startAuthorize(b)
	page := st.signIn(b, login)
	tests := []struct {
		name     string
		accounts []string
	}{
		{"no account", nil},
		{"another customer's account", []string{st.accounts[0], st.other}},
		{"an unknown account", []string{"acc-nope"}},
	}
	for _, tc := range tests {
		r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": tc.accounts})
		r.want(t, "allow with "+tc.name, http.StatusBadRequest, "")
		if !strings.Contains(r.Body, `role="alert"`) {
			t.Errorf("allow with %s: no error message shown", tc.name)
		}
		if c := st.consent(consentID); c.Status != ob.ConsentAwaitingAuthorisation {
			t.Fatalf("allow with %s: consent became %s", tc.name, c.Status)
		}
	}
	b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"maybe"}, "account": st.accounts[:1]}).
		want(t, "unknown decision", http.StatusBadRequest, "")
	b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": st.accounts[:1]}).
		want(t, "allow with an own account", http.StatusSeeOther, st.client.RedirectURIs[0])
}

func TestCSRF(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	_, login := st.startAuthorize(b)
	creds := func(csrf []string) url.Values {
		v := url.Values{"username": {st.login.Username}, "password": {st.login.Password}}
		if csrf != nil {
			v["csrf"] = csrf
		}
		return v
	}
	// The wrong token differs from the right one in its first character
	// (a fixed "x" would match one token in 64).
	wrong := "x" + login.csrf()[1:]
	if wrong == login.csrf() {
		wrong = "y" + login.csrf()[1:]
	}
	for name, csrf := range map[string][]string{"missing": nil, "empty": {""}, "wrong": {wrong}} {
		r := b.post(web.PathLogin, creds(csrf))
		if r.Status != http.StatusForbidden {
			t.Errorf("POST /login with %s CSRF token = %d, want 403", name, r.Status)
		}
	}
	// Another browser's token is no good either.
	b2 := st.browser()
	_, login2 := st.startAuthorize(b2)
	b.post(web.PathLogin, creds([]string{login2.csrf()})).want(t, "POST /login with another session's token", http.StatusForbidden, "")

	page := st.signIn(b, login)
	b.post(web.PathConsent, url.Values{"csrf": {"nope"}, "decision": {"allow"}, "account": st.accounts[:1]}).
		want(t, "POST /consent with a wrong token", http.StatusForbidden, "")
	b.post(web.PathConsent, url.Values{"decision": {"deny"}}).want(t, "POST /consent without a token", http.StatusForbidden, "")
	if page.csrf() == "" {
		t.Fatal("consent page has no CSRF token")
	}
}

func TestLoginThrottling(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	_, login := st.startAuthorize(b)
	try := func(username, password string) result {
		return b.post(web.PathLogin, url.Values{"csrf": {login.csrf()}, "username": {username}, "password": {password}})
	}
	for i := 1; i <= 4; i++ {
		r := try(st.login.Username, "wrong-password")
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "username or password is not right") {
			t.Fatalf("wrong password %d = %d, want 401 with the generic message", i, r.Status)
		}
	}
	if r := try(st.login.Username, "wrong-password"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth wrong password = %d, want 429 (locked)", r.Status)
	}
	// Locked: even the right password is refused, for 15 minutes.
	if r := try(st.login.Username, st.login.Password); r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "locked") {
		t.Fatalf("right password while locked = %d, want 429", r.Status)
	}
	// (The page session idles out meanwhile: each try starts again.)
	st.clock.Advance(14 * time.Minute)
	b = st.browser()
	_, login = st.startAuthorize(b)
	if r := try(st.login.Username, st.login.Password); r.Status != http.StatusTooManyRequests {
		t.Fatalf("right password after 14 minutes = %d, want 429", r.Status)
	}
	st.clock.Advance(time.Minute + time.Second)
	b = st.browser()
	_, login = st.startAuthorize(b)
	b.post(web.PathLogin, url.Values{"csrf": {login.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}}).
		want(t, "right password after the lock", http.StatusSeeOther, web.PathTOTP)
	if es := st.audit(); len(es) == 0 || es[0].Kind != webstore.AuditLoginLocked {
		t.Errorf("audit = %+v, want a %s event", es, webstore.AuditLoginLocked)
	}

	// An unknown username answers exactly like a wrong password, and locks too.
	b = st.browser()
	_, login = st.startAuthorize(b)
	for i := 1; i <= 5; i++ {
		r := try("nobody-here", "whatever")
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want {
			t.Fatalf("unknown username attempt %d = %d, want %d", i, r.Status, want)
		}
	}
}

func TestTOTP(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	_, login := st.startAuthorize(b)
	b.post(web.PathLogin, url.Values{"csrf": {login.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}}).
		want(t, "POST /login", http.StatusSeeOther, web.PathTOTP)
	page := b.get(web.PathTOTP).want(t, "GET /login/totp", http.StatusOK, "")
	if !strings.Contains(page.Body, st.totpCode()) {
		t.Error("demo mode: the TOTP page does not show the current code")
	}
	// The consent page needs the second factor.
	b.get(web.PathConsent).want(t, "GET /consent before the code", http.StatusBadRequest, "")
	if r := b.post(web.PathTOTP, url.Values{"csrf": {page.csrf()}, "code": {"000000"}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong code = %d, want 401", r.Status)
	}
	code := st.totpCode()
	b.post(web.PathTOTP, url.Values{"csrf": {page.csrf()}, "code": {code}}).want(t, "right code", http.StatusSeeOther, web.PathConsent)

	// Replay: the same code in another session is refused, even though it
	// is still current.
	b2 := st.browser()
	_, login2 := st.startAuthorize(b2)
	b2.post(web.PathLogin, url.Values{"csrf": {login2.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}}).
		want(t, "POST /login (second session)", http.StatusSeeOther, web.PathTOTP)
	page2 := b2.get(web.PathTOTP)
	if r := b2.post(web.PathTOTP, url.Values{"csrf": {page2.csrf()}, "code": {code}}); r.Status != http.StatusUnauthorized ||
		!strings.Contains(r.Body, "used already") {
		t.Fatalf("replayed code = %d, want 401", r.Status)
	}
	// The next step's code works.
	st.clock.Advance(30 * time.Second)
	b2.post(web.PathTOTP, url.Values{"csrf": {page2.csrf()}, "code": {st.totpCode()}}).
		want(t, "next code", http.StatusSeeOther, web.PathConsent)

	// Wrong codes count towards the lock.
	b3 := st.browser()
	_, login3 := st.startAuthorize(b3)
	b3.post(web.PathLogin, url.Values{"csrf": {login3.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}}).
		want(t, "POST /login (third session)", http.StatusSeeOther, web.PathTOTP)
	page3 := b3.get(web.PathTOTP)
	var last result
	for range 5 {
		last = b3.post(web.PathTOTP, url.Values{"csrf": {page3.csrf()}, "code": {"999999"}})
	}
	if last.Status != http.StatusTooManyRequests {
		t.Errorf("fifth wrong code = %d, want 429", last.Status)
	}
}

func TestSessionTimeout(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	_, login := st.startAuthorize(b)
	// Activity keeps the session alive (idle timeout, not absolute)...
	st.clock.Advance(9 * time.Minute)
	login = b.get(web.PathLogin).want(t, "GET /login after 9 minutes", http.StatusOK, "")
	// ...inactivity ends it.
	st.clock.Advance(10*time.Minute + time.Second)
	r := b.post(web.PathLogin, url.Values{"csrf": {login.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "session has ended") {
		t.Fatalf("POST /login after 10 idle minutes = %d, want 400 session ended\n%s", r.Status, r.Body)
	}
	// A shorter timeout is configurable.
	st2 := newStack(t, func(c *web.Config) { c.SessionTTL = time.Minute })
	b2 := st2.browser()
	_, login2 := st2.startAuthorize(b2)
	st2.clock.Advance(61 * time.Second)
	b2.post(web.PathLogin, url.Values{"csrf": {login2.csrf()}, "username": {st2.login.Username}, "password": {st2.login.Password}}).
		want(t, "POST /login after a 1-minute timeout", http.StatusBadRequest, "")
}

func TestSecurityHeaders(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	_, login := st.startAuthorize(b)
	// The cookie Begin set.
	u, _ := url.Parse(st.public.URL)
	cookies := b.http.Jar.Cookies(u)
	if len(cookies) != 1 || cookies[0].Name != "obank_session" {
		t.Fatalf("cookies = %v, want one obank_session", cookies)
	}
	pages := map[string]result{"login": login, "css": b.get(web.PathCSS)}
	page := st.signIn(b, login)
	pages["consent"] = page
	pages["error"] = b.post(web.PathConsent, url.Values{"csrf": {"bad"}})
	for name, r := range pages {
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "img-src https: 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", name, csp, want)
			}
		}
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", name, k, h.Get(k), v)
			}
		}
		if name != "css" && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", name, h.Get("Cache-Control"))
		}
		if name != "css" && (!strings.Contains(r.Body, `<html lang="en">`) || strings.Contains(r.Body, "<script")) {
			t.Errorf("%s: want lang=en and no script", name)
		}
	}

	// The Set-Cookie attributes, plain and Secure.
	for _, secure := range []bool{false, true} {
		st := newStack(t, func(c *web.Config) { c.Secure = secure })
		u, _ := st.authorizeURL(st.createConsent())
		r := st.browser().get(u)
		sc := r.Header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("Secure=%v: Set-Cookie %q lacks %s", secure, sc, want)
			}
		}
		if secure != strings.Contains(sc, "; Secure") || secure != strings.HasPrefix(sc, "__Host-") {
			t.Errorf("Secure=%v: Set-Cookie %q", secure, sc)
		}
	}
}

func TestDashboardRevoke(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	consentID, login := st.startAuthorize(b)
	page := st.signIn(b, login)
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": st.accounts[:2]})
	token := st.exchange(redirectParams(t, r.Location).Get("code"))
	if status, _ := st.accountIDs(token); status != http.StatusOK {
		t.Fatalf("GET /accounts = %d", status)
	}

	// The dashboard wants its own login (with the next code: the one used
	// above is spent).
	st.clock.Advance(30 * time.Second)
	d := st.browser()
	d.get(web.PathDashboard).want(t, "GET /consents signed out", http.StatusSeeOther, web.PathLogin)
	dash := st.signInDashboard(d)
	for _, want := range []string{"Budget Buddy", "Active", "Your account balances", "Revoke access for Budget Buddy"} {
		if !strings.Contains(dash.Body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// Last access comes from the API-call log, written asynchronously.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(dash.Body, "<dd>never</dd>") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		dash = d.get(web.PathDashboard)
	}
	if strings.Contains(dash.Body, "<dd>never</dd>") {
		t.Error("dashboard shows no last access after an API call")
	}

	revoke := web.PathDashboard + "/" + consentID + "/revoke"
	d.post(revoke, url.Values{"csrf": {"bad"}}).want(t, "revoke with a wrong CSRF token", http.StatusForbidden, "")
	d.post(web.PathDashboard+"/aac-unknown/revoke", url.Values{"csrf": {dash.csrf()}}).want(t, "revoke unknown", http.StatusNotFound, "")
	d.post(revoke, url.Values{"csrf": {dash.csrf()}}).want(t, "revoke", http.StatusSeeOther, web.PathDashboard)

	if status, _ := st.accountIDs(token); status != http.StatusUnauthorized {
		t.Errorf("GET /accounts after revocation = %d, want 401", status)
	}
	if c := st.consent(consentID); c.Status != ob.ConsentAuthorised {
		t.Errorf("consent status after revocation at the bank = %s, want Authorised (unchanged)", c.Status)
	}
	if got := st.events.list(); !slices.Equal(got, []string{consentID}) {
		t.Errorf("events hook got %v, want [%s]", got, consentID)
	}
	// A second click changes and tells nothing.
	d.post(revoke, url.Values{"csrf": {dash.csrf()}}).want(t, "revoke again", http.StatusSeeOther, web.PathDashboard)
	if got := st.events.list(); !slices.Equal(got, []string{consentID}) {
		t.Errorf("events after a second revoke %v, want [%s]", got, consentID)
	}
	es := st.audit()
	if len(es) == 0 || es[len(es)-1].Kind != webstore.AuditConsentRevoked || es[len(es)-1].ConsentID != consentID {
		t.Errorf("audit = %+v, want a final %s", es, webstore.AuditConsentRevoked)
	}
	dash = d.get(web.PathDashboard)
	if !strings.Contains(dash.Body, "You revoked access on") || strings.Contains(dash.Body, "Revoke access for") {
		t.Errorf("dashboard after revocation does not show it:\n%s", dash.Body)
	}
}

// signInDashboard logs in for the dashboard and returns it.
func (st *stack) signInDashboard(b *browserClient) result {
	st.t.Helper()
	login := b.get(web.PathLogin).want(st.t, "GET /login", http.StatusOK, "")
	return st.signIn(b, login)
}

func TestRevokeOtherCustomersConsent(t *testing.T) {
	st := newStack(t)
	b := st.browser()
	consentID, login := st.startAuthorize(b)
	page := st.signIn(b, login)
	b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": st.accounts[:1]})

	// Another customer, signed in to the dashboard, cannot revoke it.
	other := st.otherLogin()
	d := st.browser()
	l := d.get(web.PathLogin)
	d.post(web.PathLogin, url.Values{"csrf": {l.csrf()}, "username": {other.Username}, "password": {other.Password}}).
		want(t, "POST /login as the other customer", http.StatusSeeOther, web.PathTOTP)
	tp := d.get(web.PathTOTP)
	key := mustKey(t, other.TOTPSecret)
	d.post(web.PathTOTP, url.Values{"csrf": {tp.csrf()}, "code": {totpAt(key, st.clock.Now())}}).
		want(t, "POST /login/totp as the other customer", http.StatusSeeOther, web.PathDashboard)
	dash := d.get(web.PathDashboard)
	d.post(web.PathDashboard+"/"+consentID+"/revoke", url.Values{"csrf": {dash.csrf()}}).
		want(t, "revoke another customer's consent", http.StatusNotFound, "")
	g, err := st.store.AccessGrant(context.Background(), consentID)
	if err != nil || g.RevokedAt != nil {
		t.Errorf("grant after the other customer's attempt: %+v, %v; want active", g, err)
	}
}
