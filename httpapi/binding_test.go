package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/obank/obank/internal/mtls"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

// TestCertificateBoundToken runs the API on a real mutual-TLS listener: a
// token bound (RFC 8705) to one TPP certificate works only over that
// certificate.
func TestCertificateBoundToken(t *testing.T) {
	caKey, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewRootCA(caKey, pkix.Name{CommonName: "test CA"}, pki.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	serverKey, err := pki.NewRSAKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := ca.IssueServerCert(serverKey.Public(), pki.ServerCertRequest{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	clientCert := func(softwareID string) (tls.Certificate, *x509.Certificate) {
		key, err := pki.NewECDSAKey()
		if err != nil {
			t.Fatal(err)
		}
		c, err := ca.IssueClientCert(key.Public(), pki.ClientCertRequest{SoftwareID: softwareID, OrgID: "org1", OrgName: "ACME"})
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key, Leaf: c}, c
	}
	tppCert, tppLeaf := clientCert("tpp1")
	otherCert, _ := clientCert("tpp2")

	e := newEnv(t, backends()[0])
	ts := httptest.NewUnstartedServer(e.srv.Handler())
	ts.TLS = pki.ServerTLSConfig(tls.Certificate{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey}, ca.Pool(), false)
	ts.StartTLS()
	t.Cleanup(ts.Close)

	bearer := rand.Text()
	grant := ob.AccessGrant{ID: "bound-grant", TPPID: "tpp-1", CustomerID: obtest.Alice,
		Permissions: ob.Permissions{ob.ReadAccountsBasic}, AccountIDs: []string{obtest.Acc1}, CreatedAt: time.Now()}
	if err := e.store.CreateAccessGrant(context.Background(), grant); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateAccessToken(context.Background(), ob.AccessToken{
		Hash: ob.HashToken(bearer), GrantID: grant.ID, ClientID: "tpp-1", Scopes: []string{"accounts"},
		CertThumbprint: mtls.Thumbprint(tppLeaf), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cert *tls.Certificate
		want int
	}{
		{"the bound certificate", &tppCert, http.StatusOK},
		{"another TPP's certificate", &otherCert, http.StatusUnauthorized},
		{"no certificate", nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
			if tt.cert != nil {
				cfg.Certificates = []tls.Certificate{*tt.cert}
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
			req, _ := http.NewRequest("GET", ts.URL+"/open-banking/v3.1/aisp/accounts", nil)
			req.Header.Set("Authorization", "Bearer "+bearer)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
