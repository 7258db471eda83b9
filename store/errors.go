package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// Domain errors. Every error a Store method returns either wraps one of them,
// is a *SchemaError, or is the caller's context error.
var (
	// ErrNotFound means the object does not exist, or an object it refers to
	// (a foreign key: a membership's user or group) does not.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means the write collides with an existing object: a unique
	// name taken, a membership that already exists.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid means the input breaks a rule of the schema: an empty name,
	// an unknown document kind, attributes that are not a JSON object.
	ErrInvalid = errors.New("store: invalid")
	// ErrUnavailable means PostgreSQL cannot be reached or is shutting down,
	// or a transaction kept failing on contention after its retries. It is
	// transient: the API answers 503 and the caller may retry.
	ErrUnavailable = errors.New("store: PostgreSQL unavailable")
)

// SQLSTATE codes the translator knows. See
// https://www.postgresql.org/docs/current/errcodes-appendix.html.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeNotNullViolation     = "23502"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	codeTooManyConnections   = "53300"
	classConnectionException = "08"
	classDataException       = "22"
)

// translate is the one place that maps PostgreSQL and driver errors to the
// domain errors. It keeps the original error in the chain, so errors.As still
// finds the *pgconn.PgError, and it is idempotent. Serialization failures and
// deadlocks are returned unchanged: InTx retries them.
func translate(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict),
		errors.Is(err, ErrInvalid), errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == codeUniqueViolation:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case code == codeForeignKeyViolation:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case code == codeCheckViolation, code == codeNotNullViolation,
			strings.HasPrefix(code, classDataException):
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		case code == codeAdminShutdown, code == codeCrashShutdown,
			code == codeCannotConnectNow, code == codeTooManyConnections,
			strings.HasPrefix(code, classConnectionException):
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		var connectErr *pgconn.ConnectError
		if !errors.As(err, &connectErr) {
			return err
		}
	}
	if isConnectionError(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// isConnectionError reports whether err means the connection to PostgreSQL
// failed or was lost, as opposed to an error the server reported.
func isConnectionError(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ENOENT): // a unix socket that is gone
		return true
	}
	return false
}

// isRetryable reports whether a transaction that failed with err may be run
// again from the start.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected
	}
	return false
}

// SchemaError says that the database schema does not match this Warden, and
// how to fix it.
type SchemaError struct {
	// Current is the version the database is at (0 when it has none).
	Current uint
	// Want is the version this Warden needs, LatestVersion().
	Want uint
	// Dirty means a migration failed halfway at version Current.
	Dirty bool
}

// Error names the command that fixes the schema.
func (e *SchemaError) Error() string {
	switch {
	case e.Dirty:
		return fmt.Sprintf("database schema is dirty at version %d (a migration failed halfway): "+
			"fix the database, then run `warden migrate` to force or redo it", e.Current)
	case e.Current > e.Want:
		return fmt.Sprintf("database schema is at version %d, newer than the %d this Warden knows: "+
			"upgrade Warden, or run `warden migrate down` with the newer Warden", e.Current, e.Want)
	default:
		return fmt.Sprintf("database schema is at version %d, this Warden needs %d: "+
			"run `warden migrate up` (or start with --migrate)", e.Current, e.Want)
	}
}

// hasCode reports whether err carries the SQLSTATE code.
func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
