package keycloak_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
	"github.com/trino-warden/warden/webhooks"
	"github.com/trino-warden/warden/webhooks/keycloak"
)

const (
	webhookSecret = "ofj09saP4-warden"
	alice         = "6f1e2a8c-1b7d-4c1e-9a55-0d3f4b2e7a10"
	bob           = "0c9d8e7f-2a3b-4c5d-8e9f-1a2b3c4d5e6f"
	analysts      = "a1b2c3d4-0000-4000-8000-000000000001"
	eng           = "a1b2c3d4-0000-4000-8000-000000000002"
	data          = "a1b2c3d4-0000-4000-8000-000000000003"
	fixtureDir    = "../../testdata/webhooks/keycloak"
)

// t0 is the time of the recorded fixtures' first event, less one second.
var t0 = time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)

type testBundle struct {
	ctx     context.Context
	store   *store.Store
	kc      *fakeKeycloak
	handler *keycloak.Handler
	now     time.Time
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	s, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	b := &testBundle{ctx: ctx, store: s, kc: newFakeKeycloak(t), now: t0.Add(time.Minute)}
	b.handler, err = keycloak.NewHandler(s, keycloak.Options{
		Secrets: []string{"new-secret-being-rolled-out", webhookSecret},
		BaseURL: b.kc.srv.URL, Realm: "acme", ClientID: b.kc.clientID, ClientSecret: b.kc.clientSecret,
		Now: func() time.Time { return b.now },
	})
	require.NoError(t, err)
	// The realm as the fixtures find it.
	b.kc.putUser(keycloak.User{ID: alice, Username: "alice", Email: "alice@example.com", FirstName: "Alice",
		LastName: "Liddell", Enabled: true, Attributes: map[string][]string{"department": {"engineering"}}})
	b.kc.putGroup(analysts, "analysts", "")
	b.kc.putGroup(eng, "eng", "")
	b.kc.putGroup(data, "data", eng)
	b.kc.join(alice, analysts)
	return b
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(fixtureDir, name))
	require.NoError(t, err)
	return body
}

type answer struct {
	status int
	result webhooks.Result
	code   string
	msg    string
}

func (b *testBundle) deliver(t *testing.T, body []byte, sig string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, keycloak.MountPath, bytes.NewReader(body)).WithContext(b.ctx)
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(keycloak.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	a := answer{status: rec.Code}
	if rec.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a.result))
	} else {
		var e struct{ Code, Message string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
		a.code, a.msg = e.Code, e.Message
	}
	return a
}

func (b *testBundle) post(t *testing.T, body []byte) answer {
	t.Helper()
	return b.deliver(t, body, keycloak.Sign(webhookSecret, body))
}

func (b *testBundle) revision(t *testing.T) int64 {
	t.Helper()
	rev, err := b.store.CurrentRevision(b.ctx)
	require.NoError(t, err)
	return rev
}

func (b *testBundle) groupsOf(t *testing.T, user string) []string {
	t.Helper()
	gs, err := b.store.UserGroupList(b.ctx, user)
	require.NoError(t, err)
	names := []string{}
	for _, g := range gs {
		names = append(names, g.Name)
	}
	return names
}

// TestRecordedEvents replays the recorded payloads in order while the fake
// realm changes as Keycloak's would, and checks the store after each.
func TestRecordedEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	steps := []struct {
		fixture string
		before  func()
		status  string
		check   func(t *testing.T)
	}{
		{"01-admin-user-create.json", nil, "applied", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "alice")
			require.NoError(t, err)
			require.Equal(t, alice, u.ExternalID)
			require.Equal(t, "Alice Liddell", u.DisplayName)
			require.Equal(t, "alice@example.com", u.Email)
			require.True(t, u.Active)
			require.Equal(t, map[string]any{"department": []any{"engineering"}}, u.Attributes)
			require.Equal(t, []string{"analysts"}, b.groupsOf(t, "alice"))
			g, err := b.store.GroupGetByName(b.ctx, "analysts")
			require.NoError(t, err)
			require.Equal(t, analysts, g.ExternalID)
		}},
		{"02-admin-group-membership-create.json", func() { b.kc.join(alice, data) }, "applied", func(t *testing.T) {
			require.Equal(t, []string{"analysts", "eng/data"}, b.groupsOf(t, "alice"))
		}},
		{"03-admin-user-update.json", func() {
			b.kc.putUser(keycloak.User{ID: alice, Username: "alice", Email: "alice@acme.example", FirstName: "Alice",
				LastName: "Liddell", Enabled: false})
		}, "applied", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "alice")
			require.NoError(t, err)
			require.Equal(t, "alice@acme.example", u.Email)
			require.False(t, u.Active)
			require.Empty(t, u.Attributes)
		}},
		{"04-admin-group-update.json", func() { b.kc.putGroup(eng, "engineering", "") }, "applied", func(t *testing.T) {
			require.Equal(t, []string{"analysts", "engineering/data"}, b.groupsOf(t, "alice"))
			g, err := b.store.GroupGetByName(b.ctx, "engineering")
			require.NoError(t, err)
			require.Equal(t, eng, g.ExternalID)
		}},
		{"05-admin-group-membership-delete.json", func() { b.kc.leave(alice, analysts) }, "applied", func(t *testing.T) {
			require.Equal(t, []string{"engineering/data"}, b.groupsOf(t, "alice"))
		}},
		{"06-admin-group-delete.json", func() { b.kc.deleteGroup(eng) }, "applied", func(t *testing.T) {
			for _, name := range []string{"engineering", "engineering/data"} {
				_, err := b.store.GroupGetByName(b.ctx, name)
				require.ErrorIs(t, err, store.ErrNotFound, name)
			}
			require.Empty(t, b.groupsOf(t, "alice"))
		}},
		{"07-access-register.json", func() {
			b.kc.putUser(keycloak.User{ID: bob, Username: "bob", Email: "bob@example.com", FirstName: "Bob", Enabled: true})
		}, "applied", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "bob")
			require.NoError(t, err)
			require.Equal(t, bob, u.ExternalID)
			require.Equal(t, "Bob", u.DisplayName)
		}},
		{"08-access-update-profile.json", func() {
			b.kc.putUser(keycloak.User{ID: bob, Username: "bob", Email: "bob@example.com", FirstName: "Robert", Enabled: true})
		}, "applied", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "bob")
			require.NoError(t, err)
			require.Equal(t, "Robert", u.DisplayName)
		}},
		{"09-access-login.json", nil, "ignored", nil},
		{"10-admin-user-delete.json", func() { b.kc.deleteUser(alice) }, "applied", func(t *testing.T) {
			_, err := b.store.UserGetByName(b.ctx, "alice")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"11-access-delete-account.json", func() { b.kc.deleteUser(bob) }, "applied", func(t *testing.T) {
			_, err := b.store.UserGetByName(b.ctx, "bob")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"12-admin-group-create.json", func() { b.kc.putGroup(data, "data", analysts) }, "applied", func(t *testing.T) {
			g, err := b.store.GroupGetByName(b.ctx, "analysts/data")
			require.NoError(t, err)
			require.Equal(t, data, g.ExternalID)
		}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		rev := b.revision(t)
		a := b.post(t, fixture(t, s.fixture))
		require.Equal(t, http.StatusOK, a.status, "%s: %s", s.fixture, a.msg)
		require.Equal(t, s.status, a.result.Status, s.fixture)
		if s.status == "ignored" {
			require.Equal(t, rev, b.revision(t), "%s: an ignored event writes nothing", s.fixture)
			continue
		}
		require.Equal(t, rev+1, a.result.Revision, "%s: one event, one revision (%s)", s.fixture, a.result.Note)
		s.check(t)
	}
	changes, _, err := b.store.Changes(b.ctx, store.ChangeFilter{}, 0, 1000)
	require.NoError(t, err)
	for _, c := range changes {
		require.Equal(t, keycloak.Actor, c.Actor)
	}
}

func TestDuplicateAndOutOfOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	create := fixture(t, "01-admin-user-create.json")
	require.Equal(t, "applied", b.post(t, create).result.Status)
	rev := b.revision(t)
	a := b.post(t, create)
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, "duplicate", a.result.Status)
	require.Equal(t, rev, b.revision(t))

	// The update (time +3 s) is applied before the membership change (+2 s)
	// arrives: the latter is stale, and nothing is lost, since the update
	// wrote the state read after both.
	b.kc.join(alice, data)
	b.kc.putUser(keycloak.User{ID: alice, Username: "alice", Email: "alice@acme.example", Enabled: true})
	require.Equal(t, "applied", b.post(t, fixture(t, "03-admin-user-update.json")).result.Status)
	require.Equal(t, []string{"analysts", "eng/data"}, b.groupsOf(t, "alice"))
	rev = b.revision(t)
	a = b.post(t, fixture(t, "02-admin-group-membership-create.json"))
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, "stale", a.result.Status)
	require.Equal(t, "user:"+alice, a.result.Subject)
	require.Equal(t, rev, b.revision(t))
	rec, err := b.store.WebhookEventGet(b.ctx, keycloak.Source, "e0000001-0000-4000-8000-000000000002")
	require.NoError(t, err)
	require.Equal(t, "stale", rec.Status)

	// An update delivered after the user is gone from Keycloak deletes it.
	b.kc.deleteUser(alice)
	late := bytes.Replace(fixture(t, "03-admin-user-update.json"), []byte(`"uid":"e0000001-0000-4000-8000-000000000003"`), []byte(`"uid":"late"`), 1)
	late = bytes.Replace(late, []byte(`"time":1795309203000`), []byte(`"time":1795309204000`), 1)
	a = b.post(t, late)
	require.Equal(t, "applied", a.result.Status, a.msg)
	require.Contains(t, a.result.Note, "deleted user alice")
}

func TestRejections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := fixture(t, "01-admin-user-create.json")
	mutate := func(old, new string) []byte { return bytes.Replace(body, []byte(old), []byte(new), 1) }
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		code   string
		msg    string
	}{
		{"missing signature", body, "-", 400, webhooks.CodeInvalid, "X-Keycloak-Signature is missing"},
		{"garbled signature", body, "zz", 400, webhooks.CodeInvalid, "64 hex digits"},
		{"HmacSHA1 signature", body, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", 400, webhooks.CodeInvalid, "HmacSHA1"},
		{"wrong secret", body, keycloak.Sign("other", body), 401, webhooks.CodeUnauthorized, "does not match"},
		{"tampered body", body, keycloak.Sign(webhookSecret, mutate("alice", "eve")), 401, webhooks.CodeUnauthorized, "does not match"},
		{"not JSON", []byte(`{"type":`), "", 400, webhooks.CodeInvalid, "invalid JSON"},
		{"not an object", []byte(`["admin.USER-CREATE"]`), "", 400, webhooks.CodeInvalid, "JSON object"},
		{"no uid", mutate(`"uid":"e0000001-0000-4000-8000-000000000001"`, `"uid":null`), "", 400, webhooks.CodeInvalid, "uid is missing"},
		{"no time", mutate(`"time":1795309201000`, `"time":0`), "", 400, webhooks.CodeInvalid, "time must be"},
		{"admin event without path", mutate(`"resourcePath":"users/`+alice+`"`, `"resourcePath":null`), "", 400, webhooks.CodeInvalid, "resourcePath"},
		{"another realm", mutate(`"realmId":"acme"`, `"realmId":"other"`), "", 422, webhooks.CodeUnprocessable, `realm "other"`},
		{"too old", mutate(`"time":1795309201000`, `"time":1795209201000`), "", 422, webhooks.CodeUnprocessable, "ago"},
	}
	for _, tt := range tests {
		sig := tt.sig
		switch sig {
		case "":
			sig = keycloak.Sign(webhookSecret, tt.body)
		case "-":
			sig = ""
		}
		a := b.deliver(t, tt.body, sig)
		require.Equal(t, tt.status, a.status, "%s: %s", tt.name, a.msg)
		require.Equal(t, tt.code, a.code, tt.name)
		require.Contains(t, a.msg, tt.msg, tt.name)
		require.NotContains(t, a.msg, webhookSecret, tt.name)
		require.Zero(t, b.revision(t), "%s: nothing written", tt.name)
		_, err := b.store.WebhookEventGet(b.ctx, keycloak.Source, "e0000001-0000-4000-8000-000000000001")
		require.ErrorIs(t, err, store.ErrNotFound, tt.name)
	}
	// The second listed secret (rotation) is accepted too.
	a := b.deliver(t, body, keycloak.Sign("new-secret-being-rolled-out", body))
	require.Equal(t, http.StatusOK, a.status, a.msg)
}

// TestAdminAPIUnavailable answers 503 while Keycloak is down, writes
// nothing, and applies the retry once it is back.
func TestAdminAPIUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := fixture(t, "01-admin-user-create.json")
	b.kc.setDown(true)
	a := b.post(t, body)
	require.Equal(t, http.StatusServiceUnavailable, a.status)
	require.Equal(t, webhooks.CodeUnavailable, a.code)
	require.Contains(t, a.msg, "admin API")
	require.Zero(t, b.revision(t))
	b.kc.setDown(false)
	require.Equal(t, "applied", b.post(t, body).result.Status)
}

// TestTokenCaching reuses one token across deliveries and gets a new one
// when Keycloak refuses it or it expires.
func TestTokenCaching(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, "applied", b.post(t, fixture(t, "01-admin-user-create.json")).result.Status)
	require.Equal(t, "applied", b.post(t, fixture(t, "03-admin-user-update.json")).result.Status)
	tokens, calls := b.kc.counts()
	require.Equal(t, 1, tokens)
	require.Equal(t, 4, calls, "a user and their groups per delivery")

	b.kc.mu.Lock()
	b.kc.revokeAll = true
	b.kc.mu.Unlock()
	require.Equal(t, "applied", b.post(t, fixture(t, "05-admin-group-membership-delete.json")).result.Status)
	tokens, _ = b.kc.counts()
	require.Equal(t, 2, tokens, "a refused token is replaced")

	b.now = b.now.Add(10 * time.Minute) // past expires_in
	body := bytes.Replace(fixture(t, "04-admin-group-update.json"), []byte(`"time":1795309204000`), []byte(`"time":1795309800000`), 1)
	require.Equal(t, "applied", b.post(t, body).result.Status)
	tokens, _ = b.kc.counts()
	require.Equal(t, 3, tokens, "an expired token is replaced")
}

func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.Close()
	a := b.post(t, fixture(t, "01-admin-user-create.json"))
	require.Equal(t, http.StatusServiceUnavailable, a.status)
	require.Equal(t, webhooks.CodeUnavailable, a.code)
}

func TestNewHandlerErrors(t *testing.T) {
	t.Parallel()
	s, err := store.Open(context.Background(), "postgres://127.0.0.1:1/x", store.Options{})
	require.NoError(t, err)
	defer s.Close()
	ok := keycloak.Options{Secrets: []string{"x"}, BaseURL: "https://kc.example", Realm: "acme", ClientID: "c", ClientSecret: "s"}
	for _, tt := range []struct {
		name   string
		mutate func(o *keycloak.Options)
		msg    string
	}{
		{"no secret", func(o *keycloak.Options) { o.Secrets = nil }, "at least one secret"},
		{"empty secret", func(o *keycloak.Options) { o.Secrets = []string{""} }, "secret 1 is empty"},
		{"bad URL", func(o *keycloak.Options) { o.BaseURL = "kc.example" }, "absolute http(s) URL"},
		{"no realm", func(o *keycloak.Options) { o.Realm = "" }, "realm is required"},
		{"no client", func(o *keycloak.Options) { o.ClientSecret = "" }, "client ID and secret"},
		{"negative limit", func(o *keycloak.Options) { o.MaxEventAge = -1 }, "negative"},
	} {
		o := ok
		tt.mutate(&o)
		_, err := keycloak.NewHandler(s, o)
		require.ErrorContains(t, err, tt.msg, tt.name)
	}
	_, err = keycloak.NewHandler(s, ok)
	require.NoError(t, err)
}

// TestUserSyncNeverRenamesGroups checks that a user sync that read a path
// from before a rename does not undo the rename: group names follow the
// group events alone.
func TestUserSyncNeverRenamesGroups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.kc.join(alice, data)
	require.Equal(t, "applied", b.post(t, fixture(t, "01-admin-user-create.json")).result.Status)
	require.Equal(t, []string{"analysts", "eng/data"}, b.groupsOf(t, "alice"))
	b.kc.putGroup(eng, "engineering", "")
	require.Equal(t, "applied", b.post(t, fixture(t, "04-admin-group-update.json")).result.Status)
	// A user sync that still sees the old path.
	b.kc.putGroup(eng, "eng", "")
	a := b.post(t, fixture(t, "05-admin-group-membership-delete.json"))
	require.Equal(t, "applied", a.result.Status, a.msg)
	require.Equal(t, []string{"analysts", "engineering/data"}, b.groupsOf(t, "alice"))
}
