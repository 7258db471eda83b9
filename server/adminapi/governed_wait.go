package adminapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errNotYet means this replica is behind a revision a check depends on;
// the request answers 503, so the caller retries.
var errNotYet = errors.New("not loaded yet")

// awaitTimeout bounds how long a request waits for this replica to load a
// revision it just wrote.
const awaitTimeout = 5 * time.Second

// awaitRevision waits until this replica's live snapshot has reached rev.
// The governed catalog the views source answers from moves with the
// snapshot, and Warden's service principal may read a source only once its
// registration is in it: checks that run SQL as the principal against a
// source registered a moment ago (on this replica or another) wait here
// first. It returns an error when the revision does not arrive in time.
func (a *API) awaitRevision(ctx context.Context, rev int64) error {
	if a.opts.Engine == nil || rev == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, awaitTimeout)
	defer cancel()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if s := a.opts.Engine.Snapshot(); s != nil && s.Revision >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: this replica has not loaded revision %d yet; retry", errNotYet, rev)
		case <-t.C:
		}
	}
}
