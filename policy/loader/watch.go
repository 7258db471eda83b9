package loader

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/trino-warden/warden/policy"
)

// Watcher loads a Config into an engine and reloads it when any file
// changes. A reload that fails keeps the last good snapshot live and is
// reported through LastError, the log and ReloadFunc.
type Watcher struct {
	cfg      Config
	engine   *policy.Engine
	logger   *slog.Logger
	interval time.Duration
	onReload func(ok bool, revision int64)

	mu          sync.Mutex
	revision    int64
	fingerprint string
	lastErr     error
}

// WatcherOptions configures a Watcher.
type WatcherOptions struct {
	Logger *slog.Logger
	// Interval is how often the files are checked; 0 disables reloading.
	Interval time.Duration
	// ReloadFunc, when set, is called after every load attempt (metrics).
	ReloadFunc func(ok bool, revision int64)
}

// NewWatcher returns a watcher; call Load, then Run.
func NewWatcher(cfg Config, engine *policy.Engine, opts WatcherOptions) *Watcher {
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Watcher{cfg: cfg, engine: engine, logger: l, interval: opts.Interval, onReload: opts.ReloadFunc}
}

// Load builds a snapshot from the files and makes it live if they changed
// since the last successful load. It returns the build error, if any; the
// live snapshot is then untouched.
func (w *Watcher) Load() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	fp, err := w.cfg.Fingerprint()
	if err == nil && fp == w.fingerprint && w.engine.Snapshot() != nil {
		return nil
	}
	var snap *policy.Snapshot
	if err == nil {
		snap, err = Build(w.cfg, w.revision+1)
	}
	if err == nil {
		err = w.engine.Swap(snap)
	}
	if err != nil {
		w.lastErr = err
		w.logger.Error("policy load failed; keeping the last good snapshot", "error", err, "live_revision", w.revision)
		if w.onReload != nil {
			w.onReload(false, w.revision)
		}
		return err
	}
	w.revision = snap.Revision
	w.fingerprint = fp
	w.lastErr = nil
	w.logger.Info("policy loaded", "revision", snap.Revision, "origin", snap.Origin)
	if w.cfg.Default.empty() {
		w.logger.Warn("no policy configured", "detail", ErrNoPolicy.Error())
	}
	if w.onReload != nil {
		w.onReload(true, snap.Revision)
	}
	return nil
}

// LastError returns the error of the last load attempt, nil if it worked.
func (w *Watcher) LastError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Run checks the files every interval until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	if w.interval <= 0 {
		return
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = w.Load() // logged and recorded inside
		}
	}
}
