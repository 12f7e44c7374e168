package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/obank/obank/client"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/sandbox"
)

// sandboxDir is where the built-in sandbox directory and CA live.
func sandboxDir(dataDir string) string { return filepath.Join(dataDir, "sandbox") }

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func runTPP(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "request":
			return runTPPRequest(env, args[1:])
		case "assertion":
			return runTPPAssertion(env, args[1:])
		case "authorize":
			return runTPPAuthorize(env, args[1:])
		case "sign":
			return runTPPSign(env, args[1:])
		}
	}
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(env.stderr, "Usage:\n  obank tpp create --name NAME --redirect-uri URL --out DIR [flags]\n  obank tpp request --tpp DIR [--aud ISSUER] [--auth tls_client_auth|private_key_jwt]\n  obank tpp assertion --tpp DIR --client-id ID [--aud TOKEN_URL]\n  obank tpp authorize --tpp DIR --client-id ID --consent CONSENT_ID [--issuer URL]\n  obank tpp sign --tpp DIR --body FILE")
		return errors.New("tpp: want a subcommand: create, request, assertion, authorize or sign")
	}
	var (
		dataDir, name, out, jwksEndpoint, softwareID, orgID string
		redirects, roles                                    stringList
	)
	fs := cli.NewFlagSet("tpp create", "Issue a TPP from the built-in sandbox directory: transport certificate and key,\nsigning key and JWKS, the CA to trust, a signed software statement (ssa.jwt) and tpp.json.", env.stderr)
	fs.String(&dataDir, "data-dir", "./obank-data", "the server's data directory (its sandbox/ holds the directory and CA)")
	fs.String(&name, "name", "", "the TPP's organisation name")
	fs.Var(&redirects, "redirect-uri", "an https redirect URI of the TPP (repeatable or comma-separated)")
	fs.Var(&roles, "roles", "software roles: AISP, PISP, CBPII (default all three)")
	fs.String(&jwksEndpoint, "jwks-endpoint", "", "https URL where the TPP serves its signing JWKS (default: inline in the SSA)")
	fs.String(&softwareID, "software-id", "", "software_id (default generated)")
	fs.String(&orgID, "org-id", "", "org_id (default generated)")
	fs.String(&out, "out", "", "directory to write the TPP's files into (must not hold them already)")
	if err := fs.Parse(args[1:], env.getenv); err != nil {
		return err
	}
	if name == "" || out == "" || len(redirects) == 0 {
		return errors.New("tpp create: --name, --redirect-uri and --out are required")
	}
	dir, err := sandbox.Ensure(sandboxDir(dataDir), sandbox.Options{})
	if err != nil {
		return err
	}
	bundle, err := dir.IssueTPP(sandbox.TPPRequest{
		Name: name, OrgID: orgID, SoftwareID: softwareID, RedirectURIs: redirects,
		Roles: roles, JWKSEndpoint: jwksEndpoint,
	})
	if err != nil {
		return err
	}
	if err := bundle.WriteDir(out); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "TPP %q issued into %s (software_id %s, org_id %s)\n", name, out, bundle.SoftwareID, bundle.OrgID)
	return nil
}

// runTPPRequest prints a signed DCR registration request for a TPP issued by
// `obank tpp create`, ready to POST to /register with curl.
func runTPPRequest(env *environment, args []string) error {
	var dir, aud, auth string
	var encrypt bool
	fs := cli.NewFlagSet("tpp request", "Print a signed registration request (DCR v3.4 JWT) for a TPP directory written by `obank tpp create`.", env.stderr)
	fs.String(&dir, "tpp", "", "the TPP directory (from `obank tpp create --out`)")
	fs.String(&aud, "aud", "http://127.0.0.1:8080", "the bank's issuer (its --public-url)")
	fs.String(&auth, "auth", "tls_client_auth", "token endpoint authentication: tls_client_auth or private_key_jwt")
	fs.Bool(&encrypt, "encrypt-id-token", false, "ask for encrypted id_tokens (RSA-OAEP-256/A256GCM)")
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	if dir == "" {
		return errors.New("tpp request: --tpp is required")
	}
	tpp, err := sandbox.LoadTPP(dir)
	if err != nil {
		return err
	}
	jwt, err := client.RegistrationRequest(tpp, client.Registration{Audience: aud, AuthMethod: auth, EncryptIDToken: encrypt})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, jwt)
	return nil
}

// runTPPAssertion prints a private_key_jwt client assertion.
func runTPPAssertion(env *environment, args []string) error {
	var dir, clientID, aud string
	fs := cli.NewFlagSet("tpp assertion", "Print a private_key_jwt client assertion (single use) for a TPP directory.", env.stderr)
	fs.String(&dir, "tpp", "", "the TPP directory (from `obank tpp create --out`)")
	fs.String(&clientID, "client-id", "", "the client_id the bank registered")
	fs.String(&aud, "aud", "https://127.0.0.1:8443/token", "the token endpoint URL")
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	if dir == "" || clientID == "" {
		return errors.New("tpp assertion: --tpp and --client-id are required")
	}
	tpp, err := sandbox.LoadTPP(dir)
	if err != nil {
		return err
	}
	a, err := client.ClientAssertion(tpp, clientID, aud, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, a)
	return nil
}

// runTPPSign prints the x-jws-signature of a request body: the detached
// JWS a payment request must carry, over the exact bytes that will be sent.
func runTPPSign(env *environment, args []string) error {
	var dir, bodyFile string
	fs := cli.NewFlagSet("tpp sign", "Print the x-jws-signature (OBIE detached JWS) of a request body for a TPP directory.", env.stderr)
	fs.String(&dir, "tpp", "", "the TPP directory (from `obank tpp create --out`)")
	fs.String(&bodyFile, "body", "", "the file holding the request body, byte for byte as it will be sent")
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	if dir == "" || bodyFile == "" {
		return errors.New("tpp sign: --tpp and --body are required")
	}
	tpp, err := sandbox.LoadTPP(dir)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	sig, err := client.SignRequest(tpp, body, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, sig)
	return nil
}

// runTPPAuthorize prints the authorize URL of a FAPI 1 hybrid request for a
// consent, and the PKCE verifier to exchange the code with.
func runTPPAuthorize(env *environment, args []string) error {
	var dir, clientID, consentID, issuer, scope string
	fs := cli.NewFlagSet("tpp authorize", "Print the authorize URL (FAPI 1 hybrid, signed request object, PKCE) for a consent,\nand the code_verifier to send with the code.", env.stderr)
	fs.String(&dir, "tpp", "", "the TPP directory (from `obank tpp create --out`)")
	fs.String(&clientID, "client-id", "", "the client_id the bank registered")
	fs.String(&consentID, "consent", "", "the ConsentId to authorise")
	fs.String(&issuer, "issuer", "http://127.0.0.1:8080", "the bank's issuer (its --public-url)")
	fs.String(&scope, "scope", "openid accounts", "scope")
	if err := fs.Parse(args, env.getenv); err != nil {
		return err
	}
	if dir == "" || clientID == "" || consentID == "" {
		return errors.New("tpp authorize: --tpp, --client-id and --consent are required")
	}
	tpp, err := sandbox.LoadTPP(dir)
	if err != nil {
		return err
	}
	r, err := client.HybridAuthorizeURL(tpp, client.Authorization{Issuer: issuer, ClientID: clientID, IntentID: consentID, Scope: scope})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Open in a browser:\n%s\n\nredirect_uri=%s\ncode_verifier=%s\nstate=%s\n", r.URL, r.RedirectURI, r.CodeVerifier, r.State)
	return nil
}
