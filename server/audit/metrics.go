package audit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the recorder's Prometheus metrics. Labels are bounded: the
// drop reason is one of a fixed set, and sink results are three.
type metrics struct {
	queued        prometheus.Counter
	written       prometheus.Counter
	duplicates    prometheus.Counter
	repaired      prometheus.Counter
	spooled       prometheus.Counter
	replayed      prometheus.Counter
	dropped       *prometheus.CounterVec
	sampledOut    *prometheus.CounterVec
	explainErrors prometheus.Counter
	explainCached prometheus.Counter
	flushSeconds  prometheus.Histogram
	queueDepth    prometheus.GaugeFunc
	spoolBytes    prometheus.GaugeFunc
	sinkEvents    *prometheus.CounterVec
}

// Drop reasons, the values of the reason label of
// warden_audit_dropped_total.
const (
	dropQueueFull   = "queue_full"  // the queue was full (drop, or block that timed out)
	dropClosed      = "closed"      // Record after Close
	dropUnavailable = "unavailable" // Close's deadline passed with neither PostgreSQL nor the spool usable
	dropExpired     = "expired"     // older than the retention, with its partition gone
	dropCorrupt     = "corrupt"     // a spool segment could not be read
	dropInvalid     = "invalid"     // PostgreSQL refused the batch's rows
)

func newMetrics(reg prometheus.Registerer, depth, spoolBytes func() float64) *metrics {
	m := &metrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_queued_total", Help: "Decisions queued for the audit.",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_written_total", Help: "Decisions written to PostgreSQL.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_duplicates_total", Help: "Decisions written again (a spool replay) and skipped as already recorded.",
		}),
		repaired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_repaired_total", Help: "Decisions PostgreSQL refused as they were, recorded with their input replaced by the reason.",
		}),
		spooled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_spooled_total", Help: "Decisions written to the on-disk spool while PostgreSQL was unavailable.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_replayed_total", Help: "Spooled decisions replayed into PostgreSQL.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_audit_dropped_total", Help: "Decisions lost to the audit, by reason (queue_full, closed, unavailable, expired, corrupt, invalid).",
		}, []string{"reason"}),
		sampledOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_audit_sampled_out_total", Help: "Decisions not recorded because a rule skipped (skipped) or sampled them out (sampled_out).",
		}, []string{"reason"}),
		explainErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_explain_errors_total", Help: "Recorded decisions whose explanation could not be computed.",
		}),
		explainCached: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_audit_explain_cached_total", Help: "Recorded decisions whose explanation was the cached one of the same request, on the same snapshot, in the last seconds.",
		}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "warden_audit_flush_duration_seconds", Help: "Time to write one batch to PostgreSQL or the spool.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		queueDepth: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "warden_audit_queue_depth", Help: "Decisions waiting in the audit queue.",
		}, depth),
		spoolBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "warden_audit_spool_bytes", Help: "Bytes of decisions waiting in the spool.",
		}, spoolBytes),
		sinkEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_audit_sink_events_total", Help: "Decision events of the OPA-compatible sink, by result (sent, dropped, rejected).",
		}, []string{"result"}),
	}
	for _, r := range []string{dropQueueFull, dropClosed, dropUnavailable, dropExpired, dropCorrupt, dropInvalid} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range reasonNames[:reasonDropped] {
		m.sampledOut.WithLabelValues(r)
	}
	for _, r := range []string{"sent", "dropped", "rejected"} {
		m.sinkEvents.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.queued, m.written, m.duplicates, m.repaired, m.spooled, m.replayed, m.dropped, m.sampledOut,
			m.explainErrors, m.explainCached, m.flushSeconds, m.queueDepth, m.spoolBytes, m.sinkEvents)
	}
	return m
}
