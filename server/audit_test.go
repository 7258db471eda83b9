package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server/audit"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

// TestAuditShutdownUnderLoadLosesNothing: decisions are recorded while a
// steady load runs, the server is stopped in the middle of it (as SIGTERM
// does), and the audit holds exactly one row per answered decision.
func TestAuditShutdownUnderLoadLosesNothing(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	putRules(t, st, `{"catalogs":[{"user":"alice","catalog":"tpch","allow":"read-only"}]}`)

	runCtx, stop := context.WithCancel(ctx)
	opts := testOptions("")
	opts.Policy.Clusters = nil
	opts.DrainDelay = 200 * time.Millisecond
	opts.Store = st
	opts.Audit = AuditOptions{Enabled: true, Options: audit.Options{FlushInterval: 200 * time.Millisecond, SpoolDir: t.TempDir()}}
	s := New(opts, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	require.Eventually(t, func() bool { return s.Addr() != "" }, 5*time.Second, 5*time.Millisecond)
	base := "http://" + s.Addr()
	require.Eventually(t, func() bool { return allowed(t, base) }, 10*time.Second, 10*time.Millisecond)

	var answered atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := client.Post(base+"/v1/data/trino/allow", "application/json", strings.NewReader(catalogCheck))
				if err != nil {
					return // the listener is gone
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && strings.Contains(string(b), `"result":true`) {
					answered.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	stop()
	require.NoError(t, <-done)
	wg.Wait()
	// The one decision allowed() made before the load, plus the load's.
	want := answered.Load() + 1
	require.Greater(t, want, int64(20), "the load ran")

	var got int64
	var cursor string
	for {
		rows, next, err := st.AuditDecisions(ctx, store.AuditFilter{User: "alice"}, cursor, 1000)
		require.NoError(t, err)
		got += int64(len(rows))
		if next == "" {
			break
		}
		cursor = next
	}
	// allowed() may have polled more than once before the policy loaded;
	// those denials are recorded too, so count allows only.
	var allows int64
	cursor = ""
	for {
		rows, next, err := st.AuditDecisions(ctx, store.AuditFilter{User: "alice", Outcome: "allow"}, cursor, 1000)
		require.NoError(t, err)
		allows += int64(len(rows))
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, allows, "one row per answered decision, none lost in shutdown")
	require.GreaterOrEqual(t, got, allows)
}

// TestAuditCapturesQueryIDs replays request bodies in the shape Trino 478+
// sends (context.queryId, and 480's properties) and checks that the audit
// records the query ID of every decision that carries one, so decisions
// join to the query directly; ExecuteQuery carries none, as in Trino.
func TestAuditCapturesQueryIDs(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	putRules(t, st, `{"tables":[{"group":"analysts","catalog":"tpch","privileges":["SELECT"]}]}`)
	runCtx, stop := context.WithCancel(ctx)
	opts := testOptions("")
	opts.Policy.Clusters = nil
	opts.DrainDelay = 0
	opts.Store = st
	opts.Audit = AuditOptions{Enabled: true, Options: audit.Options{FlushInterval: 50 * time.Millisecond}}
	s := New(opts, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	require.Eventually(t, func() bool { return s.Addr() != "" && s.Engine().Snapshot() != nil }, 5*time.Second, 5*time.Millisecond)
	base := "http://" + s.Addr()

	raw, err := os.ReadFile("../testdata/audit/trino-480-requests.jsonl")
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec struct {
			Endpoint string          `json:"endpoint"`
			Body     json.RawMessage `json:"body"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		r := post(t, base+"/v1/data/trino/"+rec.Endpoint, string(rec.Body))
		require.Equal(t, 200, r.Status, r.raw)
		n++
	}
	stop()
	require.NoError(t, <-done)
	rows, _, err := st.AuditDecisions(ctx, store.AuditFilter{QueryID: "20261122_021710_03427_trino"}, "", 100)
	require.NoError(t, err)
	require.Len(t, rows, n-1, "every decision of the query carries its ID")
	ops := map[string]bool{}
	for _, r := range rows {
		ops[r.Operation] = true
	}
	full, err := st.AuditDecisionGet(ctx, rows[0].DecisionID)
	require.NoError(t, err)
	require.Equal(t, "480", full.TrinoVersion)
	require.Equal(t, map[string]bool{"SelectFromColumns": true, "FilterTables": true, "GetRowFilters": true, "GetColumnMask": true}, ops)
	all, _, err := st.AuditDecisions(ctx, store.AuditFilter{Operation: "ExecuteQuery"}, "", 10)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Empty(t, all[0].QueryID)
}
