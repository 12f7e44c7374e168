package main

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/authz"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/sandbox"
)

// securityConfig is the TLS, trust and authorization-server part of serve.
type securityConfig struct {
	mtlsAddr        string
	mtlsPublicURL   string
	secret          string
	previousSecrets string
	tlsCert         string
	tlsKey          string
	clientCA        string
	directoryJWKS   string
	signingCACert   string
	signingCAKey    string
	orgID           string
	proxyCertHeader string
	trustedProxies  string
	requirePKCE     bool
	accessTokenTTL  time.Duration
	refreshTokenTTL time.Duration
}

func (c *securityConfig) flags(fs *cli.FlagSet) {
	fs.String(&c.mtlsAddr, "mtls-addr", "127.0.0.1:8443", "mutual-TLS listen address: token, PAR, revocation, introspection,\nregistration and the resource APIs")
	fs.String(&c.mtlsPublicURL, "mtls-public-url", "", "external base URL of the mutual-TLS listener, used in response Links\n(default https://<bound address>)")
	fs.String(&c.secret, "secret", "", "master secret (32+ bytes, base64 or hex) sealing signing keys at rest and keying\nrefresh-token derivation; all instances must share it. Demo mode keeps one in\n<data-dir>/secret when unset")
	fs.String(&c.previousSecrets, "previous-secret", "", "while rotating the master secret: the secret --secret replaces (comma-separate\nseveral). Keys and TOTP secrets sealed under it are opened and sealed again under\n--secret, and refresh retries it derived are recognised; drop it once every\ninstance has run with both")
	fs.String(&c.tlsCert, "tls-cert", "", "server certificate chain (PEM) of the mutual-TLS listener (demo: the sandbox's)")
	fs.String(&c.tlsKey, "tls-key", "", "its private key (PEM)")
	fs.String(&c.clientCA, "client-ca", "", "PEM file of the CAs TPP certificates must chain to (QWAC/OBWAC roots;\ndemo: the sandbox CA). Comma-separate several files")
	fs.String(&c.directoryJWKS, "directory-jwks", "", "JWK set (file or https URL) of the directories whose software statements are\ntrusted (demo: the sandbox directory's)")
	fs.String(&c.signingCACert, "signing-ca-cert", "", "CA certificate (PEM) certifying the server's generated signing keys for x5c\n(demo: the sandbox CA)")
	fs.String(&c.signingCAKey, "signing-ca-key", "", "its private key (PEM)")
	fs.String(&c.orgID, "org-id", "", "the bank's organisation id at the directory (accepted as DCR aud)")
	fs.String(&c.proxyCertHeader, "proxy-cert-header", "", "behind a TLS-terminating proxy: the header carrying the client certificate\n(URL-encoded PEM); enables the resource APIs and mTLS endpoints on --addr")
	fs.String(&c.trustedProxies, "trusted-proxies", "", "comma-separated addresses/CIDRs whose --proxy-cert-header is believed")
	fs.Bool(&c.requirePKCE, "require-pkce", false, "require PKCE (S256) for every authorization request, hybrid ones included")
	fs.Duration(&c.accessTokenTTL, "access-token-ttl", time.Hour, "access token lifetime")
	fs.Duration(&c.refreshTokenTTL, "refresh-token-ttl", 90*24*time.Hour, "refresh token lifetime")
}

// trust is what the security configuration resolves to.
type trust struct {
	secret        []byte
	previous      [][]byte // secrets being rotated out
	serverCert    tls.Certificate
	clientCAs     *x509.CertPool
	directoryKeys jwk.Set
	signingIssuer func(crypto.PublicKey) ([]*x509.Certificate, error)
	proxies       []netip.Prefix
}

// resolveTrust loads (or, in demo mode, creates in the sandbox) every key,
// certificate and trust anchor serve needs.
func resolveTrust(c *securityConfig, dataDir string, demo bool) (*trust, error) {
	t := &trust{}
	var err error
	if t.secret, err = loadSecret(c.secret, dataDir, demo); err != nil {
		return nil, err
	}
	if t.previous, err = previousSecrets(c.previousSecrets); err != nil {
		return nil, err
	}
	var sb *sandbox.Directory
	if demo {
		if sb, err = sandbox.Ensure(sandboxDir(dataDir), sandbox.Options{}); err != nil {
			return nil, fmt.Errorf("sandbox directory: %w", err)
		}
	}
	need := func(v, flag string) error {
		if v == "" && sb == nil {
			return fmt.Errorf("%s is required without --demo (the sandbox provides it in demo mode)", flag)
		}
		return nil
	}
	// Server certificate.
	if err := need(c.tlsCert, "--tls-cert"); err != nil {
		return nil, err
	}
	if c.tlsCert != "" {
		if t.serverCert, err = tls.LoadX509KeyPair(c.tlsCert, c.tlsKey); err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	} else {
		t.serverCert = sb.ServerCertificate()
	}
	// Trust anchors for TPP certificates.
	if err := need(c.clientCA, "--client-ca"); err != nil {
		return nil, err
	}
	if c.clientCA != "" {
		t.clientCAs = x509.NewCertPool()
		for _, f := range strings.Split(c.clientCA, ",") {
			certs, err := pki.ReadCertificatesFile(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("--client-ca: %w", err)
			}
			for _, cert := range certs {
				t.clientCAs.AddCert(cert)
			}
		}
		if sb != nil {
			t.clientCAs.AddCert(sb.CACertificate())
		}
	} else {
		t.clientCAs = sb.CAPool()
	}
	// Directories.
	if err := need(c.directoryJWKS, "--directory-jwks"); err != nil {
		return nil, err
	}
	if c.directoryJWKS != "" {
		if t.directoryKeys, err = loadJWKS(c.directoryJWKS); err != nil {
			return nil, fmt.Errorf("--directory-jwks: %w", err)
		}
	} else {
		t.directoryKeys = sb.PublicJWKS()
	}
	// Who certifies the server's signing keys.
	if t.signingIssuer, err = signingIssuer(c, sb); err != nil {
		return nil, err
	}
	// Proxies.
	if c.proxyCertHeader != "" {
		for _, s := range strings.Split(c.trustedProxies, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return nil, fmt.Errorf("--trusted-proxies %q: %w", s, err)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			t.proxies = append(t.proxies, p)
		}
		if len(t.proxies) == 0 {
			return nil, errors.New("--proxy-cert-header needs --trusted-proxies")
		}
	}
	return t, nil
}

// previousSecrets decodes --previous-secret: comma-separated secrets, each
// as --secret takes it.
func previousSecrets(v string) ([][]byte, error) {
	var out [][]byte
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		b, err := decodeSecret(p)
		if err != nil {
			return nil, fmt.Errorf("--previous-secret: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// loadSecret decodes the configured master secret, or in demo mode reads
// (creating on first start) <data-dir>/secret.
func loadSecret(v, dataDir string, demo bool) ([]byte, error) {
	if v == "" {
		if !demo {
			return nil, errors.New("--secret (OBANK_SECRET) is required without --demo")
		}
		path := filepath.Join(dataDir, "secret")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			raw := make([]byte, 32)
			if _, err := io.ReadFull(rand.Reader, raw); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, err
			}
			if err := pki.WriteNewFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("demo secret: %w", err)
			}
			return raw, nil
		}
		if err != nil {
			return nil, fmt.Errorf("demo secret: %w", err)
		}
		v = string(b)
	}
	b, err := decodeSecret(v)
	if err != nil {
		return nil, fmt.Errorf("--secret: %w", err)
	}
	return b, nil
}

// decodeSecret decodes a master secret given as base64 or hex.
func decodeSecret(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if b, err = hex.DecodeString(v); err != nil {
			return nil, errors.New("want base64 or hex")
		}
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("%d bytes; want at least 32", len(b))
	}
	return b, nil
}

// onlyPublicPaths keeps the resource APIs off the plain listener unless a
// proxy terminates TLS in front of it: tokens are bound to certificates
// that only the mTLS listener (or the proxy) can see.
func onlyPublicPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/open-banking/v3.1/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// signingIssuer returns who certifies the server's generated signing keys
// (their x5c): the configured CA, or the sandbox CA in demo mode.
func signingIssuer(c *securityConfig, sb *sandbox.Directory) (func(crypto.PublicKey) ([]*x509.Certificate, error), error) {
	if c.signingCACert == "" {
		if sb == nil {
			return nil, errors.New("--signing-ca-cert is required without --demo (the sandbox provides it in demo mode)")
		}
		return authz.SandboxIssuer(sb.CA(), "obank sandbox bank signing key"), nil
	}
	certs, err := pki.ReadCertificatesFile(c.signingCACert)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("--signing-ca-cert: %v", err)
	}
	key, err := pki.ReadPrivateKeyFile(c.signingCAKey)
	if err != nil {
		return nil, fmt.Errorf("--signing-ca-key: %w", err)
	}
	ca, err := pki.LoadCA(certs[0], key)
	if err != nil {
		return nil, err
	}
	return authz.SandboxIssuer(ca, "obank signing key"), nil
}

// loadJWKS reads a JWK set from a file or an https URL (a directory's
// published keys). The URL is read once at start: a directory rotating its
// keys means restarting, which a bank schedules with the directory's notice.
func loadJWKS(src string) (jwk.Set, error) {
	if !strings.HasPrefix(src, "https://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		return jwk.Parse(b)
	}
	c := &http.Client{Timeout: 15 * time.Second}
	resp, err := c.Get(src)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return jwk.Parse(b)
}
