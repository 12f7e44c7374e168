package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/obank/obank/client"
	"github.com/obank/obank/demo"
	"github.com/obank/obank/sandbox"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var accountBox = regexp.MustCompile(`name="account" value="([^"]+)"`)

// TestServeConsentJourney is the README's consent recipe on the real server,
// with a cookie-keeping HTTP client standing in for the browser (the
// browser tests in package web drive chromium through the same pages): the
// TPP creates a consent, the customer signs in with password and TOTP and
// allows two accounts, the TPP exchanges the code and reads exactly those.
func TestServeConsentJourney(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2")
	_, logins, err := demo.Generate(demo.Config{Customers: 2})
	if err != nil {
		t.Fatal(err)
	}
	who := logins[0]

	// The TPP: issued, registered, with a client-credentials token.
	tppDir := filepath.Join(t.TempDir(), "acme")
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if err := run(context.Background(), env, []string{"tpp", "create", "--data-dir", dir, "--name", "ACME",
		"--redirect-uri", "https://acme.example/callback", "--out", tppDir}); err != nil {
		t.Fatal(err)
	}
	bundle, err := sandbox.LoadTPP(tppDir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := client.RegistrationRequest(bundle, client.Registration{Audience: srv.url})
	if err != nil {
		t.Fatal(err)
	}
	tpp := sandboxClient(t, dir, tppDir)
	call := func(method, url, bearer, contentType, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := tpp.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var m map[string]any
	status, body := call("POST", srv.mtlsURL+"/register", "", "application/jose", reg)
	if status != 201 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("register = %d: %s", status, body)
	}
	clientID := m["client_id"].(string)
	form := "client_id=" + clientID + "&grant_type=client_credentials&scope=accounts"
	status, body = call("POST", srv.mtlsURL+"/token", "", "application/x-www-form-urlencoded", form)
	if status != 200 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("token = %d: %s", status, body)
	}
	cc := m["access_token"].(string)
	status, body = call("POST", srv.mtlsURL+"/open-banking/v3.1/aisp/account-access-consents", cc, "application/json",
		`{"Data":{"Permissions":["ReadAccountsDetail","ReadBalances"]},"Risk":{}}`)
	var consent struct {
		Data struct{ ConsentId, Status string }
	}
	if status != 201 || json.Unmarshal(body, &consent) != nil || consent.Data.Status != "AwaitingAuthorisation" {
		t.Fatalf("create consent = %d: %s", status, body)
	}
	authz, err := client.HybridAuthorizeURL(bundle, client.Authorization{Issuer: srv.url, ClientID: clientID, IntentID: consent.Data.ConsentId})
	if err != nil {
		t.Fatal(err)
	}

	// The customer's browser: follows the bank's redirects, stops at the TPP.
	browser := newTestBrowser(t)
	page, csrf := browser.page, browser.csrf
	html := browser.signIn(srv.url, authz.URL, who)
	boxes := accountBox.FindAllStringSubmatch(html, -1)
	if len(boxes) < 2 {
		t.Fatalf("consent page offers %d accounts, want at least 2:\n%s", len(boxes), html)
	}
	chosen := []string{boxes[0][1]}
	page("POST", srv.url+"/consent", url.Values{"csrf": {csrf(html)}, "account": chosen, "decision": {"allow"}})
	if browser.landed == nil {
		t.Fatal("the browser never reached the TPP's redirect URI")
	}
	frag, _ := url.ParseQuery(browser.landed.Fragment)
	if frag.Get("code") == "" || frag.Get("id_token") == "" || frag.Get("state") != authz.State {
		t.Fatalf("redirect to the TPP = %s", browser.landed)
	}

	// The TPP exchanges the code and reads exactly the chosen account.
	form = url.Values{"grant_type": {"authorization_code"}, "code": {frag.Get("code")}, "client_id": {clientID},
		"redirect_uri": {authz.RedirectURI}, "code_verifier": {authz.CodeVerifier}}.Encode()
	status, body = call("POST", srv.mtlsURL+"/token", "", "application/x-www-form-urlencoded", form)
	if status != 200 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("code exchange = %d: %s", status, body)
	}
	status, body = call("GET", srv.mtlsURL+"/open-banking/v3.1/aisp/accounts", m["access_token"].(string), "", "")
	var accounts struct {
		Data struct{ Account []struct{ AccountId string } }
	}
	if status != 200 || json.Unmarshal(body, &accounts) != nil {
		t.Fatalf("GET /accounts = %d: %s", status, body)
	}
	if len(accounts.Data.Account) != 1 || accounts.Data.Account[0].AccountId != chosen[0] {
		t.Errorf("accounts read = %+v, want exactly %v", accounts.Data.Account, chosen)
	}
	status, body = call("GET", srv.mtlsURL+"/open-banking/v3.1/aisp/account-access-consents/"+consent.Data.ConsentId, cc, "", "")
	if status != 200 || !strings.Contains(string(body), `"Status":"Authorised"`) {
		t.Errorf("consent after the journey = %d: %s", status, body)
	}
}
