package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestAuditCommands(t *testing.T) {
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username", ReaderValues: []string{"auditors"}})
	require.NoError(t, err)
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	defer st.Close()
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, Store: st, Auth: au}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(s.AdminHandler())
	defer hs.Close()
	t.Setenv("WARDEN_TOKEN", iss.Token(t, oidctest.Claims{Subject: "aud", Audience: "warden",
		Extra: map[string]any{"groups": []string{"auditors"}, "preferred_username": "auditor"}}))

	now := time.Now().UTC().Add(-time.Minute)
	var rows []store.AuditDecision
	for i := range 5 {
		outcome := "allow"
		if i%2 == 1 {
			outcome = "deny"
		}
		rows = append(rows, store.AuditDecision{DecidedAt: now.Add(-time.Duration(i) * time.Second), DecisionID: fmt.Sprintf("id-%d", i),
			Cluster: "default", Endpoint: "allow", Operation: "SelectFromColumns", User: "alice", Outcome: outcome,
			Resource: "tpch.sf1.orders", QualifiedTable: "tpch.sf1.orders", Decider: "rules: tables[0]", Revision: 2,
			Input: json.RawMessage(`{"action":{"operation":"SelectFromColumns"}}`)})
	}
	_, err = st.AuditWrite(ctx, rows, time.Time{})
	require.NoError(t, err)
	require.NoError(t, st.AuditQueryRecord(ctx, store.AuditQuery{Cluster: "default", QueryID: "20261122_1", State: "FAILED", User: "alice",
		Query: "SELECT *\n  FROM orders", CreateTime: now, ErrorCode: "PERMISSION_DENIED"}))

	code, out, errs := runCLI("audit", "decisions", "--admin-url", hs.URL, "--outcome", "deny", "--from", "1h")
	require.Equal(t, 0, code, errs)
	require.Equal(t, 3, len(strings.Split(strings.TrimSpace(out), "\n")), out)
	require.Contains(t, out, "id-1")
	require.Contains(t, out, "rules: tables[0]")
	require.NotContains(t, out, "id-0")

	code, out, errs = runCLI("audit", "decisions", "--admin-url", hs.URL, "--limit", "3", "--json")
	require.Equal(t, 0, code, errs)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got, 3)
	require.Equal(t, "id-0", got[0]["decision_id"])

	code, out, errs = runCLI("audit", "get", "--admin-url", hs.URL, "id-3")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"operation": "SelectFromColumns"`)

	code, out, errs = runCLI("audit", "denies", "--admin-url", hs.URL, "--by", "table", "--bucket", "day")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "tpch.sf1.orders")
	require.Contains(t, out, "TABLE")

	code, out, errs = runCLI("audit", "queries", "--admin-url", hs.URL, "--user", "alice")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "SELECT * FROM orders")
	require.Contains(t, out, "PERMISSION_DENIED")

	_, err = st.GroupCreate(ctx, "ann", store.Group{Name: "analysts"})
	require.NoError(t, err)
	code, out, errs = runCLI("audit", "changes", "--admin-url", hs.URL, "--object-type", "group")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "group:")
	require.Contains(t, out, "ann")

	for _, tc := range []struct {
		args []string
		code int
		errs string
	}{
		{[]string{"audit"}, 2, "usage"},
		{[]string{"audit", "fly"}, 2, "unknown audit command"},
		{[]string{"audit", "get", "--admin-url", hs.URL}, 2, "DECISION_ID"},
		{[]string{"audit", "get", "--admin-url", hs.URL, "nope"}, 1, "404"},
		{[]string{"audit", "decisions", "--admin-url", hs.URL, "--from", "noon"}, 1, "neither an RFC 3339 time"},
		{[]string{"audit", "decisions", "--admin-url", hs.URL, "--outcome", "maybe"}, 1, "outcome"},
		{[]string{"audit", "changes", "--admin-url", hs.URL, "--from", "1h"}, 1, "pages by revision"},
	} {
		code, _, errs := runCLI(tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		require.Contains(t, errs, tc.errs, tc.args)
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2026-11-21T10:00:00Z", want: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: "-1h", bad: true},
		{in: "yesterday", bad: true},
	} {
		got, err := parseWhen(tc.in, now)
		if tc.bad {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err)
		require.True(t, tc.want.Equal(got), tc.in)
	}
}
