package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/postgres"
	"github.com/obank/obank/sqlite"
)

// openStore opens the configured store and applies pending migrations
// (checkOnly: refuse a schema that is not exactly current instead).
func openStore(ctx context.Context, c storeConfig, checkOnly bool) (*sqlstore.Store, error) {
	switch {
	case c.dsn == "":
		return sqlite.OpenDir(ctx, c.dataDir, sqlite.Options{SkipMigrate: checkOnly})
	case strings.HasPrefix(c.dsn, "postgres://"), strings.HasPrefix(c.dsn, "postgresql://"):
		return postgres.Open(ctx, c.dsn, postgres.Options{SkipMigrate: checkOnly})
	}
	return nil, fmt.Errorf("--dsn: want empty (embedded SQLite) or a postgres:// URL")
}

// describe names the store for the start-up log without leaking a password.
func (c storeConfig) describe() string {
	if c.dsn == "" {
		return "sqlite " + filepath.Join(c.dataDir, sqlite.FileName)
	}
	return "postgres " + redactDSN(c.dsn)
}

// redactDSN hides the password of a postgres:// URL.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		userinfo = userinfo[:i] + ":xxxxx"
	}
	return dsn[:scheme+3] + userinfo + dsn[at:]
}

// logConfig selects the log format and level.
type logConfig struct {
	level, format string
}

func (c *logConfig) flags(fs *cli.FlagSet) {
	fs.String(&c.level, "log-level", "info", "debug, info, warn or error")
	fs.String(&c.format, "log-format", "json", "json or text")
}

func (c logConfig) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", c.level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", c.format)
}
