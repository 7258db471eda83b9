package views_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
)

func newClient(t *testing.T) *views.Client {
	t.Helper()
	tr := sharedTrino(t)
	c, err := views.NewClient(views.ClientOptions{URL: tr.URL(), User: "warden"})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    views.ClientOptions
		wantErr string
	}{
		{"ok", views.ClientOptions{URL: "http://127.0.0.1:8080", User: "warden"}, ""},
		{"https with password", views.ClientOptions{URL: "https://trino:8443", User: "warden", Password: "pw"}, ""},
		{"no scheme", views.ClientOptions{URL: "trino:8080", User: "warden"}, "must be http(s)"},
		{"no user", views.ClientOptions{URL: "http://trino:8080"}, "needs a user"},
		{"password over http", views.ClientOptions{URL: "http://trino:8080", User: "warden", Password: "pw"}, "HTTPS only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := views.NewClient(tc.opts)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, c.Close())
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestClientColumns(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	require.NoError(t, c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS memory.client_cols"))
	require.NoError(t, c.Exec(ctx, `CREATE TABLE memory.client_cols.customer (
		c_custkey bigint, c_name varchar(25), c_acctbal decimal(12,2), c_birth date,
		c_seen timestamp(3) with time zone, c_tags array(varchar), "Odd ""Name""" char(3))`))

	for _, tc := range []struct {
		name                 string
		catalog, schema, tbl string
		want                 []store.DatasourceColumn
		wantNoSuchTable      bool
	}{
		{name: "exact types in ordinal order", catalog: "memory", schema: "client_cols", tbl: "customer", want: []store.DatasourceColumn{
			{Name: "c_custkey", Type: "bigint"}, {Name: "c_name", Type: "varchar(25)"}, {Name: "c_acctbal", Type: "decimal(12,2)"},
			{Name: "c_birth", Type: "date"}, {Name: "c_seen", Type: "timestamp(3) with time zone"}, {Name: "c_tags", Type: "array(varchar)"},
			{Name: `odd "name"`, Type: "char(3)"}}},
		{name: "tpch", catalog: "tpch", schema: "tiny", tbl: "nation", want: []store.DatasourceColumn{
			{Name: "nationkey", Type: "bigint"}, {Name: "name", Type: "varchar(25)"}, {Name: "regionkey", Type: "bigint"}, {Name: "comment", Type: "varchar(152)"}}},
		{name: "missing table", catalog: "memory", schema: "client_cols", tbl: "nope", wantNoSuchTable: true},
		{name: "missing schema", catalog: "memory", schema: "nope", tbl: "customer", wantNoSuchTable: true},
		{name: "missing catalog", catalog: "nope", schema: "client_cols", tbl: "customer", wantNoSuchTable: true},
		// Names are bound parameters: a quote in one is a name, not SQL.
		{name: "hostile name", catalog: "memory", schema: "client_cols", tbl: "x' OR '1'='1", wantNoSuchTable: true},
		{name: "hostile catalog", catalog: `memory"."client_cols`, schema: "client_cols", tbl: "customer", wantNoSuchTable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Columns(ctx, tc.catalog, tc.schema, tc.tbl)
			if tc.wantNoSuchTable {
				require.ErrorIs(t, err, views.ErrNoSuchTable)
				return
			}
			require.NoError(t, err)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("columns (-want +got):\n%s", d)
			}
		})
	}
}

func TestClientExplainAndQuery(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	require.NoError(t, c.Ping(ctx))
	for _, tc := range []struct {
		name, sql string
		wantName  string // Trino's error name; "" for success
		wantMsg   string
	}{
		{"valid", "SELECT name FROM tpch.tiny.nation WHERE regionkey = 1", "", ""},
		{"unknown column", "SELECT nope FROM tpch.tiny.nation", "COLUMN_NOT_FOUND", "Column 'nope' cannot be resolved"},
		{"type mismatch", "SELECT name + 1 FROM tpch.tiny.nation", "TYPE_MISMATCH", "Cannot apply operator"},
		{"syntax", "SELEC 1", "SYNTAX_ERROR", "mismatched input"},
		{"bad regex", "SELECT regexp_replace(name, '(', 'x') FROM tpch.tiny.nation", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Explain(ctx, tc.sql)
			if tc.wantName == "" {
				require.NoError(t, err)
				return
			}
			var qe *views.QueryError
			require.ErrorAs(t, err, &qe)
			require.Equal(t, tc.wantName, qe.Name)
			require.Contains(t, qe.Message, tc.wantMsg)
			require.Contains(t, views.TrinoMessage(err), tc.wantMsg)
		})
	}
	// Running (not explaining) a bad pattern is what finds it.
	_, err := c.Query(ctx, "SELECT regexp_replace(name, '(', 'x') FROM tpch.tiny.nation")
	var qe *views.QueryError
	require.ErrorAs(t, err, &qe)

	rows, err := c.Query(ctx, "SELECT name, nationkey FROM tpch.tiny.nation WHERE nationkey = ? OR name = ? ORDER BY nationkey", int64(3), "PERU")
	require.NoError(t, err)
	require.Equal(t, [][]any{{"CANADA", int64(3)}, {"PERU", int64(17)}}, rows)
}

func TestClientListViews(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	require.NoError(t, c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS memory.client_views"))
	require.NoError(t, c.Exec(ctx, "CREATE OR REPLACE VIEW memory.client_views.b SECURITY DEFINER AS SELECT name FROM tpch.tiny.nation"))
	require.NoError(t, c.Exec(ctx, "CREATE OR REPLACE VIEW memory.client_views.a AS SELECT regionkey FROM tpch.tiny.region"))
	got, err := c.ListViews(ctx, "memory")
	require.NoError(t, err)
	var mine []views.ViewInfo
	for _, v := range got {
		if v.Schema == "client_views" {
			mine = append(mine, v)
		}
	}
	require.Len(t, mine, 2)
	require.Equal(t, "a", mine[0].Name, "ordered by schema and name")
	require.Equal(t, "b", mine[1].Name)
	require.True(t, strings.Contains(mine[1].Definition, "tpch.tiny.nation"), mine[1].Definition)

	_, err = c.ListViews(ctx, "nope")
	var qe *views.QueryError
	require.ErrorAs(t, err, &qe)
	require.Equal(t, "CATALOG_NOT_FOUND", qe.Name)
}
