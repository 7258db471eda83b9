package scim

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkPatchUser(b *testing.B) {
	ops, err := compilePatch(patchRequest{
		Schemas: []string{schemaPatchOp},
		Operations: []patchOp{
			{Op: "Replace", Path: "active", Value: []byte(`"False"`)},
			{Op: "Add", Path: `emails[type eq "work"].value`, Value: []byte(`"a@example.com"`)},
			{Op: "Replace", Path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Value: []byte(`"Ops"`)},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	u := fuzzUser()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := patchedUser(u, ops); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterTerms(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filterTerms(`userName eq "alice@example.com" or externalId eq "00u1a2b3"`, userFilterAttrs, SchemaUser); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate measures the token check every request pays.
func BenchmarkAuthenticate(b *testing.B) {
	h, err := NewHandler(nil, Options{Clients: testClients})
	if err == nil || h != nil {
		b.Fatal("a handler needs a store")
	}
	h = &Handler{}
	for _, c := range testClients {
		h.clients = append(h.clients, clientKey{name: c.Name, sum: sha256Sum(c.Token)})
	}
	req := httptest.NewRequest(http.MethodGet, MountPath+"/Users", nil)
	req.Header.Set("Authorization", "Bearer token-keycloak")
	b.ReportAllocs()
	for b.Loop() {
		if h.authenticate(req) != "keycloak" {
			b.Fatal("not authenticated")
		}
	}
}
