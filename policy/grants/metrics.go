package grants

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the grants source. Labels are bounded: endpoint is "check"
// or "list" (the OpenFGA call), outcome is "hit" or "miss".
type metrics struct {
	unavailable *prometheus.CounterVec
	cache       *prometheus.CounterVec
	refresh     *prometheus.CounterVec
	breaker     *prometheus.GaugeVec
	fastFail    *prometheus.CounterVec
}

// newMetrics creates the metrics and registers them with reg when it is not
// nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_grants_unavailable_total",
			Help: "OpenFGA requests that failed (unreachable, timed out or truncated) and so failed closed.",
		}, []string{"endpoint"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_grants_cache_total",
			Help: "Grant lookups answered by the cache (hit) or sent on to OpenFGA (miss).",
		}, []string{"endpoint", "outcome"}),
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_grants_cache_refresh_total",
			Help: "Cached grant answers refreshed ahead of expiry in the background, by outcome (ok or error).",
		}, []string{"endpoint", "outcome"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "warden_grants_breaker_state",
			Help: "The OpenFGA circuit breaker: 1 for the current state (closed, open or half_open), 0 for the others.",
		}, []string{"state"}),
		fastFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_grants_breaker_rejected_total",
			Help: "OpenFGA requests failed at once (closed) because the circuit breaker was open.",
		}, []string{"endpoint"}),
	}
	m.breaker.WithLabelValues(breakerClosed.String()).Set(1)
	m.breaker.WithLabelValues(breakerOpen.String()).Set(0)
	m.breaker.WithLabelValues(breakerHalfOpen.String()).Set(0)
	if reg != nil {
		reg.MustRegister(m.unavailable, m.cache, m.refresh, m.breaker, m.fastFail)
	}
	return m
}
