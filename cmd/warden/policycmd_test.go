package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestPolicyPushLsRollback(t *testing.T) {
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username", AdminValues: []string{"warden-admins"}})
	require.NoError(t, err)
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	defer st.Close()
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, Store: st, Auth: au}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(s.AdminHandler())
	defer hs.Close()
	t.Setenv("WARDEN_TOKEN", iss.Token(t, oidctest.Claims{Subject: "ops", Audience: "warden",
		Extra: map[string]any{"groups": []string{"warden-admins"}, "preferred_username": "ann"}}))

	code, out, errs := runCLI("policy", "push", "--admin-url", hs.URL, "--message", "sample", "../../deploy/examples/rules.json", "../../deploy/examples/policy")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "pushed 2 documents to cluster default: revision")
	set, err := st.PolicyGet(context.Background(), "default", 0)
	require.NoError(t, err)
	require.Len(t, set.Documents, 2, "rules.json and warden.rego; the _test.rego file is not policy")

	code, _, errs = runCLI("policy", "push", "--admin-url", hs.URL, "../../testdata/conformance/trino-fbac/rules/invalid/query-invalid.json")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "invalid_policy")
	require.Contains(t, errs, "queryOwner")

	code, out, errs = runCLI("policy", "ls", "--admin-url", hs.URL)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "ann (ops)")
	require.Contains(t, out, "sample")

	code, _, errs = runCLI("policy", "rollback", "--admin-url", hs.URL, "999")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "no policy revision 999")
	rev := set.Revision
	code, out, errs = runCLI("policy", "rollback", "--admin-url", hs.URL, itoa(rev))
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "rolled back")

	t.Setenv("WARDEN_TOKEN", "")
	code, _, errs = runCLI("policy", "ls", "--admin-url", hs.URL)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "no credentials")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
