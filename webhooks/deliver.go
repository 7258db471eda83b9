package webhooks

import (
	"context"

	"github.com/trino-warden/warden/store"
)

// ApplyFunc applies one event inside the delivery's transaction and returns
// a note on what it did (e.g. "created user alice", "unchanged"). It must
// have no side effects outside the transaction, since the transaction may
// run again on contention; an error rolls everything back.
type ApplyFunc func(ctx context.Context, tx *store.Tx) (note string, err error)

// Deliver applies one verified event in one store transaction, which also
// records the event (store.Tx.WebhookBegin): a redelivery answers
// "duplicate" and an event older than the last one applied to its subject
// answers "stale", and neither changes anything. The answer carries the
// revision of the changes, if any. An error from apply or the store rolls
// back the whole transaction, the record included, so the sender's retry is
// applied afresh.
func Deliver(ctx context.Context, st store.Transactor, d store.WebhookDelivery, apply ApplyFunc) (Result, error) {
	res := Result{EventID: d.EventID, Subject: d.Subject}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		res.Revision, res.Note = 0, ""
		outcome, err := tx.WebhookBegin(ctx, d)
		if err != nil {
			return err
		}
		res.Status = string(outcome)
		if outcome != store.WebhookApply {
			return nil
		}
		note, err := apply(ctx, tx)
		if err != nil {
			return err
		}
		res.Note = note
		res.Revision, err = tx.WebhookFinish(ctx, d.Source, d.EventID, note)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}
