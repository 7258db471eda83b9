package store_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

func TestGovernedLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	ds := store.Datasource{SourceCatalog: "hive", SourceSchema: "hr", SourceTable: "people", ViewSchema: "hr", ViewTable: "people",
		Columns: []store.DatasourceColumn{{Name: "id", Type: "bigint", Exposed: true}, {Name: "email", Type: "varchar", Tags: []string{"pii.email"}, Exposed: true}}}
	var created store.Datasource
	require.NoError(t, s.InTx(ctx, func(tx *store.Tx) (err error) {
		created, err = tx.DatasourceCreate(ctx, "olga", ds)
		return err
	}))
	require.Equal(t, "olga", created.Owner)
	require.Equal(t, ds.Columns, created.Columns)

	err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.DatasourceCreate(ctx, "olga", ds); return err })
	require.ErrorIs(t, err, store.ErrConflict, "a source is registered once")

	add := func(p store.MaskPolicy) error {
		return s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.MaskPolicyCreate(ctx, "olga", p); return err })
	}
	mask := json.RawMessage(`{"kind":"email"}`)
	require.NoError(t, add(store.MaskPolicy{Name: "emails", Tag: "pii.email", Mask: mask, ExemptAttributes: map[string][]string{"level": {"director"}}}))
	require.ErrorIs(t, add(store.MaskPolicy{Name: "both", Tag: "pii.email", Column: "email", DatasourceID: created.ID, Mask: mask}), store.ErrInvalid)
	require.ErrorIs(t, add(store.MaskPolicy{Name: "neither", Mask: mask}), store.ErrInvalid)
	require.ErrorIs(t, add(store.MaskPolicy{Name: "column-without-source", Column: "email", Mask: mask}), store.ErrInvalid)
	require.ErrorIs(t, add(store.MaskPolicy{Name: "emails", Tag: "x", Mask: mask}), store.ErrConflict)
	require.NoError(t, add(store.MaskPolicy{Name: "one-column", Column: "email", DatasourceID: created.ID, Mask: mask, Priority: 5}))

	require.NoError(t, s.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.RowPolicyCreate(ctx, "olga", store.RowPolicy{Name: "rows", DatasourceID: created.ID,
			Policy: json.RawMessage(`{"rules":[{"predicate":"id > 0"}]}`)}); err != nil {
			return err
		}
		_, err := tx.SubscriptionCreate(ctx, "olga", store.Subscription{DatasourceID: created.ID, Groups: []string{"analysts"}})
		return err
	}))
	err = s.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.SubscriptionCreate(ctx, "olga", store.Subscription{DatasourceID: created.ID})
		return err
	})
	require.ErrorIs(t, err, store.ErrInvalid, "a subscription that names nobody")

	g, err := s.GovernedSnapshot(ctx)
	require.NoError(t, err)
	require.Len(t, g.Datasources, 1)
	require.Len(t, g.MaskPolicies, 2)
	require.Equal(t, map[string][]string{"level": {"director"}}, g.MaskPolicies[0].ExemptAttributes)
	require.Len(t, g.RowPolicies, 1)
	require.Len(t, g.Subscriptions, 1)

	// Deleting the source takes its policies and subscriptions with it,
	// but not the tag policy that applies everywhere.
	require.NoError(t, s.InTx(ctx, func(tx *store.Tx) error { return tx.DatasourceDelete(ctx, "olga", created.ID) }))
	g, err = s.GovernedSnapshot(ctx)
	require.NoError(t, err)
	require.Empty(t, g.Datasources)
	require.Len(t, g.MaskPolicies, 1)
	require.Empty(t, g.RowPolicies)
	require.Empty(t, g.Subscriptions)
	changes, _, err := s.Changes(ctx, store.ChangeFilter{ObjectType: store.ObjectDatasource}, 0, 10)
	require.NoError(t, err)
	require.Len(t, changes, 2)
}
