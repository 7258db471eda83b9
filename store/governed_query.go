package store

import (
	"context"
	"fmt"
)

// Reads of single governed-catalog objects, for the admin API. Lists come
// from GovernedSnapshot, which reads every part at one revision.

// DatasourceGet returns a data source; ErrNotFound when there is none.
func (s *Store) DatasourceGet(ctx context.Context, dsID int64) (Datasource, error) {
	return inTx(ctx, s, func(tx *Tx) (Datasource, error) { return tx.DatasourceGet(ctx, dsID) })
}

// MaskPolicyGet returns a mask policy; ErrNotFound when there is none.
func (t *Tx) MaskPolicyGet(ctx context.Context, pid int64) (MaskPolicy, error) {
	row, err := t.q.MaskPolicyGet(ctx, t.tx, pid)
	if err != nil {
		return MaskPolicy{}, fmt.Errorf("store: mask policy %d: %w", pid, translate(err))
	}
	return maskPolicyFromRow(row)
}

// MaskPolicyGet returns a mask policy; ErrNotFound when there is none.
func (s *Store) MaskPolicyGet(ctx context.Context, pid int64) (MaskPolicy, error) {
	return inTx(ctx, s, func(tx *Tx) (MaskPolicy, error) { return tx.MaskPolicyGet(ctx, pid) })
}

// RowPolicyGet returns a row policy; ErrNotFound when there is none.
func (t *Tx) RowPolicyGet(ctx context.Context, pid int64) (RowPolicy, error) {
	row, err := t.q.RowPolicyGet(ctx, t.tx, pid)
	if err != nil {
		return RowPolicy{}, fmt.Errorf("store: row policy %d: %w", pid, translate(err))
	}
	return RowPolicy(row), nil
}

// RowPolicyGet returns a row policy; ErrNotFound when there is none.
func (s *Store) RowPolicyGet(ctx context.Context, pid int64) (RowPolicy, error) {
	return inTx(ctx, s, func(tx *Tx) (RowPolicy, error) { return tx.RowPolicyGet(ctx, pid) })
}

// SubscriptionGet returns a subscription; ErrNotFound when there is none.
func (t *Tx) SubscriptionGet(ctx context.Context, sid int64) (Subscription, error) {
	row, err := t.q.SubscriptionGet(ctx, t.tx, sid)
	if err != nil {
		return Subscription{}, fmt.Errorf("store: subscription %d: %w", sid, translate(err))
	}
	return subscriptionFromRow(row)
}

// SubscriptionGet returns a subscription; ErrNotFound when there is none.
func (s *Store) SubscriptionGet(ctx context.Context, sid int64) (Subscription, error) {
	return inTx(ctx, s, func(tx *Tx) (Subscription, error) { return tx.SubscriptionGet(ctx, sid) })
}
