package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRulesValidate(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI("rules", "validate", "../../deploy/examples/rules.json")
	require.Equal(t, 0, code)
	require.Contains(t, out, "ok")
	code, _, errs := runCLI("rules", "validate", "../../testdata/conformance/trino-fbac/rules/invalid/catalog_allow_unset.json")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "catalogs[0].allow")
}

func TestPolicyTest(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI("policy", "test", "-v", "../../deploy/examples/policy")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "PASS")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	code, _, errs := runCLI("frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "unknown command")
	code, out, _ := runCLI("version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "warden")
	code, _, errs = runCLI("serve", "--log-level", "loud")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "log.level")
}

func TestBuildCheck(t *testing.T) {
	t.Parallel()
	f := checkFlags{user: "alice", groups: []string{"analysts"}, columns: []string{"a", "b"}, colType: "varchar", trinoVersion: "476", target: "c.s.t2", grantee: "role:r"}
	tests := []struct {
		op       string
		names    []string
		endpoint string
		action   string
	}{
		{"ExecuteQuery", nil, "allow", `{"operation":"ExecuteQuery"}`},
		{"SelectFromColumns", []string{"c.s.t"}, "allow", `{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a","b"]}}}`},
		{"FilterCatalogs", []string{"a", "b"}, "batch", `{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"a"}},{"catalog":{"name":"b"}}]}`},
		{"FilterColumns", []string{"c.s.t"}, "batch", `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a","b"]}}]}`},
		{"GetColumnMask", []string{"c.s.t"}, "batchColumnMasks", `{"operation":"GetColumnMask","filterResources":[{"column":{"catalogName":"c","schemaName":"s","tableName":"t","columnName":"a","columnType":"varchar"}},{"column":{"catalogName":"c","schemaName":"s","tableName":"t","columnName":"b","columnType":"varchar"}}]}`},
		{"GetRowFilters", []string{"c.s.t"}, "rowFilters", `{"operation":"GetRowFilters","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}}}`},
		{"RenameTable", []string{"c.s.t"}, "allow", `{"operation":"RenameTable","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}},"targetResource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t2"}}}`},
		{"SetSchemaAuthorization", []string{"c.s"}, "allow", `{"operation":"SetSchemaAuthorization","resource":{"schema":{"catalogName":"c","schemaName":"s"}},"grantee":{"type":"ROLE","name":"r"}}`},
		{"ImpersonateUser", []string{"bob"}, "allow", `{"operation":"ImpersonateUser","resource":{"user":{"user":"bob"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			ep, in, err := buildCheck(tt.op, tt.names, f)
			require.NoError(t, err)
			require.Equal(t, tt.endpoint, ep)
			got, err := json.Marshal(in.Action)
			require.NoError(t, err)
			require.JSONEq(t, tt.action, string(got))
		})
	}
	_, _, err := buildCheck("SelectFromColumns", []string{"not-a-table"}, f)
	require.ErrorContains(t, err, "catalog.schema.table")
}

func TestCheckAgainstServer(t *testing.T) {
	t.Parallel()
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, ExplainCacheSize: 10, ExplainCacheBytes: 1 << 20,
		Policy: loader.Config{Default: loader.Files{TrinoRules: "../../deploy/examples/rules.json", PolicyDir: "../../deploy/examples/policy"}}},
		slog.New(slog.DiscardHandler))
	require.NoError(t, s.LoadPolicy())
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	code, out, errs := runCLI("check", "--url", hs.URL, "--user", "alice", "--group", "analysts", "SelectFromColumns", "tpch.sf1.orders", "--columns", "custkey,totalprice")
	require.Equal(t, 0, code, errs)
	require.True(t, strings.HasPrefix(out, "ALLOW"), out)

	code, out, _ = runCLI("check", "--url", hs.URL, "--user", "mallory", "--group", "analysts,suspended", "--explain", "SelectFromColumns", "tpch.sf1.orders")
	require.Equal(t, 3, code)
	require.Contains(t, out, "DENY")
	require.Contains(t, out, "the account is suspended")

	code, out, _ = runCLI("check", "--url", hs.URL, "--user", "bob", "--group", "contractors", "GetRowFilters", "tpch.sf1.orders")
	require.Equal(t, 0, code)
	require.Contains(t, out, "orderstatus = 'O'")

	code, _, errs = runCLI("check", "--url", hs.URL, "--user", "bob", "--cluster", "nope", "ExecuteQuery")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "404")
}

func TestMigrateAndServeDatabaseMode(t *testing.T) {
	url := pgtest.NewEmptyDatabase(t)
	code, out, errs := runCLI("migrate", "--database-url", url, "version")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "schema version 0 (behind")

	code, out, errs = runCLI("migrate", "--database-url", url, "up")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "(current)")

	code, out, errs = runCLI("migrate", "--database-url", url, "down", "1")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "behind")

	// serve refuses the older schema and names the fix.
	code, _, errs = runCLI("serve", "--database-url", url, "--addr", "127.0.0.1:0", "--admin-addr", "")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "warden migrate")

	code, _, errs = runCLI("migrate", "--database-url", url, "down", "sideways")
	require.Equal(t, 2, code, errs)
	code, _, _ = runCLI("migrate", "up")
	require.Equal(t, 2, code, "no database")
}
