package authz

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/sandbox"
)

// memKeyStore is an in-memory KeyStore with the documented semantics, so
// the key manager is tested on its own; TestKeyManagerSQLite runs the same
// life cycle on the real store.
type memKeyStore struct {
	mu   sync.Mutex
	keys []oauth.SigningKey
}

func (m *memKeyStore) SigningKeys(_ context.Context, now time.Time) ([]oauth.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []oauth.SigningKey
	for _, k := range m.keys {
		if k.PublishUntil == nil || now.Before(*k.PublishUntil) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b oauth.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (m *memKeyStore) CreateSigningKey(_ context.Context, k oauth.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.keys {
		if e.KID == k.KID {
			return ob.ErrConflict
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeyStore) RetireSigningKey(_ context.Context, kid string, at, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].KID == kid {
			m.keys[i].RetiredAt, m.keys[i].PublishUntil = &at, &until
			return nil
		}
	}
	return ob.ErrNotFound
}

func (m *memKeyStore) ResealSigningKey(_ context.Context, kid string, old, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].KID == kid {
			if !bytes.Equal(m.keys[i].SealedKey, old) {
				return ob.ErrConflict
			}
			m.keys[i].SealedKey = sealed
			return nil
		}
	}
	return ob.ErrNotFound
}

// keyFixture is a sandbox, a clock and a sealer for key-manager tests.
type keyFixture struct {
	dir    *sandbox.Directory
	clock  *testClock
	sealer *keystore.Sealer
}

func newKeyFixture(t *testing.T) keyFixture {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	s, err := keystore.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	return keyFixture{dir: newSandbox(t), clock: newTestClock(), sealer: s}
}

func (f keyFixture) manager(t *testing.T, store KeyStore, sealer *keystore.Sealer) *KeyManager {
	t.Helper()
	km, err := NewKeyManager(KeyConfig{
		Store:           store,
		Sealer:          sealer,
		Issue:           SandboxIssuer(f.dir.CA(), "obank test"),
		Now:             f.clock.Now,
		RefreshInterval: time.Minute,
		GenerateKey:     func() (*rsa.PrivateKey, error) { return testRSAKey(t), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return km
}

// publishedKIDs returns the kids of km's public set.
func publishedKIDs(t *testing.T, km *KeyManager) []string {
	t.Helper()
	set, err := km.PublicSet(context.Background())
	if err != nil {
		t.Fatalf("PublicSet: %v", err)
	}
	var kids []string
	for i := range set.Len() {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		kids = append(kids, kid)
	}
	return kids
}

func TestKeyManagerPersistsFirstKey(t *testing.T) {
	ctx := context.Background()
	f := newKeyFixture(t)
	store := &memKeyStore{}
	km1 := f.manager(t, store, f.sealer)
	jwt, err := km1.SignJWT(ctx, []byte(`{"sub":"x"}`), map[string]any{"typ": "JWT"})
	if err != nil {
		t.Fatalf("SignJWT: %v", err)
	}
	if len(store.keys) != 1 {
		t.Fatalf("stored keys = %d, want 1 generated on first use", len(store.keys))
	}
	kid1, _ := km1.CurrentKID(ctx)

	// A second instance on the same store uses the stored key, and
	// verifies what the first signed.
	km2 := f.manager(t, store, f.sealer)
	kid2, err := km2.CurrentKID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kid2 != kid1 || len(store.keys) != 1 {
		t.Errorf("second manager kid = %s (keys %d), want %s and no new key", kid2, len(store.keys), kid1)
	}
	payload, err := km2.VerifyJWT(ctx, jwt)
	if err != nil || string(payload) != `{"sub":"x"}` {
		t.Errorf("VerifyJWT = %s, %v", payload, err)
	}

	// The kid is the RFC 7638 thumbprint, and the public JWK is complete.
	set, _ := km2.PublicSet(ctx)
	k, _ := set.Key(0)
	tp, _ := jwk.Import(leafKey(t, store.keys[0]))
	jwk.AssignKeyID(tp)
	if want, _ := tp.KeyID(); want != kid1 {
		t.Errorf("kid = %s, want thumbprint %s", kid1, want)
	}
	if u, _ := k.KeyUsage(); u != "sig" {
		t.Errorf("use = %q, want sig", u)
	}
	if a, _ := k.Algorithm(); a.String() != "PS256" {
		t.Errorf("alg = %v, want PS256", a)
	}
	if _, ok := k.(jwk.RSAPrivateKey); ok {
		t.Error("public set holds a private key")
	}
	b, _ := json.Marshal(set)
	if bytes.Contains(b, []byte(`"d"`)) || bytes.Contains(b, []byte(`"p"`)) {
		t.Errorf("public JWKS leaks private parameters: %s", b)
	}
}

// leafKey returns the public key of a stored key's leaf certificate.
func leafKey(t *testing.T, k oauth.SigningKey) any {
	t.Helper()
	c, err := x509.ParseCertificate(k.CertChain[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.PublicKey
}

func TestKeyManagerSealedAtRest(t *testing.T) {
	ctx := context.Background()
	f := newKeyFixture(t)
	store := &memKeyStore{}
	km := f.manager(t, store, f.sealer)
	if _, err := km.CurrentKID(ctx); err != nil {
		t.Fatal(err)
	}
	sealed := store.keys[0].SealedKey
	if _, err := x509.ParsePKCS8PrivateKey(sealed); err == nil {
		t.Fatal("stored key parses as PKCS#8: it is not sealed")
	}
	// No recognisable DER either: the RSA modulus must not appear.
	pub := testKeyPoolModulus(t, store.keys[0])
	if bytes.Contains(sealed, pub) {
		t.Fatal("stored key contains the modulus in clear")
	}

	// Another secret fails loudly, never silently making a new key.
	other := make([]byte, 32)
	rand.Read(other)
	wrong, _ := keystore.New(other)
	km2 := f.manager(t, store, wrong)
	_, err := km2.SignJWT(ctx, []byte(`{}`), nil)
	if !errors.Is(err, keystore.ErrWrongSecret) {
		t.Errorf("SignJWT with the wrong secret: err = %v, want ErrWrongSecret", err)
	}
	if len(store.keys) != 1 {
		t.Errorf("a wrong secret made a new key (%d stored)", len(store.keys))
	}

	// A sealed key swapped onto another kid does not open (associated
	// data binds it to its kid).
	store.keys[0].KID = "swapped"
	km3 := f.manager(t, store, f.sealer)
	if _, err := km3.CurrentKID(ctx); !errors.Is(err, keystore.ErrCorrupt) {
		t.Errorf("swapped kid: err = %v, want ErrCorrupt", err)
	}
}

// TestKeyManagerResealsOnSecretRotation: with the old master secret kept
// as a previous one, the keys it sealed still open and are sealed again
// under the new secret, after which the old secret is not needed.
func TestKeyManagerResealsOnSecretRotation(t *testing.T) {
	ctx := context.Background()
	f := newKeyFixture(t)
	store := &memKeyStore{}
	oldSecret, newSecret := make([]byte, 32), make([]byte, 32)
	rand.Read(oldSecret)
	rand.Read(newSecret)
	oldSealer, _ := keystore.New(oldSecret)
	kid, err := f.manager(t, store, oldSealer).CurrentKID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sealedBefore := store.keys[0].SealedKey

	rotating, _ := keystore.New(newSecret, oldSecret)
	km := f.manager(t, store, rotating)
	if got, err := km.CurrentKID(ctx); err != nil || got != kid {
		t.Fatalf("CurrentKID while rotating = %q, %v; want the same key %q", got, err, kid)
	}
	if len(store.keys) != 1 || bytes.Equal(store.keys[0].SealedKey, sealedBefore) || !rotating.SealedWithCurrent(store.keys[0].SealedKey) {
		t.Fatalf("the key was not resealed under the new secret (%d keys)", len(store.keys))
	}
	// Once every instance has run while rotating, the old secret can go.
	newOnly, _ := keystore.New(newSecret)
	if got, err := f.manager(t, store, newOnly).CurrentKID(ctx); err != nil || got != kid {
		t.Fatalf("CurrentKID with the new secret alone = %q, %v; want %q", got, err, kid)
	}
	if _, err := f.manager(t, store, newOnly).SignJWT(ctx, []byte(`{}`), nil); err != nil {
		t.Errorf("SignJWT with the new secret alone: %v", err)
	}
}

// testKeyPoolModulus returns the big-endian modulus of a stored key.
func testKeyPoolModulus(t *testing.T, k oauth.SigningKey) []byte {
	t.Helper()
	return leafKey(t, k).(*rsa.PublicKey).N.Bytes()
}

func TestKeyManagerRotation(t *testing.T) {
	ctx := context.Background()
	f := newKeyFixture(t)
	store := &memKeyStore{}
	km := f.manager(t, store, f.sealer)
	other := f.manager(t, store, f.sealer) // a second instance
	oldKID, err := km.CurrentKID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldJWT, _ := km.SignJWT(ctx, []byte(`{"n":1}`), nil)
	if _, err := other.CurrentKID(ctx); err != nil {
		t.Fatal(err)
	}

	if err := km.Rotate(ctx, time.Hour); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	newKID, _ := km.CurrentKID(ctx)
	if newKID == oldKID {
		t.Fatal("Rotate kept the same key")
	}
	if got := publishedKIDs(t, km); !slices.Equal(got, []string{newKID, oldKID}) {
		t.Errorf("after rotation published = %v, want [new old]", got)
	}
	if _, err := km.VerifyJWT(ctx, oldJWT); err != nil {
		t.Errorf("a token signed by the retired key no longer verifies: %v", err)
	}

	// The other instance signs with the old key until its refresh, then
	// with the new one.
	if kid, _ := other.CurrentKID(ctx); kid != oldKID {
		t.Errorf("other instance before refresh: kid %s, want cached %s", kid, oldKID)
	}
	f.clock.Advance(61 * time.Second)
	if kid, _ := other.CurrentKID(ctx); kid != newKID {
		t.Errorf("other instance after refresh: kid %s, want %s", kid, newKID)
	}

	// After publishFor the old key is gone.
	f.clock.Advance(time.Hour)
	if got := publishedKIDs(t, km); !slices.Equal(got, []string{newKID}) {
		t.Errorf("after publishUntil published = %v, want [new]", got)
	}
	if _, err := km.VerifyJWT(ctx, oldJWT); err == nil {
		t.Error("a token of a dropped key still verifies")
	}
}

func TestKeyManagerX5CVerifiesAgainstCA(t *testing.T) {
	f := newKeyFixture(t)
	km := f.manager(t, &memKeyStore{}, f.sealer)
	set, err := km.PublicSet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k, _ := set.Key(0)
	chain, err := pki.X5C(k)
	if err != nil || len(chain) < 2 {
		t.Fatalf("x5c = %d certificates, %v; want leaf and CA", len(chain), err)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: f.dir.CAPool(), Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("x5c leaf does not verify against the sandbox CA: %v", err)
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		t.Fatal(err)
	}
	if !chain[0].PublicKey.(*rsa.PublicKey).Equal(raw) {
		t.Error("x5c leaf is not the JWK's key")
	}
}

// TestKeyManagerSQLite runs generation, persistence and rotation on the
// SQL store, through the served /jwks.
func TestKeyManagerSQLite(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	kid1, err := h.Keys.CurrentKID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	km2 := h.newKeyManager(h.Sealer)
	if kid, _ := km2.CurrentKID(ctx); kid != kid1 {
		t.Errorf("second manager on the same store: kid %s, want %s", kid, kid1)
	}
	if err := h.Keys.Rotate(ctx, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	kid2, _ := h.Keys.CurrentKID(ctx)

	resp, err := http.Get(h.Public.URL + PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	r := readResult(t, resp)
	if r.Status != 200 {
		t.Fatalf("GET /jwks: %d %s", r.Status, r.Body)
	}
	set, err := jwk.Parse(r.Body)
	if err != nil {
		t.Fatalf("parse /jwks: %v", err)
	}
	var kids []string
	for i := range set.Len() {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		kids = append(kids, kid)
		if chain, err := pki.X5C(k); err != nil || len(chain) == 0 {
			t.Errorf("key %s has no x5c (%v)", kid, err)
		}
	}
	if !slices.Equal(kids, []string{kid2, kid1}) {
		t.Errorf("/jwks kids = %v, want [%s %s]", kids, kid2, kid1)
	}
	h.Clock.Advance(11 * time.Minute)
	if got := publishedKIDs(t, h.newKeyManager(h.Sealer)); !slices.Equal(got, []string{kid2}) {
		t.Errorf("after publishUntil: %v, want [%s]", got, kid2)
	}
}
