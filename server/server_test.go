package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/trino"
)

type testBundle struct {
	srv   *Server
	http  *httptest.Server
	rules string // path of the default cluster's rules file (a temp copy)
}

func testOptions(rules string) Options {
	return Options{
		Addr:              "127.0.0.1:0",
		MaxBodyBytes:      1 << 20,
		ExplainCacheSize:  100,
		ExplainCacheBytes: 1 << 20,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		DrainDelay:        200 * time.Millisecond,
		ShutdownTimeout:   5 * time.Second,
		Policy: loader.Config{
			Default:  loader.Files{TrinoRules: rules},
			Clusters: map[string]loader.Files{"etl": {TrinoRules: "testdata/etl-rules.json"}, "mirror": {}},
		},
	}
}

// runServer runs s until ctx is done and waits until its listeners are
// bound; the channel gives Run's result.
func runServer(t *testing.T, ctx context.Context, s *Server) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool { return s.Addr() != "" && (s.cfg.AdminAddr == "" || s.AdminAddr() != "") },
		5*time.Second, 5*time.Millisecond)
	return done
}

func copyFile(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, b, 0o600))
	return dst
}

// newTestHTTP serves a server's decision handler on loopback.
func newTestHTTP(t *testing.T, s *Server) string {
	t.Helper()
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	rules := copyFile(t, "testdata/rules.json")
	s := New(testOptions(rules), slog.New(slog.DiscardHandler))
	require.NoError(t, s.LoadPolicy())
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testBundle{srv: s, http: hs, rules: rules}
}

func ctxJSON(user string, groups ...string) string {
	g, _ := json.Marshal(append([]string{}, groups...))
	return `{"identity":{"user":"` + user + `","groups":` + string(g) + `},"softwareStack":{"trinoVersion":"476"}}`
}

type answer struct {
	Status      int
	ContentType string
	DecisionID  string          `json:"decision_id"`
	Result      json.RawMessage `json:"result"`
	Code        string          `json:"code"`
	Message     string          `json:"message"`
	Explanation json.RawMessage `json:"explanation"`
	raw         []byte
}

func post(t *testing.T, url, body string) answer {
	t.Helper()
	resp, err := http.Post(url, "application/json; charset=utf-8", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), raw: b}
	require.NoError(t, json.Unmarshal(b, &a), "body %s", b)
	return a
}

func TestDecisionEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orders := `{"catalogName":"tpch","schemaName":"sf1","tableName":"orders"`
	col := func(name, typ string) string {
		return `{"column":{"catalogName":"tpch","schemaName":"sf1","tableName":"orders","columnName":"` + name + `","columnType":"` + typ + `"}}`
	}
	tests := []struct {
		name, path, body, want string
	}{
		{"allow", "/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"SelectFromColumns","resource":{"table":` + orders + `,"columns":["orderkey"]}}}}}`, `true`},
		{"deny a denied column", "/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"SelectFromColumns","resource":{"table":` + orders + `,"columns":["comment"]}}}}}`, `false`},
		{"deny another user", "/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("bob") + `,"action":{"operation":"SelectFromColumns","resource":{"table":` + orders + `,"columns":[]}}}}}`, `false`},
		{"impersonation with a back-reference", "/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("svc_alice") + `,"action":{"operation":"ImpersonateUser","resource":{"user":{"user":"alice_prod"}}}}}`, `true`},
		{"execute query with 480 context", "/v1/data/trino/allow",
			`{"input":{"context":{"identity":{"user":"alice","groups":[]},"softwareStack":{"trinoVersion":"480"},"properties":{"cluster":"x","n":null},"queryId":"20250718_081710_03427_trino"},"action":{"operation":"ExecuteQuery"}}}`, `true`},
		{"unknown operation is denied, not an error", "/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("alice", "admins") + `,"action":{"operation":"CreateBranch","resource":{"table":` + orders + `}}}}}`, `false`},
		{"batch catalogs", "/v1/data/trino/batch",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"hidden"}},{"catalog":{"name":"tpch"}},{"catalog":{"name":"system"}}]}}}`, `[1,2]`}, // system: implicit rule, visible because catalog_session_properties is absent (allow all)
		{"batch columns index into table.columns", "/v1/data/trino/batch",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"FilterColumns","filterResources":[{"table":` + orders + `,"columns":["orderkey","comment","clerk"]}}]}}}`, `[0,2]`},
		{"batch with an unknown operation keeps nothing", "/v1/data/trino/batch",
			`{"input":{"context":` + ctxJSON("alice", "admins") + `,"action":{"operation":"FilterBranches","filterResources":[{"table":` + orders + `}}]}}}`, `[]`},
		{"row filters", "/v1/data/trino/rowFilters",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"GetRowFilters","resource":{"table":` + orders + `}}}}}`,
			`[{"expression":"orderstatus = 'O'","identity":"filter-user"}]`},
		{"no row filter", "/v1/data/trino/rowFilters",
			`{"input":{"context":` + ctxJSON("alice", "admins") + `,"action":{"operation":"GetRowFilters","resource":{"table":` + orders + `}}}}}`, `[]`},
		{"column mask", "/v1/data/trino/columnMask",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"GetColumnMask","resource":` + col("clerk", "varchar(15)") + `}}}`, `{"expression":"'***'"}`},
		{"no column mask", "/v1/data/trino/columnMask",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"GetColumnMask","resource":` + col("orderkey", "bigint") + `}}}`, `null`},
		{"batch column masks", "/v1/data/trino/batchColumnMasks",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"GetColumnMask","filterResources":[` + col("orderkey", "bigint") + `,` + col("clerk", "varchar(15)") + `,` + col("totalprice", "decimal(12,2)") + `]}}}`,
			`[{"index":1,"viewExpression":{"expression":"'***'"}},{"index":2,"viewExpression":{"expression":"round(totalprice, -2)","identity":"mask-user"}}]`},
		{"named cluster has its own policy", "/clusters/etl/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("etl") + `,"action":{"operation":"InsertIntoTable","resource":{"table":` + orders + `}}}}}`, `true`},
		{"default policy does not know etl", "/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("etl") + `,"action":{"operation":"InsertIntoTable","resource":{"table":` + orders + `}}}}}`, `false`},
		{"a cluster without files mirrors the default", "/clusters/mirror/v1/data/trino/allow",
			`{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"SelectFromColumns","resource":{"table":` + orders + `,"columns":["orderkey"]}}}}}`, `true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := post(t, b.http.URL+tt.path, tt.body)
			require.Equal(t, http.StatusOK, a.Status, "body %s", a.raw)
			require.Equal(t, "application/json", a.ContentType)
			require.Len(t, a.DecisionID, 36)
			require.JSONEq(t, tt.want, string(a.Result))
		})
	}
}

func TestDecisionErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, path, body string
		status           int
		code, message    string
	}{
		{"malformed JSON", "/v1/data/trino/allow", `{"input":`, 400, codeInvalidParameter, "malformed JSON"},
		{"not an object", "/v1/data/trino/allow", `[1,2]`, 400, codeInvalidParameter, ""},
		{"missing input", "/v1/data/trino/allow", `{}`, 400, codeInvalidParameter, "input"},
		{"missing action", "/v1/data/trino/allow", `{"input":{"context":` + ctxJSON("a") + `}}`, 400, codeInvalidParameter, "input.action"},
		{"missing operation", "/v1/data/trino/allow", `{"input":{"context":` + ctxJSON("a") + `,"action":{}}}`, 400, codeInvalidParameter, "operation"},
		{"wrong type", "/v1/data/trino/allow", `{"input":{"context":{"identity":{"user":7,"groups":[]}},"action":{"operation":"ExecuteQuery"}}}`, 400, codeInvalidParameter, "user"},
		{"missing resource", "/v1/data/trino/allow", `{"input":{"context":` + ctxJSON("a") + `,"action":{"operation":"AccessCatalog"}}}`, 400, codeInvalidParameter, "input.action.resource is missing"},
		{"row filters for another operation", "/v1/data/trino/rowFilters", `{"input":{"context":` + ctxJSON("a") + `,"action":{"operation":"ExecuteQuery"}}}`, 400, codeInvalidParameter, "GetRowFilters"},
		{"batch without filterResources", "/v1/data/trino/batch", `{"input":{"context":` + ctxJSON("a") + `,"action":{"operation":"FilterCatalogs","resource":{"catalog":{"name":"x"}}}}}`, 400, codeInvalidParameter, "filterResources"},
		{"the admin API is not on the decision listener", "/api/v1/grants", `{}`, 404, codeNotFound, "no route"},
		{"unknown document", "/v1/data/trino/deny", `{}`, 404, codeUndefinedDocument, "trino/allow"},
		{"unknown cluster", "/clusters/nope/v1/data/trino/allow", `{"input":{"context":` + ctxJSON("a") + `,"action":{"operation":"ExecuteQuery"}}}`, 404, codeUndefinedDocument, "nope"},
		{"too large", "/v1/data/trino/batch", `{"input":{"context":` + ctxJSON("a") + `,"action":{"operation":"FilterCatalogs","filterResources":[` + strings.Repeat(`{"catalog":{"name":"x"}},`, 60000) + `{"catalog":{"name":"x"}}]}}}`, 413, codeRequestTooLarge, "max_body_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := post(t, b.http.URL+tt.path, tt.body)
			require.Equal(t, tt.status, a.Status, "body %s", a.raw)
			require.Equal(t, "application/json", a.ContentType)
			require.Equal(t, tt.code, a.Code)
			require.Contains(t, a.Message, tt.message)
			require.Nil(t, a.Result, "an error never carries a result")
			if strings.Contains(tt.path, "/v1/data/") {
				require.Len(t, a.DecisionID, 36, "every decision answer carries a decision ID")
			}
		})
	}
}

// failing is a source that fails every call, or blocks until released.
type failing struct {
	block chan struct{}
}

var errBackend = errors.New("backend unreachable")

func (f *failing) Name() string { return "failing" }
func (f *failing) wait() {
	if f.block != nil {
		<-f.block
	}
}
func (f *failing) Authorize(context.Context, *policy.Request) (policy.Verdict, error) {
	f.wait()
	if f.block != nil {
		return policy.Verdict{Effect: policy.Allow}, nil
	}
	return policy.Verdict{}, errBackend
}
func (f *failing) Filter(context.Context, *policy.Request, *policy.BatchVerdict) error {
	return errBackend
}
func (f *failing) RowFilters(context.Context, *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	return nil, policy.Reason{}, errBackend
}
func (f *failing) ColumnMasks(context.Context, *policy.Request, []*trino.Column, []policy.Mask) error {
	return errBackend
}

func swapIn(t *testing.T, s *Server, sources ...policy.Source) {
	t.Helper()
	snap, err := policy.NewSnapshot(s.engine.Snapshot().Revision+1, "test", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(sources...)})
	require.NoError(t, err)
	require.NoError(t, s.engine.Swap(snap))
}

// TestFailClosed: a failing source never yields an allow, and never an empty
// (permissive) row-filter or mask answer.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// An allowing source next to the failing one must not turn the failure
	// into an allow.
	allowAll := allowSource{}
	swapIn(t, b.srv, allowAll, &failing{})
	table := `{"catalogName":"tpch","schemaName":"sf1","tableName":"orders"}`
	a := post(t, b.http.URL+"/v1/data/trino/allow", `{"input":{"context":`+ctxJSON("alice")+`,"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`)
	require.Equal(t, 200, a.Status)
	require.JSONEq(t, `false`, string(a.Result))

	a = post(t, b.http.URL+"/v1/data/trino/batch", `{"input":{"context":`+ctxJSON("alice")+`,"action":{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"tpch"}}]}}}`)
	require.Equal(t, 200, a.Status)
	require.JSONEq(t, `[]`, string(a.Result))

	a = post(t, b.http.URL+"/v1/data/trino/rowFilters", `{"input":{"context":`+ctxJSON("alice")+`,"action":{"operation":"GetRowFilters","resource":{"table":`+table+`}}}}`)
	require.Equal(t, 500, a.Status)
	require.Equal(t, codeInternal, a.Code)
	require.Nil(t, a.Result)

	col := `{"column":{"catalogName":"tpch","schemaName":"sf1","tableName":"orders","columnName":"clerk","columnType":"varchar"}}`
	for _, ep := range []string{"columnMask", "batchColumnMasks"} {
		body := `{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"GetColumnMask","resource":` + col + `}}}`
		if ep == "batchColumnMasks" {
			body = `{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"GetColumnMask","filterResources":[` + col + `]}}}`
		}
		a = post(t, b.http.URL+"/v1/data/trino/"+ep, body)
		require.Equal(t, 500, a.Status, ep)
		require.Nil(t, a.Result, ep)
	}
}

type allowSource struct{}

func (allowSource) Name() string { return "allow-all" }
func (allowSource) Authorize(context.Context, *policy.Request) (policy.Verdict, error) {
	return policy.Verdict{Effect: policy.Allow}, nil
}
func (allowSource) Filter(_ context.Context, _ *policy.Request, out *policy.BatchVerdict) error {
	for i := range out.Allow {
		out.Allow[i] = true
	}
	return nil
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

func TestReadinessAndReload(t *testing.T) {
	t.Parallel()
	rules := copyFile(t, "testdata/rules.json")
	s := New(testOptions(rules), slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	status, body := getJSON(t, hs.URL+"/health/ready")
	require.Equal(t, 503, status)
	require.Equal(t, "not_ready", body["status"])
	a := post(t, hs.URL+"/v1/data/trino/allow", `{"input":{"context":`+ctxJSON("a")+`,"action":{"operation":"ExecuteQuery"}}}`)
	require.Equal(t, 503, a.Status)
	require.Equal(t, codeUnavailable, a.Code)

	require.NoError(t, s.LoadPolicy())
	status, body = getJSON(t, hs.URL+"/health/ready")
	require.Equal(t, 200, status)
	require.Equal(t, "ready", body["status"])
	require.EqualValues(t, 1, body["revision"])

	// A broken file keeps the last good snapshot and says why.
	require.NoError(t, os.WriteFile(rules, []byte(`{"tables":[{"privileges":["FLY"]}]}`), 0o600))
	require.Error(t, s.LoadPolicy())
	status, body = getJSON(t, hs.URL+"/health/ready")
	require.Equal(t, 200, status)
	require.Equal(t, "degraded", body["status"])
	require.Contains(t, body["reason"], "FLY")
	require.EqualValues(t, 1, body["revision"])
	a = post(t, hs.URL+"/v1/data/trino/allow", `{"input":{"context":`+ctxJSON("alice")+`,"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`)
	require.JSONEq(t, `true`, string(a.Result), "the last good policy still decides")

	resp, err := http.Get(hs.URL + "/metrics")
	require.NoError(t, err)
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(m), `warden_policy_reloads_total{result="error"} 1`)
	require.Contains(t, string(m), `warden_policy_revision 1`)
	require.Contains(t, string(m), `warden_decisions_total{endpoint="allow",outcome="allow"} 1`)

	// Fixing the file reloads it under a new revision.
	require.NoError(t, os.WriteFile(rules, []byte(`{"catalogs":[{"catalog":"tpch","allow":"none"}]}`), 0o600))
	require.NoError(t, s.LoadPolicy())
	status, body = getJSON(t, hs.URL+"/health/ready")
	require.Equal(t, 200, status)
	require.Equal(t, "ready", body["status"])
	require.EqualValues(t, 2, body["revision"])
	a = post(t, hs.URL+"/v1/data/trino/allow", `{"input":{"context":`+ctxJSON("alice")+`,"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`)
	require.JSONEq(t, `false`, string(a.Result))
}

func TestExplain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := `{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"sf1","tableName":"orders","columns":["comment"]}}}}}`
	a := post(t, b.http.URL+"/v1/data/trino/allow?explain=true", body)
	require.Equal(t, 200, a.Status)
	var x policy.Explanation
	require.NoError(t, json.Unmarshal(a.Explanation, &x))
	require.Equal(t, "deny", x.Outcome)
	require.Equal(t, "baseline: no source allowed", x.Decider)
	require.Len(t, x.Sources, 1)
	require.Equal(t, "rules", x.Sources[0].Source)
	require.Equal(t, "tables[1]", x.Sources[0].Rule)

	// Without asking, no explanation; but the decision can be explained later by ID.
	a = post(t, b.http.URL+"/v1/data/trino/allow", body)
	require.Nil(t, a.Explanation)
	status, got := getJSON(t, b.http.URL+"/v1/decisions/"+a.DecisionID)
	require.Equal(t, 200, status)
	require.Equal(t, a.DecisionID, got["decision_id"])
	require.Equal(t, false, got["result"])
	require.Equal(t, "tables[1]", got["explanation"].(map[string]any)["sources"].([]any)[0].(map[string]any)["rule"])

	status, got = getJSON(t, b.http.URL+"/v1/decisions/00000000-0000-0000-0000-000000000000")
	require.Equal(t, 404, status)
	require.Equal(t, codeNotFound, got["code"])
}

// TestManyKeepAliveConnections sends concurrent requests over many
// keep-alive connections, as a coordinator firing filter requests does.
func TestManyKeepAliveConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := `{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				resp, err := client.Post(b.http.URL+"/v1/data/trino/allow", "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"result":true`)) {
					errs <- errors.New(string(out))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestGracefulShutdown: on cancellation readiness turns off first, requests
// in flight finish, and Run returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	rules := copyFile(t, "testdata/rules.json")
	opts := testOptions(rules)
	opts.DrainDelay = 300 * time.Millisecond
	s := New(opts, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := runServer(t, ctx, s)
	require.NotNil(t, s.Engine().Snapshot(), "the policy is loaded before Warden listens")
	base := "http://" + s.Addr()

	blocker := &failing{block: make(chan struct{})}
	swapIn(t, s, blocker)
	inflight := make(chan answer, 1)
	go func() {
		inflight <- post(t, base+"/v1/data/trino/allow", `{"input":{"context":`+ctxJSON("a")+`,"action":{"operation":"ExecuteQuery"}}}`)
	}()
	time.Sleep(50 * time.Millisecond) // let the request reach the source
	cancel()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/health/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 503
	}, 2*time.Second, 10*time.Millisecond, "readiness turns off first")
	close(blocker.block)
	a := <-inflight
	require.Equal(t, 200, a.Status)
	require.JSONEq(t, `true`, string(a.Result), "the request in flight finishes")
	require.NoError(t, <-done)
}

func TestAdminListenerInFileMode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hs := httptest.NewServer(b.srv.AdminHandler())
	defer hs.Close()
	for _, path := range []string{"/api/v1/grants", "/scim/v2/Users", "/webhooks/events"} {
		a := post(t, hs.URL+path, `{}`)
		require.Equal(t, 503, a.Status, path)
		require.Equal(t, codeUnavailable, a.Code)
		require.Contains(t, a.Message, "WARDEN_DATABASE_URL")
	}
	status, _ := getJSON(t, hs.URL+"/health/ready")
	require.Equal(t, 200, status, "health is served on the admin listener too")
	a := post(t, hs.URL+"/v1/data/trino/allow", `{}`)
	require.Equal(t, 404, a.Status, "decisions are not served on the admin listener")
}

// TestShutdownLeavesConnectionsToTheClient: after the drain Warden stops
// accepting, but never closes a decision connection the client may be
// about to use, neither one kept alive after a request nor one opened
// without a request for over 5 s (which Go's Shutdown alone would close):
// Trino's plugin fails the statement on such a close. A request on either
// is answered with Connection: close, and Run returns once the client has
// closed them.
func TestShutdownLeavesConnectionsToTheClient(t *testing.T) {
	t.Parallel()
	rules := copyFile(t, "testdata/rules.json")
	opts := testOptions(rules)
	opts.DrainDelay = 100 * time.Millisecond
	opts.ShutdownTimeout = 30 * time.Second
	// Longer than the test keeps a connection without a request: that
	// timeout closes one whether or not Warden is shutting down.
	opts.ReadHeaderTimeout = 30 * time.Second
	s := New(opts, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := runServer(t, ctx, s)
	require.NotNil(t, s.Engine().Snapshot(), "the policy is loaded before Warden listens")
	addr := s.Addr()
	body := `{"input":{"context":` + ctxJSON("a") + `,"action":{"operation":"ExecuteQuery"}}}`
	request := "POST /v1/data/trino/allow HTTP/1.1\r\nHost: warden\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body

	// kept has answered one request and is idle; fresh has sent nothing.
	kept, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer kept.Close() //nolint:errcheck // closed below.
	keptR := bufio.NewReader(kept)
	_, err = io.WriteString(kept, request)
	require.NoError(t, err)
	resp, err := http.ReadResponse(keptR, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.Equal(t, 200, resp.StatusCode)
	require.False(t, resp.Close, "before the drain connections are kept alive")
	fresh, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer fresh.Close() //nolint:errcheck // closed below.

	cancel()
	// Past the drain the listener is closed: new connections go to the
	// replacement (or are refused).
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	}, 5*time.Second, 20*time.Millisecond, "the decision listener closes after the drain")
	// Go treats a connection without a request for 5 s as idle.
	time.Sleep(6 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("Run returned with client connections open: %v", err)
	default:
	}
	for name, conn := range map[string]net.Conn{"kept alive": kept, "without a request": fresh} {
		r := keptR
		if conn == fresh {
			r = bufio.NewReader(fresh)
		}
		_, err := io.WriteString(conn, request)
		require.NoError(t, err, name)
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err, "a request on a connection %s is answered after the drain", name)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.Equal(t, 200, resp.StatusCode, name)
		require.True(t, resp.Close, "the answer on a connection %s asks the client to close it", name)
		require.NoError(t, conn.Close())
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return once the client closed its connections")
	}
}
