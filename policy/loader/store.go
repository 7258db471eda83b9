package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/rego"
	"github.com/trino-warden/warden/store"
)

// RetryInterval is how often a StoreWatcher retries a failed load.
var RetryInterval = 2 * time.Second

// StoreOptions configure a StoreWatcher.
type StoreOptions struct {
	Logger *slog.Logger
	Rego   rego.Options
	// Clusters are the named clusters configured besides the default one; a
	// cluster with no policy set in the store shares the default's.
	Clusters []string
	// ReloadFunc, when set, is called after every load attempt (metrics).
	ReloadFunc func(ok bool, revision int64)
	// Extra are sources every cluster shares, as in Config.
	Extra []policy.Source
	// RevisionFunc, when set, hears every revision the store announces,
	// before the snapshot is rebuilt (caches keyed by revision).
	RevisionFunc func(revision int64)
	// Identity maps the store's directory users to Trino user names; every
	// snapshot carries the directory built with it.
	Identity policy.IdentityOptions
	// RefreshFunc, when set, runs before each new snapshot is built: it
	// brings sources that read the store themselves (the governed catalog)
	// to the new revision. Its error fails the load, which keeps the last
	// good snapshot and is retried.
	RefreshFunc func(ctx context.Context) error
}

// StoreWatcher keeps an engine's snapshot equal to the policy in the store:
// database mode's counterpart of Watcher. It rebuilds on every revision the
// store announces (NOTIFY, or the catch-up after a lost connection), and a
// policy that fails to build, or a store that cannot be read, keeps the last
// good snapshot.
type StoreWatcher struct {
	st       *store.Store
	engine   *policy.Engine
	opts     StoreOptions
	logger   *slog.Logger
	mu       sync.Mutex
	revision int64
	lastErr  error
	// sets are the policy sets built so far, by cluster, with the policy
	// revision they were built from: a directory change does not
	// recompile the policy.
	sets map[string]builtSet
}

type builtSet struct {
	revision int64
	ps       *policy.PolicySet
}

// NewStoreWatcher returns a watcher; call Load, then Run.
func NewStoreWatcher(st *store.Store, engine *policy.Engine, opts StoreOptions) *StoreWatcher {
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &StoreWatcher{st: st, engine: engine, opts: opts, logger: l}
}

// LastError returns the error of the last load attempt, nil if it worked.
func (w *StoreWatcher) LastError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Load builds a snapshot from the store's current revision, unless the
// live snapshot already has it.
func (w *StoreWatcher) Load() error { return w.load(context.Background()) }

func (w *StoreWatcher) load(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	snap, err := w.build(ctx)
	if err == nil && snap == nil {
		w.lastErr = nil // the live snapshot is current
		return nil
	}
	if err == nil {
		err = w.engine.Swap(snap)
	}
	if err != nil {
		w.lastErr = err
		w.logger.Error("policy load from the store failed; keeping the last good snapshot", "error", err, "live_revision", w.revision)
		if w.opts.ReloadFunc != nil {
			w.opts.ReloadFunc(false, w.revision)
		}
		return err
	}
	w.revision, w.lastErr = snap.Revision, nil
	w.logger.Info("policy loaded", "revision", snap.Revision, "origin", snap.Origin)
	if w.opts.ReloadFunc != nil {
		w.opts.ReloadFunc(true, snap.Revision)
	}
	return nil
}

func (w *StoreWatcher) build(ctx context.Context) (*policy.Snapshot, error) {
	rev, err := w.st.CurrentRevision(ctx)
	if err != nil {
		return nil, err
	}
	if w.engine.Snapshot() != nil && rev <= w.revision {
		return nil, nil
	}
	if w.opts.RefreshFunc != nil {
		if err := w.opts.RefreshFunc(ctx); err != nil {
			return nil, err
		}
	}
	def, err := w.clusterSet(ctx, store.DefaultCluster)
	if err != nil {
		return nil, err
	}
	if def == nil {
		def = policy.NewPolicySet(w.opts.Extra...) // no policy documents yet
	}
	clusters := map[string]*policy.PolicySet{policy.DefaultCluster: def}
	for _, name := range w.opts.Clusters {
		ps, err := w.clusterSet(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", name, err)
		}
		if ps == nil {
			ps = def
		}
		clusters[name] = ps
	}
	names := append([]string{}, w.opts.Clusters...)
	sort.Strings(names)
	origin := "store"
	if len(names) > 0 {
		origin += "; clusters: " + strings.Join(names, ", ")
	}
	dir, err := w.directory(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := policy.NewSnapshot(rev, origin, clusters)
	if err != nil {
		return nil, err
	}
	snap.Directory = dir
	return snap, nil
}

// directory reads the store's directory and indexes it for decisions.
func (w *StoreWatcher) directory(ctx context.Context) (*policy.Directory, error) {
	d, _, err := w.st.DirectorySnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the directory: %w", err)
	}
	users := make([]policy.DirectoryUser, len(d.Users))
	for i, u := range d.Users {
		users[i] = policy.DirectoryUser{UserName: u.UserName, Email: u.Email, ExternalID: u.ExternalID,
			Active: u.Active, Deleted: u.Deleted, Groups: u.Groups, Attributes: u.Attributes}
	}
	return policy.NewDirectory(w.opts.Identity, users)
}

// clusterSet builds a cluster's policy set from the store; nil when the
// store has none for it.
func (w *StoreWatcher) clusterSet(ctx context.Context, cluster string) (*policy.PolicySet, error) {
	set, err := w.st.PolicyGet(ctx, cluster, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b, ok := w.sets[cluster]; ok && b.revision == set.Revision {
		return b.ps, nil
	}
	d, err := DocumentsFromStore(set.Documents)
	if err != nil {
		return nil, err
	}
	ps, err := BuildSet(d, w.opts.Rego, w.opts.Extra...)
	if err != nil {
		return nil, err
	}
	if w.sets == nil {
		w.sets = map[string]builtSet{}
	}
	w.sets[cluster] = builtSet{revision: set.Revision, ps: ps}
	return ps, nil
}

// DocumentsFromStore turns stored policy documents into Documents: at most
// one rules document, Rego modules by path, and data documents merged at
// their directory's path, as an OPA bundle's data.json.
func DocumentsFromStore(docs []store.PolicyDocument) (Documents, error) {
	var d Documents
	for _, doc := range docs {
		switch doc.Kind {
		case store.KindRules:
			if d.Rules != nil {
				return d, fmt.Errorf("policy set has two rules documents (%s and %s)", d.RulesName, doc.Path)
			}
			d.Rules, d.RulesName = []byte(doc.Content), doc.Path
		case store.KindRego:
			if d.Modules == nil {
				d.Modules = map[string]string{}
			}
			d.Modules[doc.Path] = doc.Content
		case store.KindData:
			var v map[string]any
			if err := json.Unmarshal([]byte(doc.Content), &v); err != nil {
				return d, fmt.Errorf("data document %s is not a JSON object: %w", doc.Path, err)
			}
			if d.Data == nil {
				d.Data = map[string]any{}
			}
			at := d.Data
			if dir := path.Dir(doc.Path); dir != "." && dir != "/" {
				for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
					next, ok := at[part].(map[string]any)
					if !ok {
						next = map[string]any{}
						at[part] = next
					}
					at = next
				}
			}
			for k, val := range v {
				at[k] = val
			}
		default:
			return d, fmt.Errorf("document %s has unknown kind %q", doc.Path, doc.Kind)
		}
	}
	return d, nil
}

// Run follows the store's revisions until ctx is done: every announced
// revision newer than the live one rebuilds the snapshot. After a failed
// load it retries every RetryInterval, so a store that comes back is caught
// up even when no new change is announced.
func (w *StoreWatcher) Run(ctx context.Context) {
	go func() {
		t := time.NewTicker(RetryInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if w.LastError() != nil || w.engine.Snapshot() == nil {
					_ = w.load(ctx)
				}
			}
		}
	}()
	err := w.st.Listen(ctx, func(rev int64) {
		if w.opts.RevisionFunc != nil {
			w.opts.RevisionFunc(rev)
		}
		w.mu.Lock()
		have := w.revision
		w.mu.Unlock()
		if rev > have || w.engine.Snapshot() == nil {
			_ = w.load(ctx) // logged and recorded inside
		}
	})
	if err != nil && ctx.Err() == nil {
		w.logger.Error("listening for policy changes stopped", "error", err)
	}
}
