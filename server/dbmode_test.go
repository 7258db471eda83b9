package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// propagation is how fast a change must reach every replica. Timing is
// asserted only without the race detector, which slows everything.
func propagation() time.Duration {
	if raceEnabled {
		return 5 * time.Second
	}
	return time.Second
}

// replica runs a database-mode server on its own store connection pool.
func replica(t *testing.T, url string) (*Server, string) {
	t.Helper()
	s, dec, _ := replicaWithAdmin(t, url, nil)
	return s, dec
}

// replicaWithAdmin is replica with the admin listener on, when au is set.
func replicaWithAdmin(t *testing.T, url string, au *auth.Authenticator) (*Server, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	opts := testOptions("")
	opts.Policy.Clusters = nil
	opts.DrainDelay = 0
	opts.Store = st
	if au != nil {
		opts.Auth = au
		opts.AdminAddr = "127.0.0.1:0"
	}
	s := New(opts, slog.New(slog.DiscardHandler))
	done := runServer(t, ctx, s)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		st.Close()
	})
	return s, "http://" + s.Addr(), "http://" + s.AdminAddr()
}

const catalogCheck = `{"input":{"context":{"identity":{"user":"alice","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`

func putRules(t *testing.T, st *store.Store, rules string) int64 {
	t.Helper()
	rev, err := st.PolicyPut(context.Background(), "test", store.DefaultCluster,
		[]store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: rules}}, "test change")
	require.NoError(t, err)
	return rev
}

func allowed(t *testing.T, base string) bool {
	t.Helper()
	a := post(t, base+"/v1/data/trino/allow", catalogCheck)
	require.Equal(t, 200, a.Status, "body %s", a.raw)
	return string(a.Result) == "true"
}

// TestReplicasFollowTheStore: a policy change committed once reaches every
// replica within a second, through NOTIFY.
func TestReplicasFollowTheStore(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	writer, err := store.Open(context.Background(), url, store.Options{})
	require.NoError(t, err)
	defer writer.Close()

	_, a := replica(t, url)
	_, b := replica(t, url)
	require.False(t, allowed(t, a), "no policy in the store yet: the baseline denies")

	for i, rules := range []string{
		`{"catalogs":[{"user":"alice","catalog":"tpch","allow":"read-only"}]}`,
		`{"catalogs":[{"user":"alice","catalog":"tpch","allow":"none"}]}`,
	} {
		want := i == 0
		rev := putRules(t, writer, rules)
		start := time.Now()
		for _, base := range []string{a, b} {
			require.Eventually(t, func() bool { return allowed(t, base) == want }, 10*time.Second, 10*time.Millisecond)
			status, body := getJSON(t, base+"/health/ready")
			require.Equal(t, 200, status)
			require.GreaterOrEqual(t, body["revision"], float64(rev))
		}
		require.Less(t, time.Since(start), propagation(), "both replicas follow within a second")
	}
}

// TestPostgresOutage: with PostgreSQL stopped, decisions go on from the last
// snapshot and readiness reports degraded; when it returns, everything
// recovers on its own.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.NewCluster(t)
	url := cluster.NewDatabase(t)
	writer, err := store.Open(context.Background(), url, store.Options{})
	require.NoError(t, err)
	defer writer.Close()
	putRules(t, writer, `{"catalogs":[{"user":"alice","catalog":"tpch","allow":"read-only"}]}`)
	iss := oidctest.New(t)
	au, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", AdminValues: []string{"warden-admins"}})
	require.NoError(t, err)
	token := iss.Token(t, oidctest.Claims{Subject: "ops", Audience: "warden", Extra: map[string]any{"groups": []string{"warden-admins"}}})
	_, base, admin := replicaWithAdmin(t, url, au)
	require.Eventually(t, func() bool { return allowed(t, base) }, 10*time.Second, 10*time.Millisecond)

	// A steady decision load runs through the whole outage: every answer
	// must be a 200 with the last good policy's answer.
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	var answered, wrong atomic.Int64
	go func() {
		defer close(loadDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := http.Post(base+"/v1/data/trino/allow", "application/json", strings.NewReader(catalogCheck))
			if err != nil {
				wrong.Add(1)
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answered.Add(1)
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"result":true`) {
				wrong.Add(1)
			}
		}
	}()

	require.NoError(t, cluster.Stop())
	status, body := getJSON(t, base+"/health/ready")
	require.Equal(t, 200, status, "still able to decide")
	require.Equal(t, "degraded", body["status"])
	require.Contains(t, body["reason"], "PostgreSQL")
	req, err := http.NewRequest(http.MethodPut, admin+"/api/v1/policies/default", strings.NewReader(`{"documents":[{"kind":"rules","path":"rules.json","content":"{}"}]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 503, resp.StatusCode, "admin writes answer 503 while PostgreSQL is down")
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-loadDone
	require.Positive(t, answered.Load())
	require.Zero(t, wrong.Load(), "no decision failed or changed during the outage")

	require.NoError(t, cluster.Start())
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/health/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		_, body := getJSON(t, base+"/health/ready")
		return body["status"] == "ready"
	}, 20*time.Second, 50*time.Millisecond, "readiness recovers")
	// The writer's pooled connections died with the server: a write may
	// fail once with ErrUnavailable (a 503 to an API client), then works.
	require.Eventually(t, func() bool {
		_, err := writer.PolicyPut(context.Background(), "test", store.DefaultCluster,
			[]store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: `{"catalogs":[{"user":"alice","catalog":"tpch","allow":"none"}]}`}}, "after the outage")
		if err != nil {
			require.ErrorIs(t, err, store.ErrUnavailable)
		}
		return err == nil
	}, 20*time.Second, 100*time.Millisecond)
	require.Eventually(t, func() bool { return !allowed(t, base) }, 20*time.Second, 20*time.Millisecond, "and follows changes again")
}

// TestDirectoryReachesDecisions: directory groups join Trino's groups in
// every source, and deactivating a user denies them everything, on every
// replica within a second.
func TestDirectoryReachesDecisions(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	writer, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	defer writer.Close()
	putRules(t, writer, `{"catalogs":[{"group":"finance","catalog":"tpch","allow":"read-only"},{"catalog":"system","allow":"read-only"}]}`)
	_, a := replica(t, url)
	_, b := replica(t, url)
	execQuery := `{"input":{"context":{"identity":{"user":"alice","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"ExecuteQuery"}}}`
	for _, base := range []string{a, b} {
		require.Eventually(t, func() bool { return !allowed(t, base) }, 10*time.Second, 10*time.Millisecond)
		require.JSONEq(t, `true`, string(post(t, base+"/v1/data/trino/allow", execQuery).Result), "an unknown user passes on what Trino sends")
	}

	// The identity system adds alice to finance: both replicas follow.
	u, err := writer.UserCreate(ctx, "test", store.User{UserName: "alice", Active: true})
	require.NoError(t, err)
	_, err = writer.GroupCreate(ctx, "test", store.Group{Name: "finance"})
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, writer.GroupMemberAdd(ctx, "test", "finance", "alice"))
	for _, base := range []string{a, b} {
		require.Eventually(t, func() bool { return allowed(t, base) }, 10*time.Second, 5*time.Millisecond)
	}
	require.Less(t, time.Since(start), propagation(), "a membership reaches decisions within a second")
	x := post(t, a+"/v1/data/trino/allow?explain=true", catalogCheck)
	require.Contains(t, string(x.Explanation), `"groups":["finance"]`)

	// Deactivated: denied everything, ExecuteQuery included.
	u.Active = false
	start = time.Now()
	_, err = writer.UserUpdate(ctx, "test", u)
	require.NoError(t, err)
	for _, base := range []string{a, b} {
		require.Eventually(t, func() bool {
			return string(post(t, base+"/v1/data/trino/allow", execQuery).Result) == "false"
		}, 10*time.Second, 5*time.Millisecond)
		require.False(t, allowed(t, base))
	}
	require.Less(t, time.Since(start), propagation(), "a deactivation reaches decisions within a second")
	x = post(t, a+"/v1/data/trino/allow?explain=true", execQuery)
	require.Contains(t, string(x.Explanation), "deactivated in the directory")

	// Deleted: still denied; the deletion does not make alice an unknown
	// user who would pass.
	require.NoError(t, writer.UserDelete(ctx, "test", u.ID))
	time.Sleep(propagation())
	require.JSONEq(t, `false`, string(post(t, b+"/v1/data/trino/allow", execQuery).Result))
}
