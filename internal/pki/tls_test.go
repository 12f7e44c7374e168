package pki

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// tlsFixture is a server certificate from the shared CA and client
// certificates for the handshake tests.
type tlsFixture struct {
	ca         *CA
	server     tls.Certificate
	trusted    tls.Certificate // from the CA, clientAuth
	foreign    tls.Certificate // from another CA
	expired    tls.Certificate // from the CA, expired yesterday
	serverAuth tls.Certificate // from the CA, but serverAuth only
	clientDN   string
	clientX5t  string
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	k := keys(t)
	f := &tlsFixture{ca: k.ca}

	serverCert, err := k.ca.IssueServerCert(k.rsa.Public(), ServerCertRequest{Hosts: []string{"localhost", "127.0.0.1", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	f.server = mustTLSCert(t, k.rsa, serverCert)

	client := ClientCertRequest{SoftwareID: "software1", OrgID: "org1", OrgName: "Test TPP"}
	clientKey := ecKey(t)
	trusted, err := k.ca.IssueClientCert(clientKey.Public(), client)
	if err != nil {
		t.Fatal(err)
	}
	f.trusted = mustTLSCert(t, clientKey, trusted)
	f.clientDN = SubjectDN(trusted)
	f.clientX5t = Thumbprint(trusted)

	other := newCA(t, "other root")
	foreign, err := other.IssueClientCert(clientKey.Public(), client)
	if err != nil {
		t.Fatal(err)
	}
	f.foreign = mustTLSCert(t, clientKey, foreign)

	expiredReq := client
	expiredReq.Validity = Validity{NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}
	expired, err := k.ca.IssueClientCert(clientKey.Public(), expiredReq)
	if err != nil {
		t.Fatal(err)
	}
	f.expired = mustTLSCert(t, clientKey, expired)

	serverAuthCert, err := k.ca.IssueServerCert(clientKey.Public(), ServerCertRequest{Hosts: []string{"client.example"}})
	if err != nil {
		t.Fatal(err)
	}
	f.serverAuth = mustTLSCert(t, clientKey, serverAuthCert)
	return f
}

func mustTLSCert(t *testing.T, key crypto.Signer, chain ...*x509.Certificate) tls.Certificate {
	t.Helper()
	c, err := TLSCertificate(key, chain...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// client returns a client configuration presenting certs[0], if given.
// It uses GetClientCertificate rather than Certificates because crypto/tls
// clients silently withhold a certificate whose issuer is not among the
// server's acceptable CAs; a hostile client would send it anyway.
func (f *tlsFixture) client(certs ...tls.Certificate) *tls.Config {
	cfg := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	if len(certs) > 0 {
		cert := certs[0]
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	return cfg
}

type handshakeResult struct {
	server    tls.ConnectionState
	serverErr error
	client    tls.ConnectionState
	clientErr error
}

// handshake runs one TLS connection over loopback TCP. The server writes
// "ok" after its handshake; the client reads it, which is where a TLS 1.3
// client learns that the server refused its certificate (the client's own
// handshake finishes before the server has checked it).
func handshake(t *testing.T, server, client *tls.Config) handshakeResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	type serverResult struct {
		state tls.ConnectionState
		err   error
	}
	done := make(chan serverResult, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- serverResult{err: err}
			return
		}
		defer conn.Close()
		tc := tls.Server(conn, server)
		if err := tc.HandshakeContext(ctx); err != nil {
			done <- serverResult{err: err}
			return
		}
		_, err = tc.Write([]byte("ok"))
		done <- serverResult{state: tc.ConnectionState(), err: err}
	}()

	var res handshakeResult
	d := tls.Dialer{Config: client}
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err == nil {
		tc := conn.(*tls.Conn)
		res.client = tc.ConnectionState()
		buf := make([]byte, 2)
		if _, err = io.ReadFull(tc, buf); err == nil && string(buf) != "ok" {
			err = fmt.Errorf("read %q", buf)
		}
		conn.Close()
	}
	res.clientErr = err
	sr := <-done
	res.server, res.serverErr = sr.state, sr.err
	return res
}

func TestServerTLSHandshake(t *testing.T) {
	f := newTLSFixture(t)
	optional := ServerTLSConfig(f.server, f.ca.Pool(), false)
	required := ServerTLSConfig(f.server, f.ca.Pool(), true)

	tls12 := func(c *tls.Config, suites ...uint16) *tls.Config {
		c.MaxVersion = tls.VersionTLS12
		c.CipherSuites = suites
		return c
	}

	for _, tc := range []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		wantErr    string // substring of the server's handshake error; "" = success
		wantSuite  uint16
		wantPeerDN bool
	}{
		{name: "TLS 1.3 trusted client", server: required, client: f.client(f.trusted), wantPeerDN: true},
		{name: "TLS 1.2 AES-128-GCM", server: required, client: tls12(f.client(f.trusted), tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
			wantSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, wantPeerDN: true},
		{name: "TLS 1.2 AES-256-GCM", server: required, client: tls12(f.client(f.trusted), tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
			wantSuite: tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, wantPeerDN: true},
		{name: "TLS 1.2 client default suites picks a FAPI suite", server: required, client: tls12(f.client(f.trusted)), wantPeerDN: true},
		{name: "optional and none given", server: optional, client: f.client()},
		{name: "optional and trusted given", server: optional, client: f.client(f.trusted), wantPeerDN: true},
		{name: "required and none given", server: required, client: f.client(), wantErr: "didn't provide a certificate"},
		{name: "other CA", server: required, client: f.client(f.foreign), wantErr: "unknown authority"},
		{name: "other CA when optional", server: optional, client: f.client(f.foreign), wantErr: "unknown authority"},
		{name: "expired", server: required, client: f.client(f.expired), wantErr: "expired"},
		{name: "expired TLS 1.2", server: required, client: tls12(f.client(f.expired)), wantErr: "expired"},
		{name: "serverAuth-only certificate", server: required, client: f.client(f.serverAuth), wantErr: "key usage"},
		{name: "nil client CAs trust nothing", server: ServerTLSConfig(f.server, nil, false), client: f.client(f.trusted), wantErr: "unknown authority"},
		{name: "TLS 1.2 ChaCha20 only", server: required,
			client:  tls12(f.client(f.trusted), tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
			wantErr: "no cipher suite"},
		{name: "TLS 1.2 CBC only", server: required,
			client:  tls12(f.client(f.trusted), tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA),
			wantErr: "no cipher suite"},
		{name: "TLS 1.2 non-ECDHE GCM only", server: required,
			client:  tls12(f.client(f.trusted), tls.TLS_RSA_WITH_AES_128_GCM_SHA256),
			wantErr: "no cipher suite"},
		{name: "TLS 1.1", server: required,
			client: func() *tls.Config {
				c := f.client(f.trusted)
				c.MinVersion, c.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
				return c
			}(),
			wantErr: "unsupported versions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := handshake(t, tc.server, tc.client)
			if tc.wantErr != "" {
				if res.serverErr == nil || !strings.Contains(res.serverErr.Error(), tc.wantErr) {
					t.Errorf("server error = %v, want one containing %q", res.serverErr, tc.wantErr)
				}
				if res.clientErr == nil {
					t.Error("client saw no error")
				}
				return
			}
			if res.serverErr != nil || res.clientErr != nil {
				t.Fatalf("server error = %v, client error = %v", res.serverErr, res.clientErr)
			}
			if tc.wantSuite != 0 && res.server.CipherSuite != tc.wantSuite {
				t.Errorf("cipher suite = %s, want %s", tls.CipherSuiteName(res.server.CipherSuite), tls.CipherSuiteName(tc.wantSuite))
			}
			if res.server.Version == tls.VersionTLS12 && !slices.Contains(FAPI1CipherSuites(), res.server.CipherSuite) {
				t.Errorf("TLS 1.2 negotiated non-FAPI suite %s", tls.CipherSuiteName(res.server.CipherSuite))
			}
			peers := res.server.PeerCertificates
			if !tc.wantPeerDN {
				if len(peers) != 0 {
					t.Errorf("server saw %d peer certificates, want none", len(peers))
				}
				return
			}
			if len(peers) == 0 {
				t.Fatal("server saw no peer certificate")
			}
			if got := SubjectDN(peers[0]); got != f.clientDN {
				t.Errorf("peer DN = %q, want %q", got, f.clientDN)
			}
			if got := Thumbprint(peers[0]); got != f.clientX5t {
				t.Errorf("peer thumbprint = %q, want %q", got, f.clientX5t)
			}
		})
	}
}

// TestServerTLSHTTP checks that an HTTP handler behind ServerTLSConfig sees
// the verified client certificate.
func TestServerTLSHTTP(t *testing.T) {
	f := newTLSFixture(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "no verified client certificate", http.StatusUnauthorized)
			return
		}
		leaf := r.TLS.PeerCertificates[0]
		fmt.Fprintf(w, "%s\n%s\n%s", Thumbprint(leaf), SubjectDN(leaf), tls.VersionName(r.TLS.Version))
	}))
	srv.TLS = ServerTLSConfig(f.server, f.ca.Pool(), false)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()

	get := func(cfg *tls.Config) (int, string, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		// srv.URL names 127.0.0.1, which is in the server certificate.
		resp, err := client.Get(srv.URL)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}

	cfg := f.client(f.trusted)
	cfg.ServerName = ""
	code, body, err := get(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := f.clientX5t + "\n" + f.clientDN + "\nTLS 1.3"
	if code != http.StatusOK || body != want {
		t.Errorf("trusted client: %d %q, want 200 %q", code, body, want)
	}

	cfg = f.client()
	cfg.ServerName = ""
	if code, _, err := get(cfg); err != nil || code != http.StatusUnauthorized {
		t.Errorf("no client certificate: code %d, err %v; want 401 from the handler", code, err)
	}

	cfg = f.client(f.foreign)
	cfg.ServerName = ""
	if _, _, err := get(cfg); err == nil {
		t.Error("foreign client certificate: request succeeded")
	}
}

func TestServerTLSConfigSuites(t *testing.T) {
	k := keys(t)
	f := newTLSFixture(t)
	rsaCfg := ServerTLSConfig(f.server, nil, false)
	if !slices.Equal(rsaCfg.CipherSuites, FAPI1CipherSuites()) {
		t.Errorf("RSA key suites = %v", rsaCfg.CipherSuites)
	}
	if rsaCfg.MinVersion != tls.VersionTLS12 || rsaCfg.MaxVersion != 0 {
		t.Errorf("versions = %x..%x, want TLS 1.2..latest", rsaCfg.MinVersion, rsaCfg.MaxVersion)
	}
	if rsaCfg.ClientAuth != tls.VerifyClientCertIfGiven || rsaCfg.ClientCAs == nil {
		t.Errorf("ClientAuth = %v, ClientCAs nil = %v", rsaCfg.ClientAuth, rsaCfg.ClientCAs == nil)
	}
	if ServerTLSConfig(f.server, nil, true).ClientAuth != tls.RequireAndVerifyClientCert {
		t.Error("requireClientCert not honoured")
	}

	// An ECDSA server key gets the ECDSA twins, and TLS 1.2 then works.
	ecKey := ecKey(t)
	ecCert, err := k.ca.IssueServerCert(ecKey.Public(), ServerCertRequest{Hosts: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	ecCfg := ServerTLSConfig(mustTLSCert(t, ecKey, ecCert), f.ca.Pool(), true)
	if !slices.Contains(ecCfg.CipherSuites, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) ||
		!slices.Contains(ecCfg.CipherSuites, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) || len(ecCfg.CipherSuites) != 4 {
		t.Errorf("ECDSA key suites = %v", ecCfg.CipherSuites)
	}
	client := f.client(f.trusted)
	client.MaxVersion = tls.VersionTLS12
	res := handshake(t, ecCfg, client)
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("ECDSA server TLS 1.2: server %v, client %v", res.serverErr, res.clientErr)
	}
	if res.server.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 && res.server.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Errorf("ECDSA server negotiated %s", tls.CipherSuiteName(res.server.CipherSuite))
	}
}

func TestTLSCertificate(t *testing.T) {
	f := newTLSFixture(t)
	if _, err := TLSCertificate(ecKey(t), f.trusted.Leaf); err == nil {
		t.Error("mismatched key accepted")
	}
	if _, err := TLSCertificate(ecKey(t)); err == nil {
		t.Error("empty chain accepted")
	}
}
