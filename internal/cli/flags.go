// Package cli gives obank's subcommands flags that each have an environment
// variable equivalent, documented together in -help.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// FlagSet is a flag.FlagSet whose flags also read OBANK_* environment
// variables. A flag given on the command line wins over its variable, which
// wins over the default.
type FlagSet struct {
	*flag.FlagSet
	env map[string]string // flag name -> variable name
}

// NewFlagSet returns a FlagSet for a subcommand that writes help to out.
func NewFlagSet(name, synopsis string, out io.Writer) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), env: map[string]string{}}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: obank %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(out, "  --%s", f.Name)
			if name != "" {
				fmt.Fprintf(out, " %s", name)
			}
			if v := fs.env[f.Name]; v != "" {
				fmt.Fprintf(out, "  (env %s)", v)
			}
			fmt.Fprintf(out, "\n      %s", strings.ReplaceAll(usage, "\n", "\n      "))
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(out, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(out)
		})
	}
	return fs
}

// EnvName is the variable name for a flag: --data-dir is OBANK_DATA_DIR.
func EnvName(flagName string) string {
	return "OBANK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// String defines a string flag with its environment variable.
func (fs *FlagSet) String(p *string, name, value, usage string) {
	fs.StringVar(p, name, value, usage)
	fs.env[name] = EnvName(name)
}

// Bool defines a bool flag with its environment variable.
func (fs *FlagSet) Bool(p *bool, name string, value bool, usage string) {
	fs.BoolVar(p, name, value, usage)
	fs.env[name] = EnvName(name)
}

// Int defines an int flag with its environment variable.
func (fs *FlagSet) Int(p *int, name string, value int, usage string) {
	fs.IntVar(p, name, value, usage)
	fs.env[name] = EnvName(name)
}

// Int64 defines an int64 flag with its environment variable.
func (fs *FlagSet) Int64(p *int64, name string, value int64, usage string) {
	fs.Int64Var(p, name, value, usage)
	fs.env[name] = EnvName(name)
}

// Parse parses args, then fills every flag not given on the command line
// from its environment variable, read through getenv (os.Getenv when nil).
func (fs *FlagSet) Parse(args []string, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	if err := fs.FlagSet.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := fs.env[f.Name]
		if err != nil || set[f.Name] || env == "" {
			return
		}
		if v, ok := lookup(getenv, env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

// lookup treats an empty variable as unset, so OBANK_DSN= keeps the default.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// Duration defines a time.Duration flag with its environment variable.
func (fs *FlagSet) Duration(p *time.Duration, name string, value time.Duration, usage string) {
	fs.DurationVar(p, name, value, usage)
	fs.env[name] = EnvName(name)
}
