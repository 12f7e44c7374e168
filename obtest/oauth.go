package obtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// OAuthStore is what the oauth contract suite needs: the authorization
// server's store and the bank store beside it, whose access grants tokens
// are bound to and whose TokenGrant the resource server reads tokens with.
type OAuthStore interface {
	oauth.Store
	ob.Store
}

// RunOAuthStoreTests runs the oauth.Store contract suite. open must return a
// fresh, empty store for each call; the suite calls it once per subtest.
//
// Besides the round trips it holds backends to the single-use guarantees the
// authorization server's security rests on, including under concurrency: of
// many simultaneous redemptions of one code (or rotations of one refresh
// token, uses of one pushed request, completions of one session), exactly
// one succeeds.
func RunOAuthStoreTests(t *testing.T, open func(t *testing.T) OAuthStore) {
	t.Run("Clients", func(t *testing.T) { testClients(t, open(t)) })
	t.Run("DeleteClient", func(t *testing.T) { testDeleteClient(t, open(t)) })
	t.Run("JTI", func(t *testing.T) { testJTI(t, open(t)) })
	t.Run("AuthSessions", func(t *testing.T) { testAuthSessions(t, open(t)) })
	t.Run("Codes", func(t *testing.T) { testCodes(t, open(t)) })
	t.Run("PushedRequests", func(t *testing.T) { testPushedRequests(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testOAuthConcurrent(t, open(t)) })
	t.Run("IssueTokens", func(t *testing.T) { testIssueTokens(t, open(t)) })
	t.Run("RotateRefreshToken", func(t *testing.T) { testRotateRefreshToken(t, open(t)) })
	t.Run("RevokeFamily", func(t *testing.T) { testRevokeFamily(t, open(t)) })
	t.Run("RevokeAccessToken", func(t *testing.T) { testRevokeAccessToken(t, open(t)) })
	t.Run("SigningKeys", func(t *testing.T) { testSigningKeys(t, open(t)) })
	t.Run("RevokeGrantRevokesRefresh", func(t *testing.T) { testRevokeGrantRevokesRefresh(t, open(t)) })
}

// wantCode fails the test unless err carries the ob error code (or is nil
// when code is "").
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if ob.ErrorCode(err) != code {
		t.Errorf("%s: err = %v, want code %q", what, err, code)
	}
}

func fullClient(id string) oauth.Client {
	base := FixtureTime()
	return oauth.Client{
		ID: id, SoftwareID: "sw-" + id, OrgID: "org-1", OrgName: "TPP Ltd", Name: "TPP app",
		Roles:                       []string{oauth.RoleAISP, oauth.RolePISP},
		RedirectURIs:                []string{"https://tpp.example/cb", "https://tpp.example/cb2"},
		Scopes:                      []string{oauth.ScopeOpenID, oauth.ScopeAccounts, oauth.ScopePayments},
		GrantTypes:                  []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
		ResponseTypes:               []string{"code id_token"},
		ApplicationType:             "web",
		TokenEndpointAuthMethod:     oauth.AuthPrivateKeyJWT,
		TokenEndpointAuthSigningAlg: "PS256",
		TLSClientAuthSubjectDN:      "CN=" + id + ",OU=org-1,O=OpenBanking,C=GB",
		JWKS:                        []byte(`{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}`),
		JWKSURI:                     "https://keystore.example/org-1/" + id + ".jwks",
		IDTokenSignedResponseAlg:    "PS256",
		IDTokenEncryptedResponseAlg: "RSA-OAEP-256",
		IDTokenEncryptedResponseEnc: "A256GCM",
		RequestObjectSigningAlg:     "PS256",
		LogoURI:                     "https://tpp.example/logo.png",
		ClientURI:                   "https://tpp.example",
		PolicyURI:                   "https://tpp.example/policy",
		TosURI:                      "https://tpp.example/tos",
		SoftwareStatement:           "eyJhbGciOiJQUzI1NiJ9.e30.c2ln",
		// Not valid UTF-8 on purpose: metadata is bytes, not text.
		Metadata:  []byte("{\"client_id\":\"" + id + "\"}\xff\x00"),
		CreatedAt: base,
		UpdatedAt: base,
	}
}

func testClients(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	full := fullClient("client-full")
	// Empty lists and absent byte fields round-trip as nil/empty as written.
	minimal := oauth.Client{ID: "client-min", Scopes: []string{}, CreatedAt: base.Add(time.Second),
		UpdatedAt: base.Add(time.Second)}
	for _, c := range []oauth.Client{full, minimal} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient(%s): %v", c.ID, err)
		}
		got, err := s.Client(ctx, c.ID)
		if err != nil {
			t.Fatalf("Client(%s): %v", c.ID, err)
		}
		diff(t, "Client("+c.ID+")", c, got)
		checkUTC(t, "Client", got)
	}
	dup := full
	dup.Name = "other"
	wantCode(t, "CreateClient(duplicate)", s.CreateClient(ctx, dup), ob.CodeConflict)
	_, err := s.Client(ctx, "nobody")
	wantCode(t, "Client(unknown)", err, ob.CodeResourceNotFound)

	// UpdateClient replaces everything but CreatedAt.
	upd := fullClient(full.ID)
	upd.Name, upd.RedirectURIs, upd.JWKS, upd.JWKSURI = "renamed", []string{"https://tpp.example/new"}, nil, ""
	upd.Metadata = []byte(`{"v":2}`)
	upd.CreatedAt = base.Add(99 * time.Hour) // ignored
	upd.UpdatedAt = base.Add(time.Hour)
	if err := s.UpdateClient(ctx, upd); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	want := upd
	want.CreatedAt = full.CreatedAt
	got, err := s.Client(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Client after UpdateClient", want, got)
	wantCode(t, "UpdateClient(unknown)", s.UpdateClient(ctx, fullClient("nobody")), ob.CodeResourceNotFound)
	if got, err := s.Client(ctx, minimal.ID); err != nil {
		t.Fatal(err)
	} else {
		diff(t, "other client after UpdateClient", minimal, got)
	}
}

// mustGrant creates an access grant for tokens to be bound to.
func mustGrant(t *testing.T, s OAuthStore, id, clientID string) {
	t.Helper()
	g := ob.AccessGrant{ID: id, TPPID: clientID, CustomerID: Alice, Permissions: ob.Permissions{ob.ReadAccountsBasic},
		CreatedAt: FixtureTime()}
	if err := s.CreateAccessGrant(context.Background(), g); err != nil {
		t.Fatalf("CreateAccessGrant(%s): %v", id, err)
	}
}

// tokenPair returns an access and a refresh token of a family.
func tokenPair(name, clientID, grantID, family string) (ob.AccessToken, oauth.RefreshToken) {
	base := FixtureTime()
	a := ob.AccessToken{Hash: ob.HashToken("access-" + name), GrantID: grantID, ClientID: clientID,
		Scopes: []string{oauth.ScopeAccounts, oauth.ScopeOpenID}, CertThumbprint: "x5t-" + clientID,
		FamilyID: family, CreatedAt: base, ExpiresAt: base.Add(5 * time.Minute)}
	r := oauth.RefreshToken{Hash: ob.HashToken("refresh-" + name), FamilyID: family, ClientID: clientID,
		GrantID: grantID, CustomerID: Alice, Scopes: []string{oauth.ScopeAccounts}, CertThumbprint: "x5t-" + clientID,
		IssuedAt: base}
	return a, r
}

// clientCredentials returns a client-credentials access token: no grant, no
// family.
func clientCredentials(name, clientID string) ob.AccessToken {
	base := FixtureTime()
	return ob.AccessToken{Hash: ob.HashToken("cc-" + name), ClientID: clientID, Scopes: []string{oauth.ScopePayments},
		CertThumbprint: "x5t-" + clientID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
}

func mustIssue(t *testing.T, s OAuthStore, a ob.AccessToken, r *oauth.RefreshToken) {
	t.Helper()
	if err := s.IssueTokens(context.Background(), a, r); err != nil {
		t.Fatalf("IssueTokens: %v", err)
	}
}

// accessRevokedAt returns the RevokedAt of an access token.
func accessRevokedAt(t *testing.T, s OAuthStore, hash string) *time.Time {
	t.Helper()
	a, err := s.AccessToken(context.Background(), hash)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	return a.RevokedAt
}

// refreshRevokedAt returns the RevokedAt of a refresh token.
func refreshRevokedAt(t *testing.T, s OAuthStore, hash string) *time.Time {
	t.Helper()
	r, err := s.RefreshToken(context.Background(), hash)
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	return r.RevokedAt
}

func testDeleteClient(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	mine, other := fullClient("mine"), fullClient("other")
	for _, c := range []oauth.Client{mine, other} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mustGrant(t, s, "grant-mine", mine.ID)
	mustGrant(t, s, "grant-other", other.ID)
	a1, r1 := tokenPair("mine-1", mine.ID, "grant-mine", "fam-mine")
	earlier := base.Add(time.Minute)
	a2, r2 := tokenPair("mine-2", mine.ID, "grant-mine", "fam-mine-2")
	a2.RevokedAt, r2.RevokedAt = &earlier, &earlier
	cc := clientCredentials("mine", mine.ID)
	ao, ro := tokenPair("other", other.ID, "grant-other", "fam-other")
	mustIssue(t, s, a1, &r1)
	mustIssue(t, s, a2, &r2)
	mustIssue(t, s, cc, nil)
	mustIssue(t, s, ao, &ro)

	at := base.Add(time.Hour)
	if err := s.DeleteClient(ctx, mine.ID, at); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err := s.Client(ctx, mine.ID)
	wantCode(t, "Client(deleted)", err, ob.CodeResourceNotFound)
	wantCode(t, "DeleteClient(deleted)", s.DeleteClient(ctx, mine.ID, at), ob.CodeResourceNotFound)
	wantCode(t, "DeleteClient(unknown)", s.DeleteClient(ctx, "nobody", at), ob.CodeResourceNotFound)
	wantCode(t, "UpdateClient(deleted)", s.UpdateClient(ctx, mine), ob.CodeResourceNotFound)
	// A deleted client's id is not reused.
	wantCode(t, "CreateClient(deleted id)", s.CreateClient(ctx, mine), ob.CodeConflict)

	for _, tc := range []struct {
		name    string
		refresh bool
		hash    string
		want    *time.Time
	}{
		{"access", false, a1.Hash, &at},
		{"refresh", true, r1.Hash, &at},
		{"access revoked before", false, a2.Hash, &earlier},
		{"refresh revoked before", true, r2.Hash, &earlier},
		{"client credentials", false, cc.Hash, &at},
		{"other client's access", false, ao.Hash, nil},
		{"other client's refresh", true, ro.Hash, nil},
	} {
		got := accessRevokedAt
		if tc.refresh {
			got = refreshRevokedAt
		}
		diff(t, "RevokedAt of "+tc.name, tc.want, got(t, s, tc.hash))
	}
	// The resource server sees the revocation through TokenGrant.
	if tok, _, err := s.TokenGrant(ctx, a1.Hash); err != nil || tok.RevokedAt == nil {
		t.Errorf("TokenGrant after DeleteClient: RevokedAt = %v, err = %v; want revoked", tok.RevokedAt, err)
	}
	if got, err := s.Client(ctx, other.ID); err != nil {
		t.Errorf("Client(other) after DeleteClient: %v", err)
	} else {
		diff(t, "other client", other, got)
	}
}

func testJTI(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	exp := base.Add(5 * time.Minute)
	steps := []struct {
		name       string
		scope, jti string
		expiresAt  time.Time
		now        time.Time
		wantCode   string
	}{
		{"first use", "client-1", "jti-1", exp, base, ""},
		{"replay", "client-1", "jti-1", exp, base.Add(time.Second), ob.CodeConflict},
		{"replay just before expiry", "client-1", "jti-1", exp, exp.Add(-time.Microsecond), ob.CodeConflict},
		{"same jti, other scope", "register:sw-1", "jti-1", exp, base, ""},
		{"other jti, same scope", "client-1", "jti-2", exp, base, ""},
		{"other scope still recorded", "register:sw-1", "jti-1", exp, exp.Add(-time.Second), ob.CodeConflict},
		// Calls go forward in time: an entry expired at one call's now may
		// be purged by it.
		{"reuse once expired", "client-1", "jti-1", exp.Add(time.Hour), exp, ""},
		{"replay of the reuse", "client-1", "jti-1", exp.Add(time.Hour), exp.Add(time.Minute), ob.CodeConflict},
	}
	for _, st := range steps {
		wantCode(t, "UseJTI: "+st.name, s.UseJTI(ctx, st.scope, st.jti, st.expiresAt, st.now), st.wantCode)
	}

	// Many expired entries get purged as later calls go by; that must never
	// drop a live entry.
	for i := range 20 {
		if err := s.UseJTI(ctx, "purge", fmt.Sprint("old-", i), base.Add(time.Minute), base); err != nil {
			t.Fatal(err)
		}
	}
	later := base.Add(time.Hour)
	if err := s.UseJTI(ctx, "purge", "live", later.Add(time.Hour), later); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if err := s.UseJTI(ctx, "purge", fmt.Sprint("new-", i), later.Add(time.Hour), later); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, "UseJTI: live entry after purges", s.UseJTI(ctx, "purge", "live", later.Add(time.Hour), later), ob.CodeConflict)
	wantCode(t, "UseJTI: purged entry reused", s.UseJTI(ctx, "purge", "old-0", later.Add(time.Hour), later), "")
}

func authRequest(clientID string) oauth.AuthRequest {
	maxAge := 300
	return oauth.AuthRequest{
		ClientID: clientID, RedirectURI: "https://tpp.example/cb", ResponseType: "code id_token",
		ResponseMode: "fragment", Scopes: []string{oauth.ScopeOpenID, oauth.ScopeAccounts}, State: "st",
		Nonce: "n-0S6_WzA2Mj", IntentID: "aac-123", ACRValues: []string{oauth.ACRSCA, oauth.ACRCA},
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		MaxAge: &maxAge,
	}
}

func testAuthSessions(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	full := oauth.AuthSession{ID: "sess-1", Request: authRequest("client-1"), CreatedAt: base,
		ExpiresAt: base.Add(10 * time.Minute)}
	// A minimal request: nil lists and no max_age stay so.
	minimal := oauth.AuthSession{ID: "sess-2", Request: oauth.AuthRequest{ClientID: "client-1", ResponseType: "code"},
		CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	for _, a := range []oauth.AuthSession{full, minimal} {
		if err := s.CreateAuthSession(ctx, a); err != nil {
			t.Fatalf("CreateAuthSession(%s): %v", a.ID, err)
		}
		got, err := s.AuthSession(ctx, a.ID)
		if err != nil {
			t.Fatalf("AuthSession(%s): %v", a.ID, err)
		}
		diff(t, "AuthSession("+a.ID+")", a, got)
		checkUTC(t, "AuthSession", got)
	}
	wantCode(t, "CreateAuthSession(duplicate)", s.CreateAuthSession(ctx, full), ob.CodeConflict)
	_, err := s.AuthSession(ctx, "nope")
	wantCode(t, "AuthSession(unknown)", err, ob.CodeResourceNotFound)

	done := base.Add(2 * time.Minute)
	wantCode(t, "CompleteAuthSession", s.CompleteAuthSession(ctx, full.ID, done), "")
	wantCode(t, "CompleteAuthSession(again)", s.CompleteAuthSession(ctx, full.ID, done.Add(time.Minute)), ob.CodeConflict)
	wantCode(t, "CompleteAuthSession(unknown)", s.CompleteAuthSession(ctx, "nope", done), ob.CodeResourceNotFound)
	want := full
	want.CompletedAt = &done
	got, err := s.AuthSession(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "completed session (first completion kept)", want, got)
	if got, err := s.AuthSession(ctx, minimal.ID); err != nil || got.CompletedAt != nil {
		t.Errorf("other session: CompletedAt = %v, err = %v; want nil, nil", got.CompletedAt, err)
	}
}

func code(name string) oauth.Code {
	base := FixtureTime()
	return oauth.Code{Hash: ob.HashToken("code-" + name), SessionID: "sess-" + name, ClientID: "client-1",
		Request: authRequest("client-1"), CustomerID: Alice, ACR: oauth.ACRSCA, AuthTime: base.Add(-time.Minute),
		IssuedAt: base, ExpiresAt: base.Add(time.Minute), FamilyID: "fam-" + name}
}

func testCodes(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	c := code("1")
	if err := s.CreateCode(ctx, c); err != nil {
		t.Fatalf("CreateCode: %v", err)
	}
	wantCode(t, "CreateCode(duplicate)", s.CreateCode(ctx, c), ob.CodeConflict)

	first := base.Add(10 * time.Second)
	got, err := s.RedeemCode(ctx, c.Hash, first)
	wantCode(t, "RedeemCode", err, "")
	want := c
	want.RedeemedAt = &first
	diff(t, "RedeemCode", want, got)
	checkUTC(t, "RedeemCode", got)

	// The replay gets the code as first redeemed, so the caller can revoke
	// its family.
	got, err = s.RedeemCode(ctx, c.Hash, first.Add(time.Second))
	wantCode(t, "RedeemCode(again)", err, ob.CodeConflict)
	diff(t, "RedeemCode(again)", want, got)

	_, err = s.RedeemCode(ctx, ob.HashToken("unknown"), first)
	wantCode(t, "RedeemCode(unknown)", err, ob.CodeResourceNotFound)
}

func testPushedRequests(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	p := oauth.PushedRequest{ID: "par-1", ClientID: "client-1", Request: authRequest("client-1"),
		ExpiresAt: base.Add(90 * time.Second)}
	if err := s.CreatePushedRequest(ctx, p); err != nil {
		t.Fatalf("CreatePushedRequest: %v", err)
	}
	wantCode(t, "CreatePushedRequest(duplicate)", s.CreatePushedRequest(ctx, p), ob.CodeConflict)

	used := base.Add(5 * time.Second)
	got, err := s.UsePushedRequest(ctx, p.ID, used)
	wantCode(t, "UsePushedRequest", err, "")
	want := p
	want.UsedAt = &used
	diff(t, "UsePushedRequest", want, got)
	checkUTC(t, "UsePushedRequest", got)

	got, err = s.UsePushedRequest(ctx, p.ID, used.Add(time.Second))
	wantCode(t, "UsePushedRequest(again)", err, ob.CodeConflict)
	diff(t, "UsePushedRequest(again)", want, got)
	_, err = s.UsePushedRequest(ctx, "par-unknown", used)
	wantCode(t, "UsePushedRequest(unknown)", err, ob.CodeResourceNotFound)
}

// race runs f(0)...f(n-1) at once and returns the indexes that succeeded;
// every failure must be ob.ErrConflict.
func race(t *testing.T, what string, n int, f func(i int) error) []int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		won   []int
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := f(i)
			mu.Lock()
			defer mu.Unlock()
			switch ob.ErrorCode(err) {
			case "":
				won = append(won, i)
			case ob.CodeConflict:
			default:
				t.Errorf("%s #%d: %v, want nil or a conflict", what, i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(won) != 1 {
		t.Errorf("%s: %d of %d succeeded (%v), want exactly 1", what, len(won), n, won)
	}
	return won
}

func testOAuthConcurrent(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	const n = 10
	at := func(i int) time.Time { return base.Add(time.Duration(i+1) * time.Second) }

	c := code("race")
	if err := s.CreateCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := make([]oauth.Code, n)
	won := race(t, "RedeemCode", n, func(i int) (err error) {
		got[i], err = s.RedeemCode(ctx, c.Hash, at(i))
		return err
	})
	if len(won) == 1 {
		// Every loser sees the winner's redemption.
		for i := range got {
			diff(t, fmt.Sprintf("RedeemedAt seen by #%d", i), ptr(at(won[0])), got[i].RedeemedAt)
		}
	}

	p := oauth.PushedRequest{ID: "par-race", ClientID: "client-1", Request: authRequest("client-1"), ExpiresAt: at(n)}
	if err := s.CreatePushedRequest(ctx, p); err != nil {
		t.Fatal(err)
	}
	race(t, "UsePushedRequest", n, func(i int) error {
		_, err := s.UsePushedRequest(ctx, p.ID, at(i))
		return err
	})

	sess := oauth.AuthSession{ID: "sess-race", Request: authRequest("client-1"), CreatedAt: base, ExpiresAt: at(n)}
	if err := s.CreateAuthSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	race(t, "CompleteAuthSession", n, func(i int) error { return s.CompleteAuthSession(ctx, sess.ID, at(i)) })

	race(t, "UseJTI", n, func(i int) error { return s.UseJTI(ctx, "client-1", "jti-race", at(n), base) })

	mustGrant(t, s, "grant-race", "client-1")
	a, r := tokenPair("race", "client-1", "grant-race", "fam-race")
	mustIssue(t, s, a, &r)
	next := make([]oauth.RefreshToken, n)
	won = race(t, "RotateRefreshToken", n, func(i int) error {
		na, nr := tokenPair(fmt.Sprint("race-", i), "client-1", "grant-race", "fam-race")
		next[i] = nr
		return s.RotateRefreshToken(ctx, r.Hash, at(i), na, nr)
	})
	if len(won) != 1 {
		return
	}
	old, err := s.RefreshToken(ctx, r.Hash)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "ReplacedBy after racing rotations", next[won[0]].Hash, old.ReplacedBy)
	for i := range n {
		_, err := s.RefreshToken(ctx, next[i].Hash)
		if i == won[0] {
			wantCode(t, "RefreshToken(winner's)", err, "")
		} else {
			wantCode(t, fmt.Sprintf("RefreshToken(loser #%d's)", i), err, ob.CodeResourceNotFound)
		}
	}
}

func testIssueTokens(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	mustGrant(t, s, "grant-1", "client-1")

	cc := clientCredentials("1", "client-1")
	mustIssue(t, s, cc, nil)
	a, r := tokenPair("1", "client-1", "grant-1", "fam-1")
	mustIssue(t, s, a, &r)
	// A refresh token with an expiry and a token bound to no certificate.
	a2, r2 := tokenPair("2", "client-1", "grant-1", "fam-2")
	a2.CertThumbprint, r2.CertThumbprint = "", ""
	r2.ExpiresAt = ptr(base.Add(90 * 24 * time.Hour))
	r2.Scopes = nil
	mustIssue(t, s, a2, &r2)

	for _, want := range []ob.AccessToken{cc, a, a2} {
		got, err := s.AccessToken(ctx, want.Hash)
		if err != nil {
			t.Fatalf("AccessToken(%s): %v", want.FamilyID, err)
		}
		diff(t, "AccessToken", want, got)
		checkUTC(t, "AccessToken", got)
	}
	for _, want := range []oauth.RefreshToken{r, r2} {
		got, err := s.RefreshToken(ctx, want.Hash)
		if err != nil {
			t.Fatalf("RefreshToken(%s): %v", want.FamilyID, err)
		}
		diff(t, "RefreshToken", want, got)
		checkUTC(t, "RefreshToken", got)
	}
	_, err := s.AccessToken(ctx, ob.HashToken("unknown"))
	wantCode(t, "AccessToken(unknown)", err, ob.CodeResourceNotFound)
	_, err = s.RefreshToken(ctx, ob.HashToken("unknown"))
	wantCode(t, "RefreshToken(unknown)", err, ob.CodeResourceNotFound)

	// The pair lands whole or not at all: a clashing access token keeps the
	// new refresh token out.
	_, r3 := tokenPair("3", "client-1", "grant-1", "fam-3")
	wantCode(t, "IssueTokens(duplicate access)", s.IssueTokens(ctx, a, &r3), ob.CodeConflict)
	_, err = s.RefreshToken(ctx, r3.Hash)
	wantCode(t, "RefreshToken after failed IssueTokens", err, ob.CodeResourceNotFound)
	a4, _ := tokenPair("4", "client-1", "grant-1", "fam-4")
	wantCode(t, "IssueTokens(duplicate refresh)", s.IssueTokens(ctx, a4, &r), ob.CodeConflict)
	_, err = s.AccessToken(ctx, a4.Hash)
	wantCode(t, "AccessToken after failed IssueTokens", err, ob.CodeResourceNotFound)

	// The resource server finds tokens issued here, with their grant.
	tok, g, err := s.TokenGrant(ctx, a.Hash)
	if err != nil || g == nil || g.ID != "grant-1" || tok.ClientID != a.ClientID {
		t.Errorf("TokenGrant(issued token) = %+v, %+v, %v; want the token and grant-1", tok, g, err)
	}
}

func testRotateRefreshToken(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	mustGrant(t, s, "grant-1", "client-1")
	a1, r1 := tokenPair("1", "client-1", "grant-1", "fam")
	mustIssue(t, s, a1, &r1)

	at := base.Add(time.Hour)
	a2, r2 := tokenPair("2", "client-1", "grant-1", "fam")
	a2.CreatedAt, r2.IssuedAt = at, at
	if err := s.RotateRefreshToken(ctx, r1.Hash, at, a2, r2); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	wantOld := r1
	wantOld.RotatedAt, wantOld.ReplacedBy = &at, r2.Hash
	for _, want := range []oauth.RefreshToken{wantOld, r2} {
		got, err := s.RefreshToken(ctx, want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "RefreshToken after rotation", want, got)
	}
	if got, err := s.AccessToken(ctx, a2.Hash); err != nil {
		t.Fatal(err)
	} else {
		diff(t, "new access token", a2, got)
	}
	// The old access token is not touched by rotation.
	diff(t, "old access token RevokedAt", (*time.Time)(nil), accessRevokedAt(t, s, a1.Hash))

	// A second rotation of the old token is a conflict and writes nothing.
	a3, r3 := tokenPair("3", "client-1", "grant-1", "fam")
	wantCode(t, "RotateRefreshToken(rotated)", s.RotateRefreshToken(ctx, r1.Hash, at.Add(time.Minute), a3, r3), ob.CodeConflict)
	_, err := s.AccessToken(ctx, a3.Hash)
	wantCode(t, "AccessToken after refused rotation", err, ob.CodeResourceNotFound)
	_, err = s.RefreshToken(ctx, r3.Hash)
	wantCode(t, "RefreshToken after refused rotation", err, ob.CodeResourceNotFound)
	if got, err := s.RefreshToken(ctx, r1.Hash); err != nil {
		t.Fatal(err)
	} else {
		diff(t, "old token after refused rotation", wantOld, got)
	}

	wantCode(t, "RotateRefreshToken(unknown)", s.RotateRefreshToken(ctx, ob.HashToken("unknown"), at, a3, r3),
		ob.CodeResourceNotFound)

	// A clash on the new tokens rolls the rotation back.
	wantCode(t, "RotateRefreshToken(clashing access)", s.RotateRefreshToken(ctx, r2.Hash, at, a1, r3), ob.CodeConflict)
	if got, err := s.RefreshToken(ctx, r2.Hash); err != nil || got.RotatedAt != nil {
		t.Errorf("refresh token after rolled-back rotation: RotatedAt = %v, err = %v; want nil, nil", got.RotatedAt, err)
	}

	// A revoked token cannot be rotated.
	if err := s.RevokeFamily(ctx, "fam", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "RotateRefreshToken(revoked)", s.RotateRefreshToken(ctx, r2.Hash, at.Add(2*time.Minute), a3, r3),
		ob.CodeConflict)
}

func testRevokeFamily(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	mustGrant(t, s, "grant-1", "client-1")
	a1, r1 := tokenPair("1", "client-1", "grant-1", "fam-1")
	a2, r2 := tokenPair("2", "client-1", "grant-1", "fam-1")
	earlier := base.Add(time.Minute)
	a2.RevokedAt = &earlier
	ao, ro := tokenPair("other", "client-1", "grant-1", "fam-2")
	cc := clientCredentials("1", "client-1")
	mustIssue(t, s, a1, &r1)
	mustIssue(t, s, a2, &r2)
	mustIssue(t, s, ao, &ro)
	mustIssue(t, s, cc, nil)

	at := base.Add(time.Hour)
	if err := s.RevokeFamily(ctx, "fam-1", at); err != nil {
		t.Fatalf("RevokeFamily: %v", err)
	}
	// Again, later: the first revocation time stays.
	if err := s.RevokeFamily(ctx, "fam-1", at.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeFamily again: %v", err)
	}
	if err := s.RevokeFamily(ctx, "", at); err == nil {
		t.Error("RevokeFamily(\"\") = nil, want an error")
	}
	if err := s.RevokeFamily(ctx, "fam-unknown", at); err != nil {
		t.Errorf("RevokeFamily(unknown) = %v, want nil", err)
	}
	for _, tc := range []struct {
		name    string
		refresh bool
		hash    string
		want    *time.Time
	}{
		{"access 1", false, a1.Hash, &at},
		{"refresh 1", true, r1.Hash, &at},
		{"access revoked before", false, a2.Hash, &earlier},
		{"refresh 2", true, r2.Hash, &at},
		{"other family's access", false, ao.Hash, nil},
		{"other family's refresh", true, ro.Hash, nil},
		{"client credentials", false, cc.Hash, nil},
	} {
		got := accessRevokedAt
		if tc.refresh {
			got = refreshRevokedAt
		}
		diff(t, "RevokedAt of "+tc.name, tc.want, got(t, s, tc.hash))
	}
	if tok, _, err := s.TokenGrant(ctx, a1.Hash); err != nil {
		t.Fatal(err)
	} else {
		diff(t, "TokenGrant RevokedAt after RevokeFamily", &at, tok.RevokedAt)
	}
}

func testRevokeAccessToken(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	mustGrant(t, s, "grant-1", "client-1")
	a, r := tokenPair("1", "client-1", "grant-1", "fam-1")
	b, _ := tokenPair("2", "client-1", "grant-1", "fam-1")
	mustIssue(t, s, a, &r)
	mustIssue(t, s, b, nil)
	at := base.Add(time.Minute)
	for _, when := range []time.Time{at, at.Add(time.Hour)} {
		if err := s.RevokeAccessToken(ctx, a.Hash, when); err != nil {
			t.Fatalf("RevokeAccessToken: %v", err)
		}
	}
	if err := s.RevokeAccessToken(ctx, ob.HashToken("unknown"), at); err != nil {
		t.Errorf("RevokeAccessToken(unknown) = %v, want nil", err)
	}
	diff(t, "revoked token (first time kept)", &at, accessRevokedAt(t, s, a.Hash))
	diff(t, "same family's other access token", (*time.Time)(nil), accessRevokedAt(t, s, b.Hash))
	diff(t, "same family's refresh token", (*time.Time)(nil), refreshRevokedAt(t, s, r.Hash))
}

func testSigningKeys(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	if keys, err := s.SigningKeys(ctx, base); err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys(empty store) = %v, %v; want none", keys, err)
	}
	key := func(kid string, created time.Time) oauth.SigningKey {
		return oauth.SigningKey{KID: kid, Alg: "PS256", SealedKey: []byte("sealed\x00" + kid + "\xff"),
			CertChain: [][]byte{[]byte("leaf-der-" + kid + "\x00\x01"), []byte("issuer-der\xfe")}, CreatedAt: created}
	}
	k1, k2, k3 := key("k1", base), key("k2", base.Add(time.Hour)), key("k3", base.Add(2*time.Hour))
	k3.CertChain = nil
	// Created already retired with its publication over: never listed.
	gone := key("gone", base.Add(-time.Hour))
	gone.RetiredAt, gone.PublishUntil = ptr(base.Add(-30*time.Minute)), ptr(base.Add(-time.Minute))
	for _, k := range []oauth.SigningKey{k2, k1, gone, k3} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey(%s): %v", k.KID, err)
		}
	}
	wantCode(t, "CreateSigningKey(duplicate)", s.CreateSigningKey(ctx, k1), ob.CodeConflict)

	list := func(now time.Time) []oauth.SigningKey {
		t.Helper()
		keys, err := s.SigningKeys(ctx, now)
		if err != nil {
			t.Fatalf("SigningKeys: %v", err)
		}
		checkUTC(t, "SigningKeys", keys)
		return keys
	}
	diff(t, "SigningKeys, newest first", []oauth.SigningKey{k3, k2, k1}, list(base.Add(3*time.Hour)))

	retired, until := base.Add(3*time.Hour), base.Add(4*time.Hour)
	if err := s.RetireSigningKey(ctx, k1.KID, retired, until); err != nil {
		t.Fatalf("RetireSigningKey: %v", err)
	}
	wantCode(t, "RetireSigningKey(unknown)", s.RetireSigningKey(ctx, "nope", retired, until), ob.CodeResourceNotFound)
	k1r := k1
	k1r.RetiredAt, k1r.PublishUntil = &retired, &until
	for _, tc := range []struct {
		name string
		now  time.Time
		want []oauth.SigningKey
	}{
		{"retired, still published", until.Add(-time.Microsecond), []oauth.SigningKey{k3, k2, k1r}},
		{"at the end of publication", until, []oauth.SigningKey{k3, k2}},
		{"after publication", until.Add(time.Hour), []oauth.SigningKey{k3, k2}},
	} {
		diff(t, "SigningKeys "+tc.name, tc.want, list(tc.now))
	}

	// Resealing replaces the sealed form only if it is the one expected.
	resealed := []byte("resealed\x00" + k2.KID)
	if err := s.ResealSigningKey(ctx, k2.KID, k2.SealedKey, resealed); err != nil {
		t.Fatalf("ResealSigningKey: %v", err)
	}
	wantCode(t, "ResealSigningKey(stale form)", s.ResealSigningKey(ctx, k2.KID, k2.SealedKey, []byte("again")), ob.CodeConflict)
	wantCode(t, "ResealSigningKey(unknown)", s.ResealSigningKey(ctx, "nope", k2.SealedKey, resealed), ob.CodeResourceNotFound)
	k2r := k2
	k2r.SealedKey = resealed
	diff(t, "SigningKeys after a reseal", []oauth.SigningKey{k3, k2r}, list(until.Add(time.Hour)))
}

// testRevokeGrantRevokesRefresh: revoking a consent (ob.GrantStore) also
// revokes the refresh tokens bound to it, so it cannot mint new access
// tokens; another consent's refresh tokens are untouched.
func testRevokeGrantRevokesRefresh(t *testing.T, s OAuthStore) {
	ctx := context.Background()
	base := FixtureTime()
	for _, id := range []string{"consent-a", "consent-b"} {
		if err := s.CreateAccessGrant(ctx, ob.AccessGrant{ID: id, TPPID: "tpp-1", CustomerID: Alice,
			Permissions: ob.Permissions{ob.ReadAccountsBasic}, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	issue := func(name, grant string) oauth.RefreshToken {
		rt := oauth.RefreshToken{Hash: ob.HashToken("rt-" + name), FamilyID: "fam-" + name, ClientID: "tpp-1",
			GrantID: grant, CustomerID: Alice, Scopes: []string{"accounts"}, IssuedAt: base}
		at := ob.AccessToken{Hash: ob.HashToken("at-" + name), GrantID: grant, ClientID: "tpp-1",
			Scopes: []string{"accounts"}, FamilyID: rt.FamilyID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		if err := s.IssueTokens(ctx, at, &rt); err != nil {
			t.Fatalf("IssueTokens: %v", err)
		}
		return rt
	}
	a, b := issue("a", "consent-a"), issue("b", "consent-b")
	at := base.Add(time.Minute)
	if err := s.RevokeGrant(ctx, "consent-a", at); err != nil {
		t.Fatal(err)
	}
	gotA, err := s.RefreshToken(ctx, a.Hash)
	if err != nil || gotA.RevokedAt == nil || !gotA.RevokedAt.Equal(at) {
		t.Errorf("refresh token of the revoked consent: RevokedAt = %v, err = %v; want %v", gotA.RevokedAt, err, at)
	}
	gotB, err := s.RefreshToken(ctx, b.Hash)
	if err != nil || gotB.RevokedAt != nil {
		t.Errorf("refresh token of another consent: RevokedAt = %v, err = %v; want nil", gotB.RevokedAt, err)
	}
	tok, _, err := s.TokenGrant(ctx, ob.HashToken("at-a"))
	if err != nil || tok.FamilyID != "fam-a" {
		t.Errorf("TokenGrant FamilyID = %q, err = %v; want fam-a", tok.FamilyID, err)
	}
}
