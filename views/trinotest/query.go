package trinotest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// QueryTimeout bounds each query run through Query, Exec and QueryContext
// without a deadline of its own.
const QueryTimeout = 2 * time.Minute

// db returns the shared database handle for a data source name.
func (t *Trino) db(dsn string) (*sql.DB, error) {
	t.cmu.Lock()
	defer t.cmu.Unlock()
	if db, ok := t.dbs[dsn]; ok {
		return db, nil
	}
	db, err := sql.Open("trino", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dsn, err)
	}
	t.dbs[dsn] = db
	return db, nil
}

// QueryContext runs a statement through the data source name (DSN or
// ImpersonationDSN) and returns all its rows, each value as the driver
// scans it (string, int64, float64, bool, time.Time, nil…).
func (t *Trino) QueryContext(ctx context.Context, dsn, query string, args ...any) ([][]any, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, QueryTimeout)
		defer cancel()
	}
	db, err := t.db(dsn)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close() //nolint:errcheck // Err is checked below.
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := [][]any{}
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// Query runs a statement as user and returns its rows, failing the test on
// an error.
func (t *Trino) Query(tb testing.TB, user, query string, args ...any) [][]any {
	tb.Helper()
	rows, err := t.QueryContext(context.Background(), t.DSN(user), query, args...)
	if err != nil {
		tb.Fatalf("trinotest: %s as %s: %v", query, user, err)
	}
	return rows
}

// QueryErr runs a statement as user and returns its error, nil if it
// succeeded.
func (t *Trino) QueryErr(user, query string, args ...any) error {
	_, err := t.QueryContext(context.Background(), t.DSN(user), query, args...)
	return err
}

// Exec runs statements as user, in order, failing the test on the first
// error.
func (t *Trino) Exec(tb testing.TB, user string, statements ...string) {
	tb.Helper()
	for _, s := range statements {
		t.Query(tb, user, s)
	}
}

// Info returns the coordinator's GET /v1/info.
func (t *Trino) Info(ctx context.Context) (Info, error) {
	return t.info(ctx, &http.Client{Timeout: 5 * time.Second})
}

func (t *Trino) info(ctx context.Context, client *http.Client) (Info, error) {
	var info Info
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL()+"/v1/info", nil)
	if err != nil {
		return info, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return info, err
	}
	defer resp.Body.Close() //nolint:errcheck // decoded below.
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("GET /v1/info: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return info, fmt.Errorf("GET /v1/info: %w", err)
	}
	return info, nil
}
