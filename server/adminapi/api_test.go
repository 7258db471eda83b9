package adminapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server"
	"github.com/trino-warden/warden/server/adminapi"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fakeURL lets do() target any base URL.
type fakeURL struct{ URL string }

type testBundle struct {
	admin     interface{}
	decisions *httptest.Server
	st        *store.Store
	iss       *oidctest.Issuer
	tokens    map[string]string // by role name
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username",
		AdminValues: []string{"warden-admins"}, OwnerValues: []string{"owners"}, ReaderValues: []string{"auditors"}})
	require.NoError(t, err)
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	s := server.New(server.Options{MaxBodyBytes: 1 << 20, Store: st, Auth: au}, slog.New(slog.DiscardHandler))
	require.NoError(t, s.LoadPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	adminSrv := httptest.NewServer(s.AdminHandler())
	b := &testBundle{st: st, iss: iss, admin: adminSrv, decisions: httptest.NewServer(s.Handler()), tokens: map[string]string{}}
	t.Cleanup(adminSrv.Close)
	t.Cleanup(b.decisions.Close)
	for role, group := range map[string]string{"admin": "warden-admins", "reader": "auditors", "none": "staff"} {
		b.tokens[role] = iss.Token(t, oidctest.Claims{Subject: "sub-" + role, Audience: "warden",
			Extra: map[string]any{"groups": []string{group}, "preferred_username": role + "-user"}})
	}
	// Follow the store as a replica does.
	go func() {
		_ = st.Listen(ctx, func(int64) { _ = s.LoadPolicy() })
	}()
	return b
}

type resp struct {
	status int
	body   map[string]any
	raw    string
}

func (b *testBundle) do(t *testing.T, method, path, token, body string) resp {
	t.Helper()
	base := ""
	switch a := b.admin.(type) {
	case *httptest.Server:
		base = a.URL
	case *fakeURL:
		base = a.URL
	}
	return b.doURL(t, method, base, path, token, body)
}

func (b *testBundle) doURL(t *testing.T, method, base, path, token, body string) resp {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (b *testBundle) allowed(t *testing.T, user, catalog string) bool {
	t.Helper()
	body := `{"input":{"context":{"identity":{"user":"` + user + `","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"` + catalog + `"}}}}}`
	return decide(t, b.decisions.URL, body)
}

// decide asks a decision listener and reports whether it allowed.
func decide(t *testing.T, base, body string) bool {
	t.Helper()
	res, err := http.Post(base+"/v1/data/trino/allow", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	require.Equal(t, 200, res.StatusCode, string(raw))
	return strings.Contains(string(raw), `"result":true`)
}

func docs(rules string) string {
	b, _ := json.Marshal(map[string]any{"documents": []map[string]string{{"kind": "rules", "path": "rules.json", "content": rules}}, "message": "grant tpch"})
	return string(b)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/policies/default", "", "")
	require.Equal(t, 401, r.status)
	require.Equal(t, "unauthorized", r.body["code"])
	r = b.do(t, "GET", "/api/v1/policies/default", b.iss.TokenSignedByStranger(t, oidctest.Claims{Subject: "x", Audience: "warden"}), "")
	require.Equal(t, 401, r.status)
	r = b.do(t, "GET", "/api/v1/policies/default", b.tokens["none"], "")
	require.Equal(t, 403, r.status, "a valid token without a Warden role")
	require.Equal(t, "forbidden", r.body["code"])
	r = b.do(t, "PUT", "/api/v1/policies/default", b.tokens["reader"], docs(`{}`))
	require.Equal(t, 403, r.status, "readers cannot change policy")
	r = b.do(t, "GET", "/api/v1/openapi.json", "", "")
	require.Equal(t, 200, r.status, "the OpenAPI document is public")
}

func TestPolicyLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.tokens["admin"]
	require.False(t, b.allowed(t, "alice", "tpch"))

	r := b.do(t, "PUT", "/api/v1/policies/default", admin, docs(`{"catalogs":[{"user":"alice","catalog":"tpch","allow":"read-only"}]}`))
	require.Equal(t, 200, r.status, r.raw)
	first := int64(r.body["revision"].(float64))
	require.Eventually(t, func() bool { return b.allowed(t, "alice", "tpch") }, 5*time.Second, 10*time.Millisecond)

	// A broken policy is rejected with the compiler's message, and nothing changes.
	r = b.do(t, "PUT", "/api/v1/policies/default/documents/warden/bad.rego", admin, "package warden\n\ndeny contains x if {\n")
	require.Equal(t, 400, r.status, r.raw)
	require.Equal(t, "invalid_policy", r.body["code"])
	require.Contains(t, r.body["message"], "bad.rego")
	r = b.do(t, "PUT", "/api/v1/policies/default", admin, docs(`{"tables":[{"privileges":["FLY"]}]}`))
	require.Equal(t, 400, r.status)
	require.Contains(t, r.body["message"], "FLY")
	r = b.do(t, "PUT", "/api/v1/policies/default", admin, `{"documents":[{"kind":"yaml","path":""}]}`)
	require.Equal(t, 400, r.status)
	require.Equal(t, "invalid_parameter", r.body["code"])
	require.Contains(t, r.body["fields"], "documents[0].kind")
	require.Contains(t, r.body["fields"], "documents[0].path")
	r = b.do(t, "GET", "/api/v1/policies/default/revisions", admin, "")
	require.Len(t, r.body["revisions"], 1, "the rejected uploads wrote nothing")

	// A Rego veto added as one document.
	r = b.do(t, "PUT", "/api/v1/policies/default/documents/warden/veto.rego", admin,
		"package warden\n\ndeny contains \"no alice\" if input.context.identity.user == \"alice\"\n")
	require.Equal(t, 200, r.status, r.raw)
	require.Eventually(t, func() bool { return !b.allowed(t, "alice", "tpch") }, 5*time.Second, 10*time.Millisecond)
	r = b.do(t, "GET", "/api/v1/policies/default", b.tokens["reader"], "")
	require.Equal(t, 200, r.status)
	require.Len(t, r.body["documents"], 2)

	// Roll back to the first revision: alice is allowed again.
	r = b.do(t, "POST", "/api/v1/policies/default/rollback", admin, `{"revision":`+jsonInt(first)+`}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Eventually(t, func() bool { return b.allowed(t, "alice", "tpch") }, 5*time.Second, 10*time.Millisecond)
	r = b.do(t, "POST", "/api/v1/policies/default/rollback", admin, `{"revision":0}`)
	require.Equal(t, 400, r.status)
	r = b.do(t, "POST", "/api/v1/policies/default/rollback", admin, `{"revision":99999}`)
	require.Equal(t, 404, r.status)

	// Every change is in the change log, with who made it.
	r = b.do(t, "GET", "/api/v1/changes", b.tokens["reader"], "")
	require.Equal(t, 200, r.status)
	changes := r.body["changes"].([]any)
	require.Len(t, changes, 3)
	for _, c := range changes {
		require.Equal(t, "admin-user (sub-admin)", c.(map[string]any)["actor"])
	}
	r = b.do(t, "DELETE", "/api/v1/policies/default/documents/nope.rego", admin, "")
	require.Equal(t, 404, r.status, r.raw)
	r = b.do(t, "GET", "/api/v1/policies/Bad Name", admin, "")
	require.Equal(t, 400, r.status)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDirectoryRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.st.UserCreate(ctx, "test", store.User{UserName: "alice", Active: true, Email: "alice@example.com"})
	require.NoError(t, err)
	_, err = b.st.GroupCreate(ctx, "test", store.Group{Name: "analysts"})
	require.NoError(t, err)
	require.NoError(t, b.st.GroupMemberAdd(ctx, "test", "analysts", "alice"))

	r := b.do(t, "GET", "/api/v1/users/ALICE", b.tokens["reader"], "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []any{"analysts"}, r.body["groups"])
	r = b.do(t, "GET", "/api/v1/groups/analysts", b.tokens["reader"], "")
	require.Equal(t, []any{"alice"}, r.body["members"])
	r = b.do(t, "GET", "/api/v1/users?limit=1", b.tokens["reader"], "")
	require.Len(t, r.body["items"], 1)
	r = b.do(t, "GET", "/api/v1/users/nobody", b.tokens["reader"], "")
	require.Equal(t, 404, r.status)
	r = b.do(t, "GET", "/api/v1/users?limit=abc", b.tokens["reader"], "")
	require.Equal(t, 400, r.status)
}

// TestOpenAPIMatchesRoutes keeps the OpenAPI document true to the routes:
// every route is documented, and every documented operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	adminapi.New(adminapi.Options{}).Register(r)
	param := regexp.MustCompile(`[:*]([a-z_]+)`)
	var routes []string
	for _, rt := range r.Routes() {
		routes = append(routes, strings.ToLower(rt.Method)+" "+param.ReplaceAllString(rt.Path, "{$1}"))
	}
	sort.Strings(routes)

	res := httptest.NewRecorder()
	r.ServeHTTP(res, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &doc))
	require.Equal(t, "3.0.3", doc.OpenAPI)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(documented)
	require.Equal(t, routes, documented)
}

func TestEffectiveAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, u := range []store.User{{UserName: "alice", Active: true}, {UserName: "bob", Active: true}, {UserName: "carol", Active: false}} {
		_, err := b.st.UserCreate(ctx, "test", u)
		require.NoError(t, err)
	}
	_, err := b.st.GroupCreate(ctx, "test", store.Group{Name: "analysts"})
	require.NoError(t, err)
	require.NoError(t, b.st.GroupMemberAdd(ctx, "test", "analysts", "alice"))
	require.NoError(t, b.st.GroupMemberAdd(ctx, "test", "analysts", "carol"))
	r := b.do(t, "PUT", "/api/v1/policies/default", b.tokens["admin"], docs(`{"tables":[{"group":"analysts","catalog":"tpch","privileges":["SELECT"]}]}`))
	require.Equal(t, 200, r.status, r.raw)
	require.Eventually(t, func() bool {
		r := b.do(t, "GET", "/api/v1/access?user=alice&object=table:tpch.sf1.orders", b.tokens["reader"], "")
		sel, _ := r.body["privileges"].(map[string]any)["select"].(map[string]any)
		return sel != nil && sel["allowed"] == true
	}, 5*time.Second, 10*time.Millisecond)

	r = b.do(t, "GET", "/api/v1/access?user=alice&object=table:tpch.sf1.orders", b.tokens["reader"], "")
	require.Equal(t, 200, r.status, r.raw)
	privs := r.body["privileges"].(map[string]any)
	require.Equal(t, "rules: tables[0]", privs["select"].(map[string]any)["decider"])
	require.Equal(t, false, privs["insert"].(map[string]any)["allowed"])
	require.Equal(t, []any{"analysts"}, r.body["groups"], "directory groups are used")

	r = b.do(t, "GET", "/api/v1/access?user=zed&groups=analysts&object=table:tpch.sf1.orders", b.tokens["reader"], "")
	require.Equal(t, false, r.body["in_directory"])
	require.Equal(t, true, r.body["privileges"].(map[string]any)["select"].(map[string]any)["allowed"])

	r = b.do(t, "GET", "/api/v1/who?privilege=select&object=table:tpch.sf1.orders", b.tokens["reader"], "")
	require.Equal(t, 200, r.status, r.raw)
	allowed := r.body["allowed"].([]any)
	require.Len(t, allowed, 1, "alice; carol is inactive, bob has no grant")
	require.Equal(t, "alice", allowed[0].(map[string]any)["user"])
	require.Contains(t, r.body["coverage"], "not covered")

	r = b.do(t, "GET", "/api/v1/who?privilege=fly&object=table:tpch.sf1.orders", b.tokens["reader"], "")
	require.Equal(t, 400, r.status)
	require.Contains(t, r.body["fields"].(map[string]any)["privilege"], "select")
	r = b.do(t, "GET", "/api/v1/access?user=alice&object=group:x", b.tokens["reader"], "")
	require.Equal(t, 400, r.status)
}
