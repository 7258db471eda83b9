package fgatest_test

import (
	"context"
	"os"
	"testing"

	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
)

func roundTrip(t *testing.T, srv *fgatest.Server) {
	t.Helper()
	ctx := context.Background()
	c := srv.NewStore(t)
	id, err := grants.WriteModel(ctx, c)
	require.NoError(t, err)
	require.NoError(t, c.SetAuthorizationModelId(id))
	_, err = c.WriteTuples(ctx).Body([]fgaclient.ClientTupleKey{{User: "user:a", Relation: "select", Object: "catalog:c"}}).Execute()
	require.NoError(t, err)
	cx := map[string]any{"current_time": "2026-01-01T00:00:00Z"}
	resp, err := c.Check(ctx).Body(fgaclient.ClientCheckRequest{User: "user:a", Relation: "select", Object: "catalog:c", Context: &cx}).Execute()
	require.NoError(t, err)
	require.True(t, resp.GetAllowed())
}

func TestMemory(t *testing.T) {
	t.Parallel()
	srv, err := fgatest.Start(fgatest.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	roundTrip(t, srv)
	srv.Stop()
	require.NoError(t, srv.Start())
	roundTrip(t, srv)
}

// TestPostgres runs the server on the PostgreSQL datastore when
// WARDEN_TEST_OPENFGA_PG_URI names an empty database (openfga migrate
// runs first).
func TestPostgres(t *testing.T) {
	t.Parallel()
	uri := os.Getenv("WARDEN_TEST_OPENFGA_PG_URI")
	if uri == "" {
		t.Skip("WARDEN_TEST_OPENFGA_PG_URI is not set")
	}
	srv, err := fgatest.Start(fgatest.Options{DatastoreURI: uri})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	roundTrip(t, srv)
	srv.Stop()
	require.NoError(t, srv.Start())
	roundTrip(t, srv)
}
