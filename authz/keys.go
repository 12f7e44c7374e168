package authz

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// signingKeyBits is the size of the server's RSA signing keys.
const signingKeyBits = 2048

// KeyStore is the part of the store the key manager uses.
type KeyStore interface {
	SigningKeys(ctx context.Context, now time.Time) ([]oauth.SigningKey, error)
	CreateSigningKey(ctx context.Context, k oauth.SigningKey) error
	RetireSigningKey(ctx context.Context, kid string, at, publishUntil time.Time) error
	// ResealSigningKey replaces a key's sealed form old with sealed (the
	// same key under the current secret); ob.ErrConflict when the stored
	// form is not old any more (another instance resealed it).
	ResealSigningKey(ctx context.Context, kid string, old, sealed []byte) error
}

// KeyConfig configures a KeyManager. Store, Sealer and Issue are required.
type KeyConfig struct {
	Store KeyStore
	// Sealer encrypts private keys before they reach the store.
	Sealer *keystore.Sealer
	// Issue returns the certificate chain (leaf first) published in x5c
	// for a new public key: the sandbox CA in demo mode (SandboxIssuer),
	// an operator-provided issuer otherwise.
	Issue func(pub crypto.PublicKey) ([]*x509.Certificate, error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// RefreshInterval is how often the keys are reloaded from the store so
	// a rotation by another instance is picked up (60 s when zero).
	RefreshInterval time.Duration
	// GenerateKey makes a new RSA key (pki.NewRSAKey(2048) when nil);
	// tests inject pre-generated keys because generation is slow.
	GenerateKey func() (*rsa.PrivateKey, error)
}

// KeyManager holds the server's PS256 signing keys: generated on first
// start, sealed at rest, shared by all instances through the store, rotated
// with the old public key kept published until what it signed expires.
// It is safe for concurrent use.
type KeyManager struct {
	cfg KeyConfig

	// mu guards the fields below and serialises loads, so that concurrent
	// first requests generate one key, not one each.
	mu       sync.Mutex
	loadedAt time.Time
	keys     []*serverKey // published keys, newest first
	current  *serverKey   // newest active key: the one that signs
	public   jwk.Set
}

// serverKey is an opened signing key.
type serverKey struct {
	rec  oauth.SigningKey
	priv *rsa.PrivateKey
	pub  jwk.Key // public JWK with kid, use, alg and x5c
}

// NewKeyManager returns a key manager; keys are loaded (or generated) on
// first use.
func NewKeyManager(cfg KeyConfig) (*KeyManager, error) {
	if cfg.Store == nil || cfg.Sealer == nil || cfg.Issue == nil {
		return nil, errors.New("authz: key manager needs a store, a sealer and a certificate issuer")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 60 * time.Second
	}
	if cfg.GenerateKey == nil {
		cfg.GenerateKey = func() (*rsa.PrivateKey, error) { return pki.NewRSAKey(signingKeyBits) }
	}
	return &KeyManager{cfg: cfg}, nil
}

// SandboxIssuer returns a KeyConfig.Issue that certifies signing keys with
// the sandbox CA: chain [signing certificate, CA certificate].
func SandboxIssuer(ca *pki.CA, commonName string) func(crypto.PublicKey) ([]*x509.Certificate, error) {
	return func(pub crypto.PublicKey) ([]*x509.Certificate, error) {
		c, err := ca.IssueSigningCert(pub, pki.SigningCertRequest{
			Subject: pkix.Name{CommonName: commonName, Organization: []string{"obank"}},
		})
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c, ca.Cert}, nil
	}
}

// sealAD binds a sealed private key to its kid, so one stored blob cannot
// be swapped for another key's.
func sealAD(kid string) []byte { return []byte("obank authz signing key " + kid) }

// SignJWT signs payload (JSON claims) as a compact JWS with the current
// key, PS256, adding kid and the given extra protected headers (e.g. typ).
func (m *KeyManager) SignJWT(ctx context.Context, payload []byte, headers map[string]any) (string, error) {
	k, _, err := m.state(ctx)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	for name, v := range headers {
		if err := h.Set(name, v); err != nil {
			return "", fmt.Errorf("authz: JWS header %s: %w", name, err)
		}
	}
	if err := h.Set(jws.KeyIDKey, k.rec.KID); err != nil {
		return "", fmt.Errorf("authz: JWS header kid: %w", err)
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), k.priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("authz: sign JWT: %w", err)
	}
	return string(out), nil
}

// PublicSet returns the public keys to publish at /jwks, each with its
// certificate chain in x5c. The set is a copy the caller may change.
func (m *KeyManager) PublicSet(ctx context.Context) (jwk.Set, error) {
	_, set, err := m.state(ctx)
	if err != nil {
		return nil, err
	}
	return set.Clone()
}

// VerifyJWT verifies a compact JWS signed by one of the published keys
// (PS256, found by kid) and returns its payload. Tests and the resource
// side use it; TPPs verify through /jwks.
func (m *KeyManager) VerifyJWT(ctx context.Context, token string) ([]byte, error) {
	_, set, err := m.state(ctx)
	if err != nil {
		return nil, err
	}
	return jws.Verify([]byte(token), jws.WithKeySet(set, jws.WithRequireKid(true)))
}

// CurrentKID returns the kid of the key that signs now.
func (m *KeyManager) CurrentKID(ctx context.Context) (string, error) {
	k, _, err := m.state(ctx)
	if err != nil {
		return "", err
	}
	return k.rec.KID, nil
}

// Rotate makes a new key current. The previous current key stops signing
// and stays published for publishFor, which must cover the longest
// lifetime of anything it signed (id_tokens, JWT responses). Other
// instances pick the new key up within their RefreshInterval.
func (m *KeyManager) Rotate(ctx context.Context, publishFor time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.loadLocked(ctx, true); err != nil {
		return err
	}
	old := m.current
	if _, err := m.createLocked(ctx); err != nil {
		return err
	}
	now := m.cfg.Now()
	if old != nil {
		if err := m.cfg.Store.RetireSigningKey(ctx, old.rec.KID, now, now.Add(publishFor)); err != nil {
			return fmt.Errorf("authz: retire signing key %s: %w", old.rec.KID, err)
		}
	}
	return m.loadLocked(ctx, true)
}

// state returns the current key and the public set, reloading from the
// store when the cache is older than RefreshInterval.
func (m *KeyManager) state(ctx context.Context) (*serverKey, jwk.Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.loadLocked(ctx, false); err != nil {
		return nil, nil, err
	}
	return m.current, m.public, nil
}

// loadLocked reloads the keys from the store when forced or stale, and
// generates the first key when the store has no active one. m.mu is held.
func (m *KeyManager) loadLocked(ctx context.Context, force bool) error {
	now := m.cfg.Now()
	if !force && m.current != nil && now.Sub(m.loadedAt) < m.cfg.RefreshInterval {
		return nil
	}
	recs, err := m.cfg.Store.SigningKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("authz: load signing keys: %w", err)
	}
	// Keys already opened are reused: unsealing and parsing on every
	// refresh would be wasted work.
	opened := make(map[string]*serverKey, len(m.keys))
	for _, k := range m.keys {
		opened[k.rec.KID] = k
	}
	keys := make([]*serverKey, 0, len(recs))
	for _, rec := range recs {
		if k, ok := opened[rec.KID]; ok {
			k.rec = rec // retirement may have changed
			keys = append(keys, k)
			continue
		}
		k, err := m.open(rec)
		if err != nil {
			return err
		}
		if err := m.resealLocked(ctx, k); err != nil {
			return err
		}
		keys = append(keys, k)
	}
	// Active keys first, then newest first: the store returns newest
	// first, but the choice of the signing key must not depend on it, nor
	// on two keys created in the same instant.
	slices.SortStableFunc(keys, func(a, b *serverKey) int {
		if (a.rec.RetiredAt == nil) != (b.rec.RetiredAt == nil) {
			if a.rec.RetiredAt == nil {
				return -1
			}
			return 1
		}
		return b.rec.CreatedAt.Compare(a.rec.CreatedAt)
	})
	var current *serverKey
	for _, k := range keys {
		if k.rec.RetiredAt == nil {
			current = k
			break
		}
	}
	if current == nil {
		// First start (or every key retired): make one. Another instance
		// may do the same at the same moment; both keys are then
		// published and the newest signs, which is harmless.
		k, err := m.createLocked(ctx)
		if err != nil {
			return err
		}
		keys = append([]*serverKey{k}, keys...)
		current = k
	}
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.pub); err != nil {
			return fmt.Errorf("authz: JWKS: %w", err)
		}
	}
	m.keys, m.current, m.public, m.loadedAt = keys, current, set, now
	return nil
}

// resealLocked seals k again under the current secret when the master
// secret is being rotated and k was sealed under a previous one, so that
// the previous secret can be dropped once every instance has run with the
// new one. m.mu is held.
func (m *KeyManager) resealLocked(ctx context.Context, k *serverKey) error {
	if !m.cfg.Sealer.Rotating() || m.cfg.Sealer.SealedWithCurrent(k.rec.SealedKey) {
		return nil
	}
	sealed, err := m.cfg.Sealer.SealPrivateKey(k.priv, sealAD(k.rec.KID))
	if err != nil {
		return fmt.Errorf("authz: reseal signing key %s: %w", k.rec.KID, err)
	}
	switch err := m.cfg.Store.ResealSigningKey(ctx, k.rec.KID, k.rec.SealedKey, sealed); {
	case err == nil:
		k.rec.SealedKey = sealed
	case ob.ErrorCode(err) == ob.CodeConflict:
		// Another instance resealed it first; its form opens as well.
	default:
		return fmt.Errorf("authz: reseal signing key %s: %w", k.rec.KID, err)
	}
	return nil
}

// open unseals a stored key and rebuilds its public JWK. A wrong
// key-encryption secret fails here, loudly, rather than the server
// silently generating a replacement key.
func (m *KeyManager) open(rec oauth.SigningKey) (*serverKey, error) {
	signer, err := m.cfg.Sealer.OpenPrivateKey(rec.SealedKey, sealAD(rec.KID))
	if err != nil {
		return nil, fmt.Errorf("authz: open signing key %s: %w", rec.KID, err)
	}
	priv, ok := signer.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("authz: signing key %s is not RSA", rec.KID)
	}
	chain := make([]*x509.Certificate, 0, len(rec.CertChain))
	for i, der := range rec.CertChain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("authz: signing key %s: certificate %d: %w", rec.KID, i, err)
		}
		chain = append(chain, c)
	}
	pub, err := pki.SigningJWK(priv.Public(), chain...)
	if err != nil {
		return nil, fmt.Errorf("authz: signing key %s: %w", rec.KID, err)
	}
	if kid, _ := pub.KeyID(); kid != rec.KID {
		return nil, fmt.Errorf("authz: signing key %s: stored kid does not match the key (thumbprint %s)", rec.KID, kid)
	}
	return &serverKey{rec: rec, priv: priv, pub: pub}, nil
}

// createLocked generates, certifies, seals and stores a new key. m.mu is
// held.
func (m *KeyManager) createLocked(ctx context.Context) (*serverKey, error) {
	priv, err := m.cfg.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("authz: generate signing key: %w", err)
	}
	chain, err := m.cfg.Issue(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("authz: certify signing key: %w", err)
	}
	pub, err := pki.SigningJWK(priv.Public(), chain...)
	if err != nil {
		return nil, fmt.Errorf("authz: signing key: %w", err)
	}
	kid, _ := pub.KeyID()
	sealed, err := m.cfg.Sealer.SealPrivateKey(priv, sealAD(kid))
	if err != nil {
		return nil, fmt.Errorf("authz: seal signing key: %w", err)
	}
	rec := oauth.SigningKey{KID: kid, Alg: jwa.PS256().String(), SealedKey: sealed, CreatedAt: m.cfg.Now()}
	for _, c := range chain {
		rec.CertChain = append(rec.CertChain, c.Raw)
	}
	if err := m.cfg.Store.CreateSigningKey(ctx, rec); err != nil {
		if ob.ErrorCode(err) == ob.CodeConflict {
			return nil, fmt.Errorf("authz: signing key %s exists already (key generator returned a used key): %w", kid, err)
		}
		return nil, fmt.Errorf("authz: store signing key: %w", err)
	}
	return &serverKey{rec: rec, priv: priv, pub: pub}, nil
}
