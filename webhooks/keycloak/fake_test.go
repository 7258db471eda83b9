package keycloak_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trino-warden/warden/webhooks/keycloak"
)

// fakeKeycloak is an in-process Keycloak: a token endpoint for the
// client-credentials grant and the admin endpoints the handler reads, served
// from an in-memory realm.
type fakeKeycloak struct {
	srv          *httptest.Server
	realm        string
	clientID     string
	clientSecret string

	mu         sync.Mutex
	users      map[string]keycloak.User
	groups     map[string]fakeGroup
	members    map[string][]string // user ID → group IDs
	tokens     map[string]bool
	issued     int
	adminCalls int
	down       bool // answer 503 to everything
	revokeAll  bool // refuse the tokens issued so far, once
}

type fakeGroup struct {
	name, parent string
}

func newFakeKeycloak(t *testing.T) *fakeKeycloak {
	t.Helper()
	f := &fakeKeycloak{realm: "acme", clientID: "warden", clientSecret: "s3cr3t",
		users: map[string]keycloak.User{}, groups: map[string]fakeGroup{}, members: map[string][]string{}, tokens: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeKeycloak) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "/realms/"+f.realm+"/protocol/openid-connect/token" {
		f.token(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/admin/realms/"+f.realm+"/")
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if f.revokeAll {
		f.tokens, f.revokeAll = map[string]bool{}, false
	}
	if !f.tokens[tok] {
		http.Error(w, `{"error":"HTTP 401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	f.adminCalls++
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[0] == "users":
		u, ok := f.users[parts[1]]
		if !ok {
			http.Error(w, `{"error":"User not found"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, u)
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "groups":
		if _, ok := f.users[parts[1]]; !ok {
			http.Error(w, `{"error":"User not found"}`, http.StatusNotFound)
			return
		}
		first, _ := strconv.Atoi(r.URL.Query().Get("first"))
		maxN, _ := strconv.Atoi(r.URL.Query().Get("max"))
		var all []keycloak.Group
		for _, id := range f.members[parts[1]] {
			all = append(all, f.group(id))
		}
		slices.SortFunc(all, func(a, b keycloak.Group) int { return strings.Compare(a.Path, b.Path) })
		all = all[min(first, len(all)):]
		if maxN > 0 && len(all) > maxN {
			all = all[:maxN]
		}
		writeJSON(w, all)
	case len(parts) == 2 && parts[0] == "groups":
		if _, ok := f.groups[parts[1]]; !ok {
			http.Error(w, `{"error":"Could not find group by id"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, f.group(parts[1]))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeKeycloak) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != f.clientID ||
		r.PostForm.Get("client_secret") != f.clientSecret {
		http.Error(w, `{"error":"unauthorized_client"}`, http.StatusUnauthorized)
		return
	}
	f.issued++
	tok := fmt.Sprintf("token-%d", f.issued)
	f.tokens[tok] = true
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": 300, "token_type": "Bearer"})
}

// group returns a group with its path; f.mu is held.
func (f *fakeKeycloak) group(id string) keycloak.Group {
	g := f.groups[id]
	path := "/" + g.name
	for p := g.parent; p != ""; p = f.groups[p].parent {
		path = "/" + f.groups[p].name + path
	}
	return keycloak.Group{ID: id, Name: g.name, Path: path, ParentID: g.parent}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Mutators, as an administrator would change the realm.

func (f *fakeKeycloak) putUser(u keycloak.User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[u.ID] = u
}

func (f *fakeKeycloak) deleteUser(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users, id)
	delete(f.members, id)
}

func (f *fakeKeycloak) putGroup(id, name, parent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[id] = fakeGroup{name: name, parent: parent}
}

func (f *fakeKeycloak) deleteGroup(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var drop func(string)
	drop = func(id string) {
		for child, g := range f.groups {
			if g.parent == id {
				drop(child)
			}
		}
		delete(f.groups, id)
		for u, gs := range f.members {
			f.members[u] = slices.DeleteFunc(gs, func(g string) bool { return g == id })
		}
	}
	drop(id)
}

func (f *fakeKeycloak) join(userID, groupID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[userID] = append(f.members[userID], groupID)
}

func (f *fakeKeycloak) leave(userID, groupID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[userID] = slices.DeleteFunc(f.members[userID], func(g string) bool { return g == groupID })
}

func (f *fakeKeycloak) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeKeycloak) counts() (tokens, adminCalls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued, f.adminCalls
}
