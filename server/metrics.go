package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics. Labels are bounded: endpoint
// (five values), outcome (a handful) and result.
type metrics struct {
	registry      *prometheus.Registry
	decisions     *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	batchItems    *prometheus.HistogramVec
	inflight      prometheus.Gauge
	revision      prometheus.Gauge
	reloads       *prometheus.CounterVec
	lastReloadOK  prometheus.Gauge
	unknownOps    prometheus.Counter
	explainStored prometheus.Counter
	divergence    prometheus.Gauge
}

// Outcomes of a decision, the values of the outcome label.
const (
	outcomeAllow   = "allow"
	outcomeDeny    = "deny"
	outcomeOK      = "ok"
	outcomeError   = "error"
	outcomeInvalid = "invalid"
	outcomeBusy    = "unavailable"
)

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		registry: reg,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_decisions_total",
			Help: "Decisions answered, by endpoint and outcome (allow, deny, ok, error, invalid, unavailable).",
		}, []string{"endpoint", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "warden_decision_duration_seconds",
			Help:    "Time from request to response for decision endpoints, including body decoding.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
		batchItems: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "warden_batch_items",
			Help:    "Items per batch request (filterResources, or columns for FilterColumns and masks).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}, []string{"endpoint"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_decisions_in_flight",
			Help: "Decision requests being answered now.",
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_policy_revision",
			Help: "Revision of the live policy snapshot.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_policy_reloads_total",
			Help: "Policy load attempts by result (success, error). An error keeps the last good snapshot.",
		}, []string{"result"}),
		lastReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_policy_last_reload_success",
			Help: "1 if the last policy load attempt succeeded, 0 if it failed.",
		}),
		unknownOps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_unknown_operations_total",
			Help: "Distinct unknown operation names seen (each is denied and logged once).",
		}),
		divergence: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_grants_divergence",
			Help: "Grants found out of step between the change log and OpenFGA by the last divergence check (GET /api/v1/grants/divergence).",
		}),
		explainStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_explain_cache_evictions_total",
			Help: "Decisions evicted from the recent-decision cache used for explanations.",
		}),
	}
	m.registry.MustRegister(m.decisions, m.latency, m.batchItems, m.inflight, m.revision, m.reloads,
		m.lastReloadOK, m.unknownOps, m.explainStored, m.divergence,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) reloaded(ok bool, revision int64) {
	if ok {
		m.reloads.WithLabelValues("success").Inc()
		m.lastReloadOK.Set(1)
		m.revision.Set(float64(revision))
		return
	}
	m.reloads.WithLabelValues("error").Inc()
	m.lastReloadOK.Set(0)
}
