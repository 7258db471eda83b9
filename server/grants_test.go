package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
)

// TestGrantsUniteWithRules: OpenFGA grants add to rules.json, make what
// they grant visible, and a deny grant vetoes even what the rules allow.
func TestGrantsUniteWithRules(t *testing.T) {
	t.Parallel()
	fga, err := fgatest.Start(fgatest.Options{})
	require.NoError(t, err)
	t.Cleanup(fga.Stop)
	ctx := context.Background()
	client := fga.NewStore(t)
	modelID, err := grants.WriteModel(ctx, client)
	require.NoError(t, err)
	storeID, err := client.GetStoreId()
	require.NoError(t, err)
	// A long cache TTL, so that what was cached before the outage below is
	// still cached during it; the default request timeout (2s), so that
	// only the circuit breaker can make uncached checks fail fast.
	src, err := grants.New(ctx, grants.Options{APIURL: fga.URL(), StoreID: storeID, ModelID: modelID, ChangesInterval: -1,
		CacheTTL: 5 * time.Minute})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{
		"catalogs": [{"allow": "read-only"}],
		"tables": [{"group": "analysts", "catalog": "hr", "privileges": ["SELECT"]}],
		"catalog_session_properties": [],
		"schemas": []
	}`), 0o600))
	opts := testOptions(rules)
	opts.Policy.Clusters = nil
	opts.Grants = src
	s := New(opts, slog.New(slog.DiscardHandler))
	require.NoError(t, s.LoadPolicy())
	hs := newTestHTTP(t, s)

	sel := func(user, group, catalog string) string {
		return `{"input":{"context":` + ctxJSON(user, group) + `,"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"` + catalog + `","schemaName":"sf1","tableName":"orders","columns":["orderkey"]}}}}}`
	}
	catalogs := `{"input":{"context":` + ctxJSON("alice", "staff") + `,"action":{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"tpch"}},{"catalog":{"name":"hr"}},{"catalog":{"name":"sales"}}]}}}`
	require.JSONEq(t, `false`, string(post(t, hs+"/v1/data/trino/allow", sel("alice", "staff", "tpch")).Result))
	require.JSONEq(t, `[]`, string(post(t, hs+"/v1/data/trino/batch", catalogs).Result))

	require.NoError(t, src.WriteTuples(ctx, []grants.Tuple{
		mustTuple(t, grants.Grant{Principal: "user:alice", Privilege: "select", Object: "table:tpch.sf1.orders"}),
		mustTuple(t, grants.Grant{Principal: "group:contractors", Privilege: "select", Object: "catalog:hr", Deny: true}),
	}, nil))
	src.SetRevision(2) // as a NOTIFY after Warden's own write does

	require.JSONEq(t, `true`, string(post(t, hs+"/v1/data/trino/allow", sel("alice", "staff", "tpch")).Result), "the grant adds to the rules")
	require.JSONEq(t, `[0]`, string(post(t, hs+"/v1/data/trino/batch", catalogs).Result), "and makes its catalog visible")
	require.JSONEq(t, `true`, string(post(t, hs+"/v1/data/trino/allow", sel("bob", "analysts", "hr")).Result), "the rules still allow")
	a := post(t, hs+"/v1/data/trino/allow?explain=true", `{"input":{"context":`+ctxJSON("carl", "analysts", "contractors")+`,"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"hr","schemaName":"sf1","tableName":"orders","columns":["orderkey"]}}}}}`)
	require.JSONEq(t, `false`, string(a.Result), "a deny grant vetoes what the rules allow")
	require.Contains(t, string(a.Explanation), `"decider":"grants:`)

	// OpenFGA hangs, under a steady load: what was cached still answers,
	// anything else is denied (never an error, never an allow), and
	// readiness says why. The hang is the worse outage: a stopped server
	// refuses connections at once, but one that accepts and never answers
	// costs every uncached check its whole request timeout until the
	// circuit breaker opens.
	u, err := url.Parse(fga.URL())
	require.NoError(t, err)
	fga.Stop()
	var ln net.Listener
	require.Eventually(t, func() bool { ln, err = net.Listen("tcp", u.Host); return err == nil }, 10*time.Second, 50*time.Millisecond)
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn // accepted and never answered
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	var wg sync.WaitGroup
	var bad, slowLate atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				user, want := "alice", `"result":true` // cached
				if i%2 == 1 {
					user, want = "dora", `"result":false` // uncached: fails closed
				}
				start := time.Now()
				resp, err := http.Post(hs+"/v1/data/trino/allow", "application/json", strings.NewReader(sel(user, "staff", "tpch")))
				if err != nil {
					bad.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
					bad.Add(1)
				}
				// The first uncached checks wait out the timeout and open the
				// breaker; from then on (the breaker's probe aside) they are
				// answered at once.
				if i >= 5 && time.Since(start) > time.Second {
					slowLate.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	require.Zero(t, bad.Load(), "every decision during the OpenFGA outage answered, and closed where it had to")
	require.LessOrEqual(t, slowLate.Load(), int64(2), "with the breaker open, uncached checks fail fast instead of waiting 2s each")
	status, body := getJSON(t, hs+"/health/ready")
	require.Equal(t, 200, status)
	require.Equal(t, "degraded", body["status"])
	require.Contains(t, body["reason"], "OpenFGA unreachable")
}

func mustTuple(t *testing.T, g grants.Grant) grants.Tuple {
	t.Helper()
	tp, err := g.Tuple()
	require.NoError(t, err)
	return tp
}
