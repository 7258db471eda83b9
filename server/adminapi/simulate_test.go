package adminapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/audit"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func selectTable(user, group, table string) string {
	return `{"input":{"context":{"identity":{"user":"` + user + `","groups":["` + group + `"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"sf1","tableName":"` + table + `","columns":["k"]}}}}}`
}

// TestSimulate: recorded traffic replayed against a candidate rules.json
// and candidate grants flips exactly the expected decisions, and the live
// policy and grants stay as they were.
func TestSimulate(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username",
		AdminValues: []string{"warden-admins"}, ReaderValues: []string{"auditors"}})
	require.NoError(t, err)
	dbURL := pgtest.NewDatabase(t)
	fga := newFGAStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dbURL, store.Options{})
	require.NoError(t, err)
	src, err := grants.New(ctx, grants.Options{APIURL: fga.srv.URL(), StoreID: fga.storeID, ModelID: fga.modelID, ChangesInterval: -1})
	require.NoError(t, err)
	s := server.New(server.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", MaxBodyBytes: 1 << 20,
		Store: st, Auth: au, Grants: src, ShutdownTimeout: 5 * time.Second,
		Audit: server.AuditOptions{Enabled: true, Options: audit.Options{FlushInterval: 50 * time.Millisecond}}}, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; src.Close(); st.Close() })
	require.Eventually(t, func() bool { return s.Addr() != "" && s.AdminAddr() != "" && s.Engine().Snapshot() != nil }, 10*time.Second, 10*time.Millisecond)
	dec, admin := "http://"+s.Addr(), "http://"+s.AdminAddr()
	b := &testBundle{}
	adminTok := iss.Token(t, oidctest.Claims{Subject: "a1", Audience: "warden", Extra: map[string]any{"groups": []string{"warden-admins"}, "preferred_username": "ann"}})
	readerTok := iss.Token(t, oidctest.Claims{Subject: "r1", Audience: "warden", Extra: map[string]any{"groups": []string{"auditors"}}})

	rules := `{"schemas":[{"owner":false}],"tables":[{"group":"analysts","catalog":"tpch","privileges":["SELECT"]}]}`
	r := b.doURL(t, "PUT", admin, "/api/v1/policies/default", adminTok, docs(rules))
	require.Equal(t, 200, r.status, r.raw)
	r = b.doURL(t, "POST", admin, "/api/v1/grants", adminTok, `{"principal":"user:dave","privilege":"select","object":"table:tpch.sf1.orders"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Eventually(t, func() bool {
		return decide(t, dec, selectTable("dave", "staff", "orders")) && decide(t, dec, selectTable("alice", "analysts", "orders"))
	}, 10*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the waits above are recorded too; start the window after them
	start := time.Now()

	// The recorded traffic.
	require.True(t, decide(t, dec, selectTable("alice", "analysts", "orders")))
	require.True(t, decide(t, dec, selectTable("carol", "analysts", "lineitem")))
	require.False(t, decide(t, dec, selectTable("bob", "staff", "orders")))
	require.True(t, decide(t, dec, selectTable("dave", "staff", "orders")))
	require.Eventually(t, func() bool {
		rows, _, err := st.AuditDecisions(ctx, store.AuditFilter{From: start}, "", 100)
		require.NoError(t, err)
		return len(rows) >= 4
	}, 10*time.Second, 20*time.Millisecond)

	type report struct {
		Replayed int `json:"replayed"`
		Flipped  int `json:"flipped"`
		Examples []struct {
			User, Object, Live, Candidate string
		} `json:"examples"`
	}
	sim := func(body string) report {
		t.Helper()
		r := b.doURL(t, "POST", admin, "/api/v1/simulate", adminTok, body)
		require.Equal(t, 200, r.status, r.raw)
		var rep report
		require.NoError(t, json.Unmarshal([]byte(r.raw), &rep))
		return rep
	}
	window := `"from":"` + start.UTC().Format(time.RFC3339Nano) + `"`

	// Candidate rules: analysts lose lineitem. Only carol's decision flips.
	candidate, _ := json.Marshal(`{"schemas":[{"owner":false}],"tables":[{"group":"analysts","catalog":"tpch","table":"lineitem","privileges":[]},{"group":"analysts","catalog":"tpch","privileges":["SELECT"]}]}`)
	rep := sim(`{` + window + `,"documents":[{"kind":"rules","path":"rules.json","content":` + string(candidate) + `}]}`)
	require.GreaterOrEqual(t, rep.Replayed, 4)
	require.Equal(t, 1, rep.Flipped, "%+v", rep)
	require.Equal(t, "carol", rep.Examples[0].User)
	require.Equal(t, "tpch.sf1.lineitem", rep.Examples[0].Object)
	require.Equal(t, "allow", rep.Examples[0].Live)
	require.Equal(t, "deny", rep.Examples[0].Candidate)

	// Candidate grants: bob gains orders, dave loses it. A removal needs
	// the scratch copy, which contextual tuples could not give.
	rep = sim(`{` + window + `,"grants":{"add":[{"principal":"user:bob","privilege":"select","object":"table:tpch.sf1.orders"}],"remove":[{"principal":"user:dave","privilege":"select","object":"table:tpch.sf1.orders"}]}}`)
	require.Equal(t, 2, rep.Flipped, "%+v", rep)
	flips := map[string]string{}
	for _, e := range rep.Examples {
		flips[e.User] = e.Live + "→" + e.Candidate
	}
	require.Equal(t, map[string]string{"bob": "deny→allow", "dave": "allow→deny"}, flips)

	// Nothing live changed.
	require.True(t, decide(t, dec, selectTable("dave", "staff", "orders")))
	require.False(t, decide(t, dec, selectTable("bob", "staff", "orders")))
	require.True(t, decide(t, dec, selectTable("carol", "analysts", "lineitem")))

	// Bad input says what is wrong.
	r = b.doURL(t, "POST", admin, "/api/v1/simulate", adminTok, `{`+window+`}`)
	require.Equal(t, 400, r.status, r.raw)
	require.Contains(t, r.raw, "nothing to simulate")
	r = b.doURL(t, "POST", admin, "/api/v1/simulate", adminTok, `{"documents":[{"kind":"rules","path":"rules.json","content":"{\"tables\":7}"}]}`)
	require.Equal(t, 400, r.status, r.raw)
	require.Contains(t, r.raw, "invalid_policy")
	r = b.doURL(t, "POST", admin, "/api/v1/simulate", readerTok, `{"documents":[]}`)
	require.Equal(t, 403, r.status, r.raw)
}
