package scim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// FuzzFilter feeds list filters to the parser and the translation to store
// filters, and PATCH path filters to the element matcher: nothing may panic,
// and an accepted filter must translate.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "alice"`,
		`userName Eq "a" and externalId eq "b"`,
		`userName eq "a" or (displayName eq "b" and externalId eq "c")`,
		`id eq "1" and members[value eq "2"]`,
		`members.value eq "3"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`emails[type eq "work" and value co "@example.com"]`,
		`not (userName eq "x")`,
		`title pr`,
		`userName eq`,
		`(((`,
	} {
		f.Add(s)
	}
	elem := map[string]any{"value": "2", "type": "work", "primary": true, "display": "Alice"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, allowed := range []map[string]bool{userFilterAttrs, groupFilterAttrs} {
			terms, err := filterTerms(s, allowed, SchemaUser)
			if err != nil {
				require.Equal(t, scimInvalidFilter, err.ScimType)
				continue
			}
			require.NotEmpty(t, terms)
			require.LessOrEqual(t, len(terms), maxDisjuncts)
			for _, conj := range terms {
				for _, tm := range conj {
					require.True(t, allowed[tm.attr], tm.attr)
				}
				userFilter(conj)
				groupFilter(conj)
			}
		}
		if expr, err := parseFilter(s); err == nil {
			_, _ = matches(expr, elem)
			filterElement(expr)
		}
		if p, err := parsePath(s); err == nil && p.ValueExpression != nil {
			_, _ = matches(p.ValueExpression, elem)
		}
	})
}

// fuzzUser is the user FuzzPatch patches.
func fuzzUser() store.User {
	return store.User{
		ID: 7, UserName: "alice", ExternalID: "ext-a", DisplayName: "Alice", Email: "alice@example.com",
		Active: true, Revision: 3, CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0),
		Attributes: map[string]any{"clearance": "high", "department": "Eng"},
		SCIM: map[string]any{
			"name":   map[string]any{"givenName": "Alice", "familyName": "Anders"},
			"emails": []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
			SchemaEnterpriseUser: map[string]any{
				"department": "Eng", "manager": map[string]any{"value": "9"},
			},
		},
	}
}

// FuzzPatch feeds PATCH bodies to the parser and applies accepted ones to a
// user and to a group. Nothing may panic, and an accepted patch must leave a
// valid resource: one that renders and reads back to the same thing.
func FuzzPatch(f *testing.F) {
	for _, dir := range []string{"okta", "entra", "keycloak"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "scim", dir, "*.json"))
		for _, file := range files {
			raw, err := os.ReadFile(file)
			require.NoError(f, err)
			if strings.Contains(string(raw), "Operations") {
				f.Add(strings.NewReplacer("{{alice}}", "7", "{{bob}}", "8", "{{mona}}", "9", "{{ryan}}", "7", "{{analysts}}", "5").Replace(string(raw)))
			}
		}
	}
	for _, s := range []string{
		`{"Operations":[{"op":"remove","path":"members[value eq \"7\"]"}]}`,
		`{"Operations":[{"op":"add","path":"emails[type eq \"home\"]","value":{"value":"h@x"}}]}`,
		`{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"X"}}]}`,
		`{"Operations":[{"op":"remove","path":"emails[value co \"@\"].primary"}]}`,
		`{"Operations":[{"op":"replace","path":"name","value":"x"}]}`,
		`{"Operations":[{"op":"add","path":"members","value":{"value":"8"}}]}`,
	} {
		f.Add(s)
	}
	base := fuzzUser()
	group := store.Group{ID: 5, Name: "g", DisplayName: "g", Revision: 2}
	members := []store.Member{{GroupID: 5, UserID: 7, UserName: "alice"}}
	f.Fuzz(func(t *testing.T, body string) {
		var req patchRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		ops, err := compilePatch(req)
		if err != nil {
			require.Less(t, err.Status, 500)
			return
		}
		if u, err := patchedUser(base, ops); err == nil {
			require.NotEmpty(t, strings.TrimSpace(u.UserName))
			require.Equal(t, base.ID, u.ID)
			again, err := userFromResource(cloneJSON(userResource(u, nil, "")).(map[string]any), &u)
			require.Nil(t, err, "a patched user must read back")
			require.True(t, sameUser(u, again), "a patched user must read back unchanged")
		} else {
			require.Less(t, err.Status, 500)
		}
		if spec, err := patchedGroup(group, members, ops); err == nil {
			require.NotEmpty(t, strings.TrimSpace(spec.group.Name))
			for _, id := range spec.members {
				require.Positive(t, id)
			}
		} else {
			require.Less(t, err.Status, 500)
		}
	})
}
