package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sync"

	"github.com/golang-migrate/migrate/v4"
	// The pgx/v5 driver registers the pgx5:// scheme.
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/trino-warden/warden/migrations"
)

// migrateURL turns a postgres:// URL into the pgx5:// URL that
// golang-migrate's pgx/v5 driver wants.
func migrateURL(databaseURL string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("store: migrations need a postgres:// URL: %w", err)
	}
	switch u.Scheme {
	case "postgres", "postgresql", "pgx5":
	default:
		return "", fmt.Errorf("store: migrations need a postgres:// URL, not %q", u.Scheme)
	}
	u.Scheme = "pgx5"
	return u.String(), nil
}

// newMigrate opens golang-migrate over the embedded files. The caller closes
// it with closeMigrate.
func newMigrate(ctx context.Context, databaseURL string) (*migrate.Migrate, func() error, error) {
	mURL, err := migrateURL(databaseURL)
	if err != nil {
		return nil, nil, err
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("store: read embedded migrations: %w", err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, mURL)
	if err != nil {
		return nil, nil, fmt.Errorf("store: open migrations: %w", translate(err))
	}
	// golang-migrate has no context: stop it between migrations when ctx ends.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			m.GracefulStop <- true
		case <-stop:
		}
	})
	closeFn := func() error {
		close(stop)
		wg.Wait()
		srcErr, dbErr := m.Close()
		return errors.Join(srcErr, dbErr)
	}
	return m, closeFn, nil
}

// MigrateUp applies every migration the database does not have yet. It is
// safe to run from several replicas at once: golang-migrate takes an
// advisory lock.
func MigrateUp(ctx context.Context, databaseURL string) (err error) {
	m, closeFn, err := newMigrate(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("store: migrate up: %w", translate(err))
	}
	return ctx.Err()
}

// MigrateDown reverts the last steps migrations, or all of them when steps
// <= 0, which drops every table of the store.
func MigrateDown(ctx context.Context, databaseURL string, steps int) (err error) {
	m, closeFn, err := newMigrate(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	if steps <= 0 {
		err = m.Down()
	} else {
		err = m.Steps(-steps)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("store: migrate down: %w", translate(err))
	}
	return ctx.Err()
}

// MigrateTo migrates up or down to exactly version.
func MigrateTo(ctx context.Context, databaseURL string, version uint) (err error) {
	m, closeFn, err := newMigrate(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	if err := m.Migrate(version); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("store: migrate to %d: %w", version, translate(err))
	}
	return ctx.Err()
}

// SchemaVersion returns the version the database's schema is at (0 when no
// migration was applied) and whether a migration failed halfway (dirty).
func SchemaVersion(ctx context.Context, databaseURL string) (version uint, dirty bool, err error) {
	m, closeFn, err := newMigrate(ctx, databaseURL)
	if err != nil {
		return 0, false, err
	}
	defer func() { err = errors.Join(err, closeFn()) }()
	version, dirty, err = m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: schema version: %w", translate(err))
	}
	return version, dirty, nil
}

// LatestVersion returns the newest migration version embedded in this
// binary: the schema version this Warden needs.
func LatestVersion() uint {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		panic(fmt.Sprintf("store: embedded migrations: %v", err)) // a build defect
	}
	defer src.Close() //nolint:errcheck // reading an embed.FS.
	v, err := src.First()
	if err != nil {
		panic(fmt.Sprintf("store: embedded migrations: %v", err))
	}
	for {
		next, err := src.Next(v)
		if errors.Is(err, fs.ErrNotExist) {
			return v
		}
		if err != nil {
			panic(fmt.Sprintf("store: embedded migrations: %v", err))
		}
		v = next
	}
}

// CheckSchema verifies that the database's schema is the one this Warden
// needs. It returns a *SchemaError naming `warden migrate` when the schema is
// older, newer or dirty, and ErrUnavailable when PostgreSQL cannot be
// reached.
func (s *Store) CheckSchema(ctx context.Context) error {
	version, dirty, err := SchemaVersion(ctx, s.url)
	if err != nil {
		return err
	}
	want := LatestVersion()
	if dirty || version != want {
		return &SchemaError{Current: version, Want: want, Dirty: dirty}
	}
	return nil
}
