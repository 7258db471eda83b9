package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

// TestRecorderDecidersWithoutExplanations: with the default explain mode
// (denied), an allowed check is not re-decided, yet records its decider.
func TestRecorderDecidersWithoutExplanations(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	r, _ := newRecorder(t, st, Options{FlushInterval: 50 * time.Millisecond, ExplainFunc: p.explainFunc()})
	allowed := p.entry(t, trino.EndpointAllow, selectBody("alice", "analysts", "orders"))
	denied := p.entry(t, trino.EndpointAllow, selectBody("mallory", "guests", "orders"))
	r.Record(allowed)
	r.Record(denied)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))
	got, err := st.AuditDecisionGet(ctx, allowed.DecisionID)
	require.NoError(t, err)
	require.Equal(t, "rules: tables[0]", got.Decider)
	require.Empty(t, got.Explanation, "allowed checks are not explained by default")
	got, err = st.AuditDecisionGet(ctx, denied.DecisionID)
	require.NoError(t, err)
	require.Equal(t, "baseline: no source allowed", got.Decider)
	require.Contains(t, string(got.Explanation), `"sources"`, "denials are")
}

func TestRecorderWritesRowsWithExplanations(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	r, reg := newRecorder(t, st, Options{FlushInterval: 50 * time.Millisecond, BatchSize: 100, ExplainFunc: p.explainFunc(),
		ExplainMaxItems: 10, Explain: ExplainAll})
	_ = reg

	allowed := p.entry(t, trino.EndpointAllow, selectBody("alice", "analysts", "orders"))
	denied := p.entry(t, trino.EndpointAllow, selectBody("mallory", "guests", "orders"))
	batch := p.entry(t, trino.EndpointBatch, filterTablesBody(30))
	r.Record(allowed)
	r.Record(denied)
	r.Record(batch)
	for range 250 {
		r.Record(p.entry(t, trino.EndpointAllow, executeQueryBody("bob")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))
	require.Equal(t, 253, countRows(t, st))
	require.Equal(t, 253, counterValue(r.m.written))

	for _, tc := range []struct {
		name    string
		e       *Entry
		outcome string
		decider string
	}{
		{"allowed", allowed, "allow", "rules: tables[0]"},
		{"denied", denied, "deny", "baseline: no source allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.AuditDecisionGet(ctx, tc.e.DecisionID)
			require.NoError(t, err)
			require.Equal(t, tc.outcome, got.Outcome)
			require.Equal(t, tc.decider, got.Decider)
			require.Equal(t, "tpch.sf1.orders", got.Resource)
			require.Equal(t, "tpch.sf1.orders", got.QualifiedTable)
			require.Equal(t, "q-"+tc.e.Request.Subject.User, got.QueryID)
			require.Equal(t, int64(7), got.Revision)
			require.Subset(t, got.Facets, []string{"catalog:tpch", "schema:sf1", "table:orders", "column:custkey", "column:totalprice"})
			var in trino.Input
			require.NoError(t, json.Unmarshal(got.Input, &in), "the full input is kept, to replay it")
			require.Equal(t, "SelectFromColumns", in.Action.Operation)
			require.Equal(t, []string{"custkey", "totalprice"}, in.Action.Resource.Table.Columns)
			require.Contains(t, string(got.Explanation), `"decider"`)
		})
	}

	got, err := st.AuditDecisionGet(ctx, batch.DecisionID)
	require.NoError(t, err)
	require.Equal(t, "partial", got.Outcome, "hive tables are filtered out")
	require.Equal(t, 30, got.Items)
	require.Equal(t, 20, got.Kept)
	require.Equal(t, "30 tables", got.Resource)
	require.True(t, got.ExplainCapped, "30 items, 10 explained")
	var x struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(got.Explanation, &x))
	require.Len(t, x.Items, 10)
	var kept []int
	require.NoError(t, json.Unmarshal(got.Result, &kept))
	require.Len(t, kept, 20)

	// Record after Close drops and counts.
	r.Record(allowed)
	require.Equal(t, 1, counterValue(r.cClosed))
}

func TestRecorderSamplingRules(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	r, _ := newRecorder(t, st, Options{FlushInterval: 50 * time.Millisecond, Rules: []Rule{
		{Endpoints: []string{"batch"}, Operations: []string{"FilterCatalogs"}, Outcomes: []string{"allow"}, SampleRate: 0},
		{Operations: []string{"ExecuteQuery"}, Outcomes: []string{"allow"}, Users: []string{"bob"}, SampleRate: 0.5},
	}})
	for range 100 {
		r.Record(p.entry(t, trino.EndpointBatch, filterCatalogsBody("alice", "tpch", "system")))
	}
	partial := p.entry(t, trino.EndpointBatch, filterCatalogsBody("alice", "tpch", "hive"))
	r.Record(partial) // not all allowed: the skip rule does not match
	const n = 2000
	for range n {
		r.Record(p.entry(t, trino.EndpointAllow, executeQueryBody("bob")))
	}
	r.Record(p.entry(t, trino.EndpointAllow, executeQueryBody("carol"))) // no rule matches
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))

	skippedN := counterValue(r.cSkipped)
	sampledN := counterValue(r.cSampled)
	require.Equal(t, 100, skippedN)
	rows := countRows(t, st)
	require.Equal(t, 1+1+n-sampledN, rows, "every decision is either recorded or counted")
	require.InDelta(t, n/2, sampledN, n/8, "half of bob's ExecuteQuery are sampled out")

	counts, err := st.AuditSamplingList(ctx, time.Now().Add(-2*time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	byKey := map[string]int64{}
	for _, c := range counts {
		byKey[c.Operation+"/"+c.Reason] += c.Count
	}
	require.Equal(t, map[string]int64{"FilterCatalogs/skipped": 100, "ExecuteQuery/sampled_out": int64(sampledN)}, byKey)
	got, err := st.AuditDecisionGet(ctx, partial.DecisionID)
	require.NoError(t, err)
	require.Equal(t, "partial", got.Outcome)
}

func TestRuleMatching(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	allow := p.entry(t, trino.EndpointAllow, selectBody("alice", "analysts", "orders"))
	deny := p.entry(t, trino.EndpointAllow, selectBody("mallory", "guests", "orders"))
	for _, tc := range []struct {
		name  string
		rule  Rule
		entry *Entry
		want  bool
	}{
		{"empty rule matches all", Rule{}, allow, true},
		{"endpoint", Rule{Endpoints: []string{"batch"}}, allow, false},
		{"operation", Rule{Operations: []string{"SelectFromColumns"}}, allow, true},
		{"other operation", Rule{Operations: []string{"ExecuteQuery"}}, allow, false},
		{"outcome", Rule{Outcomes: []string{"deny"}}, deny, true},
		{"outcome mismatch", Rule{Outcomes: []string{"deny"}}, allow, false},
		{"user", Rule{Users: []string{"alice"}}, allow, true},
		{"user mismatch", Rule{Users: []string{"alice"}}, deny, false},
		{"group", Rule{Groups: []string{"guests", "x"}}, deny, true},
		{"group mismatch", Rule{Groups: []string{"guests"}}, allow, false},
		{"all lists", Rule{Endpoints: []string{"allow"}, Operations: []string{"SelectFromColumns"}, Outcomes: []string{"allow"}, Users: []string{"alice"}, Groups: []string{"analysts"}}, allow, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := compileRule(tc.rule)
			require.NoError(t, err)
			require.Equal(t, tc.want, c.matches(tc.entry.Request, outcomeOf(tc.entry)))
		})
	}
	for _, bad := range []Rule{{Endpoints: []string{"nope"}}, {Operations: []string{"Fly"}}, {Outcomes: []string{"maybe"}}, {SampleRate: 2}, {SampleRate: -1}} {
		_, err := compileRule(bad)
		require.Error(t, err)
		require.Error(t, Options{Rules: []Rule{bad}}.Validate())
	}
	require.Error(t, Options{Full: "wait"}.Validate())
	require.Error(t, Options{Explain: "some"}.Validate())
	require.Error(t, Options{OPA: OPASinkOptions{URL: "ftp://x"}}.Validate())
	require.NoError(t, Options{}.Validate())
}

// TestRecorderPostgresOutage stops PostgreSQL under a steady load and
// starts it again: every decision recorded ends up in the table, once.
func TestRecorderPostgresOutage(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	c := pgtest.NewCluster(t)
	st := openStore(t, c.NewDatabase(t), store.Options{ConnectTimeout: time.Second})
	r, _ := newRecorder(t, st, Options{FlushInterval: 50 * time.Millisecond, BatchSize: 200, WriteTimeout: 2 * time.Second,
		SpoolDir: t.TempDir(), QueueSize: 50000})

	stop := make(chan struct{})
	var recorded int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range 20 {
				r.Record(p.entry(t, trino.EndpointAllow, executeQueryBody("bob")))
				recorded++
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(400 * time.Millisecond)
	require.NoError(t, c.Stop())
	require.Eventually(t, func() bool { return counterValue(r.m.spooled) > 0 }, 20*time.Second, 20*time.Millisecond, "batches go to the spool")
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, c.Start())
	require.Eventually(t, func() bool { return counterValue(r.m.replayed) > 0 }, 30*time.Second, 20*time.Millisecond, "the spool is replayed")
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))
	// What Close left in the spool would be replayed by the next start.
	require.Zero(t, droppedTotal(r), "nothing was dropped")
	replayRest(t, st, r.opts.SpoolDir)
	require.Equal(t, recorded, countRows(t, st), "each decision recorded exactly once")
}

// replayRest replays what is left in a spool with a new recorder.
func replayRest(t *testing.T, st *store.Store, dir string) {
	t.Helper()
	r2, _ := newRecorder(t, st, Options{FlushInterval: 20 * time.Millisecond, SpoolDir: dir})
	require.Eventually(t, func() bool { return r2.spool.bytes.Load() == 0 }, 30*time.Second, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r2.Close(ctx))
}

// TestRecorderCloseUnderLoad closes while handlers still record: each
// decision is either written or counted as dropped because it came after
// Close, never lost silently.
func TestRecorderCloseUnderLoad(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	r, _ := newRecorder(t, st, Options{FlushInterval: 100 * time.Millisecond, BatchSize: 500, Full: FullBlock})
	entries := make([]*Entry, 4000)
	for i := range entries {
		entries[i] = p.entry(t, trino.EndpointAllow, executeQueryBody("bob"))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range entries[g*1000 : (g+1)*1000] {
				r.Record(e)
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))
	wg.Wait()
	rows := countRows(t, st)
	require.Positive(t, rows)
	require.Equal(t, len(entries), rows+counterValue(r.cClosed))
}

// TestRecorderSpoolReplayWithoutDuplicates replays a spool holding rows that
// PostgreSQL already has (a write whose commit was lost to the client).
func TestRecorderSpoolReplayWithoutDuplicates(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	dir := t.TempDir()
	r0 := &Recorder{opts: Default(), log: Default().Logger}
	var rows []store.AuditDecision
	for range 300 {
		rows = append(rows, r0.buildRow(context.Background(), p.entry(t, trino.EndpointAllow, selectBody("alice", "analysts", "orders"))))
	}
	_, err := st.AuditWrite(context.Background(), rows[:100], time.Time{})
	require.NoError(t, err)
	sp, err := openSpool(dir, 1<<30)
	require.NoError(t, err)
	require.NoError(t, sp.write(pendingOf(rows[:200])))
	require.NoError(t, sp.write(pendingOf(rows[150:])))
	sp.close()

	r, _ := newRecorder(t, st, Options{FlushInterval: 20 * time.Millisecond, SpoolDir: dir})
	require.Eventually(t, func() bool { return r.spool.bytes.Load() == 0 }, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, 300, countRows(t, st))
	require.Equal(t, 350, counterValue(r.m.replayed), "both segments, whole")
	require.Equal(t, 200, counterValue(r.m.written))
	require.Equal(t, 150, counterValue(r.m.duplicates))
}

// TestRecorderCrash abandons a recorder without Close: what was recorded
// more than a flush interval (and a write) before the crash is in
// PostgreSQL or in the spool the next run replays.
func TestRecorderCrash(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	c := pgtest.NewCluster(t)
	st := openStore(t, c.NewDatabase(t), store.Options{ConnectTimeout: time.Second})
	dir := t.TempDir()
	const interval = 100 * time.Millisecond
	for _, pgDown := range []bool{false, true} {
		base := countRows(t, st)
		r, _ := newRecorder(t, st, Options{FlushInterval: interval, SpoolDir: dir, WriteTimeout: time.Second})
		if pgDown {
			require.NoError(t, c.Stop())
		}
		var times []time.Time
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			e := p.entry(t, trino.EndpointAllow, executeQueryBody("bob"))
			r.Record(e)
			times = append(times, e.Time)
			time.Sleep(2 * time.Millisecond)
		}
		crashAt := time.Now()
		r.crash()
		if pgDown {
			require.NoError(t, c.Start())
		}
		before := countRows(t, st) - base
		replayRest(t, st, dir)
		after := countRows(t, st) - base
		old := 0
		for _, tm := range times {
			if tm.Before(crashAt.Add(-3 * interval)) {
				old++
			}
		}
		t.Logf("pg down=%v: %d recorded, %d older than 3 intervals, %d rows before replay, %d after", pgDown, len(times), old, before, after)
		require.GreaterOrEqual(t, after, old)
	}
}

// TestRecorderFullQueue fills the queue while PostgreSQL is down and there
// is no spool: drop drops at once, block waits for BlockTimeout.
func TestRecorderFullQueue(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	c := pgtest.NewCluster(t)
	url := c.NewDatabase(t)
	require.NoError(t, c.Stop())
	st := openStore(t, url, store.Options{ConnectTimeout: 200 * time.Millisecond})
	e := p.entry(t, trino.EndpointAllow, executeQueryBody("bob"))

	drop, _ := newRecorder(t, st, Options{FlushInterval: 20 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, QueueSize: 10, BatchSize: 5})
	for range 200 {
		drop.Record(e)
	}
	require.Positive(t, counterValue(drop.cQueueFull))

	block, _ := newRecorder(t, st, Options{FlushInterval: 20 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, QueueSize: 10, BatchSize: 5, Full: FullBlock, BlockTimeout: 30 * time.Millisecond})
	start := time.Now()
	for range 100 {
		block.Record(e)
	}
	require.Positive(t, counterValue(block.cQueueFull))
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "block waited before dropping")

	// Close with a short deadline gives up on PostgreSQL and says so.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := drop.Close(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "could not be written")
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.Error(t, block.Close(ctx))
}

// TestEntryOutlivesTheBody reuses the request body's buffer, as the server's
// body pool does, before the worker builds the row: the decoded request
// owns its strings, so the row is unaffected.
func TestEntryOutlivesTheBody(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	r, _ := newRecorder(t, st, Options{FlushInterval: time.Hour, BatchSize: 1000})
	body := []byte(selectBody("alice", "analysts", "orders"))
	tr, err := trino.Decode(body)
	require.NoError(t, err)
	require.NoError(t, tr.Validate(trino.EndpointAllow))
	e := p.entry(t, trino.EndpointAllow, string(body))
	e.Request.Request = tr
	r.Record(e)
	for i := range body {
		body[i] = 'x'
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))
	got, err := st.AuditDecisionGet(ctx, e.DecisionID)
	require.NoError(t, err)
	require.Equal(t, "tpch.sf1.orders", got.Resource)
	var in trino.Input
	require.NoError(t, json.Unmarshal(got.Input, &in))
	require.Equal(t, "orders", in.Action.Resource.Table.TableName)
	require.Equal(t, "alice", in.Context.Identity.User)
}

// TestRecorderMaintainsPartitions: at start the worker creates the coming
// days' partitions and drops those past the retention.
func TestRecorderMaintainsPartitions(t *testing.T) {
	t.Parallel()
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	ctx := context.Background()
	now := time.Now().UTC()
	_, err := st.AuditPartitionsEnsure(ctx, now.AddDate(0, 0, -12), now.AddDate(0, 0, -11))
	require.NoError(t, err)
	_, _ = newRecorder(t, st, Options{FlushInterval: 20 * time.Millisecond, RetentionDays: 10, PartitionsAhead: 2})
	want := []string{now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly),
		now.AddDate(0, 0, 1).Format(time.DateOnly), now.AddDate(0, 0, 2).Format(time.DateOnly)}
	require.Eventually(t, func() bool {
		days, err := st.AuditPartitionDays(ctx)
		require.NoError(t, err)
		var got []string
		for _, d := range days {
			got = append(got, d.Format(time.DateOnly))
		}
		return strings.Join(got, ",") == strings.Join(want, ",")
	}, 10*time.Second, 20*time.Millisecond)
}

// TestExplainCache: the builder explains a repeated request once per
// snapshot and explainCacheTTL, and never reuses an explanation whose
// outcome is not the decision's.
func TestExplainCache(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	var calls int
	explain := p.explainFunc()
	opts := Default()
	opts.Explain = ExplainAll
	opts.ExplainFunc = func(ctx context.Context, snap *policy.Snapshot, req *policy.Request) (*policy.Explanation, error) {
		calls++
		return explain(ctx, snap, req)
	}
	r := &Recorder{opts: opts.withDefaults(), log: opts.Logger}
	r.m = newMetrics(nil, func() float64 { return 0 }, func() float64 { return 0 })
	ctx := context.Background()
	var b rowBuilder
	entry := func(body string) *Entry {
		e := p.entry(t, trino.EndpointAllow, body)
		e.Body = []byte(body)
		return e
	}
	denied := selectBody("mallory", "guests", "orders")
	first := string(r.build(ctx, &b, entry(denied)).Explanation)
	require.Contains(t, first, `"outcome":"deny"`)
	require.Equal(t, string(first), string(r.build(ctx, &b, entry(denied)).Explanation))
	require.Equal(t, 1, calls, "the same request on the same snapshot is explained once")

	r.build(ctx, &b, entry(selectBody("alice", "analysts", "orders")))
	require.Equal(t, 2, calls, "another request is explained")

	flipped := entry(denied)
	flipped.Decision = &policy.Decision{Allowed: true, Revision: flipped.Decision.Revision}
	r.build(ctx, &b, flipped)
	require.Equal(t, 3, calls, "a cached explanation of another outcome is not used")

	r.build(ctx, &b, entry(denied))
	require.Equal(t, 4, calls)
	r.build(ctx, &b, entry(denied))
	require.Equal(t, 4, calls)

	r.expl.since = r.expl.since.Add(-explainCacheTTL - time.Second)
	r.build(ctx, &b, entry(denied))
	require.Equal(t, 5, calls, "entries expire")

	set, ok := p.snap.Cluster(policy.DefaultCluster)
	require.True(t, ok)
	snap, err := policy.NewSnapshot(8, "test", map[string]*policy.PolicySet{policy.DefaultCluster: set})
	require.NoError(t, err)
	other := entry(denied)
	other.Snapshot = snap
	r.build(ctx, &b, other)
	require.Equal(t, 6, calls, "another snapshot explains again")
	require.Equal(t, 2, counterValue(r.m.explainCached))
}

// TestCoalesce: at a flush, the shards' partial batches are merged, first
// fit, into as few batches of at most BatchSize rows as that gives: each
// merged batch holds its parts' rows and operations, in order, and the
// merged-away batches are freed for reuse.
func TestCoalesce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		batchSize int
		sizes     []int
		want      [][]int // the input batches each output batch holds
	}{
		{"none", 10, nil, nil},
		{"one", 10, []int{4}, [][]int{{0}}},
		{"all fit", 10, []int{3, 4, 2}, [][]int{{0, 1, 2}}},
		{"exactly full", 10, []int{5, 5}, [][]int{{0, 1}}},
		{"first fit", 10, []int{3, 4, 5, 10, 2}, [][]int{{0, 1, 4}, {2}, {3}}},
		{"full batches stay", 4, []int{4, 4, 4}, [][]int{{0}, {1}, {2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Recorder{opts: Options{BatchSize: tc.batchSize}, free: make(chan *pending, 16)}
			var in []*pending
			var inBytes [][]byte
			var inOps [][]trino.Operation
			for i, n := range tc.sizes {
				rows := make([]store.AuditDecision, n)
				for j := range rows {
					rows[j] = store.AuditDecision{DecidedAt: time.Unix(1700000000, 0), DecisionID: fmt.Sprintf("d-%d-%d", i, j),
						Cluster: "default", Endpoint: "allow", Operation: []string{"ExecuteQuery", "SelectFromColumns"}[(i+j)%2],
						User: "alice", Outcome: "allow"}
				}
				p := pendingOf(rows)
				in = append(in, p)
				inBytes = append(inBytes, bytes.Clone(p.batch.Bytes()))
				inOps = append(inOps, slices.Clone(p.ops))
			}
			out := r.coalesce(in)
			require.Len(t, out, len(tc.want))
			for k, parts := range tc.want {
				var wantBytes []byte
				var wantOps []trino.Operation
				rows := 0
				for _, i := range parts {
					wantBytes = append(wantBytes, inBytes[i]...)
					wantOps = append(wantOps, inOps[i]...)
					rows += tc.sizes[i]
				}
				require.Equal(t, rows, out[k].len(), "batch %d", k)
				require.Equal(t, wantBytes, out[k].batch.Bytes(), "batch %d holds its parts' rows in order", k)
				require.Equal(t, wantOps, out[k].ops, "batch %d", k)
				_, err := store.AuditBatchOf(out[k].batch.Bytes(), out[k].len())
				require.NoError(t, err, "whole tuples")
			}
			require.Len(t, r.free, len(tc.sizes)-len(tc.want), "merged-away batches are freed")
		})
	}
}
