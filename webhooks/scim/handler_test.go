package scim

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice := b.createUser(t, "alice", "ext-1")
	bob := b.createUser(t, "bob", "")
	group := b.createGroup(t, "admins", alice)
	b.vars["alice"], b.vars["bob"], b.vars["group"] = alice, bob, group

	user := func(userName, externalID string) string {
		return `{"schemas":["` + SchemaUser + `"],"userName":"` + userName + `","externalId":"` + externalID + `"}`
	}
	patch := func(ops string) string { return `{"schemas":["` + schemaPatchOp + `"],"Operations":[` + ops + `]}` }
	tests := []struct {
		name     string
		client   string
		method   string
		path     string
		body     string
		headers  []string
		status   int
		scimType string
	}{
		{"no token", "", http.MethodGet, "/Users", "", nil, http.StatusUnauthorized, ""},
		{"unknown client", "mallory", http.MethodGet, "/Users", "", nil, http.StatusUnauthorized, ""},
		{"basic auth", "", http.MethodGet, "/Users", "", []string{"Authorization", "Basic dG9rZW4tb2t0YQ=="}, http.StatusUnauthorized, ""},
		{"duplicate userName in another case", "okta", http.MethodPost, "/Users", user("ALICE", "ext-2"), nil, http.StatusConflict, scimUniqueness},
		{"duplicate externalId", "okta", http.MethodPost, "/Users", user("carol", "ext-1"), nil, http.StatusConflict, scimUniqueness},
		{"rename onto a taken userName", "okta", http.MethodPut, "/Users/{{bob}}", user("Alice", "ext-9"), nil, http.StatusConflict, scimUniqueness},
		{"duplicate group", "okta", http.MethodPost, "/Groups", `{"displayName":"ADMINS"}`, nil, http.StatusConflict, scimUniqueness},
		{"not JSON", "okta", http.MethodPost, "/Users", `{"userName":`, nil, http.StatusBadRequest, scimInvalidSyntax},
		{"empty body", "okta", http.MethodPost, "/Users", "", nil, http.StatusBadRequest, scimInvalidSyntax},
		{"two JSON values", "okta", http.MethodPost, "/Users", user("carol", "x") + "{}", nil, http.StatusBadRequest, scimInvalidSyntax},
		{"array body", "okta", http.MethodPost, "/Users", `[]`, nil, http.StatusBadRequest, scimInvalidSyntax},
		{"wrong media type", "okta", http.MethodPost, "/Users", user("carol", "x"), []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, ""},
		{"missing userName", "okta", http.MethodPost, "/Users", `{"schemas":["` + SchemaUser + `"],"active":true}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"userName not a string", "okta", http.MethodPost, "/Users", `{"userName":7}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"active not a boolean", "okta", http.MethodPost, "/Users", `{"userName":"carol","active":"maybe"}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"emails not an array", "okta", http.MethodPost, "/Users", `{"userName":"carol","emails":"c@x"}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"group posted to /Users", "okta", http.MethodPost, "/Users", `{"schemas":["` + SchemaGroup + `"],"userName":"carol"}`, nil, http.StatusBadRequest, scimInvalidSyntax},
		{"group without displayName", "okta", http.MethodPost, "/Groups", `{"members":[]}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"unknown member", "okta", http.MethodPost, "/Groups", `{"displayName":"g2","members":[{"value":"999999"}]}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"member not an id", "okta", http.MethodPost, "/Groups", `{"displayName":"g2","members":[{"value":"abc"}]}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"nested group", "okta", http.MethodPost, "/Groups", `{"displayName":"g2","members":[{"value":"{{group}}","type":"Group"}]}`, nil, http.StatusBadRequest, scimInvalidValue},
		{"add unknown member", "okta", http.MethodPatch, "/Groups/{{group}}", patch(`{"op":"add","path":"members","value":[{"value":"999999"}]}`), nil, http.StatusBadRequest, scimInvalidValue},
		{"unparsable filter", "okta", http.MethodGet, "/Users?filter=" + qs(`userName eq`), "", nil, http.StatusBadRequest, scimInvalidFilter},
		{"unsupported operator", "okta", http.MethodGet, "/Users?filter=" + qs(`userName co "al"`), "", nil, http.StatusBadRequest, scimInvalidFilter},
		{"unsupported attribute", "okta", http.MethodGet, "/Users?filter=" + qs(`title eq "x"`), "", nil, http.StatusBadRequest, scimInvalidFilter},
		{"not", "okta", http.MethodGet, "/Users?filter=" + qs(`not (userName eq "x")`), "", nil, http.StatusBadRequest, scimInvalidFilter},
		{"bad startIndex", "okta", http.MethodGet, "/Users?startIndex=x", "", nil, http.StatusBadRequest, scimInvalidValue},
		{"patch without operations", "okta", http.MethodPatch, "/Users/{{alice}}", patch(``), nil, http.StatusBadRequest, scimInvalidSyntax},
		{"patch with an unknown op", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"move","path":"title","value":"x"}`), nil, http.StatusBadRequest, scimInvalidSyntax},
		{"patch with a bad path", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"replace","path":"emails[type eq","value":"x"}`), nil, http.StatusBadRequest, scimInvalidPath},
		{"patch of an unknown schema", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"replace","path":"urn:example:foo:bar","value":"x"}`), nil, http.StatusBadRequest, scimInvalidPath},
		{"patch of id", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"replace","path":"id","value":"7"}`), nil, http.StatusBadRequest, scimMutability},
		{"path-less patch changing id", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"replace","value":{"id":"7"}}`), nil, http.StatusBadRequest, scimMutability},
		{"patch of groups", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"add","path":"groups","value":[{"value":"1"}]}`), nil, http.StatusBadRequest, scimMutability},
		{"remove without path", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"remove"}`), nil, http.StatusBadRequest, scimNoTarget},
		{"path-less patch with a scalar", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"replace","value":"x"}`), nil, http.StatusBadRequest, scimInvalidValue},
		{"patch removing userName", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"remove","path":"userName"}`), nil, http.StatusBadRequest, scimInvalidValue},
		{"patch with a bad active", "okta", http.MethodPatch, "/Users/{{alice}}", patch(`{"op":"replace","path":"active","value":"Yes"}`), nil, http.StatusBadRequest, scimInvalidValue},
		{"patch schemas wrong", "okta", http.MethodPatch, "/Users/{{alice}}", `{"schemas":["urn:x"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`, nil, http.StatusBadRequest, scimInvalidSyntax},
		{"unknown user", "okta", http.MethodGet, "/Users/999999", "", nil, http.StatusNotFound, ""},
		{"id not a number", "okta", http.MethodGet, "/Users/abc", "", nil, http.StatusNotFound, ""},
		{"put unknown user", "okta", http.MethodPut, "/Users/999999", user("zed", "z"), nil, http.StatusNotFound, ""},
		{"patch unknown group", "okta", http.MethodPatch, "/Groups/999999", patch(`{"op":"replace","path":"displayName","value":"x"}`), nil, http.StatusNotFound, ""},
		{"delete unknown group", "okta", http.MethodDelete, "/Groups/999999", "", nil, http.StatusNotFound, ""},
		{"If-Match mismatch on PUT", "okta", http.MethodPut, "/Users/{{alice}}", user("alice", "ext-1"), []string{"If-Match", `W/"1000"`}, http.StatusPreconditionFailed, ""},
		{"If-Match mismatch on PATCH", "okta", http.MethodPatch, "/Groups/{{group}}", patch(`{"op":"replace","path":"displayName","value":"x"}`), []string{"If-Match", `W/"1000"`}, http.StatusPreconditionFailed, ""},
		{"If-Match mismatch on DELETE", "okta", http.MethodDelete, "/Users/{{bob}}", "", []string{"If-Match", `"1000"`}, http.StatusPreconditionFailed, ""},
		{"unknown endpoint", "okta", http.MethodGet, "/Bulk", "", nil, http.StatusNotFound, ""},
		{"method not allowed", "okta", http.MethodDelete, "/Users", "", nil, http.StatusMethodNotAllowed, ""},
		{"body too large", "okta", http.MethodPost, "/Users", `{"userName":"` + strings.Repeat("x", maxBodyBytes) + `"}`, nil, http.StatusRequestEntityTooLarge, ""},
	}
	before := b.rev(t)
	// The cases share one database and check that it does not change, so
	// they run one after the other.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.do(t, tt.client, tt.method, tt.path, b.expand(tt.body), tt.headers...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			res := body(t, rec)
			require.Equal(t, []any{schemaError}, res["schemas"])
			require.Equal(t, strconv.Itoa(tt.status), res["status"])
			if tt.scimType == "" {
				require.NotContains(t, res, "scimType")
			} else {
				require.Equal(t, tt.scimType, res["scimType"])
			}
			require.NotEmpty(t, res["detail"])
			if tt.status == http.StatusUnauthorized {
				require.Equal(t, `Bearer realm="warden-scim"`, rec.Header().Get("WWW-Authenticate"))
			}
			// A failed request writes nothing.
			require.Equal(t, before, b.rev(t))
		})
	}
	// The failures are counted by class, with bounded labels.
	require.Equal(t, 1.0, testutil.ToFloat64(b.h.metrics.requests.WithLabelValues("other", "GET", "4xx")))
	require.Positive(t, testutil.ToFloat64(b.h.metrics.requests.WithLabelValues("Users", "POST", "4xx")))
	require.Positive(t, testutil.ToFloat64(b.h.metrics.requests.WithLabelValues("Users", "POST", "2xx")))
}

func TestListPagingAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for i, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		ids = append(ids, b.createUser(t, name, "ext-"+name))
		rec := b.do(t, "okta", http.MethodPatch, "/Users/"+ids[i], `{"Operations":[{"op":"add","path":"displayName","value":"User `+strconv.Itoa(i%2)+`"}]}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	b.createGroup(t, "evens", ids[1], ids[3])
	b.createGroup(t, "odds", ids[0], ids[2], ids[4])

	listIDs := func(res map[string]any) []string {
		var out []string
		for _, r := range res["Resources"].([]any) {
			out = append(out, r.(map[string]any)["id"].(string))
		}
		return out
	}
	tests := []struct {
		name       string
		path       string
		want       []string
		total      int
		startIndex int
	}{
		{"first page", "/Users?startIndex=1&count=2", ids[0:2], 5, 1},
		{"second page", "/Users?startIndex=3&count=2", ids[2:4], 5, 3},
		{"last page", "/Users?startIndex=5&count=2", ids[4:5], 5, 5},
		{"past the end", "/Users?startIndex=9&count=2", nil, 5, 9},
		{"count zero", "/Users?count=0", nil, 5, 1},
		{"startIndex below one", "/Users?startIndex=-4&count=1", ids[0:1], 5, 1},
		{"userName in any case", "/Users?filter=" + qs(`userName eq "U3"`), ids[2:3], 1, 1},
		{"core schema prefix", "/Users?filter=" + qs(`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "u3"`), ids[2:3], 1, 1},
		{"externalId is exact", "/Users?filter=" + qs(`externalId eq "EXT-u3"`), nil, 0, 1},
		{"displayName", "/Users?filter=" + qs(`displayName eq "user 1"`), []string{ids[1], ids[3]}, 2, 1},
		{"and", "/Users?filter=" + qs(`displayName eq "User 1" and externalId eq "ext-u4"`), ids[3:4], 1, 1},
		{"contradiction", "/Users?filter=" + qs(`userName eq "u1" and userName eq "u2"`), nil, 0, 1},
		{"or, paged", "/Users?filter=" + qs(`userName eq "u5" or userName eq "u1" or id eq "`+ids[2]+`"`) + "&count=2", []string{ids[0], ids[2]}, 3, 1},
		{"or, second page", "/Users?filter=" + qs(`userName eq "u5" or userName eq "u1" or id eq "`+ids[2]+`"`) + "&count=2&startIndex=3", ids[4:5], 3, 3},
		{"or with overlap", "/Users?filter=" + qs(`userName eq "u2" or displayName eq "User 1"`), []string{ids[1], ids[3]}, 2, 1},
		{"id not a number", "/Users?filter=" + qs(`id eq "x"`), nil, 0, 1},
		{"group by name", "/Groups?filter=" + qs(`displayName eq "ODDS"`), nil, 1, 1},
		{"groups of a member", "/Groups?filter=" + qs(`members[value eq "`+ids[1]+`"]`), nil, 1, 1},
		{"groups of a member, dotted", "/Groups?filter=" + qs(`members.value eq "`+ids[0]+`"`), nil, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.do(t, "entra", http.MethodGet, tt.path, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			res := body(t, rec)
			require.EqualValues(t, tt.total, res["totalResults"])
			require.EqualValues(t, tt.startIndex, res["startIndex"])
			require.EqualValues(t, len(res["Resources"].([]any)), res["itemsPerPage"])
			if strings.HasPrefix(tt.path, "/Users") {
				require.Equal(t, tt.want, listIDs(res))
			}
		})
	}

	// attributes and excludedAttributes.
	rec := b.do(t, "entra", http.MethodGet, "/Users/"+ids[0]+"?attributes=userName,name.givenName", "")
	require.Equal(t, http.StatusOK, rec.Code)
	res := body(t, rec)
	require.ElementsMatch(t, []string{"id", "schemas", "meta", "userName"}, keys(res))
	rec = b.do(t, "entra", http.MethodGet, "/Users?excludedAttributes=groups,active&count=1", "")
	res = body(t, rec)
	require.NotContains(t, field(res, "Resources", "0"), "groups")
	require.NotContains(t, field(res, "Resources", "0"), "active")
	require.Contains(t, field(res, "Resources", "0"), "userName")
	rec = b.do(t, "entra", http.MethodGet, "/Groups?attributes=displayName", "")
	res = body(t, rec)
	require.ElementsMatch(t, []string{"id", "schemas", "meta", "displayName"}, keys(field(res, "Resources", "0").(map[string]any)))
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestETagsAndIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.createUser(t, "alice", "ext-a")
	b.vars["alice"] = id

	rec := b.do(t, "okta", http.MethodGet, "/Users/{{alice}}", "")
	require.Equal(t, http.StatusOK, rec.Code)
	etag := rec.Header().Get("ETag")
	require.Regexp(t, `^W/"\d+"$`, etag)
	require.Equal(t, etag, field(body(t, rec), "meta", "version"))

	rec = b.do(t, "okta", http.MethodGet, "/Users/{{alice}}", "", "If-None-Match", etag)
	require.Equal(t, http.StatusNotModified, rec.Code)
	require.Empty(t, rec.Body.String())

	// A PUT that changes nothing takes no revision and keeps the version.
	before := b.rev(t)
	same := `{"schemas":["` + SchemaUser + `"],"userName":"alice","externalId":"ext-a","active":true}`
	rec = b.do(t, "okta", http.MethodPut, "/Users/{{alice}}", same, "If-Match", etag)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, etag, rec.Header().Get("ETag"))
	require.Equal(t, before, b.rev(t))

	// A PUT that changes something takes one, and a new version.
	changed := `{"schemas":["` + SchemaUser + `"],"userName":"alice","externalId":"ext-a","active":true,"title":"Dr"}`
	rec = b.do(t, "okta", http.MethodPut, "/Users/{{alice}}", changed, "If-Match", strings.TrimPrefix(etag, "W/"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NotEqual(t, etag, rec.Header().Get("ETag"))
	require.Equal(t, before+1, b.rev(t))

	// The old version no longer matches.
	rec = b.do(t, "okta", http.MethodPut, "/Users/{{alice}}", same, "If-Match", etag)
	require.Equal(t, http.StatusPreconditionFailed, rec.Code)
	rec = b.do(t, "okta", http.MethodDelete, "/Users/{{alice}}", "", "If-Match", "*")
	require.Equal(t, http.StatusNoContent, rec.Code)
	rec = b.do(t, "okta", http.MethodDelete, "/Users/{{alice}}", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, before+2, b.rev(t))

	// A group's version moves when its members change.
	bob := b.createUser(t, "bob", "")
	gid := b.createGroup(t, "g")
	rec = b.do(t, "okta", http.MethodGet, "/Groups/"+gid, "")
	gtag := rec.Header().Get("ETag")
	rec = b.do(t, "okta", http.MethodPatch, "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+bob+`"}]}]}`, "If-Match", gtag)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NotEqual(t, gtag, rec.Header().Get("ETag"))
}

func TestTombstoneAndRevive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.createUser(t, "Dana", "ext-d")
	gid := b.createGroup(t, "readers", id)
	rec := b.do(t, "okta", http.MethodDelete, "/Users/"+id, "")
	require.Equal(t, http.StatusNoContent, rec.Code)

	rec = b.do(t, "okta", http.MethodGet, "/Users/"+id, "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	rec = b.do(t, "okta", http.MethodGet, "/Users?filter="+qs(`userName eq "dana"`), "")
	require.EqualValues(t, 0, body(t, rec)["totalResults"])
	rec = b.do(t, "okta", http.MethodGet, "/Groups/"+gid, "")
	require.Equal(t, []any{}, body(t, rec)["members"])

	// The snapshot keeps the tombstone, so the policy layer denies it.
	dir, _, err := b.st.DirectorySnapshot(b.ctx)
	require.NoError(t, err)
	require.Len(t, dir.Users, 1)
	require.True(t, dir.Users[0].Deleted)
	require.False(t, dir.Users[0].Active)

	// Re-creating by externalId under a new name revives the same row.
	rec = b.do(t, "okta", http.MethodPost, "/Users", `{"userName":"dana.new","externalId":"ext-d"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, id, body(t, rec)["id"])
	dir, _, err = b.st.DirectorySnapshot(b.ctx)
	require.NoError(t, err)
	require.False(t, dir.Users[0].Deleted)
	require.True(t, dir.Users[0].Active)
	require.Equal(t, "dana.new", dir.Users[0].UserName)
}

func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	cluster := pgtest.NewCluster(t)
	ctx := context.Background()
	st, err := store.Open(ctx, cluster.NewDatabase(t), store.Options{TxMaxAttempts: 1})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	b := newBundle(t, ctx, st)
	id := b.createUser(t, "erin", "")
	require.NoError(t, cluster.Stop())

	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/Users/" + id, ""},
		{http.MethodGet, "/Users", ""},
		{http.MethodPost, "/Users", `{"userName":"frank"}`},
		{http.MethodPatch, "/Users/" + id, `{"Operations":[{"op":"replace","path":"active","value":false}]}`},
		{http.MethodDelete, "/Groups/1", ""},
	} {
		rec := b.do(t, "okta", r.method, r.path, r.body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s %s: %s", r.method, r.path, rec.Body.String())
		require.Equal(t, "503", body(t, rec)["status"])
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.do(t, "keycloak", http.MethodGet, "/ServiceProviderConfig", "")
	require.Equal(t, http.StatusOK, rec.Code)
	res := body(t, rec)
	require.Equal(t, true, field(res, "patch", "supported"))
	require.Equal(t, true, field(res, "etag", "supported"))
	require.Equal(t, false, field(res, "bulk", "supported"))

	rec = b.do(t, "keycloak", http.MethodGet, "/ResourceTypes", "")
	res = body(t, rec)
	require.EqualValues(t, 2, res["totalResults"])
	require.Equal(t, SchemaEnterpriseUser, field(res, "Resources", "0", "schemaExtensions", "0", "schema"))
	rec = b.do(t, "keycloak", http.MethodGet, "/ResourceTypes/Group", "")
	require.Equal(t, "/Groups", body(t, rec)["endpoint"])

	rec = b.do(t, "keycloak", http.MethodGet, "/Schemas", "")
	res = body(t, rec)
	require.EqualValues(t, 3, res["totalResults"])
	for _, id := range []string{SchemaUser, SchemaGroup, SchemaEnterpriseUser} {
		rec = b.do(t, "keycloak", http.MethodGet, "/Schemas/"+id, "")
		require.Equal(t, http.StatusOK, rec.Code, id)
		require.Equal(t, id, body(t, rec)["id"])
		require.NotEmpty(t, body(t, rec)["attributes"])
	}
	rec = b.do(t, "keycloak", http.MethodGet, "/Schemas/urn:nope", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestNewHandlerOptions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name string
		opts Options
	}{
		{"no clients", Options{}},
		{"empty token", Options{Clients: []Client{{Name: "a"}}}},
		{"empty name", Options{Clients: []Client{{Token: "t"}}}},
		{"same name", Options{Clients: []Client{{Name: "a", Token: "t1"}, {Name: "a", Token: "t2"}}}},
		{"same token", Options{Clients: []Client{{Name: "a", Token: "t"}, {Name: "b", Token: "t"}}}},
		{"relative base URL", Options{Clients: testClients, BaseURL: "/scim/v2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHandler(b.st, tt.opts)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "t1")
		})
	}
	// Two handlers may share a registry.
	_, err := NewHandler(b.st, Options{Clients: testClients, Registerer: b.reg})
	require.NoError(t, err)

	// Without BaseURL, locations follow the request's host.
	h, err := NewHandler(b.st, Options{Clients: testClients})
	require.NoError(t, err)
	b.h = h
	rec := b.do(t, "okta", http.MethodPost, "/Users", `{"userName":"gina"}`)
	require.Equal(t, http.StatusCreated, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Location"), "http://example.com/scim/v2/Users/"), rec.Header().Get("Location"))
}
