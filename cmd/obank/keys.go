package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/obank/obank/authz"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/sandbox"
)

// runKeys rotates the authorization server's signing key: a new key signs
// from now on; the old one stays published at /jwks for --publish-for, long
// enough for everything it signed to expire. Running instances pick the new
// key up within a minute.
func runKeys(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprintln(env.stderr, "Usage: obank keys rotate [--data-dir D | --dsn DSN] [--secret S] [--publish-for 24h]")
		return errors.New("keys: want the subcommand rotate")
	}
	var (
		c          storeConfig
		sec        securityConfig
		demo       bool
		publishFor time.Duration
	)
	fs := cli.NewFlagSet("keys rotate", "Rotate the authorization server's signing key.", env.stderr)
	c.flags(fs)
	fs.Bool(&demo, "demo", true, "use the sandbox in --data-dir (as serve --demo does)")
	fs.String(&sec.secret, "secret", "", "the master secret serve runs with (demo: <data-dir>/secret)")
	fs.String(&sec.previousSecrets, "previous-secret", "", "serve's --previous-secret, while the master secret is being rotated")
	fs.String(&sec.signingCACert, "signing-ca-cert", "", "CA certifying signing keys (demo: the sandbox CA)")
	fs.String(&sec.signingCAKey, "signing-ca-key", "", "its private key")
	fs.Duration(&publishFor, "publish-for", 24*time.Hour, "how long the old key stays published")
	if err := fs.Parse(args[1:], env.getenv); err != nil {
		return err
	}
	secret, err := loadSecret(sec.secret, c.dataDir, demo)
	if err != nil {
		return err
	}
	var sb *sandbox.Directory
	if demo {
		if sb, err = sandbox.Ensure(sandboxDir(c.dataDir), sandbox.Options{}); err != nil {
			return err
		}
	}
	issue, err := signingIssuer(&sec, sb)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, false)
	if err != nil {
		return err
	}
	defer store.Close()
	previous, err := previousSecrets(sec.previousSecrets)
	if err != nil {
		return err
	}
	sealer, err := keystore.New(secret, previous...)
	if err != nil {
		return err
	}
	keys, err := authz.NewKeyManager(authz.KeyConfig{Store: store, Sealer: sealer, Issue: issue})
	if err != nil {
		return err
	}
	old, err := keys.CurrentKID(ctx)
	if err != nil {
		return err
	}
	if err := keys.Rotate(ctx, publishFor); err != nil {
		return err
	}
	kid, err := keys.CurrentKID(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "signing key rotated: %s now signs; %s stays published for %s\n", kid, old, publishFor)
	return nil
}
