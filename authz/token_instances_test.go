package authz

import (
	"net/url"
	"testing"
	"time"

	"github.com/obank/obank/postgres/pgtest"
)

// TestTokenAcrossInstances runs the token machinery on two servers sharing
// one store, as two `obank serve` processes on one database: a code issued
// through one is redeemed at the other, a refresh rotated at one is retried
// at the other within the grace window and gets the same pair, an
// assertion used at one is refused at the other, a replay at either
// revokes the family for both, and both publish and accept the same keys.
// It runs on SQLite always and on PostgreSQL when OBANK_TEST_POSTGRES_DSN
// is set.
func TestTokenAcrossInstances(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(t *testing.T) *harness
	}{
		{"sqlite", func(t *testing.T) *harness { return newHarness(t) }},
		{"postgres", func(t *testing.T) *harness {
			return newHarnessOn(t, pgtest.OpenTestStore(t), newTestClock())
		}},
	} {
		t.Run(engine.name, func(t *testing.T) {
			a := engine.open(t)
			b := a.newInstance()
			tpp := a.newTPP(tppOptions{})

			// One assertion, two instances: the jti is single use across
			// both.
			f := ccForm(a, tpp)
			if r := a.postForm(tpp.HTTP, PathToken, f); r.Status != 200 {
				t.Fatalf("client_credentials at A: %d %s", r.Status, r.Body)
			}
			if r := b.postForm(tpp.HTTP, PathToken, f); r.Status != 401 {
				t.Errorf("same assertion at B: %d %s, want 401", r.Status, r.Body)
			}
			cc := b.clientCredentials(tpp, "accounts")
			if !a.active(tpp, cc.str("access_token")) {
				t.Error("token issued by B is not active at A")
			}

			// Code stored once, redeemed at B, replay at A revokes.
			c := a.newCode(tpp, a.grantFor(tpp), nil)
			first := b.exchange(tpp, c)
			if first.Status != 200 {
				t.Fatalf("exchange at B: %d %s", first.Status, first.Body)
			}
			if _, err := a.Keys.VerifyJWT(t.Context(), first.str("id_token")); err != nil {
				t.Errorf("id_token signed by B does not verify with A's keys: %v", err)
			}

			// Rotate at A, retry at B within the grace window: same pair.
			r1 := a.refresh(tpp, first.str("refresh_token"))
			a.Clock.Advance(10 * time.Second)
			r2 := b.refresh(tpp, first.str("refresh_token"))
			if r1.Status != 200 || r2.Status != 200 || r1.str("access_token") != r2.str("access_token") ||
				r1.str("refresh_token") != r2.str("refresh_token") {
				t.Fatalf("rotate at A / retry at B: %d %s / %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
			}
			if r := b.refresh(tpp, r2.str("refresh_token")); r.Status != 200 {
				t.Fatalf("refresh at B: %d %s", r.Status, r.Body)
			}

			// The second code exchange is a replay wherever it happens.
			if r := a.exchange(tpp, c); r.Status != 400 {
				t.Errorf("code replay at A: %d %s, want 400", r.Status, r.Body)
			}
			if b.active(tpp, r2.str("access_token")) {
				t.Error("code replay at A did not revoke the family at B")
			}
			if r := a.token(tpp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2.str("refresh_token")}}); r.Status != 400 {
				t.Errorf("refresh after the replay: %d %s, want 400", r.Status, r.Body)
			}
		})
	}
}

// ccForm is a client_credentials request carrying one assertion, to be
// posted more than once.
func ccForm(h *harness, tpp *testTPP) url.Values {
	f := h.clientAuth(tpp)
	f.Set("grant_type", "client_credentials")
	return f
}
