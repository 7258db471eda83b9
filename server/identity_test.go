package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
	"github.com/trino-warden/warden/webhooks/events"
	"github.com/trino-warden/warden/webhooks/scim"
	"github.com/trino-warden/warden/webhooks/standard"
)

const (
	testSCIMToken   = "scim-test-token-0123456789"
	testEventSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// identityReplica runs a database-mode server with SCIM and the events
// webhook on its admin listener, with the given identity mapping.
func identityReplica(t *testing.T, url string, mod func(*Options)) (dec, admin string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	opts := testOptions("")
	opts.Policy.Clusters = nil
	opts.DrainDelay = 0
	opts.Store = st
	opts.AdminAddr = "127.0.0.1:0"
	opts.SCIM = scim.Options{Clients: []scim.Client{{Name: "okta", Token: testSCIMToken}}}
	opts.Events = events.Options{Secrets: []string{testEventSecret}}
	if mod != nil {
		mod(&opts)
	}
	s := New(opts, slog.New(slog.DiscardHandler))
	done := runServer(t, ctx, s)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		st.Close()
	})
	return "http://" + s.Addr(), "http://" + s.AdminAddr()
}

func scimCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testSCIMToken)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &m), "body %s", b)
	}
	return resp.StatusCode, m
}

func sendEvent(t *testing.T, url, id, body string, at time.Time) int {
	t.Helper()
	key, err := standard.ParseSecret(testEventSecret)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", jsonInt(at.Unix()))
	req.Header.Set("webhook-signature", standard.Sign(key, id, at, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestSCIMAndWebhooksReachDecisions drives the identity endpoints over HTTP
// with recorded vendor payloads and checks later decisions: an Okta SCIM
// user pushed into a group gains what the group may do, and a generic
// webhook deactivation takes everything away, each within a second.
func TestSCIMAndWebhooksReachDecisions(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	writer, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	defer writer.Close()
	putRules(t, writer, `{"catalogs":[{"group":"finance","catalog":"tpch","allow":"read-only"},{"catalog":"system","allow":"read-only"}]}`)
	// Okta's principal is the e-mail address; Trino sends it lower-cased
	// and without the domain.
	dec, admin := identityReplica(t, url, func(o *Options) {
		o.Identity.UserNameFrom, o.Identity.Normalize = "email", []string{"lower", "strip_domain"}
	})
	check := func(user, op, resource string) bool {
		body := `{"input":{"context":{"identity":{"user":"` + user + `","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"` + op + `"` + resource + `}}}`
		a := post(t, dec+"/v1/data/trino/allow", body)
		require.Equal(t, 200, a.Status, "body %s", a.raw)
		return string(a.Result) == "true"
	}
	tpch := `,"resource":{"catalog":{"name":"tpch"}}`
	require.Eventually(t, func() bool { return !check("alice", "AccessCatalog", tpch) }, 10*time.Second, 10*time.Millisecond)

	user, err := os.ReadFile("../testdata/scim/okta/create_user.json")
	require.NoError(t, err)
	status, u := scimCall(t, http.MethodPost, admin+"/scim/v2/Users", string(user))
	require.Equal(t, http.StatusCreated, status, "%v", u)
	start := time.Now()
	status, g := scimCall(t, http.MethodPost, admin+"/scim/v2/Groups",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"finance","members":[{"value":"`+u["id"].(string)+`"}]}`)
	require.Equal(t, http.StatusCreated, status, "%v", g)
	require.Eventually(t, func() bool { return check("alice", "AccessCatalog", tpch) }, 10*time.Second, 5*time.Millisecond)
	require.Less(t, time.Since(start), propagation(), "a SCIM group push reaches decisions within a second")
	require.True(t, check("ALICE", "ExecuteQuery", ""), "the mapping normalises Trino's name too")

	// The same user deactivated through the generic webhook.
	start = time.Now()
	ev := `{"version":1,"type":"user.deactivated","timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `","data":{"externalId":"00u1a2b3c4d5e6f7g8h9"}}`
	require.Equal(t, http.StatusOK, sendEvent(t, admin+"/webhooks/events", "msg_1", ev, time.Now()))
	require.Eventually(t, func() bool { return !check("alice", "ExecuteQuery", "") }, 10*time.Second, 5*time.Millisecond)
	require.Less(t, time.Since(start), propagation(), "a deactivation reaches decisions within a second")
	require.False(t, check("alice", "AccessCatalog", tpch))

	// A bad signature writes nothing and says so.
	rev, err := writer.CurrentRevision(ctx)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, admin+"/webhooks/events", bytes.NewBufferString(ev))
	req.Header.Set("webhook-id", "msg_2")
	req.Header.Set("webhook-timestamp", jsonInt(time.Now().Unix()))
	req.Header.Set("webhook-signature", standard.Sign([]byte("not the secret"), "msg_2", time.Now(), []byte(ev)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	after, err := writer.CurrentRevision(ctx)
	require.NoError(t, err)
	require.Equal(t, rev, after)

	// SCIM without the token is refused.
	req, _ = http.NewRequest(http.MethodGet, admin+"/scim/v2/Users", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
