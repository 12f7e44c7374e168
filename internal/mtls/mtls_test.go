package mtls

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/obank/obank/internal/pki"
)

type certs struct {
	pool          *x509.CertPool
	good, expired *x509.Certificate
	foreign       *x509.Certificate
}

func newCerts(t *testing.T) certs {
	t.Helper()
	mk := func(name string) *pki.CA {
		key, err := pki.NewECDSAKey()
		if err != nil {
			t.Fatal(err)
		}
		ca, err := pki.NewRootCA(key, pkix.Name{CommonName: name}, pki.Validity{})
		if err != nil {
			t.Fatal(err)
		}
		return ca
	}
	ca, other := mk("trusted"), mk("other")
	key, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	req := pki.ClientCertRequest{SoftwareID: "soft1", OrgID: "org1", OrgName: "ACME"}
	good, err := ca.IssueClientCert(key.Public(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Validity = pki.Validity{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}
	expired, err := ca.IssueClientCert(key.Public(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Validity = pki.Validity{}
	foreign, err := other.IssueClientCert(key.Public(), req)
	if err != nil {
		t.Fatal(err)
	}
	return certs{pool: ca.Pool(), good: good, expired: expired, foreign: foreign}
}

func escapedPEM(c *x509.Certificate) string {
	return url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
}

// TestProxy: a forwarded certificate counts only from a trusted proxy
// address and only if it verifies against the trust anchors.
func TestProxy(t *testing.T) {
	c := newCerts(t)
	p := &Proxy{
		Header:  "X-Client-Cert",
		Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Roots:   c.pool,
	}
	var got *x509.Certificate
	h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = ClientCert(r)
		if r.Header.Get("X-Client-Cert") != "" {
			t.Error("certificate header passed on to the handler")
		}
	}))
	tests := []struct {
		name   string
		remote string
		header string
		want   *x509.Certificate
	}{
		{"trusted proxy, PEM", "10.1.2.3:5555", escapedPEM(c.good), c.good},
		{"trusted proxy, base64 DER", "10.1.2.3:5555", base64DER(c.good), c.good},
		{"untrusted address", "192.0.2.7:5555", escapedPEM(c.good), nil},
		{"expired certificate", "10.1.2.3:5555", escapedPEM(c.expired), nil},
		{"certificate of another CA", "10.1.2.3:5555", escapedPEM(c.foreign), nil},
		{"garbage", "10.1.2.3:5555", "not a certificate", nil},
		{"no header", "10.1.2.3:5555", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set("X-Client-Cert", tt.header)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if (got == nil) != (tt.want == nil) || (got != nil && !got.Equal(tt.want)) {
				t.Errorf("ClientCert = %v, want %v", subject(got), subject(tt.want))
			}
		})
	}
}

func base64DER(c *x509.Certificate) string {
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	block, _ := pem.Decode(b)
	return encodeStd(block.Bytes)
}

func subject(c *x509.Certificate) string {
	if c == nil {
		return "<nil>"
	}
	return c.Subject.String()
}

func encodeStd(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
