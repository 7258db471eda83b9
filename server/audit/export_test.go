package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

// collector is an httptest receiver of OPA decision logs. It answers the
// statuses in fail first, then 200.
type collector struct {
	mu     sync.Mutex
	fail   []int
	posts  int
	events []opaEvent
	bad    []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts++
	if r.Method != http.MethodPost || r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Content-Type") != "application/json" {
		c.bad = append(c.bad, r.Method+" "+r.Header.Get("Content-Encoding"))
	}
	if len(c.fail) > 0 {
		status := c.fail[0]
		c.fail = c.fail[1:]
		w.WriteHeader(status)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		c.bad = append(c.bad, err.Error())
		w.WriteHeader(400)
		return
	}
	var batch []opaEvent
	if err := json.NewDecoder(zr).Decode(&batch); err != nil {
		c.bad = append(c.bad, err.Error())
		w.WriteHeader(400)
		return
	}
	c.events = append(c.events, batch...)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

func TestOPASink(t *testing.T) {
	t.Parallel()
	p := newPolicy(t)
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	col := &collector{fail: []int{500, 503, 429}}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	r, _ := newRecorder(t, st, Options{FlushInterval: 20 * time.Millisecond, OPA: OPASinkOptions{
		URL: srv.URL + "/logs", BatchSize: 50, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Labels: map[string]string{"env": "test"}, Headers: map[string]string{"Authorization": "Bearer s3cret"},
	}})
	first := p.entry(t, trino.EndpointAllow, selectBody("alice", "analysts", "orders"))
	r.Record(first)
	for range 119 {
		r.Record(p.entry(t, trino.EndpointAllow, executeQueryBody("bob")))
	}
	require.Eventually(t, func() bool { return col.count() == 120 }, 20*time.Second, 10*time.Millisecond, "retried through 500, 503 and 429")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.Close(ctx))

	col.mu.Lock()
	defer col.mu.Unlock()
	require.Empty(t, col.bad)
	require.GreaterOrEqual(t, col.posts, 3+3, "at least 3 batches of at most 50, after 3 failures")
	ev := col.events[0]
	require.Equal(t, first.DecisionID, ev.DecisionID)
	require.Equal(t, "trino/allow", ev.Path)
	require.Equal(t, "test", ev.Labels["env"])
	require.Equal(t, "warden", ev.Labels["app"])
	require.NotEmpty(t, ev.Labels["id"])
	require.Equal(t, "7", ev.Bundles["warden"].Revision)
	require.JSONEq(t, `true`, string(ev.Result))
	require.Equal(t, "alice", ev.RequestedBy)
	var in trino.Input
	require.NoError(t, json.Unmarshal(ev.Input, &in))
	require.Equal(t, "SelectFromColumns", in.Action.Operation)
	require.Contains(t, ev.Metrics, "timer_server_handler_ns")
	require.WithinDuration(t, first.Time, ev.Timestamp, time.Millisecond)
}

func TestOPASinkDropsRejectedBatches(t *testing.T) {
	t.Parallel()
	col := &collector{fail: []int{400}}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	m := newMetrics(nil, func() float64 { return 0 }, func() float64 { return 0 })
	o := Default()
	o.OPA.URL = srv.URL
	o.OPA.BatchSize = 10
	s := newOPASink(o.OPA, time.Hour, o.Logger, m)
	rows := make([]store.AuditDecision, 15)
	for i := range rows {
		rows[i] = store.AuditDecision{DecisionID: string(rune('a' + i)), Endpoint: "allow", Result: json.RawMessage(`false`)}
	}
	s.add(rows)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.close(ctx))
	require.Equal(t, 10, counterValue(m.sinkEvents.WithLabelValues("rejected")), "a 400 is not retried")
	require.Equal(t, 5, counterValue(m.sinkEvents.WithLabelValues("sent")))
	require.Equal(t, 5, col.count())
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "audit", name))
	require.NoError(t, err)
	return b
}

func TestEventHandler(t *testing.T) {
	t.Parallel()
	st := openStore(t, pgtest.NewDatabase(t), store.Options{})
	h := NewEventHandler(st, EventHandlerOptions{Token: "listener-token"})
	post := func(path, token string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name, path, token, fixture, body string
		status                           int
		want                             string
	}{
		{name: "no token", path: "/", fixture: "query_created.json", status: 401},
		{name: "wrong token", path: "/", token: "guess", fixture: "query_created.json", status: 401},
		{name: "not JSON", path: "/", token: "listener-token", body: "{", status: 400},
		{name: "not an event", path: "/", token: "listener-token", body: `{"hello":1}`, status: 400},
		{name: "no query ID", path: "/", token: "listener-token", body: `{"metadata":{},"context":{"user":"a"},"createTime":"2026-11-22T01:00:00Z"}`, status: 400},
		{name: "bad time", path: "/", token: "listener-token", body: `{"metadata":{"queryId":"q"},"context":{"user":"a"},"createTime":"yesterday"}`, status: 400},
		{name: "bad cluster", path: "/?cluster=Bad!", token: "listener-token", fixture: "query_created.json", status: 400},
		{name: "split", path: "/", token: "listener-token", fixture: "split_completed.json", status: 200, want: "ignored"},
		{name: "created", path: "/", token: "listener-token", fixture: "query_created.json", status: 200, want: "recorded"},
		{name: "denied", path: "/", token: "listener-token", fixture: "query_completed_denied.json", status: 200, want: "recorded"},
		{name: "late created", path: "/", token: "listener-token", fixture: "query_created.json", status: 200, want: "recorded"},
		{name: "finished", path: "/?cluster=etl", token: "listener-token", fixture: "query_completed_finished.json", status: 200, want: "recorded"},
	} {
		body := []byte(tc.body)
		if tc.fixture != "" {
			body = readFixture(t, tc.fixture)
		}
		rec := post(tc.path, tc.token, body)
		require.Equal(t, tc.status, rec.Code, "%s: %s", tc.name, rec.Body.String())
		if tc.want != "" {
			require.Contains(t, rec.Body.String(), tc.want, tc.name)
		}
	}
	ctx := context.Background()
	got, _, err := st.AuditQueries(ctx, store.AuditQueryFilter{}, "", 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "bad events wrote nothing; the split was ignored")
	finished, denied := got[0], got[1]
	require.Equal(t, "etl", finished.Cluster)
	require.Equal(t, "FINISHED", finished.State)
	require.Contains(t, string(finished.Inputs), `"nation"`)
	require.Equal(t, "default", denied.Cluster)
	require.Equal(t, "20261122_011503_00042_w4rdn", denied.QueryID)
	require.Equal(t, "FAILED", denied.State, "the late creation event did not overwrite the completion")
	require.Equal(t, "alice", denied.User)
	require.Equal(t, "PERMISSION_DENIED", denied.ErrorCode)
	require.Equal(t, "USER_ERROR", denied.ErrorType)
	require.Contains(t, denied.FailureMessage, "Access Denied")
	require.Equal(t, "SELECT custkey, totalprice FROM orders WHERE orderstatus = 'F'", denied.Query)
	require.Equal(t, "478", denied.ServerVersion)
	require.Equal(t, time.Date(2026, 11, 22, 1, 15, 3, 170e6, time.UTC), denied.EndTime.UTC())

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	small := NewEventHandler(st, EventHandlerOptions{MaxBodyBytes: 100})
	rec = httptest.NewRecorder()
	small.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(readFixture(t, "query_created.json"))))
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

func TestEventTimeFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: `"2026-11-22T01:15:03.170Z"`, want: time.Date(2026, 11, 22, 1, 15, 3, 170e6, time.UTC)},
		{in: `"2026-11-22T02:15:03+01:00"`, want: time.Date(2026, 11, 22, 1, 15, 3, 0, time.UTC)},
		{in: `1795396503.5`, want: time.Unix(1795396503, 5e8).UTC()},
		{in: `null`},
		{in: `"noon"`, bad: true},
		{in: `-1`, bad: true},
		{in: `true`, bad: true},
	} {
		var et eventTime
		err := et.UnmarshalJSON([]byte(tc.in))
		if tc.bad {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.True(t, tc.want.Equal(et.Time), "%s: %v", tc.in, et.Time)
	}
}

func FuzzParseQueryEvent(f *testing.F) {
	for _, name := range []string{"query_created.json", "query_completed_denied.json", "query_completed_finished.json", "split_completed.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"metadata":{"queryId":"q"},"context":{"user":"u"},"createTime":1.5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, ok, err := ParseQueryEvent(body)
		if err != nil {
			require.False(t, ok)
			return
		}
		if ok {
			require.NotEmpty(t, q.QueryID)
			require.NotEmpty(t, q.User)
			require.False(t, q.CreateTime.IsZero())
			require.True(t, json.Valid(q.Inputs))
		}
	})
}

func TestSpoolSegments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sp, err := openSpool(dir, 1<<20)
	require.NoError(t, err)
	_, err = openSpool(dir, 1<<20)
	require.Error(t, err, "one recorder per directory")
	rows := []store.AuditDecision{
		{DecisionID: "a", DecidedAt: time.Date(2026, 11, 22, 1, 2, 3, 4000, time.UTC), Groups: []string{"g"}, Input: json.RawMessage(`{"x":1}`)},
		{DecisionID: "b", Result: json.RawMessage(`[1,2]`)},
	}
	require.NoError(t, sp.write(pendingOf(rows)))
	require.NoError(t, sp.write(pendingOf(rows[1:])))
	names, err := sp.segments()
	require.NoError(t, err)
	require.Len(t, names, 2)
	got, err := sp.read(names[0])
	require.NoError(t, err)
	want := pendingOf(rows)
	require.Equal(t, want.batch.Bytes(), got.batch.Bytes())
	require.Equal(t, want.ops, got.ops)

	// A segment of the first format (gzip'd JSON rows) reads as the same batch.
	var v1 bytes.Buffer
	writeSegmentV1(t, &v1, rows)
	got, err = readSegment(v1.Bytes())
	require.NoError(t, err)
	require.Equal(t, want.batch.Bytes(), got.batch.Bytes())
	require.Equal(t, want.ops, got.ops)

	// A corrupted segment is an error, never a partial read.
	raw, err := os.ReadFile(filepath.Join(dir, names[1]))
	require.NoError(t, err)
	raw[len(raw)-3] ^= 0xff
	_, err = readSegment(raw)
	require.Error(t, err)
	_, err = readSegment([]byte("not a segment"))
	require.Error(t, err)
	v1b := v1.Bytes()
	v1b[len(v1b)-3] ^= 0xff
	_, err = readSegment(v1b)
	require.Error(t, err)

	// Full.
	big := []store.AuditDecision{{DecisionID: "big", Input: json.RawMessage(`"` + randomText(2<<20) + `"`)}}
	require.ErrorIs(t, sp.write(pendingOf(big)), errSpoolFull)
	require.NoError(t, sp.remove(names[0]))
	sp.quarantine(names[1])
	require.Zero(t, sp.bytes.Load())
	names, err = sp.segments()
	require.NoError(t, err)
	require.Empty(t, names)
	sp.close()

	// Leftover temporary files are removed at open; the lock is free again.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"+tempExt), []byte("torn"), 0o600))
	sp, err = openSpool(dir, 1<<20)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "x"+tempExt))
	require.ErrorIs(t, err, os.ErrNotExist)
	sp.close()
}

// randomText is incompressible text of n bytes.
func randomText(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint64(88172645463325252)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = alphabet[x%uint64(len(alphabet))]
	}
	return string(b)
}

func FuzzReadSegment(f *testing.F) {
	dir := f.TempDir()
	sp, err := openSpool(dir, 1<<20)
	require.NoError(f, err)
	rows := []store.AuditDecision{
		{DecisionID: "a", Operation: "SelectFromColumns", Groups: []string{"g"}, Input: json.RawMessage(`{}`)},
		{DecisionID: "b", Operation: "ExecuteQuery", Facets: []string{"catalog:c"}},
	}
	require.NoError(f, sp.write(pendingOf(rows)))
	names, _ := sp.segments()
	raw, _ := os.ReadFile(filepath.Join(dir, names[0]))
	sp.close()
	f.Add(raw)
	var v1 bytes.Buffer
	writeSegmentV1(f, &v1, rows)
	f.Add(v1.Bytes())
	f.Add([]byte(spoolMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := readSegment(b)
		if err != nil {
			require.Nil(t, p)
			return
		}
		// What reads is whole rows, each with its operation.
		require.Len(t, p.ops, p.len())
		_, err = store.AuditBatchOf(p.batch.Bytes(), p.len())
		require.NoError(t, err)
	})
}

// pendingOf encodes rows as the builder does.
func pendingOf(rows []store.AuditDecision) *pending {
	p := &pending{}
	for i := range rows {
		p.batch.AddDecision(&rows[i])
		p.ops = append(p.ops, trino.ParseOperation(rows[i].Operation))
	}
	return p
}

// writeSegmentV1 writes rows as a segment of the first format, which
// Warden no longer writes but still reads.
func writeSegmentV1(t testing.TB, w io.Writer, rows []store.AuditDecision) {
	t.Helper()
	_, err := io.WriteString(w, spoolMagicV1)
	require.NoError(t, err)
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	var hdr [8]byte
	for i := range rows {
		b, err := json.Marshal(&rows[i])
		require.NoError(t, err)
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(b))) //nolint:gosec // test rows are small.
		binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(b, crcTable))
		_, err = zw.Write(hdr[:])
		require.NoError(t, err)
		_, err = zw.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
}
