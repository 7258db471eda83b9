package fgatest_test

import (
	"context"
	"testing"

	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/store/pgtest"
)

func roundTrip(t *testing.T, srv *fgatest.Server) *fgaclient.OpenFgaClient {
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
	return c
}

func stillAllowed(t *testing.T, c *fgaclient.OpenFgaClient) {
	t.Helper()
	cx := map[string]any{"current_time": "2026-01-01T00:00:00Z"}
	resp, err := c.Check(context.Background()).Body(fgaclient.ClientCheckRequest{User: "user:a", Relation: "select", Object: "catalog:c", Context: &cx}).Execute()
	require.NoError(t, err)
	require.True(t, resp.GetAllowed(), "the tuple survived the restart")
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

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestPostgres runs the server on the PostgreSQL datastore, in an empty
// database of a private cluster (openfga migrate runs first); unlike the
// memory datastore, it keeps the store across a restart.
func TestPostgres(t *testing.T) {
	t.Parallel()
	srv, err := fgatest.Start(fgatest.Options{DatastoreURI: pgtest.NewEmptyDatabase(t)})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	c := roundTrip(t, srv)
	srv.Stop()
	require.NoError(t, srv.Start())
	stillAllowed(t, c)
	roundTrip(t, srv)
}
