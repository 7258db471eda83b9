package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/webhooks"
)

// sqlError stands for a driver error that carries a SQLSTATE.
type sqlError struct{}

func (sqlError) Error() string {
	return `ERROR: duplicate key value violates unique constraint "users_user_name_key" (SQLSTATE 23505)`
}
func (sqlError) SQLState() string { return "23505" }

func TestClassify(t *testing.T) {
	t.Parallel()
	conflict := fmt.Errorf("store: create user %q: %w", "bob", fmt.Errorf("%w: %w", store.ErrConflict, sqlError{}))
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"webhook error kept", webhooks.Unprocessable("no group named %q", "x"), 422, webhooks.CodeUnprocessable, `no group named "x"`},
		{"wrapped webhook error", fmt.Errorf("apply: %w", webhooks.Invalid("bad")), 400, webhooks.CodeInvalid, "bad"},
		{"store unavailable", fmt.Errorf("x: %w", store.ErrUnavailable), 503, webhooks.CodeUnavailable, "retry later"},
		{"store not found", fmt.Errorf("store: group %q: %w", "g", store.ErrNotFound), 422, webhooks.CodeUnprocessable, `group "g"`},
		{"store conflict without driver detail", conflict, 409, webhooks.CodeConflict, `store: create user "bob": store: conflict`},
		{"store invalid", fmt.Errorf("%w: empty cluster name", store.ErrInvalid), 400, webhooks.CodeInvalid, "empty cluster name"},
		{"canceled", context.Canceled, 503, webhooks.CodeUnavailable, "canceled"},
		{"anything else", errors.New("boom: password=hunter2"), 500, webhooks.CodeInternal, "internal error"},
	}
	for _, tt := range tests {
		e := webhooks.Classify(tt.err)
		require.Equal(t, tt.status, e.Status, tt.name)
		require.Equal(t, tt.code, e.Code, tt.name)
		require.Contains(t, e.Message, tt.msg, tt.name)
		require.NotContains(t, e.Message, "SQLSTATE", tt.name)
		require.NotContains(t, e.Message, "hunter2", tt.name)
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"ok", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("12345")), 0},
		{"exactly the limit", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("1234567890")), 0},
		{"declared too long", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("12345678901")), 413},
		{"GET", httptest.NewRequest(http.MethodGet, "/", nil), 405},
	} {
		body, err := webhooks.ReadBody(httptest.NewRecorder(), tt.req, 10)
		if tt.status == 0 {
			require.NoError(t, err, tt.name)
			require.NotEmpty(t, body)
			continue
		}
		require.Equal(t, tt.status, webhooks.Classify(err).Status, tt.name)
	}
	// A body without a declared length is cut at the limit too.
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 11)))
	req.ContentLength = -1
	_, err := webhooks.ReadBody(httptest.NewRecorder(), req, 10)
	require.Equal(t, 413, webhooks.Classify(err).Status)
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/events", nil)
	webhooks.WriteError(rec, webhooks.DiscardLogger(nil), req, "msg_1", fmt.Errorf("x: %w", store.ErrUnavailable))
	require.Equal(t, 503, rec.Code)
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	require.JSONEq(t, `{"code":"unavailable","message":"the store is unavailable; retry later","event_id":"msg_1"}`, rec.Body.String())
}

func TestMetricsShared(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a, err := webhooks.NewMetrics(reg)
	require.NoError(t, err)
	b, err := webhooks.NewMetrics(reg)
	require.NoError(t, err, "a second handler on the same registry shares the metrics")
	a.Observe("/webhooks/events", webhooks.OutcomeApplied, time.Millisecond)
	b.Observe("/webhooks/keycloak", webhooks.OutcomeOf("", webhooks.Unauthorized("no")), time.Millisecond)
	n, err := testutil.GatherAndCount(reg, "warden_webhook_deliveries_total")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, webhooks.OutcomeUnavailable, webhooks.OutcomeOf("", webhooks.Classify(store.ErrUnavailable)))
	require.Equal(t, webhooks.OutcomeInvalid, webhooks.OutcomeOf("", webhooks.Invalid("x")))
	require.Equal(t, webhooks.OutcomeError, webhooks.OutcomeOf("", webhooks.Classify(errors.New("x"))))
	require.Equal(t, webhooks.OutcomeStale, webhooks.OutcomeOf("stale", nil))
}
