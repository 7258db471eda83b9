package scim

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testBase is the BaseURL the tests configure.
const testBase = "https://warden.test/scim/v2"

// testClients are the SCIM clients of the tests; each token is "token-"
// followed by the name.
var testClients = []Client{
	{Name: "okta", Token: "token-okta"},
	{Name: "entra", Token: "token-entra"},
	{Name: "keycloak", Token: "token-keycloak"},
}

type testBundle struct {
	ctx context.Context
	st  *store.Store
	h   *Handler
	reg *prometheus.Registry
	// vars are the ids saved by earlier requests, for {{name}} in paths and
	// fixtures.
	vars map[string]string
}

// setup gives a test its own database, a store and a handler on it.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.Options{})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return newBundle(t, ctx, st)
}

func newBundle(t *testing.T, ctx context.Context, st *store.Store) *testBundle {
	t.Helper()
	reg := prometheus.NewRegistry()
	h, err := NewHandler(st, Options{
		Clients:    testClients,
		BaseURL:    testBase,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: reg,
	})
	require.NoError(t, err)
	return &testBundle{ctx: ctx, st: st, h: h, reg: reg, vars: map[string]string{}}
}

// expand replaces {{name}} by the saved ids.
func (b *testBundle) expand(s string) string {
	for k, v := range b.vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		s = strings.ReplaceAll(s, "%7B%7B"+k+"%7D%7D", v) // in an escaped query
	}
	return s
}

// fixture reads a recorded request body from testdata/scim.
func (b *testBundle) fixture(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scim", name))
	require.NoError(t, err)
	return b.expand(string(raw))
}

// do sends a request as a client ("" for no token) and returns the recorder.
// headers are name, value pairs.
func (b *testBundle) do(t *testing.T, client, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(b.ctx, method, MountPath+b.expand(path), rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if client != "" {
		req.Header.Set("Authorization", "Bearer token-"+client)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	return rec
}

// rev is the store's current revision.
func (b *testBundle) rev(t *testing.T) int64 {
	t.Helper()
	rev, err := b.st.CurrentRevision(b.ctx)
	require.NoError(t, err)
	return rev
}

// body decodes a JSON response.
func body(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if rec.Body.Len() == 0 {
		return nil
	}
	require.Equal(t, contentType, rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, jsonUnmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

// field walks a decoded JSON value by keys and array indexes ("0").
func field(v any, path ...string) any {
	for _, p := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// createUser creates a user through the API and returns its id.
func (b *testBundle) createUser(t *testing.T, userName, externalID string) string {
	t.Helper()
	doc := map[string]any{"schemas": []string{SchemaUser}, "userName": userName, "active": true}
	if externalID != "" {
		doc["externalId"] = externalID
	}
	rec := b.do(t, "okta", http.MethodPost, "/Users", mustJSON(t, doc))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return body(t, rec)["id"].(string)
}

// createGroup creates a group through the API and returns its id.
func (b *testBundle) createGroup(t *testing.T, name string, members ...string) string {
	t.Helper()
	list := []map[string]any{}
	for _, m := range members {
		list = append(list, map[string]any{"value": m})
	}
	doc := map[string]any{"schemas": []string{SchemaGroup}, "displayName": name, "members": list}
	rec := b.do(t, "okta", http.MethodPost, "/Groups", mustJSON(t, doc))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return body(t, rec)["id"].(string)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
