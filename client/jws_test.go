package client_test

import (
	"testing"
	"time"

	"github.com/obank/obank/client"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/sandbox"
)

func TestSignRequest(t *testing.T) {
	dir, err := sandbox.Ensure(t.TempDir(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := pki.NewECDSAKey()
	if err != nil {
		t.Fatal(err)
	}
	tpp, err := dir.IssueTPP(sandbox.TPPRequest{Name: "Acme Payments Ltd", RedirectURIs: []string{"https://tpp.example/cb"}, TransportKey: tk})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"Data":{"Initiation":{}},"Risk":{}}`)
	now := time.Now()
	sig, err := client.SignRequest(tpp, body, now)
	if err != nil {
		t.Fatalf("SignRequest: %v", err)
	}
	want := jws.Expect{Issuers: []string{tpp.OrgID + "/" + tpp.SoftwareID}}
	c, err := jws.VerifyDetached(sig, body, tpp.SigningJWKS, want, now)
	if err != nil {
		t.Fatalf("VerifyDetached: %v", err)
	}
	if c.KID != tpp.SigningKeyID || c.TrustAnchor != jws.TrustAnchorSandbox {
		t.Errorf("claims = %+v", c)
	}
	if _, err := client.SignRequest(&sandbox.TPPBundle{}, body, now); err == nil {
		t.Error("SignRequest without a signing key succeeded")
	}
}
