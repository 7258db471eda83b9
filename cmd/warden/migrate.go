package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/trino-warden/warden/server/config"
	"github.com/trino-warden/warden/store"
)

// openStore opens the store of database mode and makes sure its schema is
// the one this Warden needs: with --migrate it applies what is missing,
// otherwise it refuses an older schema with a message naming warden migrate.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.Store, error) {
	if cfg.Migrate {
		if err := store.MigrateUp(ctx, cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("migrate the database: %w", err)
		}
		logger.Info("database schema is current", "version", store.LatestVersion())
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func migrateCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("database-url", "", "PostgreSQL URL (env WARDEN_DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: warden migrate [--database-url URL] up | down [N|all] | version")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		*url = os.Getenv("WARDEN_DATABASE_URL")
	}
	if *url == "" {
		return fmt.Errorf("migrate needs a database: set WARDEN_DATABASE_URL or --database-url: %w", errUsage)
	}
	ctx := context.Background()
	switch fs.Arg(0) {
	case "up":
		if err := store.MigrateUp(ctx, *url); err != nil {
			return err
		}
	case "down":
		steps := 1
		switch a := fs.Arg(1); a {
		case "":
		case "all":
			steps = 0
		default:
			n, err := strconv.Atoi(a)
			if err != nil || n < 1 {
				return fmt.Errorf("down takes a number of steps or all, got %q: %w", a, errUsage)
			}
			steps = n
		}
		if err := store.MigrateDown(ctx, *url, steps); err != nil {
			return err
		}
	case "version":
	default:
		fs.Usage()
		return errUsage
	}
	v, dirty, err := store.SchemaVersion(ctx, *url)
	if err != nil {
		return err
	}
	state := "current"
	switch {
	case dirty:
		state = "dirty: a migration failed halfway; fix it by hand, then run warden migrate again"
	case v < store.LatestVersion():
		state = fmt.Sprintf("behind: this Warden needs %d; run warden migrate up", store.LatestVersion())
	case v > store.LatestVersion():
		state = fmt.Sprintf("ahead: this Warden knows only up to %d", store.LatestVersion())
	}
	fmt.Fprintf(stdout, "schema version %d (%s)\n", v, state)
	if dirty {
		return errors.New("database schema is dirty")
	}
	return nil
}
