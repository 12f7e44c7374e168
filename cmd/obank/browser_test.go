package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/internal/totp"
)

// testBrowser stands in for the customer's browser in the journey tests: a
// cookie-keeping client that follows the bank's redirects and stops at the
// TPP's redirect URI (on acme.example), remembering where it landed.
type testBrowser struct {
	t      *testing.T
	client *http.Client
	landed *url.URL
}

func newTestBrowser(t *testing.T) *testBrowser {
	b := &testBrowser{t: t}
	jar, _ := cookiejar.New(nil)
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "acme.example" {
			b.landed = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// page GETs u (form nil) or POSTs form to it and returns the HTML.
func (b *testBrowser) page(method, u string, form url.Values) string {
	b.t.Helper()
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = b.client.Get(u)
	} else {
		resp, err = b.client.PostForm(u, form)
	}
	if err != nil && !errors.Is(err, http.ErrUseLastResponse) {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// csrf returns the form token of a page.
func (b *testBrowser) csrf(html string) string {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		b.t.Fatalf("no CSRF field in page:\n%s", html)
	}
	return m[1]
}

// signIn opens the authorize URL and signs in as who with password and
// TOTP, returning the consent page that follows.
func (b *testBrowser) signIn(bankURL, authorizeURL string, who demo.Login) string {
	b.t.Helper()
	html := b.page("GET", authorizeURL, nil) // -> /login
	html = b.page("POST", bankURL+"/login", url.Values{"csrf": {b.csrf(html)}, "username": {who.Username}, "password": {who.Password}})
	key, err := totp.DecodeSecret(who.TOTPSecret)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.page("POST", bankURL+"/login/totp", url.Values{"csrf": {b.csrf(html)}, "code": {totp.At(key, time.Now())}})
}
