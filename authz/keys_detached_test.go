package authz

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/jws"
	"github.com/obank/obank/ob"
)

func TestKeyManagerSignDetached(t *testing.T) {
	ctx := context.Background()
	f := newKeyFixture(t)
	km := f.manager(t, &memKeyStore{}, f.sealer)
	body := []byte(`{"Data":{"ConsentId":"pdc-1","Status":"AwaitingAuthorisation"},"Links":{"Self":"https://bank.example/x"},"Meta":{}}`)
	now := f.clock.Now()
	sig, err := jws.SignDetached(ctx, body, km, jws.SignOptions{Issuer: "0015800000jf7AeAAI", Now: now})
	if err != nil {
		t.Fatalf("SignDetached: %v", err)
	}
	if !strings.Contains(sig, "..") {
		t.Fatalf("signature %q is not detached", sig)
	}
	set, err := km.PublicSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := jws.Expect{Issuers: []string{"0015800000jf7AeAAI"}}
	c, err := jws.VerifyDetached(sig, body, set, want, now)
	if err != nil {
		t.Fatalf("VerifyDetached: %v", err)
	}
	kid, err := km.CurrentKID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.KID != kid || c.Issuer != "0015800000jf7AeAAI" || !c.IssuedAt.Equal(now.Truncate(time.Second)) {
		t.Errorf("claims = %+v, want kid %s", c, kid)
	}
	// The bank's signature covers the body: a changed body fails.
	_, err = jws.VerifyDetached(sig, append(body, ' '), set, want, now)
	if ob.ErrorCode(err) != ob.CodeSignatureInvalid {
		t.Errorf("tampered body: %v, want %s", err, ob.CodeSignatureInvalid)
	}
}
