package scim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// step is one recorded request of an identity provider and what it must do.
type step struct {
	name    string
	method  string
	path    string // under MountPath, with {{var}}s
	fixture string // request body under testdata/scim, "" for none
	status  int
	// bump is how many revisions the request takes: 1 for a write that
	// changes something, 0 otherwise.
	bump int64
	// save names a var that keeps the id of the created resource.
	save  string
	check func(t *testing.T, b *testBundle, res map[string]any)
}

func qs(filter string) string { return url.QueryEscape(filter) }

// runSteps plays steps in order against one database, as one client.
func runSteps(t *testing.T, client string, steps []step) *testBundle {
	t.Helper()
	b := setup(t)
	for _, s := range steps {
		before := b.rev(t)
		reqBody := ""
		if s.fixture != "" {
			reqBody = b.fixture(t, s.fixture)
		}
		rec := b.do(t, client, s.method, s.path, reqBody)
		require.Equal(t, s.status, rec.Code, "%s: %s", s.name, rec.Body.String())
		require.Equal(t, before+s.bump, b.rev(t), "%s: revisions taken", s.name)
		res := body(t, rec)
		if s.save != "" {
			id, _ := res["id"].(string)
			require.NotEmpty(t, id, s.name)
			b.vars[s.save] = id
			resource := "Groups"
			if strings.HasPrefix(s.path, "/Users") {
				resource = "Users"
			}
			require.Equal(t, testBase+"/"+resource+"/"+id, rec.Header().Get("Location"), s.name)
		}
		if res != nil && res["meta"] != nil {
			require.Equal(t, field(res, "meta", "version"), rec.Header().Get("ETag"), s.name)
		}
		if s.check != nil {
			s.check(t, b, res)
		}
	}
	return b
}

// storeUser reads a user from the store by SCIM id.
func storeUser(t *testing.T, b *testBundle, id string) store.User {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	u, err := b.st.UserGet(b.ctx, n)
	require.NoError(t, err)
	return u
}

// memberNames lists a group's members from the store.
func memberNames(t *testing.T, b *testBundle, group string) []string {
	t.Helper()
	users, err := b.st.GroupMemberList(b.ctx, group)
	require.NoError(t, err)
	var out []string
	for _, u := range users {
		out = append(out, u.UserName)
	}
	return out
}

func total(res map[string]any) any { return res["totalResults"] }

func TestOkta(t *testing.T) {
	t.Parallel()
	runSteps(t, "okta", []step{
		{name: "look up before create", method: http.MethodGet, path: "/Users?filter=" + qs(`userName eq "alice@example.com"`) + "&startIndex=1&count=100", status: http.StatusOK,
			check: func(t *testing.T, _ *testBundle, res map[string]any) {
				require.EqualValues(t, 0, total(res))
				require.Equal(t, []any{schemaListResponse}, res["schemas"])
				require.Equal(t, []any{}, res["Resources"])
			}},
		{name: "create user", method: http.MethodPost, path: "/Users", fixture: "okta/create_user.json", status: http.StatusCreated, bump: 1, save: "alice",
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Nil(t, res["password"], "a password is never kept")
				require.Equal(t, "Alice", field(res, "name", "givenName"))
				require.Equal(t, "en-US", res["locale"])
				require.Equal(t, true, res["active"])
				require.Equal(t, "User", field(res, "meta", "resourceType"))
				u := storeUser(t, b, b.vars["alice"])
				require.Equal(t, "alice@example.com", u.Email)
				require.Equal(t, "00u1a2b3c4d5e6f7g8h9", u.ExternalID)
				require.Equal(t, "Alice Anders", u.DisplayName)
				require.NotContains(t, u.SCIM, "password")
			}},
		{name: "create another user", method: http.MethodPost, path: "/Users", fixture: "okta/create_user_bob.json", status: http.StatusCreated, bump: 1, save: "bob"},
		{name: "look up after create", method: http.MethodGet, path: "/Users?filter=" + qs(`userName eq "ALICE@example.com"`), status: http.StatusOK,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.EqualValues(t, 1, total(res))
				require.Equal(t, b.vars["alice"], field(res, "Resources", "0", "id"))
			}},
		{name: "replace user", method: http.MethodPut, path: "/Users/{{alice}}", fixture: "okta/replace_user.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, "Data Engineer", res["title"])
				require.Equal(t, "Anders-Berg", field(res, "name", "familyName"))
				require.Equal(t, "alice.ab@example.com", storeUser(t, b, b.vars["alice"]).Email)
			}},
		{name: "replace user again", method: http.MethodPut, path: "/Users/{{alice}}", fixture: "okta/replace_user.json", status: http.StatusOK},
		{name: "push group", method: http.MethodPost, path: "/Groups", fixture: "okta/create_group.json", status: http.StatusCreated, bump: 1, save: "analysts",
			check: func(t *testing.T, _ *testBundle, res map[string]any) {
				require.Equal(t, "Analysts", res["displayName"])
				require.Equal(t, []any{}, res["members"])
			}},
		{name: "add members", method: http.MethodPatch, path: "/Groups/{{analysts}}", fixture: "okta/group_add_members.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, []string{"alice@example.com", "bob@example.com"}, memberNames(t, b, "Analysts"))
				require.Len(t, res["members"], 2)
			}},
		{name: "add members again", method: http.MethodPatch, path: "/Groups/{{analysts}}", fixture: "okta/group_add_members.json", status: http.StatusOK},
		{name: "remove member", method: http.MethodPatch, path: "/Groups/{{analysts}}", fixture: "okta/group_remove_member.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, _ map[string]any) {
				require.Equal(t, []string{"alice@example.com"}, memberNames(t, b, "Analysts"))
			}},
		{name: "rename group", method: http.MethodPatch, path: "/Groups/{{analysts}}", fixture: "okta/group_rename.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, "Data Analysts", res["displayName"])
				require.Equal(t, []string{"alice@example.com"}, memberNames(t, b, "Data Analysts"))
			}},
		{name: "list groups without members", method: http.MethodGet, path: "/Groups?excludedAttributes=members&startIndex=1&count=100", status: http.StatusOK,
			check: func(t *testing.T, _ *testBundle, res map[string]any) {
				require.EqualValues(t, 1, total(res))
				require.NotContains(t, field(res, "Resources", "0"), "members")
			}},
		{name: "user lists its group", method: http.MethodGet, path: "/Users/{{alice}}", status: http.StatusOK,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, b.vars["analysts"], field(res, "groups", "0", "value"))
				require.Equal(t, "Data Analysts", field(res, "groups", "0", "display"))
			}},
		{name: "deactivate user", method: http.MethodPatch, path: "/Users/{{alice}}", fixture: "okta/deactivate_user.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, false, res["active"])
				require.False(t, storeUser(t, b, b.vars["alice"]).Active)
				require.Equal(t, "Data Engineer", res["title"], "a patch keeps the other attributes")
			}},
		{name: "delete user", method: http.MethodDelete, path: "/Users/{{bob}}", status: http.StatusNoContent, bump: 1},
		{name: "delete user again", method: http.MethodDelete, path: "/Users/{{bob}}", status: http.StatusNotFound},
	})
}

func TestEntra(t *testing.T) {
	t.Parallel()
	const ext = SchemaEnterpriseUser
	b := runSteps(t, "entra", []step{
		{name: "look up before create", method: http.MethodGet, path: "/Users?filter=" + qs(`userName eq "Ryan.Leenay@contoso.com"`), status: http.StatusOK,
			check: func(t *testing.T, _ *testBundle, res map[string]any) { require.EqualValues(t, 0, total(res)) }},
		{name: "create manager", method: http.MethodPost, path: "/Users", fixture: "entra/create_manager.json", status: http.StatusCreated, bump: 1, save: "mona"},
		{name: "create user", method: http.MethodPost, path: "/Users", fixture: "entra/create_user.json", status: http.StatusCreated, bump: 1, save: "ryan",
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, []any{SchemaUser, ext}, res["schemas"])
				require.Equal(t, "Finance", field(res, ext, "department"))
				require.Nil(t, res["meta"].(map[string]any)["ResourceType"])
				u := storeUser(t, b, b.vars["ryan"])
				require.Equal(t, map[string]any{
					"department": "Finance", "employeeNumber": "E1001", "costCenter": "CC-7",
					"organization": "Contoso", "division": "EMEA",
				}, u.Attributes)
			}},
		{name: "look up by external id", method: http.MethodGet, path: "/Users?filter=" + qs(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), status: http.StatusOK,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.EqualValues(t, 1, total(res))
				require.Equal(t, b.vars["ryan"], field(res, "Resources", "0", "id"))
			}},
		{name: "patch user", method: http.MethodPatch, path: "/Users/{{ryan}}", fixture: "entra/patch_user.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, "Ryan Leenay", res["displayName"])
				require.Equal(t, "ryan@contoso.com", field(res, "emails", "0", "value"))
				require.Equal(t, "+1 555 0100", field(res, "phoneNumbers", "0", "value"))
				require.Equal(t, "mobile", field(res, "phoneNumbers", "0", "type"))
				require.Equal(t, "Leenay-Kane", field(res, "name", "familyName"))
				require.Equal(t, b.vars["mona"], field(res, ext, "manager", "value"))
				require.Nil(t, field(res, ext, "division"))
				u := storeUser(t, b, b.vars["ryan"])
				require.Equal(t, "ryan@contoso.com", u.Email)
				require.Equal(t, map[string]any{
					"department": "Treasury", "employeeNumber": "E1001", "costCenter": "CC-7",
					"organization": "Contoso", "manager": b.vars["mona"],
				}, u.Attributes)
			}},
		{name: "disable user with a string boolean", method: http.MethodPatch, path: "/Users/{{ryan}}", fixture: "entra/disable_user.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, false, res["active"])
				require.False(t, storeUser(t, b, b.vars["ryan"]).Active)
			}},
		{name: "disable user again", method: http.MethodPatch, path: "/Users/{{ryan}}", fixture: "entra/disable_user.json", status: http.StatusOK},
		{name: "path-less replace", method: http.MethodPatch, path: "/Users/{{ryan}}", fixture: "entra/patch_user_pathless.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, true, res["active"])
				require.Equal(t, "Ry", field(res, "name", "givenName"))
				require.Equal(t, "Leenay-Kane", field(res, "name", "familyName"))
				require.Equal(t, "CC-9", storeUser(t, b, b.vars["ryan"]).Attributes["costCenter"])
			}},
		{name: "look up group", method: http.MethodGet, path: "/Groups?filter=" + qs(`displayName eq "Finance Readers"`) + "&excludedAttributes=members", status: http.StatusOK,
			check: func(t *testing.T, _ *testBundle, res map[string]any) { require.EqualValues(t, 0, total(res)) }},
		{name: "create group", method: http.MethodPost, path: "/Groups", fixture: "entra/create_group.json", status: http.StatusCreated, bump: 1, save: "finance"},
		{name: "add members", method: http.MethodPatch, path: "/Groups/{{finance}}", fixture: "entra/group_add_member.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, _ map[string]any) {
				require.Equal(t, []string{"Mona.Kane@contoso.com", "Ryan.Leenay@contoso.com"}, memberNames(t, b, "Finance Readers"))
			}},
		{name: "membership check", method: http.MethodGet, path: "/Groups?filter=" + qs(`id eq "{{finance}}" and members[value eq "{{ryan}}"]`) + "&excludedAttributes=members", status: http.StatusOK,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.EqualValues(t, 1, total(res))
				require.Equal(t, b.vars["finance"], field(res, "Resources", "0", "id"))
				require.NotContains(t, field(res, "Resources", "0"), "members")
			}},
		{name: "remove member by value", method: http.MethodPatch, path: "/Groups/{{finance}}", fixture: "entra/group_remove_member.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, _ map[string]any) {
				require.Equal(t, []string{"Ryan.Leenay@contoso.com"}, memberNames(t, b, "Finance Readers"))
			}},
		{name: "membership check after removal", method: http.MethodGet, path: "/Groups?filter=" + qs(`id eq "{{finance}}" and members[value eq "{{mona}}"]`) + "&excludedAttributes=members", status: http.StatusOK,
			check: func(t *testing.T, _ *testBundle, res map[string]any) { require.EqualValues(t, 0, total(res)) }},
		{name: "rename group", method: http.MethodPatch, path: "/Groups/{{finance}}", fixture: "entra/group_replace_displayname.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, _ *testBundle, res map[string]any) {
				require.Equal(t, "Finance Readers (EMEA)", res["displayName"])
			}},
		{name: "get group excluding members", method: http.MethodGet, path: "/Groups/{{finance}}?excludedAttributes=members", status: http.StatusOK,
			check: func(t *testing.T, _ *testBundle, res map[string]any) { require.NotContains(t, res, "members") }},
		{name: "delete group", method: http.MethodDelete, path: "/Groups/{{finance}}", status: http.StatusNoContent, bump: 1},
	})
	// Every write is in the change log under the client's name.
	changes, _, err := b.st.Changes(b.ctx, store.ChangeFilter{Actor: "scim:entra"}, 0, 100)
	require.NoError(t, err)
	require.NotEmpty(t, changes)
}

func TestKeycloak(t *testing.T) {
	t.Parallel()
	runSteps(t, "keycloak", []step{
		{name: "create user", method: http.MethodPost, path: "/Users", fixture: "keycloak/create_user.json", status: http.StatusCreated, bump: 1, save: "carol",
			check: func(t *testing.T, _ *testBundle, res map[string]any) {
				require.Equal(t, "trino-analyst", field(res, "roles", "0", "value"))
			}},
		{name: "create group with a member", method: http.MethodPost, path: "/Groups", fixture: "keycloak/create_group.json", status: http.StatusCreated, bump: 1, save: "engineering",
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, []string{"carol"}, memberNames(t, b, "engineering"))
				require.Equal(t, b.vars["carol"], field(res, "members", "0", "value"))
				require.Equal(t, testBase+"/Users/"+b.vars["carol"], field(res, "members", "0", "$ref"))
			}},
		{name: "disable by replace", method: http.MethodPut, path: "/Users/{{carol}}", fixture: "keycloak/replace_user.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, _ map[string]any) {
				require.False(t, storeUser(t, b, b.vars["carol"]).Active)
			}},
		{name: "empty the group by replace", method: http.MethodPut, path: "/Groups/{{engineering}}", fixture: "keycloak/replace_group.json", status: http.StatusOK, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Empty(t, memberNames(t, b, "engineering"))
				require.Equal(t, []any{}, res["members"])
			}},
		{name: "delete group", method: http.MethodDelete, path: "/Groups/{{engineering}}", status: http.StatusNoContent, bump: 1},
		{name: "delete user", method: http.MethodDelete, path: "/Users/{{carol}}", status: http.StatusNoContent, bump: 1},
		{name: "deleted user is gone", method: http.MethodGet, path: "/Users/{{carol}}", status: http.StatusNotFound},
		{name: "re-create revives the user", method: http.MethodPost, path: "/Users", fixture: "keycloak/create_user.json", status: http.StatusCreated, bump: 1,
			check: func(t *testing.T, b *testBundle, res map[string]any) {
				require.Equal(t, b.vars["carol"], res["id"])
				require.True(t, storeUser(t, b, b.vars["carol"]).Active)
			}},
	})
}
