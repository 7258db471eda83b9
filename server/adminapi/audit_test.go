package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// seedAudit records decisions of alice and bob, a third of them denied,
// one minute apart, ending a minute ago.
func seedAudit(t *testing.T, st *store.Store, n int) time.Time {
	t.Helper()
	end := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	var rows []store.AuditDecision
	for i := range n {
		outcome := "allow"
		if i%3 == 0 {
			outcome = "deny"
		}
		rows = append(rows, store.AuditDecision{
			DecidedAt: end.Add(-time.Duration(i) * time.Minute), DecisionID: fmt.Sprintf("d-%03d", i), Cluster: "default",
			Endpoint: "allow", Operation: "SelectFromColumns", User: []string{"alice", "bob"}[i%2], Groups: []string{"analysts"},
			QueryID: "q1", Outcome: outcome, Resource: "tpch.sf1.orders", QualifiedTable: "tpch.sf1.orders",
			Facets: []string{"catalog:tpch", "schema:sf1", "table:orders", "group:analysts"}, Result: json.RawMessage(`true`),
			Decider: "rules: tables[0]", Explanation: json.RawMessage(`{"decider":"rules: tables[0]"}`), Revision: 1,
			Input: json.RawMessage(`{"context":{"identity":{"user":"alice"}},"action":{"operation":"SelectFromColumns"}}`),
		})
	}
	_, err := st.AuditWrite(context.Background(), rows, time.Time{})
	require.NoError(t, err)
	return end
}

func TestAuditAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	end := seedAudit(t, b.st, 9)
	ctx := context.Background()
	require.NoError(t, b.st.AuditQueryRecord(ctx, store.AuditQuery{Cluster: "default", QueryID: "q1", State: "FAILED", User: "alice",
		Query: "SELECT 1", CreateTime: end, ErrorCode: "PERMISSION_DENIED"}))
	require.NoError(t, b.st.AuditSamplingAdd(ctx, end, []store.AuditSamplingCount{{Operation: "FilterCatalogs", Reason: "skipped", Count: 4}}))
	reader := b.tokens["reader"]

	for _, tc := range []struct {
		name, path, token string
		status            int
		key               string
		count             int
	}{
		{"no token", "/api/v1/audit/decisions", "", 401, "", 0},
		{"no role", "/api/v1/audit/decisions", b.tokens["none"], 403, "", 0},
		{"all", "/api/v1/audit/decisions", reader, 200, "decisions", 9},
		{"user", "/api/v1/audit/decisions?user=alice", reader, 200, "decisions", 5},
		{"denied", "/api/v1/audit/decisions?outcome=deny", reader, 200, "decisions", 3},
		{"table", "/api/v1/audit/decisions?catalog=tpch&schema=sf1&table=orders", reader, 200, "decisions", 9},
		{"other table", "/api/v1/audit/decisions?table=lineitem", reader, 200, "decisions", 0},
		{"group", "/api/v1/audit/decisions?group=analysts&query_id=q1", reader, 200, "decisions", 9},
		{"time", "/api/v1/audit/decisions?from=" + url.QueryEscape(end.Add(-2*time.Minute).Format(time.RFC3339)), reader, 200, "decisions", 3},
		{"bad outcome", "/api/v1/audit/decisions?outcome=maybe&from=noon", reader, 400, "", 0},
		{"bad limit", "/api/v1/audit/decisions?limit=5000", reader, 400, "", 0},
		{"bad cursor", "/api/v1/audit/decisions?cursor=!!", reader, 400, "", 0},
		{"queries", "/api/v1/audit/queries?user=alice", reader, 200, "queries", 1},
		{"queries of bob", "/api/v1/audit/queries?user=bob", reader, 200, "queries", 0},
		{"sampling", "/api/v1/audit/sampling", reader, 200, "counts", 1},
		{"denies by user", "/api/v1/audit/aggregates/denies?by=user&bucket=day", reader, 200, "", 0},
		{"denies by table", "/api/v1/audit/aggregates/denies?by=table&bucket=hour&from=" + url.QueryEscape(end.Add(-time.Hour).Format(time.RFC3339)), reader, 200, "", 0},
		{"denies bad by", "/api/v1/audit/aggregates/denies?by=role", reader, 400, "", 0},
		{"denies empty range", "/api/v1/audit/aggregates/denies?from=" + url.QueryEscape(end.Format(time.RFC3339)) + "&to=" + url.QueryEscape(end.Format(time.RFC3339)), reader, 400, "", 0},
		{"get unknown", "/api/v1/audit/decisions/nope", reader, 404, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "GET", tc.path, tc.token, "")
			require.Equal(t, tc.status, r.status, r.raw)
			if tc.key != "" {
				require.Len(t, r.body[tc.key], tc.count, r.raw)
			}
		})
	}

	r := b.do(t, "GET", "/api/v1/audit/decisions?outcome=maybe&from=noon", reader, "")
	require.Equal(t, map[string]any{"outcome": "one of allow, deny, partial, filter, mask, none, error", "from": "an RFC 3339 time, such as 2026-11-22T01:00:00Z"}, r.body["fields"])

	// Pages of 4 cover the 9 decisions, newest first.
	var ids []string
	path := "/api/v1/audit/decisions?limit=4"
	for {
		r := b.do(t, "GET", path, reader, "")
		require.Equal(t, 200, r.status, r.raw)
		for _, d := range r.body["decisions"].([]any) {
			ids = append(ids, d.(map[string]any)["decision_id"].(string))
			require.Nil(t, d.(map[string]any)["input"], "the list leaves inputs out")
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/api/v1/audit/decisions?limit=4&cursor=" + url.QueryEscape(next)
	}
	require.Equal(t, []string{"d-000", "d-001", "d-002", "d-003", "d-004", "d-005", "d-006", "d-007", "d-008"}, ids)

	r = b.do(t, "GET", "/api/v1/audit/decisions/d-003", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "deny", r.body["outcome"])
	require.Equal(t, "SelectFromColumns", r.body["input"].(map[string]any)["action"].(map[string]any)["operation"])
	require.Equal(t, "rules: tables[0]", r.body["explanation"].(map[string]any)["decider"])

	r = b.do(t, "GET", "/api/v1/audit/aggregates/denies?by=table&bucket=day", reader, "")
	require.Equal(t, 200, r.status, r.raw)
	denies := r.body["denies"].([]any)
	require.NotEmpty(t, denies)
	total := 0.0
	for _, d := range denies {
		require.Equal(t, "tpch.sf1.orders", d.(map[string]any)["key"])
		total += d.(map[string]any)["denies"].(float64)
	}
	require.Equal(t, 3.0, total)
}
