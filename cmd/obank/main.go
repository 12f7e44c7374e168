// Command obank is an open banking platform for banks: the OBIE v3.1
// Read/Write APIs, in front of the bank's ledger.
//
// This package only wires: it parses flags, opens the store, builds the
// servers from their packages and runs them until a signal arrives.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// command is one obank subcommand.
type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, env *environment, args []string) error
}

// environment is what a subcommand reads from and writes to, so tests can
// run subcommands in-process.
type environment struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// ready, when set, is called by serve with the bound listener addresses
	// once it accepts connections (tests listen on :0).
	ready func(addrs listenAddrs)
}

func commands() []command {
	return []command{
		{"serve", "Run the resource APIs, the bank's pages and the operator endpoints.", runServe},
		{"migrate", "Apply the database migrations and exit.", runMigrate},
		{"import", "Load bank data (customers, accounts, transactions...) from a JSON file.", runImport},
		{"tpp", "Issue a TPP (certificates, keys, software statement) from the built-in sandbox directory.", runTPP},
		{"token", "Create an access grant and bearer token for a customer (development, operations).", runToken},
		{"ledger", "Verify the double-entry ledger (obank ledger verify).", runLedger},
		{"payment", "Show a payment order with its fraud score, or execute the due scheduled ones.", runPayment},
		{"account", "Close an account and notify the TPPs holding consents over it.", runAccount},
		{"janitor", "Expire consents past their expiry once (serve does it continuously).", runJanitor},
		{"keys", "Rotate the authorization server's signing key.", runKeys},
		{"version", "Print the version.", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	err := run(ctx, env, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "obank: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	usage(env.stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: obank <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.synopsis)
	}
	fmt.Fprintln(w, "\nRun 'obank <command> --help' for a command's flags.")
}

func runVersion(_ context.Context, env *environment, _ []string) error {
	fmt.Fprintln(env.stdout, "obank", versionString())
	return nil
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
