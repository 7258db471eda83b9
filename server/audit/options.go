package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/policy"
)

// FullPolicy says what Record does when the queue is full, which happens
// only when the worker can neither write to PostgreSQL nor spool to disk
// fast enough.
type FullPolicy string

const (
	// FullDrop drops the entry and counts it: decisions never wait for the
	// audit. It is the default.
	FullDrop FullPolicy = "drop"
	// FullBlock makes Record wait for room (up to Options.BlockTimeout, if
	// set): no entry is lost, but decisions stall while the audit cannot
	// keep up.
	FullBlock FullPolicy = "block"
)

// ExplainMode picks the decisions whose explanation the worker computes.
type ExplainMode string

// The explain modes.
const (
	ExplainAll    ExplainMode = "all"    // every recorded decision
	ExplainDenied ExplainMode = "denied" // deny, partial and error outcomes
	ExplainNone   ExplainMode = "none"   // none
)

// ExplainFunc re-decides req on snap with Request.Explain set and returns
// the explanation. The worker calls it off the hot path.
type ExplainFunc func(ctx context.Context, snap *policy.Snapshot, req *policy.Request) (*policy.Explanation, error)

// Options configure a Recorder. The zero value records everything, writes
// every second, keeps 30 days and drops entries when the queue is full.
type Options struct {
	// Logger receives the recorder's logs; nil discards them.
	Logger *slog.Logger
	// Registerer registers the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer

	// FlushInterval is the longest an entry waits before it is written
	// (default 1s); it bounds what a crash loses.
	FlushInterval time.Duration
	// BatchSize writes a batch as soon as it holds this many entries
	// (default 4000).
	BatchSize int
	// QueueSize bounds the entries waiting for the worker (default 10000).
	QueueSize int
	// WriteTimeout bounds one write to PostgreSQL (default 10s); a write
	// that takes longer goes to the spool.
	WriteTimeout time.Duration

	// SpoolDir holds batches that could not be written to PostgreSQL, until
	// it is back. Empty means no spool: an outage then loses what the queue
	// cannot hold. Each replica needs its own directory.
	SpoolDir string
	// SpoolMaxBytes caps the spool (default 1 GiB).
	SpoolMaxBytes int64
	// Full is what Record does when the queue is full (default FullDrop).
	Full FullPolicy
	// BlockTimeout bounds the wait of FullBlock; 0 waits as long as needed.
	BlockTimeout time.Duration

	// RetentionDays is how many days of decisions are kept (default 30);
	// negative keeps everything.
	RetentionDays int
	// PartitionsAhead is how many future days get a partition in advance
	// (default 3).
	PartitionsAhead int
	// MaintenanceInterval is how often partitions are created and old ones
	// dropped (default 1h); the worker also does it when it starts.
	MaintenanceInterval time.Duration

	// Rules skip or sample classes of decisions; the first that matches a
	// decision decides, and a decision no rule matches is recorded.
	Rules []Rule

	// ExplainFunc computes explanations; nil records none (except those a
	// request asked for).
	ExplainFunc ExplainFunc
	// Explain picks which decisions are explained (default ExplainDenied:
	// every check still records its decider, which costs nothing).
	Explain ExplainMode
	// ExplainMaxItems caps the items of a batch that are explained (default
	// 1000); the row records when the cap applied.
	ExplainMaxItems int
	// FacetsMax caps the searchable names recorded per decision (default
	// 1000).
	FacetsMax int

	// OPA is the optional OPA-compatible decision-log sink.
	OPA OPASinkOptions
}

// Rule skips or samples the decisions it matches. Empty lists match
// everything; a decision matches when it matches every non-empty list.
type Rule struct {
	// Endpoints are allow, batch, rowFilters, columnMask, batchColumnMasks.
	Endpoints []string `yaml:"endpoints" json:"endpoints,omitempty"`
	// Operations are Trino operation names, such as FilterCatalogs.
	Operations []string `yaml:"operations" json:"operations,omitempty"`
	// Outcomes are allow, deny, partial, filter, mask, none, error.
	Outcomes []string `yaml:"outcomes" json:"outcomes,omitempty"`
	// Users match the user name exactly.
	Users []string `yaml:"users" json:"users,omitempty"`
	// Groups match when the subject is in any of them.
	Groups []string `yaml:"groups" json:"groups,omitempty"`
	// SampleRate is the fraction of matching decisions recorded: 0 skips
	// them all, 0.01 keeps one in a hundred, 1 keeps all.
	SampleRate float64 `yaml:"sample_rate" json:"sample_rate"`
}

// OPASinkOptions configure the OPA-compatible decision-log sink.
type OPASinkOptions struct {
	// URL receives POSTs of gzip'd JSON arrays of decision events, as OPA's
	// decision_logs service does (e.g. https://collector/logs). Empty
	// disables the sink.
	URL string
	// Labels are added to every event's labels (id and version are always
	// set).
	Labels map[string]string
	// BatchSize is the most events per upload (default 500).
	BatchSize int
	// BufferSize bounds the events waiting for upload (default 10000); when
	// it is full the oldest are dropped and counted.
	BufferSize int
	// MinBackoff and MaxBackoff bound the wait between failed uploads
	// (defaults 1s and 2m).
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one upload (default 10s).
	Timeout time.Duration
	// Headers are sent with every upload (such as Authorization).
	Headers map[string]string
	// Client sends the uploads; nil uses a client with Timeout.
	Client *http.Client
}

// Default returns the options with every default filled in.
func Default() Options { return Options{}.withDefaults() }

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4000
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = 1 << 30
	}
	if o.Full == "" {
		o.Full = FullDrop
	}
	if o.RetentionDays == 0 {
		o.RetentionDays = 30
	}
	if o.PartitionsAhead <= 0 {
		o.PartitionsAhead = 3
	}
	if o.MaintenanceInterval <= 0 {
		o.MaintenanceInterval = time.Hour
	}
	if o.Explain == "" {
		o.Explain = ExplainDenied
	}
	if o.ExplainMaxItems <= 0 {
		o.ExplainMaxItems = 1000
	}
	if o.FacetsMax <= 0 {
		o.FacetsMax = 1000
	}
	s := &o.OPA
	if s.BatchSize <= 0 {
		s.BatchSize = 500
	}
	if s.BufferSize <= 0 {
		s.BufferSize = 10000
	}
	if s.MinBackoff <= 0 {
		s.MinBackoff = time.Second
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = 2 * time.Minute
	}
	if s.Timeout <= 0 {
		s.Timeout = 10 * time.Second
	}
	return o
}

// Validate reports every invalid option, each in a sentence naming it.
func (o Options) Validate() error {
	var errs []error
	if o.Full != "" && o.Full != FullDrop && o.Full != FullBlock {
		errs = append(errs, fmt.Errorf("audit full policy %q must be drop or block", o.Full))
	}
	switch o.Explain {
	case "", ExplainAll, ExplainDenied, ExplainNone:
	default:
		errs = append(errs, fmt.Errorf("audit explain %q must be all, denied or none", o.Explain))
	}
	if o.OPA.URL != "" {
		u, err := url.Parse(o.OPA.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("audit OPA sink URL %q must be an http or https URL", o.OPA.URL))
		}
	}
	for i, r := range o.Rules {
		if _, err := compileRule(r); err != nil {
			errs = append(errs, fmt.Errorf("audit rule %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// EngineExplainer returns the ExplainFunc the server wires: it re-decides
// the request with explanation on against the given snapshot, which is the
// snapshot that made the recorded decision.
func EngineExplainer(e *policy.Engine) ExplainFunc {
	return func(ctx context.Context, snap *policy.Snapshot, req *policy.Request) (*policy.Explanation, error) {
		d, err := e.DecideWith(ctx, snap, req)
		if err != nil {
			return nil, err
		}
		return d.Explanation, nil
	}
}
