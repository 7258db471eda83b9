package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestGrantRevokeLs(t *testing.T) {
	ctx := context.Background()
	fga, err := fgatest.Start(fgatest.Options{})
	require.NoError(t, err)
	defer fga.Stop()
	fc := fga.NewStore(t)
	modelID, err := grants.WriteModel(ctx, fc)
	require.NoError(t, err)
	storeID, err := fc.GetStoreId()
	require.NoError(t, err)
	src, err := grants.New(ctx, grants.Options{APIURL: fga.URL(), StoreID: storeID, ModelID: modelID, ChangesInterval: -1})
	require.NoError(t, err)
	defer src.Close()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	defer st.Close()
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", AdminValues: []string{"warden-admins"}})
	require.NoError(t, err)
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, Store: st, Auth: au, Grants: src}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(s.AdminHandler())
	defer hs.Close()
	t.Setenv("WARDEN_TOKEN", iss.Token(t, oidctest.Claims{Subject: "ops", Audience: "warden", Extra: map[string]any{"groups": []string{"warden-admins"}}}))

	code, out, errs := runCLI("grant", "--admin-url", hs.URL, "group:analysts", "select", "table:tpch.sf1.orders")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "granted group:analysts select on table:tpch.sf1.orders")
	code, _, errs = runCLI("grant", "--admin-url", hs.URL, "--deny", "--expires", "24h", "user:mallory", "select", "catalog:tpch")
	require.Equal(t, 0, code, errs)

	code, out, errs = runCLI("grants", "ls", "--admin-url", hs.URL, "--object", "table:tpch.sf1.orders")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "group:analysts")
	code, out, errs = runCLI("grants", "ls", "--admin-url", hs.URL, "--principal", "user:mallory")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "true")

	code, _, errs = runCLI("grant", "--admin-url", hs.URL, "group:analysts", "fly", "table:tpch.sf1.orders")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "privilege")

	code, out, errs = runCLI("revoke", "--admin-url", hs.URL, "group:analysts", "select", "table:tpch.sf1.orders")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "revoked")
	code, out, _ = runCLI("grants", "ls", "--admin-url", hs.URL, "--object", "table:tpch.sf1.orders")
	require.Equal(t, 0, code)
	require.NotContains(t, out, "group:analysts")

	code, _, _ = runCLI("grants", "ls", "--admin-url", hs.URL)
	require.Equal(t, 2, code, "a filter is required")
}
