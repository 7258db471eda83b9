package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestSimulateCommand(t *testing.T) {
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username", AdminValues: []string{"admins"}})
	require.NoError(t, err)
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	defer st.Close()
	_, err = st.PolicyPut(ctx, "test", store.DefaultCluster, []store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json",
		Content: `{"schemas":[{"owner":false}],"tables":[{"group":"analysts","catalog":"tpch","privileges":["SELECT"]}]}`}}, "")
	require.NoError(t, err)
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, Store: st, Auth: au}, slog.New(slog.DiscardHandler))
	require.NoError(t, s.LoadPolicy())
	hs := httptest.NewServer(s.AdminHandler())
	defer hs.Close()
	t.Setenv("WARDEN_TOKEN", iss.Token(t, oidctest.Claims{Subject: "adm", Audience: "warden",
		Extra: map[string]any{"groups": []string{"admins"}, "preferred_username": "ann"}}))

	input := func(user, table string) json.RawMessage {
		return json.RawMessage(`{"context":{"identity":{"user":"` + user + `","groups":["analysts"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"sf1","tableName":"` + table + `","columns":["k"]}}}}`)
	}
	now := time.Now().UTC().Add(-time.Minute)
	_, err = st.AuditWrite(ctx, []store.AuditDecision{
		{DecidedAt: now, DecisionID: "d-orders", Cluster: "default", Endpoint: "allow", Operation: "SelectFromColumns", User: "alice",
			Outcome: "allow", Result: json.RawMessage(`true`), Input: input("alice", "orders")},
		{DecidedAt: now.Add(time.Second), DecisionID: "d-salaries", Cluster: "default", Endpoint: "allow", Operation: "SelectFromColumns", User: "bob",
			Outcome: "allow", Result: json.RawMessage(`true`), Input: input("bob", "salaries")},
	}, time.Time{})
	require.NoError(t, err)

	candidate := filepath.Join(t.TempDir(), "candidate.json")
	require.NoError(t, os.WriteFile(candidate, []byte(`{"schemas":[{"owner":false}],"tables":[
		{"group":"analysts","catalog":"tpch","table":"salaries","privileges":[]},
		{"group":"analysts","catalog":"tpch","privileges":["SELECT"]}]}`), 0o600))
	code, out, errs := runCLI("simulate", "--admin-url", hs.URL, "--rules", candidate, "--from", "1h")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "replayed 2 decisions")
	require.Contains(t, out, "1 decisions would flip")
	require.Regexp(t, `bob\s+SelectFromColumns\s+tpch\.sf1\.salaries\s+allow\s+deny\s+d-salaries`, out)

	code, out, errs = runCLI("simulate", "--admin-url", hs.URL, "--rules", candidate, "--from", "1h", "--json")
	require.Equal(t, 0, code, errs)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, float64(1), rep["flipped"])

	code, _, errs = runCLI("simulate", "--admin-url", hs.URL, "--from", "1h")
	require.NotEqual(t, 0, code)
	require.Contains(t, errs, "nothing to simulate")
	code, _, errs = runCLI("simulate", "--admin-url", hs.URL, "--grant", "bad")
	require.NotEqual(t, 0, code)
	require.Contains(t, errs, "principal,privilege,object")
}

func TestPolicyImport(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "rules.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"catalogs":[{"allow":"all"}]}`), 0o600))
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"catalogs":7}`), 0o600))

	code, _, errs := runCLI("policy", "import", "--database-url", url, bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, errs, "does not compile; nothing was imported")
	code, out, errs := runCLI("policy", "import", "--database-url", url, "--message", "bootstrap", good)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "imported 1 documents into cluster default")

	st, err := store.Open(context.Background(), url, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	set, err := st.PolicyGet(context.Background(), store.DefaultCluster, 0)
	require.NoError(t, err)
	require.Equal(t, "bootstrap", set.Message)
	require.Contains(t, set.Actor, "cli")
	revs, err := st.PolicyRevisions(context.Background(), store.DefaultCluster, 10, 0)
	require.NoError(t, err)
	require.Len(t, revs, 1, "the broken import wrote nothing")
}
