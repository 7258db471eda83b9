package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
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
