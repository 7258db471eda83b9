package store_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// TestGovernedGets reads back each governed object by ID as it was
// created, and answers ErrNotFound for an ID that is not there.
func TestGovernedGets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	var ds store.Datasource
	var mp store.MaskPolicy
	var rp store.RowPolicy
	var sub store.Subscription
	require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ds, err = tx.DatasourceCreate(ctx, "ann", store.Datasource{SourceCatalog: "memory", SourceSchema: "s", SourceTable: "t",
			ViewSchema: "s", ViewTable: "t", Columns: []store.DatasourceColumn{{Name: "email", Type: "varchar(64)", Tags: []string{"pii.email"}, Exposed: true}}})
		if err != nil {
			return err
		}
		if mp, err = tx.MaskPolicyCreate(ctx, "ann", store.MaskPolicy{Name: "m", Tag: "pii.email", Mask: json.RawMessage(`{"kind": "email"}`),
			ExemptAttributes: map[string][]string{"dept": {"audit"}}, Priority: 3}); err != nil {
			return err
		}
		if rp, err = tx.RowPolicyCreate(ctx, "ann", store.RowPolicy{Name: "r", DatasourceID: ds.ID, Policy: json.RawMessage(`{"rules": []}`)}); err != nil {
			return err
		}
		sub, err = tx.SubscriptionCreate(ctx, "ann", store.Subscription{DatasourceID: ds.ID, Groups: []string{"analysts"}})
		return err
	}))

	for _, tc := range []struct {
		name string
		get  func(id int64) (any, error)
		id   int64
		want any
	}{
		{"datasource", func(id int64) (any, error) { return b.store.DatasourceGet(ctx, id) }, ds.ID, ds},
		{"mask policy", func(id int64) (any, error) { return b.store.MaskPolicyGet(ctx, id) }, mp.ID, mp},
		{"row policy", func(id int64) (any, error) { return b.store.RowPolicyGet(ctx, id) }, rp.ID, rp},
		{"subscription", func(id int64) (any, error) { return b.store.SubscriptionGet(ctx, id) }, sub.ID, sub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get(tc.id)
			require.NoError(t, err)
			require.Equal(t, governedJSON(t, tc.want), governedJSON(t, got))
			_, err = tc.get(tc.id + 1000)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}

func governedJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
