package adminapi_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

type fgaStore struct {
	srv              *fgatest.Server
	storeID, modelID string
	client           *fgaclient.OpenFgaClient
}

// newFGAStore starts an OpenFGA server on its PostgreSQL datastore (so it
// keeps its tuples across a restart, as in production) with a store and
// Warden's model.
func newFGAStore(t *testing.T) fgaStore {
	t.Helper()
	srv, err := fgatest.Start(fgatest.Options{DatastoreURI: pgtest.NewEmptyDatabase(t)})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	c := srv.NewStore(t)
	modelID, err := grants.WriteModel(context.Background(), c)
	require.NoError(t, err)
	storeID, err := c.GetStoreId()
	require.NoError(t, err)
	return fgaStore{srv: srv, storeID: storeID, modelID: modelID, client: c}
}

// startReplica runs a full database-mode Warden with grants: both
// listeners, the store watcher and the outbox worker.
func startReplica(t *testing.T, dbURL string, fga fgaStore, au *auth.Authenticator) (decisions, admin string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dbURL, store.Options{})
	require.NoError(t, err)
	src, err := grants.New(ctx, grants.Options{APIURL: fga.srv.URL(), StoreID: fga.storeID, ModelID: fga.modelID, ChangesInterval: -1,
		RequestTimeout: 500 * time.Millisecond})
	require.NoError(t, err)
	s := server.New(server.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", MaxBodyBytes: 1 << 20,
		Store: st, Auth: au, Grants: src, ShutdownTimeout: 5 * time.Second}, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		src.Close()
		st.Close()
	})
	require.Eventually(t, func() bool { return s.Addr() != "" && s.AdminAddr() != "" && s.Engine().Snapshot() != nil }, 10*time.Second, 10*time.Millisecond)
	return "http://" + s.Addr(), "http://" + s.AdminAddr()
}

func selectOrders(user string, groups ...string) string {
	g := `[]`
	if len(groups) > 0 {
		g = `["` + groups[0] + `"]`
	}
	return `{"input":{"context":{"identity":{"user":"` + user + `","groups":` + g + `},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"sf1","tableName":"orders","columns":["orderkey"]}}}}}`
}

// TestGrantsThroughTheAPI: a grant made through replica A changes decisions
// on replica B within a second; grants are idempotent, validated per field,
// scoped for data owners, and survive an OpenFGA outage through the outbox.
func TestGrantsThroughTheAPI(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username",
		AdminValues: []string{"warden-admins"}, OwnerValues: []string{"owners"}, ReaderValues: []string{"auditors"}})
	require.NoError(t, err)
	dbURL := pgtest.NewDatabase(t)
	fga := newFGAStore(t)
	_, adminA := startReplica(t, dbURL, fga, au)
	decB, _ := startReplica(t, dbURL, fga, au)
	b := &testBundle{admin: nil}
	call := func(method, base, token, body string) resp {
		b.admin = &fakeURL{base}
		return b.doURL(t, method, base, "/api/v1/grants", token, body)
	}
	adminTok := iss.Token(t, oidctest.Claims{Subject: "a1", Audience: "warden", Extra: map[string]any{"groups": []string{"warden-admins"}, "preferred_username": "ann"}})
	ownerTok := iss.Token(t, oidctest.Claims{Subject: "o1", Audience: "warden", Extra: map[string]any{"groups": []string{"owners"}, "preferred_username": "olga"}})
	readerTok := iss.Token(t, oidctest.Claims{Subject: "r1", Audience: "warden", Extra: map[string]any{"groups": []string{"auditors"}}})
	allowedOn := func(base, body string) bool {
		return decide(t, base, body)
	}
	require.False(t, allowedOn(decB, selectOrders("alice")))

	grant := `{"principal":"user:alice","privilege":"select","object":"table:tpch.sf1.orders"}`
	r := call("POST", adminA, adminTok, grant)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "applied", r.body["status"])
	start := time.Now()
	require.Eventually(t, func() bool { return allowedOn(decB, selectOrders("alice")) }, 10*time.Second, 5*time.Millisecond)
	if !raceEnabled {
		require.Less(t, time.Since(start), time.Second, "replica B follows within a second")
	}
	r = call("POST", adminA, adminTok, grant)
	require.Equal(t, 200, r.status, "creating an existing grant is idempotent: %s", r.raw)

	r = call("POST", adminA, adminTok, `{"principal":"team:x","privilege":"fly","object":"table:a"}`)
	require.Equal(t, 400, r.status)
	require.NotEmpty(t, r.body["fields"])
	r = call("POST", adminA, adminTok, `{"principal":"user:alice"}`)
	require.Equal(t, 400, r.status)
	require.Contains(t, r.body["fields"], "object")
	r = call("POST", adminA, readerTok, grant)
	require.Equal(t, 403, r.status, "readers cannot grant")

	// A data owner may grant only where the model makes them grant_admin.
	r = call("POST", adminA, ownerTok, `{"principal":"group:analysts","privilege":"select","object":"schema:tpch.sf1"}`)
	require.Equal(t, 403, r.status, r.raw)
	r = call("POST", adminA, adminTok, `{"principal":"user:olga","privilege":"grant_admin","object":"catalog:tpch"}`)
	require.Equal(t, 200, r.status, r.raw)
	r = call("POST", adminA, ownerTok, `{"principal":"group:analysts","privilege":"select","object":"schema:tpch.sf1"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Eventually(t, func() bool { return allowedOn(decB, selectOrders("bob", "analysts")) }, 10*time.Second, 5*time.Millisecond)

	// Roles: created first, then assigned and granted through the same
	// endpoint, then viewed.
	r = call("POST", adminA, adminTok, `{"principal":"user:erin","privilege":"assignee","object":"role:auditor"}`)
	require.Equal(t, 400, r.status, "a role nobody created: %s", r.raw)
	require.Contains(t, r.body["message"], "POST /api/v1/roles")
	r = b.doURL(t, "POST", adminA, "/api/v1/roles", ownerTok, `{"name":"auditor"}`)
	require.Equal(t, 403, r.status, "creating roles is for admins: %s", r.raw)
	r = b.doURL(t, "POST", adminA, "/api/v1/roles", adminTok, `{"name":"bad name"}`)
	require.Equal(t, 400, r.status, r.raw)
	r = b.doURL(t, "POST", adminA, "/api/v1/roles", adminTok, `{"name":"auditor","description":"reads lineitem"}`)
	require.Equal(t, 201, r.status, r.raw)
	r = b.doURL(t, "POST", adminA, "/api/v1/roles", adminTok, `{"name":"auditor"}`)
	require.Equal(t, 409, r.status, r.raw)
	r = call("POST", adminA, adminTok, `{"principal":"user:erin","privilege":"assignee","object":"role:auditor"}`)
	require.Equal(t, 200, r.status, r.raw)
	r = call("POST", adminA, adminTok, `{"principal":"role:auditor","privilege":"select","object":"table:tpch.sf1.lineitem"}`)
	require.Equal(t, 200, r.status, r.raw)
	r = b.doURL(t, "GET", adminA, "/api/v1/roles/auditor", readerTok, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []any{"user:erin"}, r.body["assignees"])
	require.Len(t, r.body["grants"], 1)
	require.Equal(t, "reads lineitem", r.body["description"])
	require.Equal(t, "ann (a1)", r.body["created_by"], "who created it")
	r = b.doURL(t, "GET", adminA, "/api/v1/roles", readerTok, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, r.body["roles"], 1)
	r = b.doURL(t, "DELETE", adminA, "/api/v1/roles/auditor", adminTok, "")
	require.Equal(t, 409, r.status, "a role with assignees is not deleted: %s", r.raw)
	lineitem := `{"input":{"context":{"identity":{"user":"erin","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"sf1","tableName":"lineitem","columns":[]}}}}}`
	require.Eventually(t, func() bool { return allowedOn(decB, lineitem) }, 10*time.Second, 5*time.Millisecond, "a role's grant reaches its assignees")
	for _, g := range []string{`{"principal":"user:erin","privilege":"assignee","object":"role:auditor"}`,
		`{"principal":"role:auditor","privilege":"select","object":"table:tpch.sf1.lineitem"}`} {
		r = call("DELETE", adminA, adminTok, g)
		require.Equal(t, 200, r.status, r.raw)
	}
	r = b.doURL(t, "DELETE", adminA, "/api/v1/roles/auditor", adminTok, "")
	require.Equal(t, 204, r.status, "an empty role is deleted: %s", r.raw)
	r = b.doURL(t, "DELETE", adminA, "/api/v1/roles/auditor", adminTok, "")
	require.Equal(t, 404, r.status, r.raw)
	require.Eventually(t, func() bool { return !allowedOn(decB, lineitem) }, 10*time.Second, 5*time.Millisecond)

	r = b.doURL(t, "GET", adminA, "/api/v1/grants?principal=user:alice", readerTok, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, r.body["grants"], 1)

	r = call("DELETE", adminA, adminTok, grant)
	require.Equal(t, 200, r.status, r.raw)
	require.Eventually(t, func() bool { return !allowedOn(decB, selectOrders("alice")) }, 10*time.Second, 5*time.Millisecond)

	// OpenFGA down: the grant is recorded (202) and reaches OpenFGA when it
	// returns, through the outbox.
	fga.srv.Stop()
	r = call("POST", adminA, adminTok, grant)
	require.Equal(t, 202, r.status, r.raw)
	require.Equal(t, "pending", r.body["status"])
	require.False(t, allowedOn(decB, selectOrders("alice")), "uncached checks fail closed while OpenFGA is down")
	require.NoError(t, fga.srv.Start())
	require.Eventually(t, func() bool { return allowedOn(decB, selectOrders("alice")) }, 30*time.Second, 50*time.Millisecond)

	r = b.doURL(t, "GET", adminA, "/api/v1/changes?object_type=grant", readerTok, "")
	require.Equal(t, 200, r.status)
	require.Len(t, r.body["changes"], 10, "every grant change is in the change log")
	r = b.doURL(t, "GET", adminA, "/api/v1/changes?object_type=role", readerTok, "")
	require.Equal(t, 200, r.status)
	require.Len(t, r.body["changes"], 2, "the role's creation and deletion are in the change log")

	// Divergence: consistent, until someone deletes a tuple behind Warden's back.
	r = b.doURL(t, "GET", adminA, "/api/v1/grants/divergence", readerTok, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, true, r.body["consistent"], r.raw)
	require.EqualValues(t, 5, r.body["checked"], "alice, olga's grant_admin, the analysts' schema grant, erin's role and the role's grant")
	alice, err := grants.Grant{Principal: "user:alice", Privilege: "select", Object: "table:tpch.sf1.orders"}.Tuple()
	require.NoError(t, err)
	_, err = fga.client.DeleteTuples(context.Background()).Body([]fgaclient.ClientTupleKeyWithoutCondition{
		{User: alice.User, Relation: alice.Relation, Object: alice.Object}}).Execute()
	require.NoError(t, err)
	r = b.doURL(t, "GET", adminA, "/api/v1/grants/divergence", readerTok, "")
	require.Equal(t, false, r.body["consistent"], r.raw)
	require.Len(t, r.body["missing_in_openfga"], 1)
}
