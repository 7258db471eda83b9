package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
	"github.com/trino-warden/warden/webhooks"
	"github.com/trino-warden/warden/webhooks/events"
	"github.com/trino-warden/warden/webhooks/standard"
)

const (
	testSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rotatedSecret = "whsec_Y2hhbmdlZC1zZWNyZXQtZm9yLXJvdGF0aW9uLXRlc3Q="
)

type testBundle struct {
	ctx     context.Context
	store   *store.Store
	handler *events.Handler
	now     time.Time
	key     []byte
}

type bundleOptions struct {
	validate events.ValidateFunc
	maxBody  int64
}

func setup(t *testing.T, bo bundleOptions) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	s, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	b := &testBundle{ctx: ctx, store: s, now: time.Date(2026, 11, 22, 1, 30, 0, 0, time.UTC)}
	b.key, err = standard.ParseSecret(testSecret)
	require.NoError(t, err)
	b.handler, err = events.NewHandler(s, events.Options{
		Secrets:      []string{rotatedSecret, testSecret},
		Validate:     bo.validate,
		MaxBodyBytes: bo.maxBody,
		Now:          func() time.Time { return b.now },
	})
	require.NoError(t, err)
	return b
}

type answer struct {
	status int
	result webhooks.Result
	code   string
	msg    string
}

// post signs body with the test secret at the bundle's clock and delivers it.
func (b *testBundle) post(t *testing.T, id string, body []byte) answer {
	t.Helper()
	return b.postSigned(t, id, b.now, standard.Sign(b.key, id, b.now, body), body)
}

func (b *testBundle) postSigned(t *testing.T, id string, at time.Time, sig string, body []byte) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, events.MountPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set(standard.HeaderID, id)
	}
	req.Header.Set(standard.HeaderTimestamp, fmt.Sprint(at.Unix()))
	if sig != "" {
		req.Header.Set(standard.HeaderSignature, sig)
	}
	return b.do(t, req)
}

func (b *testBundle) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req.WithContext(b.ctx))
	a := answer{status: rec.Code}
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	if rec.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a.result))
	} else {
		var e struct{ Code, Message string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
		a.code, a.msg = e.Code, e.Message
	}
	return a
}

func (b *testBundle) revision(t *testing.T) int64 {
	t.Helper()
	rev, err := b.store.CurrentRevision(b.ctx)
	require.NoError(t, err)
	return rev
}

func groupsOf(t *testing.T, b *testBundle, user string) []string {
	t.Helper()
	gs, err := b.store.UserGroupList(b.ctx, user)
	require.NoError(t, err)
	var names []string
	for _, g := range gs {
		names = append(names, g.Name)
	}
	return names
}

func membersOf(t *testing.T, b *testBundle, group string) []string {
	t.Helper()
	us, err := b.store.GroupMemberList(b.ctx, group)
	require.NoError(t, err)
	var names []string
	for _, u := range us {
		names = append(names, u.UserName)
	}
	return names
}

// TestEachEventType delivers the recorded fixtures in order and checks the
// effect of each on the store.
func TestEachEventType(t *testing.T) {
	t.Parallel()
	var validated []string
	b := setup(t, bundleOptions{validate: func(cluster string, docs []store.PolicyDocument) error {
		validated = append(validated, cluster)
		require.Len(t, docs, 2)
		return nil
	}})
	fx := fixtures(t, "valid")
	steps := []struct {
		fixture string
		check   func(t *testing.T)
	}{
		{"01-user-upserted.json", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "alice")
			require.NoError(t, err)
			require.Equal(t, "idp-alice", u.ExternalID)
			require.Equal(t, "Alice Liddell", u.DisplayName)
			require.Equal(t, "alice@example.com", u.Email)
			require.True(t, u.Active)
			require.Equal(t, map[string]any{"department": "engineering", "level": float64(3)}, u.Attributes)
			require.Equal(t, []string{"analysts", "engineering"}, groupsOf(t, b, "alice"))
		}},
		{"02-user-upserted-minimal.json", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "bob")
			require.NoError(t, err)
			require.True(t, u.Active, "a new user is active by default")
			require.Empty(t, u.ExternalID)
		}},
		{"03-group-upserted.json", func(t *testing.T) {
			g, err := b.store.GroupGetByName(b.ctx, "admins")
			require.NoError(t, err)
			require.Equal(t, "idp-admins", g.ExternalID)
			require.Equal(t, "Administrators", g.DisplayName)
			require.Equal(t, []string{"alice"}, membersOf(t, b, "admins"))
		}},
		{"04-group-members-added.json", func(t *testing.T) {
			require.Equal(t, []string{"alice", "bob"}, membersOf(t, b, "analysts"))
		}},
		{"05-group-members-removed.json", func(t *testing.T) {
			require.Equal(t, []string{"bob"}, membersOf(t, b, "analysts"))
		}},
		{"06-group-members-set.json", func(t *testing.T) {
			require.Equal(t, []string{"bob"}, membersOf(t, b, "engineering"))
		}},
		{"07-user-deactivated.json", func(t *testing.T) {
			u, err := b.store.UserGetByName(b.ctx, "alice")
			require.NoError(t, err)
			require.False(t, u.Active)
		}},
		{"08-policy-changed.json", func(t *testing.T) {
			require.Equal(t, []string{"default"}, validated)
			set, err := b.store.PolicyGet(b.ctx, store.DefaultCluster, 0)
			require.NoError(t, err)
			require.Equal(t, events.Actor, set.Actor)
			require.Equal(t, "Let analysts read the sales catalog (from acme/trino-policy@3f2c1a9)", set.Message)
			require.Len(t, set.Documents, 2)
			require.Equal(t, "rules.json", set.Documents[0].Path)
			require.Contains(t, set.Documents[1].Content, "package warden.extra")
		}},
		{"09-group-deleted.json", func(t *testing.T) {
			_, err := b.store.GroupGetByName(b.ctx, "admins")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"10-user-deleted.json", func(t *testing.T) {
			_, err := b.store.UserGetByName(b.ctx, "bob")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
	}
	require.Len(t, fx, len(steps), "every valid fixture has a step")
	for i, s := range steps {
		before := b.revision(t)
		a := b.post(t, fmt.Sprintf("msg_%02d", i+1), fx[s.fixture])
		require.Equal(t, http.StatusOK, a.status, "%s: %s", s.fixture, a.msg)
		require.Equal(t, "applied", a.result.Status, s.fixture)
		require.Equal(t, before+1, a.result.Revision, "%s: one event, one revision", s.fixture)
		require.Equal(t, a.result.Revision, b.revision(t))
		s.check(t)
		rec, err := b.store.WebhookEventGet(b.ctx, events.Source, fmt.Sprintf("msg_%02d", i+1))
		require.NoError(t, err)
		require.Equal(t, a.result.Revision, rec.Revision)
		require.Equal(t, a.result.Note, rec.Note)
	}

	// Every change is logged under the endpoint's actor.
	changes, _, err := b.store.Changes(b.ctx, store.ChangeFilter{}, 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, changes)
	for _, c := range changes {
		require.Equal(t, events.Actor, c.Actor)
	}
}

func TestUnchangedEventTakesNoRevision(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOptions{})
	body := fixtures(t, "valid")["01-user-upserted.json"]
	require.Equal(t, http.StatusOK, b.post(t, "m1", body).status)
	rev := b.revision(t)
	again := bytes.Replace(body, []byte("01:00:00Z"), []byte("01:00:30Z"), 1)
	a := b.post(t, "m2", again)
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, "applied", a.result.Status)
	require.Zero(t, a.result.Revision)
	require.Contains(t, a.result.Note, "unchanged")
	require.Equal(t, rev, b.revision(t))
}

func TestDuplicateDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOptions{})
	body := fixtures(t, "valid")["02-user-upserted-minimal.json"]
	first := b.post(t, "msg_dup", body)
	require.Equal(t, "applied", first.result.Status)
	rev := b.revision(t)
	for range 3 {
		b.now = b.now.Add(time.Minute) // a retry is signed again, later
		a := b.post(t, "msg_dup", body)
		require.Equal(t, http.StatusOK, a.status)
		require.Equal(t, "duplicate", a.result.Status)
		require.Equal(t, "msg_dup", a.result.EventID)
		require.Zero(t, a.result.Revision)
	}
	require.Equal(t, rev, b.revision(t))
}

// TestOutOfOrder delivers the changes about one subject in the wrong order:
// the older one is acknowledged as stale and changes nothing, while events
// about other subjects are unaffected.
func TestOutOfOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOptions{})
	ev := func(ts, name string, active bool) []byte {
		return fmt.Appendf(nil, `{"version":1,"type":"user.upserted","timestamp":%q,"data":{"userName":%q,"externalId":"idp-7","active":%t}}`, ts, name, active)
	}
	steps := []struct {
		id, ts, name string
		active       bool
		status       string
		wantName     string
		wantActive   bool
	}{
		{"e2", "2026-11-22T01:00:02Z", "carol", false, "applied", "carol", false},
		{"e1", "2026-11-22T01:00:01Z", "caroline", true, "stale", "carol", false},
		{"e3", "2026-11-22T01:00:02.5Z", "carol2", true, "applied", "carol2", true},
		{"e0", "2026-11-22T00:59:59+00:00", "old", true, "stale", "carol2", true},
		{"e4", "2026-11-22T02:00:03+01:00", "carol3", true, "applied", "carol3", true},
	}
	for _, s := range steps {
		before := b.revision(t)
		a := b.post(t, s.id, ev(s.ts, s.name, s.active))
		require.Equal(t, http.StatusOK, a.status, s.id)
		require.Equal(t, s.status, a.result.Status, s.id)
		require.Equal(t, "user-id:idp-7", a.result.Subject)
		u, err := b.store.UserGetByName(b.ctx, s.wantName)
		require.NoError(t, err, s.id)
		require.Equal(t, s.wantActive, u.Active, s.id)
		if s.status == "stale" {
			require.Equal(t, before, b.revision(t), "%s: a stale event writes nothing", s.id)
			rec, err := b.store.WebhookEventGet(b.ctx, events.Source, s.id)
			require.NoError(t, err)
			require.Equal(t, "stale", rec.Status)
		}
	}
	// A group membership is another subject: an older timestamp still applies.
	a := b.post(t, "g1", []byte(`{"version":1,"type":"group.upserted","timestamp":"2020-01-01T00:00:00Z","data":{"name":"g","members":["carol3"]}}`))
	require.Equal(t, "applied", a.result.Status)
}

func TestRejections(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOptions{
		maxBody: 4096,
		validate: func(cluster string, docs []store.PolicyDocument) error {
			if slices.ContainsFunc(docs, func(d store.PolicyDocument) bool { return strings.Contains(d.Content, "syntax error") }) {
				return errors.New("warden/extra.rego:1: rego_parse_error: unexpected eof")
			}
			return nil
		},
	})
	// A user and a group to refer to.
	require.Equal(t, http.StatusOK, b.post(t, "seed1", fixtures(t, "valid")["02-user-upserted-minimal.json"]).status)
	require.Equal(t, http.StatusOK, b.post(t, "seed2", []byte(`{"version":1,"type":"group.upserted","timestamp":"2026-11-22T01:00:00Z","data":{"name":"analysts"}}`)).status)
	rev := b.revision(t)
	valid := fixtures(t, "valid")["04-group-members-added.json"]
	otherKey, err := standard.ParseSecret("whsec_" + strings.Repeat("QUJD", 8))
	require.NoError(t, err)

	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
		msg    string
	}{
		{"missing signature", func() *http.Request { return b.request("r1", b.now, "", valid) }, 400, webhooks.CodeInvalid, "webhook-signature is missing"},
		{"missing id", func() *http.Request { return b.request("", b.now, standard.Sign(b.key, "", b.now, valid), valid) }, 400, webhooks.CodeInvalid, "webhook-id is missing"},
		{"garbled signature", func() *http.Request { return b.request("r1", b.now, "v1,???", valid) }, 400, webhooks.CodeInvalid, "webhook-signature"},
		{"wrong secret", func() *http.Request {
			return b.request("r1", b.now, standard.Sign(otherKey, "r1", b.now, valid), valid)
		}, 401, webhooks.CodeUnauthorized, "no v1 signature"},
		{"tampered body", func() *http.Request {
			return b.request("r1", b.now, standard.Sign(b.key, "r1", b.now, valid), bytes.Replace(valid, []byte("bob"), []byte("eve"), 1))
		}, 401, webhooks.CodeUnauthorized, "matches"},
		{"replay after the window", func() *http.Request {
			at := b.now.Add(-6 * time.Minute)
			return b.request("r1", at, standard.Sign(b.key, "r1", at, valid), valid)
		}, 401, webhooks.CodeUnauthorized, "old"},
		{"timestamp from the future", func() *http.Request {
			at := b.now.Add(6 * time.Minute)
			return b.request("r1", at, standard.Sign(b.key, "r1", at, valid), valid)
		}, 401, webhooks.CodeUnauthorized, "future"},
		{"malformed payload", func() *http.Request { return b.signed("r1", []byte(`{"version":1,"type":"user.upserted"`)) }, 400, webhooks.CodeInvalid, "invalid JSON"},
		{"invalid fixture", func() *http.Request { return b.signed("r1", fixtures(t, "invalid")["unknown-data-member.json"]) }, 400, webhooks.CodeInvalid, `unknown member "username"`},
		{"unknown user to add", func() *http.Request {
			return b.signed("r1", []byte(`{"version":1,"type":"group.members.added","timestamp":"2026-11-22T01:00:00Z","data":{"group":"analysts","users":["bob","nobody"]}}`))
		}, 422, webhooks.CodeUnprocessable, "unknown users: nobody"},
		{"unknown group", func() *http.Request {
			return b.signed("r1", []byte(`{"version":1,"type":"group.members.set","timestamp":"2026-11-22T01:00:00Z","data":{"group":"nope","users":[]}}`))
		}, 422, webhooks.CodeUnprocessable, `no group named "nope"`},
		{"deactivate unknown user", func() *http.Request {
			return b.signed("r1", []byte(`{"version":1,"type":"user.deactivated","timestamp":"2026-11-22T01:00:00Z","data":{"userName":"nobody"}}`))
		}, 422, webhooks.CodeUnprocessable, `no user named "nobody"`},
		{"user without external ID adopts one", func() *http.Request {
			return b.signed("ok1", []byte(`{"version":1,"type":"user.upserted","timestamp":"2026-11-22T01:00:00Z","data":{"userName":"bob","externalId":"x"}}`))
		}, 200, "", ""},
		{"policy that does not compile", func() *http.Request {
			return b.signed("r2", []byte(`{"version":1,"type":"policy.changed","timestamp":"2026-11-22T01:00:00Z","data":{"cluster":"etl","documents":[{"kind":"rego","path":"warden/extra.rego","content":"package x syntax error"}]}}`))
		}, 422, webhooks.CodeUnprocessable, "rego_parse_error"},
		{"body too large", func() *http.Request {
			return b.signed("r1", fmt.Appendf(nil, `{"version":1,"type":"user.upserted","timestamp":"2026-11-22T01:00:00Z","data":{"userName":"bob","displayName":%q}}`, strings.Repeat("x", 5000)))
		}, 413, webhooks.CodeTooLarge, "4096 bytes"},
		{"wrong method", func() *http.Request { return httptest.NewRequest(http.MethodGet, events.MountPath, nil) }, 405, webhooks.CodeMethod, "POST"},
		{"wrong media type", func() *http.Request {
			r := b.signed("r1", valid)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 415, webhooks.CodeUnsupportedType, "application/json"},
	}
	for _, tt := range tests {
		a := b.do(t, tt.req())
		require.Equal(t, tt.status, a.status, "%s: %s", tt.name, a.msg)
		if tt.status == 200 {
			// bob had no external ID: the upsert adopts it.
			u, err := b.store.UserGetByName(b.ctx, "bob")
			require.NoError(t, err)
			require.Equal(t, "x", u.ExternalID)
			rev = b.revision(t)
			continue
		}
		require.Equal(t, tt.code, a.code, tt.name)
		require.Contains(t, a.msg, tt.msg, tt.name)
		require.NotContains(t, a.msg, "MfKQ9r8G", tt.name)
		require.Equal(t, rev, b.revision(t), "%s: a rejected delivery writes nothing", tt.name)
		for _, id := range []string{"r1", "r2"} {
			_, err := b.store.WebhookEventGet(b.ctx, events.Source, id)
			require.ErrorIs(t, err, store.ErrNotFound, "%s: a rejected delivery is not recorded", tt.name)
		}
	}

	// Another identity's user name is a conflict, and writes nothing.
	a := b.do(t, b.signed("r3", []byte(`{"version":1,"type":"user.upserted","timestamp":"2026-11-22T01:00:00Z","data":{"userName":"bob","externalId":"y"}}`)))
	require.Equal(t, http.StatusConflict, a.status, a.msg)
	require.Contains(t, a.msg, "another external ID")
	require.Equal(t, rev, b.revision(t))
}

func (b *testBundle) request(id string, at time.Time, sig string, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, events.MountPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set(standard.HeaderID, id)
	}
	req.Header.Set(standard.HeaderTimestamp, fmt.Sprint(at.Unix()))
	if sig != "" {
		req.Header.Set(standard.HeaderSignature, sig)
	}
	return req
}

func (b *testBundle) signed(id string, body []byte) *http.Request {
	return b.request(id, b.now, standard.Sign(b.key, id, b.now, body), body)
}

// TestRotatedSecret accepts deliveries signed with either listed secret.
func TestRotatedSecret(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOptions{})
	newKey, err := standard.ParseSecret(rotatedSecret)
	require.NoError(t, err)
	body := fixtures(t, "valid")["02-user-upserted-minimal.json"]
	both := standard.Sign(newKey, "m1", b.now, body) + " " + standard.Sign(b.key, "m1", b.now, body)
	require.Equal(t, http.StatusOK, b.do(t, b.request("m1", b.now, both, body)).status)
	onlyNew := standard.Sign(newKey, "m2", b.now, body)
	require.Equal(t, http.StatusOK, b.do(t, b.request("m2", b.now, onlyNew, body)).status)
}

// TestStoreUnavailable answers 503 when PostgreSQL cannot be reached, so the
// sender retries.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOptions{})
	b.store.Close()
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, b.signed("m1", fixtures(t, "valid")["02-user-upserted-minimal.json"]).WithContext(b.ctx))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), webhooks.CodeUnavailable)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
}

func TestNewHandlerErrors(t *testing.T) {
	t.Parallel()
	_, err := events.NewHandler(nil, events.Options{Secrets: []string{testSecret}})
	require.ErrorContains(t, err, "store is required")
	s, err := store.Open(context.Background(), "postgres://127.0.0.1:1/x", store.Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = events.NewHandler(s, events.Options{})
	require.ErrorContains(t, err, "at least one secret")
	_, err = events.NewHandler(s, events.Options{Secrets: []string{"whsec_short"}})
	require.ErrorContains(t, err, "secret 1")
	_, err = events.NewHandler(s, events.Options{Secrets: []string{testSecret}, MaxBodyBytes: -1})
	require.ErrorContains(t, err, "negative")
}
