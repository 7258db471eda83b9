package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// auditRow makes a decision row at t.
func auditRow(t time.Time, id, user, op, outcome string, facets ...string) store.AuditDecision {
	return store.AuditDecision{
		DecidedAt: t, DecisionID: id, Cluster: "default", Endpoint: "allow", Operation: op,
		User: user, Groups: []string{"analysts"}, Outcome: outcome, Resource: "tpch.sf1.orders",
		QualifiedTable: "tpch.sf1.orders", Facets: facets, Result: json.RawMessage(`true`),
		Decider: "rules: tables[0]", Explanation: json.RawMessage(`{"outcome":"allow"}`), Revision: 3,
		LatencyMicros: 12, Input: json.RawMessage(`{"context":{},"action":{"operation":"` + op + `"}}`),
	}
}

func TestAuditWriteIsIdempotentAndCreatesPartitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	now := time.Now().UTC().Truncate(time.Microsecond)
	old := now.AddDate(0, 0, -40)
	rows := []store.AuditDecision{
		auditRow(now, "a", "alice", "SelectFromColumns", "allow"),
		auditRow(now.Add(time.Microsecond), "b", "bob", "SelectFromColumns", "deny"),
		auditRow(now.AddDate(0, 0, -1), "c", "alice", "AccessCatalog", "allow"),
		auditRow(old, "d", "alice", "AccessCatalog", "allow"),
	}
	keepAfter := now.AddDate(0, 0, -30)
	res, err := b.store.AuditWrite(ctx, rows, keepAfter)
	require.NoError(t, err)
	require.Equal(t, store.AuditWriteResult{Inserted: 3, Expired: 1}, res, "the 40-day-old row is past retention")

	res, err = b.store.AuditWrite(ctx, rows[:3], keepAfter)
	require.NoError(t, err)
	require.Equal(t, store.AuditWriteResult{Duplicates: 3}, res, "a replay records nothing twice")

	days, err := b.store.AuditPartitionDays(ctx)
	require.NoError(t, err)
	require.Len(t, days, 2, "partitions of today and yesterday, made on demand")

	got, err := b.store.AuditDecisionGet(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, "deny", got.Outcome)
	require.True(t, got.DecidedAt.Equal(rows[1].DecidedAt))
	require.JSONEq(t, string(rows[1].Input), string(got.Input))
	require.JSONEq(t, `{"outcome":"allow"}`, string(got.Explanation))
	_, err = b.store.AuditDecisionGet(ctx, "zzz")
	require.ErrorIs(t, err, store.ErrNotFound)

	// A row the schema refuses costs only itself.
	bad := auditRow(now, "e", "eve", "X", "maybe")
	res, err = b.store.AuditWrite(ctx, []store.AuditDecision{auditRow(now, "f", "f", "X", "allow"), bad}, keepAfter)
	require.NoError(t, err)
	require.Equal(t, store.AuditWriteResult{Inserted: 1, Refused: 1}, res)
	_, err = b.store.AuditDecisionGet(ctx, "f")
	require.NoError(t, err)
	_, err = b.store.AuditDecisionGet(ctx, "e")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestAuditRecordsOddDecisions writes decisions whose names and inputs
// PostgreSQL would refuse as they are (NUL bytes, invalid UTF-8, \u0000
// and lone surrogates in JSON, an input that is not JSON) among ordinary
// ones, fresh and replayed: every decision is recorded, none costs another.
func TestAuditRecordsOddDecisions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	now := time.Now().UTC().Truncate(time.Microsecond)
	odd := func(id string, edit func(r *store.AuditDecision)) store.AuditDecision {
		r := auditRow(now, id, "alice", "SelectFromColumns", "allow", "catalog:tpch")
		edit(&r)
		return r
	}
	for _, fresh := range []bool{true, false} {
		p := fmt.Sprint(fresh) + "-"
		rows := []store.AuditDecision{
			auditRow(now, p+"plain-1", "alice", "SelectFromColumns", "allow"),
			odd(p+"nul-user", func(r *store.AuditDecision) { r.User = "al\x00ice"; r.Groups = []string{"g\x00"} }),
			odd(p+"bad-utf8", func(r *store.AuditDecision) {
				r.Resource = "tpch.\xff.orders"
				r.Facets = []string{"table:\xc3("}
				r.Decider = "rules: \xed\xa0\x80"
			}),
			odd(p+"json-nul", func(r *store.AuditDecision) { r.Input = json.RawMessage(`{"user":"a\u0000b"}`) }),
			odd(p+"json-surrogate", func(r *store.AuditDecision) { r.Input = json.RawMessage(`{"user":"\ud800"}`) }),
			odd(p+"json-utf8", func(r *store.AuditDecision) { r.Input = json.RawMessage("{\"user\":\"\xff\"}") }),
			odd(p+"not-json", func(r *store.AuditDecision) { r.Input = json.RawMessage(`{"user":`) }),
			odd(p+"bad-explanation", func(r *store.AuditDecision) { r.Explanation = json.RawMessage(`{`) }),
			auditRow(now, p+"plain-2", "bob", "SelectFromColumns", "deny"),
		}
		write := b.store.AuditWrite
		if fresh {
			write = b.store.AuditWriteFresh
		}
		res, err := write(ctx, rows, time.Time{})
		require.NoError(t, err)
		require.Equal(t, len(rows), res.Inserted, "%+v", res)
		require.Zero(t, res.Refused)
		for _, r := range rows {
			got, err := b.store.AuditDecisionGet(ctx, r.DecisionID)
			require.NoError(t, err, r.DecisionID)
			require.True(t, json.Valid(got.Input), "%s: %s", r.DecisionID, got.Input)
		}
		got, err := b.store.AuditDecisionGet(ctx, p+"nul-user")
		require.NoError(t, err)
		require.Equal(t, "al\uFFFDice", got.User)
		got, err = b.store.AuditDecisionGet(ctx, p+"not-json")
		require.NoError(t, err)
		require.Contains(t, string(got.Input), "warden_unrecorded_input")
	}
}

func TestAuditPartitionsAndRetention(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	today := time.Now().UTC()
	n, err := b.store.AuditPartitionsEnsure(ctx, today.AddDate(0, 0, -3), today.AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Equal(t, 6, n)
	n, err = b.store.AuditPartitionsEnsure(ctx, today, today.AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Zero(t, n, "existing partitions are kept")

	_, err = b.store.AuditWrite(ctx, []store.AuditDecision{
		auditRow(today.AddDate(0, 0, -3), "old", "u", "AccessCatalog", "allow"),
		auditRow(today, "new", "u", "AccessCatalog", "allow"),
	}, time.Time{})
	require.NoError(t, err)
	require.NoError(t, b.store.AuditQueryRecord(ctx, store.AuditQuery{Cluster: "default", QueryID: "q-old", User: "u",
		State: "FINISHED", Query: "SELECT 1", CreateTime: today.AddDate(0, 0, -3)}))
	require.NoError(t, b.store.AuditSamplingAdd(ctx, today.AddDate(0, 0, -3), []store.AuditSamplingCount{{Operation: "FilterCatalogs", Reason: "skipped", Count: 5}}))

	r, err := b.store.AuditRetain(ctx, today.AddDate(0, 0, -2))
	require.NoError(t, err)
	require.Equal(t, store.AuditRetention{Partitions: 1, Queries: 1, Sampling: 1}, r)
	days, err := b.store.AuditPartitionDays(ctx)
	require.NoError(t, err)
	require.Len(t, days, 5)
	require.Equal(t, today.AddDate(0, 0, -2).Format(time.DateOnly), days[0].Format(time.DateOnly))
	_, err = b.store.AuditDecisionGet(ctx, "old")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.store.AuditDecisionGet(ctx, "new")
	require.NoError(t, err)
}

func TestAuditDecisionFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	base := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	var rows []store.AuditDecision
	for i := range 25 {
		user := []string{"alice", "bob"}[i%2]
		outcome := []string{"allow", "deny", "allow"}[i%3]
		r := auditRow(base.Add(time.Duration(i)*time.Minute), fmt.Sprintf("id-%02d", i), user, "SelectFromColumns", outcome,
			"catalog:tpch", "schema:sf1", "table:orders", "column:c"+fmt.Sprint(i%4), "group:analysts")
		r.QueryID = fmt.Sprintf("q%d", i/5)
		rows = append(rows, r)
	}
	_, err := b.store.AuditWrite(ctx, rows, time.Time{})
	require.NoError(t, err)

	count := func(f store.AuditFilter) int {
		t.Helper()
		got, _, err := b.store.AuditDecisions(ctx, f, "", 1000)
		require.NoError(t, err)
		return len(got)
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want int
	}{
		{"all", store.AuditFilter{}, 25},
		{"user", store.AuditFilter{User: "alice"}, 13},
		{"outcome", store.AuditFilter{Outcome: "deny"}, 8},
		{"user and outcome", store.AuditFilter{User: "bob", Outcome: "deny"}, 4},
		{"query", store.AuditFilter{QueryID: "q2"}, 5},
		{"table", store.AuditFilter{Catalog: "tpch", Schema: "sf1", Table: "orders"}, 25},
		{"column", store.AuditFilter{Column: "c1"}, 6},
		{"group", store.AuditFilter{Group: "analysts"}, 25},
		{"other table", store.AuditFilter{Table: "lineitem"}, 0},
		{"time", store.AuditFilter{From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute)}, 10},
		{"cluster", store.AuditFilter{Cluster: "other"}, 0},
		{"operation", store.AuditFilter{Operation: "SelectFromColumns", Endpoint: "allow"}, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, count(tc.f))
		})
	}

	// Pages of 10 cover all 25 newest first, with no repeat.
	var seen []string
	cursor := ""
	for {
		page, next, err := b.store.AuditDecisions(ctx, store.AuditFilter{}, cursor, 10)
		require.NoError(t, err)
		for _, d := range page {
			seen = append(seen, d.DecisionID)
			require.Empty(t, d.Input, "the list leaves inputs out")
		}
		if next == "" {
			break
		}
		cursor = next
	}
	require.Len(t, seen, 25)
	require.Equal(t, "id-24", seen[0])
	require.Equal(t, "id-00", seen[24])
	_, _, err = b.store.AuditDecisions(ctx, store.AuditFilter{}, "!!", 10)
	require.ErrorIs(t, err, store.ErrInvalid)

	// The replay window reads oldest first, with inputs.
	var replay []store.AuditDecision
	cursor = ""
	for {
		page, next, err := b.store.AuditDecisionWindow(ctx, "default", base, base.Add(time.Hour), cursor, 7)
		require.NoError(t, err)
		replay = append(replay, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Len(t, replay, 25)
	require.Equal(t, "id-00", replay[0].DecisionID)
	require.NotEmpty(t, replay[0].Input)

	denies, err := b.store.AuditDenies(ctx, "user", "hour", base, base.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []store.AuditDenyCount{{Bucket: base, Key: "alice", Denies: 4}, {Bucket: base, Key: "bob", Denies: 4}}, normalize(denies))
	denies, err = b.store.AuditDenies(ctx, "table", "day", base, base.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, denies, 1)
	require.Equal(t, "tpch.sf1.orders", denies[0].Key)
	require.Equal(t, int64(8), denies[0].Denies)
	_, err = b.store.AuditDenies(ctx, "role", "day", base, base)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = b.store.AuditDenies(ctx, "user", "week", base, base)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func normalize(in []store.AuditDenyCount) []store.AuditDenyCount {
	for i := range in {
		in[i].Bucket = in[i].Bucket.UTC()
	}
	return in
}

func TestAuditSamplingCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	hour := time.Now().UTC().Truncate(time.Hour)
	add := []store.AuditSamplingCount{{Operation: "FilterCatalogs", Reason: "skipped", Count: 3}, {Operation: "ExecuteQuery", Reason: "sampled_out", Count: 7}}
	require.NoError(t, b.store.AuditSamplingAdd(ctx, hour.Add(5*time.Minute), add))
	require.NoError(t, b.store.AuditSamplingAdd(ctx, hour.Add(30*time.Minute), add[:1]))
	got, err := b.store.AuditSamplingList(ctx, hour, hour.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "ExecuteQuery", got[0].Operation)
	require.Equal(t, int64(7), got[0].Count)
	require.Equal(t, int64(6), got[1].Count, "counts of one hour add up")
	require.ErrorIs(t, b.store.AuditSamplingAdd(ctx, hour, []store.AuditSamplingCount{{Operation: "X", Reason: "bored", Count: 1}}), store.ErrInvalid)
}

func TestAuditQueriesInAnyOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	created := time.Now().UTC().Truncate(time.Millisecond)
	end := created.Add(time.Second)
	completed := store.AuditQuery{Cluster: "default", QueryID: "20261122_000000_00001_abcde", State: "FAILED", User: "alice",
		Query: "SELECT * FROM orders", CreateTime: created, EndTime: &end, ErrorCode: "PERMISSION_DENIED", ErrorType: "USER_ERROR",
		FailureMessage: "Access Denied: Cannot select from table tpch.sf1.orders", Inputs: json.RawMessage(`[{"catalogName":"tpch"}]`)}
	queued := completed
	queued.State, queued.EndTime, queued.ErrorCode, queued.ErrorType, queued.FailureMessage = "QUEUED", nil, "", "", ""

	require.NoError(t, b.store.AuditQueryRecord(ctx, completed))
	require.NoError(t, b.store.AuditQueryRecord(ctx, queued), "a late creation event")
	require.NoError(t, b.store.AuditQueryRecord(ctx, completed), "a redelivery")
	got, next, err := b.store.AuditQueries(ctx, store.AuditQueryFilter{User: "alice"}, "", 10)
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, got, 1)
	require.Equal(t, "FAILED", got[0].State, "the creation event did not overwrite the completion")
	require.Equal(t, "PERMISSION_DENIED", got[0].ErrorCode)

	got, _, err = b.store.AuditQueries(ctx, store.AuditQueryFilter{User: "bob"}, "", 10)
	require.NoError(t, err)
	require.Empty(t, got)
	require.ErrorIs(t, b.store.AuditQueryRecord(ctx, store.AuditQuery{Cluster: "default", QueryID: "", CreateTime: created}), store.ErrInvalid)
}

func TestAuditWriteFresh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	now := time.Now().UTC()
	_, err := s.AuditPartitionsEnsure(ctx, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	require.NoError(t, err)
	row := func(id string, at time.Time) store.AuditDecision {
		return store.AuditDecision{DecidedAt: at.Truncate(time.Microsecond), DecisionID: id, Cluster: "default", Endpoint: "allow",
			Operation: "ExecuteQuery", User: "alice", Outcome: "allow", Resource: "", Facets: []string{}, Groups: []string{}}
	}
	res, err := s.AuditWriteFresh(ctx, []store.AuditDecision{row("f1", now), row("f2", now)}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 2, res.Inserted)
	// A retried batch whose first write did commit: the direct copy fails
	// on the unique key, and the idempotent path records nothing twice.
	res, err = s.AuditWriteFresh(ctx, []store.AuditDecision{row("f1", now), row("f3", now)}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 1, res.Inserted)
	require.Equal(t, 1, res.Duplicates)
	// A day without a partition goes through the path that creates it.
	old := now.AddDate(0, 0, -9)
	res, err = s.AuditWriteFresh(ctx, []store.AuditDecision{row("f4", old)}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 1, res.Inserted)
	rows, _, err := s.AuditDecisions(ctx, store.AuditFilter{User: "alice"}, "", 10)
	require.NoError(t, err)
	require.Len(t, rows, 4)
}
