package views

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trinodb/trino-go-client/trino"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views/sqlgen"
)

// ErrNoSuchTable means a table (or its catalog or schema) does not exist in
// Trino, or Warden's service principal cannot see it.
var ErrNoSuchTable = errors.New("views: no such table")

// ErrTrinoUnavailable means Trino could not be reached or did not answer in
// time; the operation may succeed when retried.
var ErrTrinoUnavailable = errors.New("views: Trino is unavailable")

// QueryError is a statement Trino refused: a syntax, analysis or runtime
// error. Message is Trino's own message, fit to show to whoever wrote the
// statement.
type QueryError struct {
	// Name is Trino's error name, such as SYNTAX_ERROR or TYPE_MISMATCH.
	Name string
	// Message is Trino's message.
	Message string
}

// Error returns Trino's message with its error name.
func (e *QueryError) Error() string { return "trino: " + e.Name + ": " + e.Message }

// ClientOptions configure a Client.
type ClientOptions struct {
	// URL is the coordinator's base URL, e.g. https://trino:8443.
	URL string
	// User is Warden's service principal.
	User string
	// Password authenticates User with HTTP Basic; Trino takes passwords
	// over HTTPS only, so it needs an https URL.
	Password string
	// TLSConfig, when set, is used for HTTPS (for a private CA, say).
	TLSConfig *tls.Config
	// Source is the X-Trino-Source of every query; "warden" by default.
	Source string
	// QueryTimeout bounds every call that has no deadline of its own; one
	// minute by default.
	QueryTimeout time.Duration
}

// Client runs statements as Warden's service principal: reading source
// tables' columns, checking generated SQL with EXPLAIN, and creating and
// listing the governed views. It is safe for concurrent use.
type Client struct {
	db      *sql.DB
	timeout time.Duration
}

// ViewInfo is a view of a catalog as information_schema.views shows it.
type ViewInfo struct {
	Schema     string
	Name       string
	Definition string
}

// NewClient returns a client for opts. It does not connect; Ping does.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("views: Trino URL %q must be http(s)://host[:port]", opts.URL)
	}
	if opts.User == "" {
		return nil, errors.New("views: the Trino client needs a user")
	}
	if opts.Password != "" && u.Scheme != "https" {
		return nil, errors.New("views: Trino accepts passwords over HTTPS only; use an https URL")
	}
	if opts.Password != "" {
		u.User = url.UserPassword(opts.User, opts.Password)
	} else {
		u.User = url.User(opts.User)
	}
	if opts.Source == "" {
		opts.Source = "warden"
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = time.Minute
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if opts.TLSConfig != nil {
		transport.TLSClientConfig = opts.TLSConfig.Clone()
	}
	conn, err := trino.NewConnector(&trino.Config{ServerURI: u.String(), Source: opts.Source,
		HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		return nil, fmt.Errorf("views: Trino client: %w", err)
	}
	return &Client{db: sql.OpenDB(conn), timeout: opts.QueryTimeout}, nil
}

// Close releases the client's connections.
func (c *Client) Close() error { return c.db.Close() }

func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

// translate maps the driver's errors to QueryError for statements Trino
// refused and to ErrTrinoUnavailable for everything else that is not the
// caller's context ending.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var te *trino.ErrTrino
	if errors.As(err, &te) {
		return &QueryError{Name: te.ErrorName, Message: te.Message}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrTrinoUnavailable, ctx.Err())
	}
	return fmt.Errorf("%w: %w", ErrTrinoUnavailable, err)
}

// Query runs a statement with args bound as parameters and returns all its
// rows, each value as the driver scans it (string, int64, float64, bool,
// time.Time, nil…). A refused statement is a *QueryError.
func (c *Client) Query(ctx context.Context, query string, args ...any) ([][]any, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(ctx, err)
	}
	defer rows.Close() //nolint:errcheck // Err is checked below.
	cols, err := rows.Columns()
	if err != nil {
		return nil, translate(ctx, err)
	}
	out := [][]any{}
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, translate(ctx, err)
		}
		out = append(out, row)
	}
	return out, translate(ctx, rows.Err())
}

// Exec runs a statement (DDL such as CREATE OR REPLACE VIEW) to completion.
// A refused statement is a *QueryError.
func (c *Client) Exec(ctx context.Context, query string) error {
	_, err := c.Query(ctx, query)
	return err
}

// Ping checks that Trino answers a query.
func (c *Client) Ping(ctx context.Context) error {
	return c.Exec(ctx, "SELECT 1")
}

// Explain asks Trino to analyse a statement without running it, so that
// names, types and functions are checked as Trino checks them. A statement
// Trino refuses is a *QueryError carrying Trino's message.
func (c *Client) Explain(ctx context.Context, query string) error {
	return c.Exec(ctx, "EXPLAIN "+query)
}

// Columns returns the columns of catalog.schema.table in ordinal order,
// each with Trino's exact type (varchar(25), decimal(12,2)); Tags and
// Exposed are left for the caller. A table that does not exist, in a
// catalog or schema that may not exist either, is ErrNoSuchTable.
func (c *Client) Columns(ctx context.Context, catalog, schema, table string) ([]store.DatasourceColumn, error) {
	cat, err := sqlgen.QuoteIdent(catalog)
	if err != nil {
		return nil, fmt.Errorf("views: catalog: %w", err)
	}
	rows, err := c.Query(ctx, "SELECT column_name, data_type FROM "+cat+".information_schema.columns"+
		" WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", schema, table)
	var qe *QueryError
	if errors.As(err, &qe) && qe.Name == "CATALOG_NOT_FOUND" {
		return nil, fmt.Errorf("%w: %s.%s.%s: %s", ErrNoSuchTable, catalog, schema, table, qe.Message)
	}
	if err != nil {
		return nil, fmt.Errorf("views: columns of %s.%s.%s: %w", catalog, schema, table, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: %s.%s.%s", ErrNoSuchTable, catalog, schema, table)
	}
	cols := make([]store.DatasourceColumn, 0, len(rows))
	for _, r := range rows {
		name, ok1 := r[0].(string)
		typ, ok2 := r[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("views: columns of %s.%s.%s: unexpected row %v", catalog, schema, table, r)
		}
		cols = append(cols, store.DatasourceColumn{Name: name, Type: typ})
	}
	return cols, nil
}

// ListViews returns every view of catalog with its definition, ordered by
// schema and name, for the reconciler to compare with what it generates.
func (c *Client) ListViews(ctx context.Context, catalog string) ([]ViewInfo, error) {
	cat, err := sqlgen.QuoteIdent(catalog)
	if err != nil {
		return nil, fmt.Errorf("views: catalog: %w", err)
	}
	rows, err := c.Query(ctx, "SELECT table_schema, table_name, view_definition FROM "+cat+".information_schema.views"+
		" WHERE table_schema <> 'information_schema' ORDER BY table_schema, table_name")
	if err != nil {
		return nil, fmt.Errorf("views: views of %s: %w", catalog, err)
	}
	out := make([]ViewInfo, 0, len(rows))
	for _, r := range rows {
		var v ViewInfo
		v.Schema, _ = r[0].(string)
		v.Name, _ = r[1].(string)
		v.Definition, _ = r[2].(string)
		out = append(out, v)
	}
	return out, nil
}

// TrinoMessage returns Trino's message when err is a statement Trino
// refused, and err's text otherwise.
func TrinoMessage(err error) string {
	var qe *QueryError
	if errors.As(err, &qe) {
		return strings.TrimSpace(qe.Message)
	}
	return err.Error()
}
