// Package grants is the policy source of OpenFGA relationship grants
// (source name "grants"). It answers single checks and filter batches; row
// filters and masks are not its business.
//
// Every request goes through a RelationChecker stack: Cache → Breaker →
// Singleflight → the go-sdk client. Subjects are the user ("user:alice")
// and each of their groups ("group:g#member"); a subject's allow suffices,
// and a deny grant of any subject is a veto. Containment (a catalog or
// schema grant covers what is inside) is worked out from Trino's names:
// single checks send the table→schema→catalog links as contextual tuples,
// and filters list each subject's grants once per request and test each
// item in memory. Answers are cached and refreshed ahead of expiry; the
// breaker fails requests at once while OpenFGA keeps failing.
// docs/grants.md describes the model and the operation mapping.
package grants

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/openfga/go-sdk/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/policy"
)

// Name is the source name in explanations, logs and metrics.
const Name = "grants"

// Options configures a Source.
type Options struct {
	// APIURL is OpenFGA's HTTP API. Empty runs OpenFGA in-process with its
	// memory datastore (StartEmbedded).
	APIURL string
	// StoreID selects the store; when empty the store named StoreName is
	// used, and created if missing.
	StoreID   string
	StoreName string
	// ModelID selects the authorization model; when empty the bundled model
	// is written and used.
	ModelID string
	// APIToken is a pre-shared key sent as a bearer token. Secret.
	APIToken string
	// CacheTTL bounds how long an answer is reused (default 10s); it is
	// also how long an expired grant can still be honoured from the cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached answers (default 100,000).
	CacheSize int
	// ChangesInterval is how often OpenFGA's ReadChanges feed is polled for
	// tuples written by other systems (default 5s; negative disables).
	ChangesInterval time.Duration
	// RequestTimeout bounds each check request (default 2s).
	RequestTimeout time.Duration
	// ListObjectsDeadline is the OpenFGA server's --listObjects-deadline
	// (default 3s). A list must finish within 80% of it, or it is treated
	// as truncated.
	ListObjectsDeadline time.Duration
	// MaxChecksPerBatch is the server's --max-checks-per-batch-check
	// (default 50).
	MaxChecksPerBatch int
	// Breaker tunes the circuit breaker that fails requests at once while
	// OpenFGA keeps failing, instead of letting each wait RequestTimeout.
	Breaker BreakerOptions
	Logger  *slog.Logger
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// WrapCheckerFunc, when set, wraps the client layer before the
	// singleflight and the cache are stacked on it (tests count calls).
	WrapCheckerFunc func(RelationChecker) RelationChecker
	// NowFunc is the clock for expiry (default time.Now).
	NowFunc func() time.Time
}

func (o *Options) defaults() {
	if o.StoreName == "" {
		o.StoreName = "warden"
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = 10 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 100_000
	}
	if o.ChangesInterval == 0 {
		o.ChangesInterval = 5 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 2 * time.Second
	}
	if o.ListObjectsDeadline <= 0 {
		o.ListObjectsDeadline = 3 * time.Second
	}
	if o.MaxChecksPerBatch <= 0 {
		o.MaxChecksPerBatch = maxChecksPerBatch
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NowFunc == nil {
		o.NowFunc = time.Now
	}
}

// Source is the grants policy source. It is safe for concurrent use.
type Source struct {
	opts    Options
	client  *fgaclient.OpenFgaClient
	checker RelationChecker
	breaker *Breaker
	keys    *epochKey
	sets    *setCache // merged grant sets of recent filter requests
	metrics *metrics
	storeID string
	modelID string
	started time.Time // where the change feed is read from until a token exists

	rev           atomic.Int64 // Warden's revision
	consistentRev atomic.Int64 // the revision a higher-consistency request last ran at
	epoch         atomic.Int64 // bumped when ReadChanges reports changes

	stopEmbedded func()
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

var (
	_ policy.Authorizer = (*Source)(nil)
	_ policy.Filterer   = (*Source)(nil)
)

// New connects to OpenFGA (or starts it embedded), selects or creates the
// store and the model, and starts the ReadChanges poller. Close stops it.
func New(ctx context.Context, opts Options) (*Source, error) {
	opts.defaults()
	s := &Source{opts: opts, metrics: newMetrics(opts.Registerer), started: time.Now().Add(-time.Second)}
	if opts.APIURL == "" {
		url, stop, err := StartEmbedded(ctx, EmbeddedOptions{ListObjectsDeadline: opts.ListObjectsDeadline})
		if err != nil {
			return nil, err
		}
		opts.APIURL, s.stopEmbedded = url, stop
		s.opts.APIURL = url
	}
	cfg := &fgaclient.ClientConfiguration{ApiUrl: opts.APIURL}
	if opts.APIToken != "" {
		cfg.Credentials = &credentials.Credentials{Method: credentials.CredentialsMethodApiToken,
			Config: &credentials.Config{ApiToken: opts.APIToken}}
	}
	c, err := fgaclient.NewSdkClient(cfg)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("openfga client: %w", err)
	}
	s.client = c
	if err := s.selectStore(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.selectModel(ctx); err != nil {
		s.Close()
		return nil, err
	}
	var inner RelationChecker = &clientChecker{c: c, timeout: opts.RequestTimeout,
		listBudget: opts.ListObjectsDeadline * 8 / 10, batchSize: opts.MaxChecksPerBatch,
		metrics: s.metrics, nowFunc: opts.NowFunc}
	if opts.WrapCheckerFunc != nil {
		inner = opts.WrapCheckerFunc(inner)
	}
	// The breaker sits above the singleflight, so that every caller's
	// failure counts, not once per merged call.
	s.breaker = NewBreaker(NewSingleflight(inner), opts.Breaker, s.metrics)
	s.keys = &epochKey{modelID: s.modelID, rev: &s.rev, epoch: &s.epoch}
	cache := NewCache(s.breaker, s.keys.key, opts.CacheTTL, opts.CacheSize, s.metrics)
	s.checker = cache
	s.sets = &setCache{ttl: opts.CacheTTL / 2, size: 4096, m: map[string]setEntry{}}

	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		cache.Run(pctx)
	}()
	if opts.ChangesInterval > 0 {
		token, err := s.drainChanges(ctx, "")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("openfga read changes: %w", err)
		}
		s.wg.Add(1)
		go s.pollChanges(pctx, token)
	}
	return s, nil
}

func (s *Source) selectStore(ctx context.Context) error {
	if s.opts.StoreID != "" {
		if _, err := s.client.GetStore(ctx).Options(fgaclient.ClientGetStoreOptions{StoreId: &s.opts.StoreID}).Execute(); err != nil {
			return fmt.Errorf("openfga store %s: %w", s.opts.StoreID, err)
		}
		s.storeID = s.opts.StoreID
		return s.client.SetStoreId(s.storeID)
	}
	var token *string
	for {
		resp, err := s.client.ListStores(ctx).Options(fgaclient.ClientListStoresOptions{Name: &s.opts.StoreName, ContinuationToken: token}).Execute()
		if err != nil {
			return fmt.Errorf("openfga list stores: %w", err)
		}
		for _, st := range resp.GetStores() {
			if st.GetName() == s.opts.StoreName {
				s.storeID = st.GetId()
				return s.client.SetStoreId(s.storeID)
			}
		}
		t := resp.GetContinuationToken()
		if t == "" {
			break
		}
		token = &t
	}
	resp, err := s.client.CreateStore(ctx).Body(fgaclient.ClientCreateStoreRequest{Name: s.opts.StoreName}).Execute()
	if err != nil {
		return fmt.Errorf("openfga create store: %w", err)
	}
	s.storeID = resp.GetId()
	return s.client.SetStoreId(s.storeID)
}

func (s *Source) selectModel(ctx context.Context) error {
	if s.opts.ModelID != "" {
		s.modelID = s.opts.ModelID
		return s.client.SetAuthorizationModelId(s.modelID)
	}
	id, err := WriteModel(ctx, s.client)
	if err != nil {
		return err
	}
	s.modelID = id
	return s.client.SetAuthorizationModelId(id)
}

// Close stops the poller and an embedded OpenFGA.
func (s *Source) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.stopEmbedded != nil {
		s.stopEmbedded()
	}
}

// Name returns "grants".
func (s *Source) Name() string { return Name }

// StoreID and ModelID are what the live snapshot pins.
func (s *Source) StoreID() string { return s.storeID }

// ModelID returns the authorization model in use.
func (s *Source) ModelID() string { return s.modelID }

// Client returns the go-sdk client, configured with the store and model.
func (s *Source) Client() *fgaclient.OpenFgaClient { return s.client }

// SetRevision records Warden's revision. A higher revision changes every
// cache key, and the first request after the bump asks OpenFGA for higher
// consistency, so Warden's own writes are seen at once.
func (s *Source) SetRevision(rev int64) {
	for {
		cur := s.rev.Load()
		if rev <= cur || s.rev.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// consistency returns HigherConsistency for the first request after a
// revision bump.
func (s *Source) consistency() Consistency {
	rev := s.rev.Load()
	for {
		c := s.consistentRev.Load()
		if c >= rev {
			return MinimizeLatency
		}
		if s.consistentRev.CompareAndSwap(c, rev) {
			return HigherConsistency
		}
	}
}

// drainChanges reads the change feed to its end and returns the token to
// continue from. Until OpenFGA has handed out a token, it reads from the
// time the source started.
func (s *Source) drainChanges(ctx context.Context, token string) (string, error) {
	req := fgaclient.ClientReadChangesRequest{}
	if token == "" {
		req.StartTime = s.started
	}
	seen := false
	for {
		ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
		opts := fgaclient.ClientReadChangesOptions{}
		if token != "" {
			t := token
			opts.ContinuationToken = &t
		}
		resp, err := s.client.ReadChanges(ctx).Body(req).Options(opts).Execute()
		cancel()
		if err != nil {
			return token, err
		}
		if t := resp.GetContinuationToken(); t != "" {
			token = t
		}
		if len(resp.GetChanges()) == 0 {
			break
		}
		seen = true
	}
	if seen {
		s.epoch.Add(1)
	}
	return token, nil
}

func (s *Source) pollChanges(ctx context.Context, token string) {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.ChangesInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := s.drainChanges(ctx, token)
		if err != nil {
			if ctx.Err() == nil {
				s.opts.Logger.WarnContext(ctx, "openfga read changes failed", "error", err)
			}
			continue
		}
		token = next
	}
}

// Ready checks that OpenFGA answers for Warden's store and model, for
// readiness probes. Decisions that need an uncached answer fail closed
// while it does not.
func (s *Source) Ready(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	if _, err := s.client.ReadAuthorizationModel(rctx).Execute(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
